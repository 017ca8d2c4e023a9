"""`golive schema pack|config`: JSON Schemas generated from the models that validate the files, so they cannot drift;
they validate every pack, example and template golive ships, and refuse what golive refuses."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT, golive, uncommented

PACKS = sorted([*ROOT.glob("rules/*.yaml"), *ROOT.glob("tests/data/packs/*.yaml")])
PACKS = [p for p in PACKS if p.name not in ("catalog.yaml", "golive.template.yaml")]
CONFIGS = sorted(ROOT.glob("examples/*/*/golive.yaml"))


def as_json(text: str) -> object:
    """A YAML file as a JSON document (what an editor's YAML language server validates): keys become strings."""
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


@pytest.fixture(scope="module")
def schemas() -> dict[str, jsonschema.Draft202012Validator]:
    found = {}
    for kind in ("pack", "config"):
        done = golive("schema", kind)
        assert done.returncode == 0, done.stderr
        schema = json.loads(done.stdout)
        jsonschema.Draft202012Validator.check_schema(schema)
        found[kind] = jsonschema.Draft202012Validator(schema)
    return found


@pytest.mark.parametrize("path", PACKS, ids=lambda p: p.name)
def test_every_shipped_pack_is_valid(schemas, path: Path) -> None:
    assert [e.message for e in schemas["pack"].iter_errors(as_json(path.read_text()))] == []


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.parent.name}-{p.parent.name}")
def test_every_example_config_is_valid(schemas, path: Path) -> None:
    assert [e.message for e in schemas["config"].iter_errors(as_json(path.read_text()))] == []


@pytest.mark.slow
def test_what_init_writes_is_valid(schemas, tmp_path: Path) -> None:
    for provider in ("mintfax", "idunox", "flexforward", "stripe"):
        folder = tmp_path / Path(provider).stem
        folder.mkdir()
        assert golive("init", "--provider", provider, cwd=folder).returncode == 0
        written = (folder / "golive.yaml").read_text()
        assert written.startswith("# yaml-language-server: $schema=.golive/golive.schema.json\n")
        assert json.loads((folder / ".golive" / "golive.schema.json").read_text()) == schemas["config"].schema
        assert [e.message for e in schemas["config"].iter_errors(as_json(written))] == []
        assert [e.message for e in schemas["config"].iter_errors(as_json(uncommented(written)))] == []  # its examples too


def test_the_schemas_refuse_what_golive_refuses(schemas) -> None:
    pack = as_json((ROOT / "rules" / "idunox.yaml").read_text())
    assert isinstance(pack, dict)
    assert not schemas["pack"].is_valid({**pack, "fact": {}})  # a misspelt key
    assert not schemas["pack"].is_valid({**pack, "schema": "golive-pack/9"})
    bad_retry = {**pack, "facts": {**pack["facts"], "retry": {**pack["facts"]["retry"], "variants": ["no jitter at all"]}}}
    assert not schemas["pack"].is_valid(bad_retry)
    assert not schemas["config"].is_valid({"provider": "mintfax", "environment": "production"})
    assert not schemas["config"].is_valid({"sandbox": {"url": "builtin"}})  # no provider


def test_the_pack_schema_takes_endpoint_paths_only(schemas) -> None:
    """As golive refuses them at load (checker/packs.py, `path_problem`): a URL, a '//host' or a backslash where a
    path belongs; `{id}` in get_path only."""
    pack = as_json((ROOT / "rules" / "mintfax.yaml").read_text())
    assert isinstance(pack, dict)

    def with_facts(**facts: object) -> dict[str, object]:
        return {**pack, "facts": {**pack["facts"], **facts}}

    create = pack["facts"]["create"]
    for path in ("http://127.0.0.1:9/steal", "//127.0.0.1:9/steal", "/\\127.0.0.1", "/v1/fax?x=1", "/v1/fax\r\n", "/v1/{id}"):
        assert not schemas["pack"].is_valid(with_facts(create={**create, "path": path})), path
    assert not schemas["pack"].is_valid(with_facts(get_path="/v1/fax/{id.__class__}"))
    assert schemas["pack"].is_valid(with_facts(get_path="/v1/fax/{id}", balance_path="/v1/account/balance%2F"))


# ---------------------------------------------------------------- round 3: typed results
# report.json's schema is generated from the types golive writes it from (checker/model.py, `ReportFile`); every
# report the tests make golive write is checked against it (tests/conftest.py: `assert_reports_valid`).


def test_the_report_schema_is_printed_and_is_a_valid_schema() -> None:
    done = golive("schema", "report")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "golive report.json (golive-report/1)"
    # the three kinds of basis item, told apart by the key each adds; a qualifier's kind from its enum
    assert {"Documented", "Assumed", "Unstated", "Reading", "Qualifier", "Coverage", "RunContext"} <= set(schema["$defs"])
    assert schema["$defs"]["QualifierKind"]["enum"] == ["assumed", "disputed"]


def _flawed_report(tmp_path: Path) -> Path:
    from checker.report import write_reports
    from tests.test_reports import flawed_run

    write_reports(flawed_run(), ["json"], tmp_path / "run")
    return tmp_path / "run" / "report.json"


def test_a_merged_and_a_signed_report_match_the_schema(tmp_path: Path) -> None:
    """The hook in conftest validates what each `golive()` call writes; said here once more, by name."""
    from tests.conftest import assert_report_valid

    path = _flawed_report(tmp_path)
    merged = golive("report", "merge", str(path), str(path), "-o", "merged", cwd=tmp_path)
    assert merged.returncode == 1, merged.stderr
    assert_report_valid(json.loads((tmp_path / "merged" / "report.json").read_text()))
    signed = golive("report", "sign", str(path), "--by", "lead@example.com", "--decision", "approve", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    data = json.loads(path.read_text())
    assert "signature" in data
    assert_report_valid(data)


def test_the_schema_refuses_what_the_reader_refuses(tmp_path: Path) -> None:
    """A basis item of no kind, a qualifier of an unknown kind, a verdict golive never writes: refused by the schema
    and by `report render` alike (one set of types for both)."""
    from tests.conftest import report_validator

    data = json.loads(_flawed_report(tmp_path).read_text())
    retry = next(r for r in data["results"] if r["id"] == "RETRY-104")
    assert retry["qualifiers"][0]["kind"] == "assumed"
    for change in (
        lambda d: d["results"][0]["basis"].append({"fact": "x", "value": "1"}),
        lambda d: next(r for r in d["results"] if r.get("qualifiers"))["qualifiers"][0].update(kind="guessed"),
        lambda d: d.update(verdict="maybe"),
    ):
        broken = json.loads(json.dumps(data))
        change(broken)
        assert list(report_validator().iter_errors(broken))
        (tmp_path / "broken.json").write_text(json.dumps(broken))
        done = golive("report", "render", "broken.json", "--format", "md", cwd=tmp_path)
        assert done.returncode == 2 and "is this a golive report.json?" in done.stderr, done.stderr
