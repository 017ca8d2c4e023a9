"""CI-native outputs: GitHub workflow-command annotations (parsed back as the runner parses them), GitLab Code Quality,
SARIF validated against the OASIS 2.1.0 schema; each finding at the golive.yaml line or file it belongs to, with a
fingerprint that survives re-runs. Renderers on hand-made runs, then the real command line on a real project."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from markdown_it import MarkdownIt

from checker.harness.receiver import free_port
from checker.model import Coverage, Result, RunContext, RunResult, Severity, Status
from checker.packs import load_pack
from checker.report import FILES, PRINTED, RENDERERS, write_reports
from checker.report.places import places
from tests.conftest import ROOT, TEST_KEYS, golive, sarif_schema
from tests.workflow_commands import parse, runner_lines

PACK = load_pack("mintfax")
HOSTILE = "50% of 3 tries,\r\nthen ::error file=x.py,line=1::forged %0A%25 title=a:b, c\n::stop-commands::t"
LOCATIONS = {"sandbox": 3, "client": 6, "webhook": 9, "repo": 14, "config": 1, "manual": 20}
GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def result(rule_id: str, status: Status = Status.FAIL, message: str = "failed", **changes: Any) -> Result:
    rule = PACK.rule(rule_id)
    severity = changes.pop("severity", rule.severity)
    evidence = tuple(changes.pop("evidence", ()))
    if changes:
        rule = dataclasses.replace(rule, **changes)
    return Result(rule=rule, status=status, severity=severity, message=message, evidence=evidence)


def run_of(*results: Result, **fields: Any) -> RunResult:
    defaults: dict[str, Any] = {
        "provider": "mintfax",
        "environment": "sandbox",
        "started_at": "2026-11-24T10:00:00Z",
        "duration_s": 1.0,
        "verdict": "not ready",
        "interrupted": False,
        "results": results,
        "tool_version": "0.1.0",
        "config_file": "golive.yaml",
        "locations": LOCATIONS,
        "context": RunContext(config="services/fax/golive.yaml"),
        "coverage": Coverage(probed={"client": ("IDEM-102",)}),
    }
    return RunResult(**{**defaults, **fields})


def github(run: RunResult) -> str:
    return RENDERERS["github"](run)


# ---------------------------------------------------------------- places and fingerprints


def test_a_finding_without_files_of_its_own_is_at_the_line_that_configures_its_target() -> None:
    run = run_of(result("IDEM-102"), result("HOOK-201"), result("LIVE-004", Status.MANUAL))
    where = {r.rule.id: [(p.uri, p.line) for p in places(run, r)] for r in run.results}
    assert where == {
        "IDEM-102": [("services/fax/golive.yaml", 6)],  # client.command
        "HOOK-201": [("services/fax/golive.yaml", 9)],  # the webhook section
        "LIVE-004": [("services/fax/golive.yaml", 20)],  # attestations
    }
    bare = run_of(result("IDEM-102"), locations={"config": 2})
    assert [(p.uri, p.line) for p in places(bare, bare.results[0])] == [("services/fax/golive.yaml", 2)]  # the provider line
    old = run_of(result("IDEM-102"), locations={}, context=None)  # a report.json written before locations existed
    assert [(p.uri, p.line) for p in places(old, old.results[0])] == [("golive.yaml", 1)]
    none = run_of(result("IDEM-001"), config_file=None, locations={}, context=None)  # --provider without a golive.yaml
    assert [(p.uri, p.line) for p in places(none, none.results[0])] == [(None, 1)]


@pytest.mark.parametrize(
    ("shown", "uri"),
    [
        ("golive.yaml", "golive.yaml"),
        ("services/fax/golive.yaml", "services/fax/golive.yaml"),
        ("./services/fax/../fax/golive.yaml", "services/fax/golive.yaml"),
        ("../elsewhere/golive.yaml", "golive.yaml"),  # outside the folder golive ran in: its bare name
        ("/abs/golive.yaml", "golive.yaml"),
        (None, "golive.yaml"),
    ],
)
def test_the_config_is_named_relative_to_where_golive_ran(shown: str | None, uri: str) -> None:
    run = run_of(result("IDEM-102"), context=RunContext(config=shown))
    assert places(run, run.results[0])[0].uri == uri


def test_files_named_by_evidence_are_relative_to_the_config_folder() -> None:
    keys = [{"kind": "finding", "file": "deploy/app.py", "line": 4, "match": "fx_live_…a1b2"}]
    documents = [
        {"kind": "document", "file": "docs/ok.pdf", "bytes": 10},
        {"kind": "document", "file": "docs/big.pdf", "bytes": 20_000_000},
        {"kind": "document", "file": "/tmp/outside.pdf", "bytes": 20_000_000},
    ]
    run = run_of(
        result("KEY-002", evidence=keys),
        # a failing document rule lists every document it looked at, and names the failing ones in its message
        result("FILE-002", message="files must be under 10 MB: docs/big.pdf (20,000,000 bytes), /tmp/outside.pdf", evidence=documents),
        result("FILE-001", message="/tmp/outside.pdf is exe", evidence=documents[2:]),
    )
    where = {r.rule.id: [(p.uri, p.line) for p in places(run, r)] for r in run.results}
    assert where["KEY-002"] == [("services/fax/deploy/app.py", 4)]
    assert where["FILE-002"] == [("services/fax/docs/big.pdf", 1)]  # not the document that is fine; not one outside
    assert where["FILE-001"] == [("services/fax/golive.yaml", 14)]  # outside the repository: the repo section


def test_fingerprints_survive_reruns_and_tell_findings_apart() -> None:
    def prints(message: str, evidence: list[dict[str, Any]], rule_id: str = "KEY-002") -> list[str]:
        run = run_of(result(rule_id, message=message, evidence=evidence))
        return [p.fingerprint for p in places(run, run.results[0])]

    key = {"kind": "finding", "file": "app.py", "line": 4, "match": "fx_live_…a1b2"}
    first = prints("1 live key (scanned in 0.21 s)", [key])
    assert first == prints("1 live key (scanned in 0.93 s)", [key])  # the message does not count
    assert first == prints("moved", [{**key, "line": 40}])  # nor the line: an edit above the key keeps its identity
    assert first != prints("x", [{**key, "match": "fx_live_…c3d4"}])  # another key
    assert first != prints("x", [{**key, "file": "other.py"}])
    assert first != prints("x", [key], rule_id="KEY-003")
    twice = prints("x", [key, {**key, "line": 9}])  # the same key twice in one file: two findings
    assert len(set(twice)) == 2 and twice[:1] == first
    client = [run_of(result("IDEM-102", message=m)) for m in ("key 'a1' then 'b2' after 1.42 s", "key 'c3' then 'd4' after 2.01 s")]
    assert len({places(r, r.results[0])[0].fingerprint for r in client}) == 1


# ---------------------------------------------------------------- --format github


def test_annotations_read_back_exactly_whatever_the_text() -> None:
    hostile = result(
        "IDEM-102",
        message=HOSTILE,
        title="Keys, retries: 100% %2C",
        fix="Reuse the key.\nAlways: 5%",
        evidence=[{"kind": "finding", "file": "dir,with:odd%name/a.py", "line": 7, "match": "m"}],
    )
    run = run_of(hostile, result("HOOK-209"), result("ERR-102", Status.ERROR, "the client crashed: 100%"))
    text = github(run)
    assert all(line.startswith("::") for line in runner_lines(text))  # no line of target text reaches the runner raw
    commands = parse(text)
    verdict, *findings = commands
    assert (verdict.name, verdict.properties, verdict.data) == ("error", {"title": "golive: NOT READY"}, run.coverage_line())
    assert [(c.name, c.properties) for c in findings] == [
        ("error", {"file": "services/fax/dir,with:odd%name/a.py", "line": "7", "title": "IDEM-102 Keys, retries: 100% %2C"}),
        ("warning", {"file": "services/fax/golive.yaml", "line": "9", "title": f"HOOK-209 {PACK.rule('HOOK-209').title}"}),
        ("notice", {"file": "services/fax/golive.yaml", "line": "6", "title": f"ERR-102 {PACK.rule('ERR-102').title}"}),
    ]
    assert findings[0].data == HOSTILE + "\n\nHow to fix: Reuse the key.\nAlways: 5%"
    assert findings[2].data.startswith("could not be checked: the client crashed: 100%\n\nHow to fix: ")


def test_annotations_cover_what_holds_the_verdict_and_nothing_waived() -> None:
    live = run_of(
        result("IDEM-102", Status.WAIVED, "waived: dedupe in the queue"),
        result("LIVE-004", Status.MANUAL, "attest it", severity=Severity.BLOCKER),  # live mode: a blocker
        result("LIVE-005", Status.MANUAL, "attest it"),  # info: no annotation
        result("IDEM-001", Status.PASS),
    )
    commands = parse(github(live))
    assert [c.properties.get("title", "").split()[0] for c in commands] == ["golive:", "LIVE-004"]
    assert commands[1].data.startswith("needs an attestation: attest it")
    ready = run_of(
        result("IDEM-001", Status.PASS),
        verdict="ready",
        coverage=Coverage(probed={"sandbox": ("IDEM-001",)}, not_configured={"client": ("IDEM-101",)}),
    )
    (only,) = parse(github(ready))
    assert (only.name, only.properties["title"]) == ("notice", "golive: READY (sandbox contract only)")
    assert "not configured: client (1 rule)" in only.data
    none = run_of(result("IDEM-001"), config_file=None, locations={}, context=None)
    assert parse(github(none))[1].properties == {"title": f"IDEM-001 {PACK.rule('IDEM-001').title}"}  # no file to name


def test_github_is_printed_not_written(tmp_path: Path) -> None:
    assert "github" in PRINTED and "github" not in FILES
    written = write_reports(run_of(result("IDEM-102")), ["json", "github", "gitlab"], tmp_path)
    assert sorted(p.name for p in written) == ["gl-code-quality-report.json", "report.json"]


# ---------------------------------------------------------------- --format gitlab and SARIF


def gitlab_issues(run: RunResult) -> list[dict[str, Any]]:
    issues = json.loads(RENDERERS["gitlab"](run))
    assert isinstance(issues, list)
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= issue.keys()
        assert issue["severity"] in GITLAB_SEVERITIES
        assert isinstance(issue["location"]["path"], str) and issue["location"]["path"]
        assert isinstance(issue["location"]["lines"]["begin"], int) and issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == len(issues)  # GitLab dedupes on it
    return issues  # type: ignore[no-any-return]


def sarif_results(run: RunResult) -> list[dict[str, Any]]:
    sarif = json.loads(RENDERERS["sarif"](run))
    jsonschema.validate(sarif, sarif_schema())
    return sarif["runs"][0]["results"]  # type: ignore[no-any-return]


def test_gitlab_and_sarif_place_and_fingerprint_findings_alike() -> None:
    keys = [{"kind": "finding", "file": "a.py", "line": 2, "match": "k1"}, {"kind": "finding", "file": "b.py", "line": 5, "match": "k2"}]
    run = run_of(
        result("KEY-002", evidence=keys), result("IDEM-102", message=HOSTILE), result("HOOK-209"), result("LIVE-004", Status.MANUAL)
    )
    issues = gitlab_issues(run)
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("KEY-002", "blocker", "services/fax/a.py", 2),
        ("KEY-002", "blocker", "services/fax/b.py", 5),
        ("IDEM-102", "blocker", "services/fax/golive.yaml", 6),
        ("HOOK-209", "major", "services/fax/golive.yaml", 9),
    ]
    assert HOSTILE in issues[2]["description"]
    results = sarif_results(run)
    located = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    ]
    assert located == [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues]
    assert [r["partialFingerprints"]["goliveFinding/v1"] for r in results] == [i["fingerprint"] for i in issues]


def test_sarif_validates_with_a_waiver_an_error_and_no_config_file() -> None:
    run = run_of(result("IDEM-102", Status.WAIVED), result("ERR-102", Status.ERROR, HOSTILE), config_file=None, locations={}, context={})
    (waived,) = sarif_results(run)
    assert "locations" not in waived and waived["suppressions"][0]["kind"] == "external" and waived["partialFingerprints"]
    assert gitlab_issues(run)[0]["location"] == {"path": ".", "lines": {"begin": 1}}


def test_sarif_percent_encodes_a_file_name_into_a_uri() -> None:
    run = run_of(result("KEY-002", evidence=[{"kind": "finding", "file": "my dir/50%.py", "line": 3, "match": "k"}]))
    (item,) = sarif_results(run)
    assert item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "services/fax/my%20dir/50%25.py"


# ---------------------------------------------------------------- Markdown verdict


def test_markdown_states_the_verdict_label_and_the_coverage() -> None:
    coverage = Coverage(probed={"sandbox": ("IDEM-001",)}, not_configured={"client": ("IDEM-101", "IDEM-102")})
    run = run_of(result("IDEM-001", Status.PASS), verdict="ready", coverage=coverage)
    text = RENDERERS["md"](run)
    assert text.startswith("## golive: ✅ READY (sandbox contract only) · mintfax (sandbox)\n")
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<p>Coverage: probed: sandbox contract (1 rule); not configured: client (2 rules)</p>" in html


# ---------------------------------------------------------------- the real command line on a real project


@pytest.fixture(scope="module")
def flawed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository whose integration lives in services/fax: a client that sends no key (IDEM-101 fails), a
    webhook receiver that is not running (HOOK-201 is an error) and a committed live key (KEY-002 fails)."""
    root = tmp_path_factory.mktemp("repo")
    folder = root / "services" / "fax"
    (folder / "deploy").mkdir(parents=True)
    client = f"{sys.executable} {ROOT / 'tests' / 'clients' / 'faxclient.py'} --to {{to}} --file {{file}} --ref {{ref}} --flaw no-key"
    (folder / "golive.yaml").write_text(
        "provider: mintfax\n"
        f"sandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n"
        "client:\n"
        f"  command: {client}\n"  # line 4
        "  env: {MINTFAX_BASE_URL: '{base_url}', MINTFAX_API_KEY: '{api_key}'}\n"
        "webhook:\n"  # line 6
        f"  url: http://127.0.0.1:{free_port()}/hooks\n"
        "  secret: whsec_0f5a9c2d7e1b8a4c6d3e9f0a1b2c3d4e\n"
        "  events: [fax.delivered, fax.failed, balance.low]\n"
    )
    (folder / "deploy" / "settings.py").write_text("DEBUG = False\n\nMINTFAX_KEY = 'fx_live_8Hq2ZtR4vX9mP1cL7nB3'\n")
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "integration"], cwd=root, check=True)
    return root


