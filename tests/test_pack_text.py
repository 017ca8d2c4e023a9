"""Pack text is untrusted input (hypothesis): a provider pack is a file users download from a third party, so
arbitrary text in every field of a pack that reaches an output (every string fact, document titles and sites,
provenance quotes and assumptions, conflicts, sources and skip reasons, the pack's title) leaves each output
well-formed: `golive init`'s YAML reads back as a plain pack's does, SARIF stays valid and shows the pack's words
as text, and no control character, workflow command (`::`, `##[`) or link of the pack's reaches the terminal,
`explain`, `rules`, the annotations, Markdown or HTML. Everything runs in-process: one pack file per example."""

from __future__ import annotations

import functools
import io
import json
import os
import re
import tempfile
import types
import typing
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from checker.cli import cli
from checker.errors import ConfigError
from checker.model import PackIdentity, Result, RunContext, RunResult, Severity, Status
from checker.packs import Facts, Pack, _fields, load_pack
from checker.report import RENDERERS
from checker.starter import Starter
from checker.terminal import Checklist
from tests import workflow_commands
from tests.conftest import sarif_schema

EXAMPLES = int(os.environ.get("GOLIVE_EXAMPLES", "50"))  # the suite runs on two cores: a modest hunt each run; more with GOLIVE_EXAMPLES
PROPERTIES = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),  # CI runs the same examples every time; a developer's runs explore anew
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# what an attacker would write, mixed with any text at all
DANGERS = [
    *("\n", "\r\n", "\r", "\x85", "\u2028", "\u2029", "\t", "\x00", "\x07", "\x1b[2J", "\x1b]52;c;cHduZWQ=\x07", "\x9b31m"),
    *("\u202e", "\u2066", "\ufeff", "\ufffe", "\U0001f600"),  # (a lone surrogate: pydantic refuses it in any field)
    *("::error::forged", "##[error]forged", "\n::add-mask::x", "%0A::error::x"),
    *("![t](https://192.0.2.1/t.png)", "[Sign in](https://192.0.2.1/login)", "<https://192.0.2.1/a>", "[x]: https://192.0.2.1"),
    *("<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "&lt;b&gt;", "**b**", "`c`", "| x |", "# h"),
    *("\nclient:\n  command: touch pwned\n#", "\n- x", ": ", "# ", "{x}", "${HOME}", "'", '"', "\\", "yes", "null", "&a", "*a"),
]
texts = st.lists(st.one_of(st.sampled_from(DANGERS), st.text(max_size=10)), min_size=1, max_size=6).map("".join)
texts = texts.filter(str.strip)  # a blank skip reason or source is refused at load: no text to show

# ---------------------------------------------------------------- a pack written in an attacker's words

DOC = "000_aa85249851aa0a9c.txt"  # a document of mintfax's, which the hostile pack extends
OPAQUE = {"sandbox.patterns", "idempotency.on_body_mismatch.code"}  # a regex; a part of a union with a status


def text_facts() -> list[tuple[str, str]]:
    """Every fact a pack states as text: its path and its shape ("str", "list", "map")."""
    found = []
    for path, (annotation, *_) in _fields(Facts):
        if path in OPAQUE:
            continue
        if annotation == list[str]:
            found.append((path, "list"))
        elif annotation == dict[str, str]:
            found.append((path, "map"))
        elif _is_text(annotation):
            found.append((path, "str"))
    return found


def _is_text(annotation: Any) -> bool:
    """str, str | None, and either with constraints (an endpoint path is `Annotated[str, …]`)."""
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (types.UnionType, typing.Union) else (annotation,)
    options = tuple(typing.get_args(o)[0] if typing.get_origin(o) is typing.Annotated else o for o in options)
    return str in options and set(options) <= {str, type(None)}


TEXT_FACTS = text_facts()


def set_at(tree: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


def hostile(words: str, other: str) -> dict[str, Any]:
    """A pack extending mintfax with `words` in every text field it has (`other` names a document and a magic value)."""
    facts: dict[str, Any] = {"create": {"noun": words}}
    for path, shape in TEXT_FACTS:
        set_at(facts, path, words if shape == "str" else [words] if shape == "list" else {other: words})
    provenance: dict[str, Any] = {path: {"assumed": words} for path, _ in TEXT_FACTS[::2]}
    provenance |= {path: {"doc": other, "quote": words} for path, _ in TEXT_FACTS[1::2]}
    return {
        "schema": "golive-pack/1",
        "name": "acme",
        "title": re.sub(r"[\x00-\x1f\x7f-\x9f]", "", words)[:200],  # the schema refuses control characters here
        "extends": "mintfax",
        "documents": {
            other: {
                "title": re.sub(r"[\x00-\x1f\x7f-\x9f]", "", words)[:200] or "t",
                "site": re.sub(r"\s", "", words)[:500] or "s",
                "revision": words,
            }
        },
        "facts": facts,
        "provenance": provenance,
        "conflicts": [
            {
                "about": words,
                "rules": ["IDEM-101"],
                "quotes": [{"doc": other, "quote": words}, {"doc": DOC, "quote": words}],
                "reading": words,
                "otherwise": words,
            },
            {
                "about": words,
                "facts": ["create.noun", "balance_path"],
                "quotes": [{"doc": DOC, "quote": words}] * 2,
                "reading": words,
                "otherwise": words,
            },
        ],
        "rules": {"IDEM-101": {"source": other}, "IDEM-103": {"source": words}, "IDEM-102": {"skip": words}, "BAL-001": {"source": DOC}},
    }


def load(data: dict[str, Any], folder: Path) -> Pack:
    """The pack, or, where it refuses a fact (at file:line, naming its key), the pack without the facts it refused (a
    refusal can follow from another: an id_prefix that makes ids the pack's id_pattern does not match, so a few rounds;
    a fact whose object misses a required key goes with its object)."""
    path = folder / "acme.yaml"
    for _ in range(5):
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
        try:
            return load_pack(str(path))
        except ConfigError as exc:
            for problem in exc.problems:
                assert problem.file == str(path) and problem.line, str(problem)
                assert problem.key.startswith("facts."), str(problem)  # what a pack may refuse is a fact that is no such fact
                refused = problem.key.removeprefix("facts.").split("[")[0]
                if "required key is missing" in str(problem):  # keys.format has its text (alphabet) and its length
                    refused = refused.rpartition(".")[0]
                data = {**data, "facts": json.loads(json.dumps(data["facts"]))}
                parent, _, name = refused.rpartition(".")
                tree = data["facts"]
                for part in parent.split(".") if parent else ():
                    tree = tree[part]
                tree.pop(name, None)
                data["provenance"] = {k: v for k, v in data["provenance"].items() if not k.startswith(refused)}
        path = folder / "acme-less.yaml"
    raise AssertionError("the pack is still refused after its refused facts were taken out five times")


# ---------------------------------------------------------------- what every output must stay

UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)  # what checker/printable.py escapes


def printable_lines(text: str, what: str) -> None:
    """No control character but newline; no line a CI runner would read as a workflow command."""
    assert not UNSAFE.search(text), f"{what}: {UNSAFE.search(text)!r} in {text[:2000]!r}"
    commands = [line for line in workflow_commands.runner_lines(text) if line.lstrip().startswith(("::", "##["))]
    assert not commands, f"{what}: {commands}"


MARKDOWN = MarkdownIt("commonmark").enable("table")  # as GitHub draws it: CommonMark and tables, HTML allowed


@functools.cache
def sarif_validator() -> Any:
    schema = sarif_schema()
    return jsonschema.validators.validator_for(schema)(schema)  # the schema checked once, not per example


def no_markup(markdown: str, what: str) -> None:
    """Markdown with no link, image or HTML from a pack."""
    drawn = MARKDOWN.render(markdown)
    for tag in ("<a ", "<img", "<script", "<h1"):  # (golive's own headings are h2)
        assert tag not in drawn, f"{what}: {tag} in {drawn[:3000]}"


def run_of(pack: Pack) -> RunResult:
    """A run that failed every rule the pack covers (so each output says each rule's words, its fix and its basis)."""
    results = []
    for n, rule in enumerate(pack.rules):
        status = Status.SKIP if rule.skip else (Status.FAIL, Status.ERROR, Status.MANUAL)[n % 3]
        results.append(Result(rule, status, Severity.BLOCKER, rule.skip or "failed"))
    context = RunContext(pack=PackIdentity(name=pack.name, title=pack.title, path="acme.yaml", sha256="0" * 12))
    return RunResult(
        "acme", "sandbox", "2026-11-25T10:00:00Z", 1.0, "not ready", False, tuple(results), "0.1.0", "golive.yaml", context=context
    )


# the rules whose words a pack's facts fill, or that its conflicts, sources and skips name
EXPLAINED = ("IDEM-101", "IDEM-102", "IDEM-103", "IDEM-005", "BAL-001", "HOOK-212", "KEY-001", "RETRY-101")


@pytest.fixture(scope="module")
def plain_init(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """What `golive init` writes for a pack extending mintfax in plain words, read back."""
    folder = tmp_path_factory.mktemp("plain")
    (folder / "acme.yaml").write_text("schema: golive-pack/1\nname: acme\nextends: mintfax\n")
    return yaml.safe_load(Starter(load_pack(str(folder / "acme.yaml")), "acme.yaml").render())


@pytest.mark.timeout(1200)  # a bound on a hang, not on speed: 50 examples of every output took over 120 s at a load of 10
@pytest.mark.slow
@PROPERTIES
@given(words=texts, other=texts)
def test_a_packs_words_leave_every_output_well_formed(plain_init: Any, words: str, other: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        pack = load(hostile(words, other), Path(folder))

        written = Starter(pack, "acme.yaml").render()  # golive init
        assert yaml.safe_load(written) == plain_init, written
        printable_lines(written, "golive.yaml")

        runner = CliRunner()
        for args in (["rules", "--provider", pack.path], *(["explain", r, "--provider", pack.path] for r in EXPLAINED)):
            done = runner.invoke(cli, args, catch_exceptions=False)
            assert done.exit_code == 0, done.output
            printable_lines(done.output, " ".join(args[:2]))

    run = run_of(pack)
    out = io.StringIO()
    Checklist(out, colour=False, verbose=True).render(run, pack.sections, f"golive · {pack.name} · {pack.title}")
    printable_lines(out.getvalue(), "the terminal")

    annotations = RENDERERS["github"](run)  # every line one of golive's commands, and nothing the runner would show raw
    assert not UNSAFE.search(annotations), annotations
    commands = workflow_commands.parse(annotations)
    assert len(commands) == len(workflow_commands.runner_lines(annotations)), annotations
    assert {c.name for c in commands} <= {"error", "warning", "notice"}

    sarif = json.loads(RENDERERS["sarif"](run))
    sarif_validator().validate(sarif)
    no_markup("\n\n---\n\n".join(rule["help"]["markdown"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]), "SARIF help")

    markdown = RENDERERS["md"](run)
    no_markup(markdown, "report.md")
    printable_lines(markdown, "report.md")

    page = RENDERERS["html"](run)
    for raw in ("<img src=x", "<script>alert", "\x1b"):
        assert raw not in page, f"report.html: {raw!r}"
    ET.fromstring(RENDERERS["junit"](run).encode())
    json.loads(RENDERERS["json"](run))
    json.loads(RENDERERS["gitlab"](run))


def test_every_text_fact_is_fed() -> None:
    """The property above is not vacuous: it writes the facts init and the rules' texts read."""
    paths = {path for path, _ in TEXT_FACTS}
    assert {"create.noun", "sandbox.magic_field", "balance_path", "keys.test_prefixes", "webhooks.balance_event", "magic"} <= paths
    assert {"webhooks.required_events", "get_path", "create.path", "webhooks.endpoints_path", "idempotency.name"} <= paths