CHECK = ("check", "-c", "services/fax/golive.yaml", "--select", "IDEM-101,HOOK-201,KEY-002", "--format", "text,json,sarif,github,gitlab")


@pytest.mark.slow
def test_the_command_line_annotates_each_finding_where_it_belongs(flawed_project: Path) -> None:
    runs = [golive(*CHECK, "--output", f"out{n}", cwd=flawed_project) for n in (1, 2)]
    for done in runs:
        assert done.returncode == 1, done.stdout + done.stderr
    commands = parse(runs[0].stdout)
    assert commands[0].name == "error" and commands[0].properties["title"] == "golive: NOT READY"
    where = {c.properties["title"].split()[0]: (c.name, c.properties["file"], c.properties["line"]) for c in commands[1:]}
    assert where == {
        "IDEM-101": ("error", "services/fax/golive.yaml", "4"),  # client.command
        "HOOK-201": ("error", "services/fax/golive.yaml", "6"),  # the webhook section
        "KEY-002": ("error", "services/fax/deploy/settings.py", "3"),  # the committed key
    }
    assert "fx_live_8Hq2ZtR4vX9mP1cL7nB3" not in runs[0].stdout
    fingerprints = []
    for n in (1, 2):
        out = flawed_project / f"out{n}"
        sarif = json.loads((out / "report.sarif").read_text())
        jsonschema.validate(sarif, sarif_schema())
        issues = json.loads((out / "gl-code-quality-report.json").read_text())
        prints = {r["ruleId"]: r["partialFingerprints"]["goliveFinding/v1"] for r in sarif["runs"][0]["results"]}
        assert prints == {i["check_name"]: i["fingerprint"] for i in issues if i["check_name"] != "HOOK-201"}  # errors: no SARIF result
        fingerprints.append(prints)
    assert fingerprints[0] == fingerprints[1] and set(fingerprints[0]) == {"IDEM-101", "KEY-002"}


@pytest.mark.slow
def test_report_render_prints_the_annotations_of_a_saved_report(flawed_project: Path) -> None:
    done = golive(*CHECK, "--output", "saved", "-q", cwd=flawed_project)
    assert done.returncode == 1, done.stderr
    again = golive("report", "render", "saved/report.json", "--format", "github", "-o", "rendered", cwd=flawed_project)
    assert again.returncode == 0, again.stderr
    assert parse(again.stdout) == parse(done.stdout)


@pytest.mark.slow
def test_places_are_from_the_repository_root_wherever_golive_runs(flawed_project: Path) -> None:
    """Run from the integration's own folder (a monorepo job with `working-directory: services/fax`): the SARIF and the
    annotations still name files from the repository's root, where code scanning and the runner resolve them."""
    folder = flawed_project / "services" / "fax"
    done = golive("check", "--select", "IDEM-101,KEY-002", "--format", "github,sarif", "--output", "here", cwd=folder)
    assert done.returncode == 1, done.stdout + done.stderr
    where = {c.properties["title"].split()[0]: (c.properties["file"], c.properties["line"]) for c in parse(done.stdout)[1:]}
    assert where == {"IDEM-101": ("services/fax/golive.yaml", "4"), "KEY-002": ("services/fax/deploy/settings.py", "3")}
    sarif = json.loads((folder / "here" / "report.sarif").read_text())
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"services/fax/golive.yaml", "services/fax/deploy/settings.py"}
