"""A verdict that states its coverage: which targets were probed and which were not configured, `READY (… only)` over
a partial set, `require:` / `--require` turning a missing target into a failure, and a terminal that ends with what to
fix first. The engine runs with every check faked to pass (it records that it ran), so what is judged here is the
bookkeeping, not the probes."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import itertools
import json
import subprocess
import sys

import pytest

from checker import engine
from checker.config import minimal_config, parse_config
from checker.model import Outcome, Qualifier, QualifierKind, Result, RunResult, Severity, Status
from checker.packs import load_pack
from checker.registry import Check
from checker.report import load_report, merge_runs, write_reports
from checker.terminal import Checklist

KEY = "fx_test_a1b2c3d4e5f6a7b8c9d0"
CLIENT = "client: {command: 'true', timeout: 5}\n"
WEBHOOK = (
    "webhook: {url: 'http://127.0.0.1:9/hooks', secret: whsec_0123456789abcdef0123, events: [fax.delivered, fax.failed, balance.low]}\n"
)


@pytest.fixture
def passing(monkeypatch):
    """Every registered check passes whatever it probes."""

    async def passes(ctx, rule):
        return Outcome.passed("probed")

    fakes = {rule_id: Check(rule_id, passes, False) for rule_id in engine.registered()}
    monkeypatch.setattr(engine, "registered", lambda: dict(fakes))


def checked(cfg, *select: str, require: tuple[str, ...] = (), skip_unconfigured: bool = False) -> RunResult:
    options = engine.RunOptions(select=select, require=require, skip_unconfigured=skip_unconfigured)
    return asyncio.run(engine.run(cfg, load_pack(cfg.file.provider), options))


@pytest.mark.parametrize(("client", "webhook"), list(itertools.product((False, True), repeat=2)))
def test_coverage_names_what_was_probed_and_what_was_not_configured(passing, client, webhook):
    cfg = parse_config(f"provider: mintfax\nsandbox: {{url: builtin}}\n{CLIENT * client}{WEBHOOK * webhook}", environ={})
    run = checked(cfg)
    probed, missing = run.coverage.probed, run.coverage.not_configured
    configured = {"sandbox", "repo"} | ({"client"} if client else set()) | ({"webhook"} if webhook else set())
    assert set(probed) == configured, run.coverage
    assert set(missing) == {"sandbox", "client", "webhook", "repo"} - configured, run.coverage
    pack = load_pack("mintfax")
    for target, ids in missing.items():  # counted in the rules the pack covers, every one of them
        assert sorted(ids) == sorted(r.id for r in pack.rules if r.target == target and not r.skip), target
    assert run.verdict == "ready"
    if configured == {"sandbox", "client", "webhook", "repo"}:
        assert run.verdict_label() == "READY" and "not configured" not in run.coverage_line()
    else:
        words = (("sandbox", "sandbox contract"), ("client", "client"), ("webhook", "webhook receiver"), ("repo", "repo"))
        names = [n for t, n in words if t in configured]
        shown = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"  # "sandbox contract, client and repo"
        assert run.verdict_label() == f"READY ({shown} only)"
        assert "not configured: " in run.coverage_line()
        for target in missing:
            assert f"{'webhook receiver' if target == 'webhook' else target} ({len(missing[target])} rules)" in run.coverage_line()


def test_without_a_config_file_only_the_sandbox_contract_is_covered(passing):
    run = checked(minimal_config("idunox", api_key=""))
    assert run.verdict_label() == "READY (sandbox contract only)", run.coverage
    assert set(run.coverage.not_configured) == {"client", "repo"}  # idunox documents no webhooks: no gap there
    line = Checklist(io.StringIO(), colour=False).verdict(run)
    assert "Verdict: READY (sandbox contract only)" in line
    assert "probed: sandbox contract (" in line and "not configured: client (" in line and "repo (" in line
    assert "require:" in line  # says how to make a missing target fail


@pytest.mark.parametrize("where", ["file", "flag"])
def test_a_required_target_that_is_not_configured_fails_the_verdict(passing, where):
    require = "require: [sandbox, client, webhook]\n" if where == "file" else ""
    cfg = parse_config(f"provider: mintfax\nsandbox: {{url: builtin}}\n{require}", environ={})
    run = checked(cfg, require=("client", "webhook") if where == "flag" else ())
    results = {r.rule.id: r for r in run.results}
    assert run.verdict == "not ready" and run.verdict_label() == "NOT READY"
    said = "--require names client" if where == "flag" else "require: in golive.yaml names client"
    assert results["RETRY-101"].status is Status.ERROR
    assert results["RETRY-101"].message == f"required ({said}), but no client configured (client.command in golive.yaml)"
    assert results["HOOK-201"].status is Status.ERROR and "no webhook receiver configured" in results["HOOK-201"].message
    assert results["IDEM-001"].status is Status.PASS  # the sandbox is configured (builtin) and was probed
    client_rules = [r for r in load_pack("mintfax").rules if r.target == "client" and not r.skip]
    assert f"client ({len(client_rules)} rules, required)" in run.coverage_line()
    # the triage list says it once, not once per rule
    out = io.StringIO()
    Checklist(out, colour=False).render(run, load_pack("mintfax").sections, "golive")
    text = out.getvalue()
    fix_first = text[text.index("What to fix first") :]
    listed = [r for r in client_rules if r.severity is not Severity.INFO]  # info items do not hold a verdict back
    assert fix_first.count("but no client configured") == 1 and f"{len(listed)} rules: " in fix_first, fix_first


def test_a_required_target_with_no_rule_selected_is_no_blocker(passing):
    """Issue 29: `require` applies to the targets of the selected rules: a one-rule run (`--select IDEM-001`) is judged on
    what it selected, and a required target none of its rules probes is not held against it."""
    cfg = parse_config(f"provider: mintfax\nsandbox: {{url: builtin}}\n{CLIENT}", environ={})
    run = checked(cfg, "IDEM-001", require=("client",))
    assert all(r.status is Status.PASS for r in run.results)
    assert run.coverage.required == () and run.coverage.required_not_probed == () and run.verdict == "ready"
    assert "required but no rule of it selected" not in run.coverage_line()
    both = checked(cfg, "IDEM-001", "RETRY-101", require=("client",))
    assert both.verdict == "ready" and both.coverage.required == ("client",)


def test_hook_212_follows_the_webhook_section():
    """A fresh `golive init` has no webhook section: HOOK-212 (a blocker that reads only webhook.events) used to fail
    alone while every other webhook rule skipped. It now skips with its siblings; with a webhook section it judges."""
    none = parse_config("provider: mintfax\nsandbox: {url: builtin}\n", environ={})
    result = checked(none, "HOOK-212").results[0]
    assert result.status is Status.ERROR and "no webhook receiver configured (webhook.url in golive.yaml)" in result.message  # selected
    # selected by name beside a rule that probes: still asked for, still an error
    result = next(r for r in checked(none, "HOOK-212", "IDEM-001").results if r.rule.id == "HOOK-212")
    assert result.status is Status.ERROR and "selected, but no webhook receiver configured" in result.message
    # with --skip-unconfigured a selection that probed something (IDEM-001) is judged on it: HOOK-212 skips with its
    # siblings (issue 29), unless its target is required
    result = next(r for r in checked(none, "HOOK-212", "IDEM-001", skip_unconfigured=True).results if r.rule.id == "HOOK-212")
    assert result.status is Status.SKIP and result.message == "no webhook receiver configured (webhook.url in golive.yaml)"
    required = checked(none, "HOOK-212", "IDEM-001", require=("webhook",), skip_unconfigured=True)
    assert next(r for r in required.results if r.rule.id == "HOOK-212").status is Status.ERROR
    # a selection of which nothing probed errs, --skip-unconfigured or not
    assert checked(none, "HOOK-212", skip_unconfigured=True).results[0].status is Status.ERROR
    unselected = asyncio.run(
        engine.run(none, load_pack("mintfax"), engine.RunOptions(ignore=("IDEM", "RETRY", "RATE", "ERR", "FILE", "OBS")))
    )
    hook = next(r for r in unselected.results if r.rule.id == "HOOK-212")
    assert hook.status is Status.SKIP and hook.message == "no webhook receiver configured (webhook.url in golive.yaml)"
    some = parse_config("provider: mintfax\nsandbox: {url: builtin}\nwebhook: {events: [fax.delivered]}\n", environ={})
    hook = checked(some, "HOOK-212").results[0]
    assert hook.status is Status.FAIL and "does not include fax.failed, balance.low" in hook.message


def test_coverage_context_and_locations_survive_a_report_and_merge(passing, tmp_path):
    text = f"provider: mintfax\nsandbox:\n  url: builtin\n{CLIENT}"
    (tmp_path / "golive.yaml").write_text(text)
    from checker.config import load_config

    cfg = load_config(tmp_path / "golive.yaml")
    sandbox_only = checked(cfg, "IDEM")
    client_only = checked(cfg, "RETRY-101")
    assert sandbox_only.locations["client"] == 4 and sandbox_only.locations["sandbox"] == 3
    assert sandbox_only.context.client == "true" and sandbox_only.context.pack.name == "mintfax"
    assert len(sandbox_only.context.pack.sha256 or "") == 12
    write_reports(sandbox_only, ["json"], tmp_path / "a")
    again = load_report(tmp_path / "a" / "report.json")
    assert (again.coverage, again.context, again.locations) == (sandbox_only.coverage, sandbox_only.context, sandbox_only.locations)
    merged = merge_runs([sandbox_only, client_only])
    assert set(merged.coverage.probed) == {"sandbox", "client"}


def test_the_triage_list_orders_blockers_then_warnings_with_fixes():
    pack = load_pack("mintfax")

    def result(rule_id: str, status: Status, message: str, severity: Severity | None = None) -> Result:
        rule = pack.rule(rule_id)
        return Result(rule=rule, status=status, severity=severity or rule.severity, message=message)

    results = (
        result("RETRY-107", Status.FAIL, "no jitter"),
        result("IDEM-001", Status.PASS, "fine"),
        result("RETRY-101", Status.ERROR, "cannot start the client: no such program"),
        result("RETRY-102", Status.ERROR, "cannot start the client: no such program"),
        dataclasses.replace(
            result("IDEM-102", Status.FAIL, "the retry changed the key"),
            qualifiers=(
                Qualifier(
                    kind=QualifierKind.ASSUMED, facts=("x",), text="[rests on golive's assumption, not the provider's documents: x = 1]"
                ),
            ),
        ),
        result("LIVE-001", Status.MANUAL, "needs a person's attestation"),
    )
    run = RunResult("mintfax", "sandbox", "2026-11-26T00:00:00Z", 1.0, "not ready", False, results, "0")
    out = io.StringIO()
    Checklist(out, colour=False).render(run, pack.sections, "golive")
    text = out.getvalue()
    triage = text[text.index("What to fix first") : text.index("Verdict:")]
    assert triage.index("IDEM-102") < triage.index("2 rules: RETRY-101, RETRY-102") < triage.index("RETRY-107"), triage
    assert triage.index("blockers:") < triage.index("warnings:")
    assert "fix: Create the key once, outside the retry loop." in triage
    assert "(rests on golive's assumptions: golive explain IDEM-102)" in triage and "x = 1" not in triage
    assert "LIVE-001" not in triage  # an info item to attest does not hold a sandbox verdict back
    assert "blockers: 1 failed, 2 error · warnings: 1 failed" in text
    assert text.rstrip().endswith("blockers: 1 failed, 2 error · warnings: 1 failed")


def test_verbose_evidence_is_readable_lines_and_blocks():
    from checker.terminal import evidence_lines

    head, block = evidence_lines({"kind": "backoff_windows", "model": "documented", "windows": [[1.0, 2.0], [2.0, 4.0]]})
    assert head == "expected retry delays (documented): 1–2 s, 2–4 s" and block == []
    head, block = evidence_lines(
        {"kind": "process", "exit_code": 1, "duration_s": 0.5, "stderr_tail": "Traceback\n  File x\nValueError: no\n"}
    )
    assert "\n" not in head and block[0] == "stderr tail:" and block[-1] == "ValueError: no"
    head, block = evidence_lines({"kind": "note", "text": 'body sent: {\r\n "a" : 1\n}'})
    assert head == "body sent: { …" and block == ["text:", "body sent: {", ' "a" : 1', "}"]
    head, _ = evidence_lines({"kind": "document", "file": "documents/a.pdf", "bytes": 1880, "accepted": True})
    assert head == "document: file: documents/a.pdf  bytes: 1880  accepted: True"


@pytest.mark.slow
def test_check_in_an_empty_folder_says_it_covered_only_the_sandbox_contract(tmp_path):
    """As a new user meets it: no golive.yaml, `--provider`, and then `--require client`."""
    done = subprocess.run(
        [sys.executable, "-m", "checker", "check", "--provider", "idunox", "--format", "text"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Verdict: READY (sandbox contract only)" in done.stdout
    assert "not configured: client (" in done.stdout
    required = subprocess.run(
        [sys.executable, "-m", "checker", "check", "--provider", "idunox", "--require", "client", "--format", "text"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(tmp_path)},
    )
    assert required.returncode == 1, required.stdout + required.stderr
    assert "Verdict: NOT READY" in required.stdout and "required (--require names client), but no client configured" in required.stdout


def test_every_output_shows_the_sections_in_the_packs_order():
    """The catalog lists FILE-003 (a sandbox rule of section Files) among the idempotency rules; the results follow the
    pack's section order, so the HTML and JUnit (first appearance) show the sections as the terminal does."""
    from checker.config import minimal_config

    for name in ("mintfax", "idunox", "flexforward"):
        pack = load_pack(name)
        rules = engine.select_rules(pack, minimal_config(name, api_key=""), engine.RunOptions())
        seen: list[str] = []
        for rule in rules:
            if rule.section not in seen:
                seen.append(rule.section)
        assert seen == [s for s in pack.sections if s in seen], (name, seen)


def test_one_cause_is_one_line_in_the_checklist_too():
    """Pre-flight stops a missing program before any probe; a cause it cannot see (a client that crashes the same way
    on every run) still errs on every client rule: outside -v the section shows it once, with the rules it hit."""
    pack = load_pack("mintfax")
    ids = ("RETRY-101", "RETRY-102", "RETRY-103", "RETRY-104")
    message = "the client exited 1 before sending any request: ImportError: no module named stripe"
    results = tuple(Result(rule=pack.rule(i), status=Status.ERROR, severity=pack.rule(i).severity, message=message) for i in ids)
    run = RunResult("mintfax", "sandbox", "2026-11-26T00:00:00Z", 1.0, "not ready", False, results, "0")
    out = io.StringIO()
    Checklist(out, colour=False).render(run, pack.sections, "golive")
    text = out.getvalue()
    section = text[: text.index("What to fix first")]
    assert section.count(message) == 1 and f"{', '.join(ids)}: error: {message}" in section, section
    verbose = io.StringIO()
    Checklist(verbose, colour=False, verbose=True).render(run, pack.sections, "golive")
    assert verbose.getvalue().count(message) == len(ids) + 1  # each rule, and the triage entry


def test_no_checklist_line_is_a_workflow_command():
    """GitHub's runner reads a stdout line starting with `::` (after blanks) as a command; a target's words in a message
    or an evidence note must not become one (`--format github` writes golive's own, escaped)."""
    pack = load_pack("mintfax")
    rule = pack.rule("RETRY-101")
    evidence = ({"kind": "note", "text": "::add-mask::x"}, {"kind": "note", "text": "ok\n::error::forged"})
    results = (Result(rule=rule, status=Status.FAIL, severity=rule.severity, message="::error file=a::forged", evidence=evidence),)
    run = RunResult("mintfax", "sandbox", "2026-11-26T00:00:00Z", 1.0, "not ready", False, results, "0")
    out = io.StringIO()
    Checklist(out, colour=False, verbose=True).render(run, pack.sections, "golive")
    lines = out.getvalue().splitlines()
    assert not [line for line in lines if line.lstrip().startswith("::")], out.getvalue()
    assert any("forged" in line for line in lines)  # shown, as text


def test_no_checklist_line_is_a_legacy_workflow_command():
    """The runner also reads the older `##[command]message` form (its ActionCommand.TryParse, after blanks)."""
    pack = load_pack("mintfax")
    rule = pack.rule("RETRY-101")
    evidence = ({"kind": "note", "text": "##[add-mask]x"},)
    results = (Result(rule=rule, status=Status.FAIL, severity=rule.severity, message="##[error]forged", evidence=evidence),)
    run = RunResult("mintfax", "sandbox", "2026-11-26T00:00:00Z", 1.0, "not ready", False, results, "0")
    out = io.StringIO()
    Checklist(out, colour=False, verbose=True).render(run, pack.sections, "golive")
    lines = out.getvalue().splitlines()
    assert not [line for line in lines if line.lstrip().startswith(("::", "##["))], out.getvalue()
    assert any("forged" in line for line in lines)


def test_a_fix_text_with_newlines_stays_on_its_line_under_v():
    """A pack's fix is filled from its facts (a user's pack, a pack a team shares): under -v it is one line as the
    triage list shows it, so a newline in it can neither break the layout nor start a workflow command."""
    from dataclasses import replace

    pack = load_pack("mintfax")
    rule = replace(pack.rule("RETRY-101"), fix="retry\n::error file=a::forged\x1b[2J")
    results = (Result(rule=rule, status=Status.FAIL, severity=rule.severity, message="no retry"),)
    run = RunResult("mintfax", "sandbox", "2026-11-26T00:00:00Z", 1.0, "not ready", False, results, "0")
    out = io.StringIO()
    Checklist(out, colour=False, verbose=True).render(run, pack.sections, "golive")
    lines = out.getvalue().splitlines()
    assert not [line for line in lines if line.lstrip().startswith("::")], out.getvalue()
    assert "\x1b" not in out.getvalue()
    assert sum("fix: retry" in line and "forged" in line for line in lines) == 2, out.getvalue()  # the card and the triage


def test_a_required_target_that_is_not_configured_is_not_ready_whatever_the_severities(passing):
    """`--require repo` without a golive.yaml: idunox's only repo rule it covers is KEY-004, a warning. Its `error`
    does not hold the verdict back on its own, so the requirement must: a missing required target never reads READY."""
    run = checked(minimal_config("idunox", api_key=""), require=("repo",))
    assert run.coverage.not_configured.get("repo") == ("KEY-004",), run.coverage
    assert run.verdict == "not ready" and run.verdict_label() == "NOT READY"
    assert "repo (1 rule, required)" in run.coverage_line() and "no rule of it selected" not in run.coverage_line()
    # the same when only warnings of the required target are selected
    cfg = parse_config("provider: mintfax\nsandbox: {url: builtin}\n", environ={})
    assert checked(cfg, "HOOK-209", require=("webhook",)).verdict == "not ready"
    # merged, the same report says the same
    merged = merge_runs([run])
    assert merged.verdict == "not ready" and merged.coverage_line() == run.coverage_line()


def test_nothing_probed_never_reads_plain_ready(passing):
    """Every covered rule deselected or not configured: the verdict is over nothing and must say so."""
    options = engine.RunOptions(ignore=("IDEM", "FILE-003"))
    run = asyncio.run(engine.run(minimal_config("idunox", api_key=""), load_pack("idunox"), options))
    assert run.verdict == "ready" and not run.coverage.probed, run.coverage
    assert run.verdict_label() == "READY (nothing probed)"


@pytest.mark.slow
def test_a_hand_edited_coverage_or_context_is_a_located_error(passing, tmp_path):
    """A report.json whose coverage or context has the wrong shape is refused naming the key (exit 2 from `golive report
    render`), not an internal error when a renderer reads it."""
    from checker.errors import ConfigError

    cfg = parse_config("provider: mintfax\nsandbox: {url: builtin}\n", environ={})
    write_reports(checked(cfg, "IDEM-001"), ["json"], tmp_path)
    path = tmp_path / "report.json"
    good = json.loads(path.read_text())
    for key, bad, where in (
        ("coverage", {"probed": {"sandbox": 3}}, "coverage.probed.sandbox"),
        ("context", {"git": "abc"}, "context.git"),
        ("context", {"pack": {"sha256": 1}}, "context.pack"),
    ):
        path.write_text(json.dumps({**good, key: bad}))
        with pytest.raises(ConfigError) as caught:
            load_report(path)
        assert any(p.key.startswith(where) for p in caught.value.problems), caught.value.problems
        done = subprocess.run(
            [sys.executable, "-m", "checker", "report", "render", str(path), "--format", "html", "-o", str(tmp_path / "again")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr and where in done.stderr, done.stderr


def test_a_target_whose_every_rule_erred_is_not_probed(monkeypatch):
    """The receiver never came up: every webhook rule errs. That target was not probed — the coverage says so, a READY
    over warnings only (`--select HOOK-209`) reads `READY (… only)`, and a required one is NOT READY."""

    async def erring(ctx, rule):
        raise engine.ProbeError("the receiver exited before its port opened")

    async def passes(ctx, rule):
        return Outcome.passed("probed")

    probes = {rule.id: rule.probes for rule in load_pack("mintfax").rules}
    fakes = {i: Check(i, erring if probes[i] == "webhook" else passes, False) for i in engine.registered()}
    monkeypatch.setattr(engine, "registered", lambda: dict(fakes))
    cfg = parse_config(f"provider: mintfax\nsandbox: {{url: builtin}}\n{WEBHOOK}", environ={})
    run = checked(cfg, "HOOK-209", "IDEM-001")
    assert run.verdict == "ready" and run.coverage.could_not_probe == {"webhook": ("HOOK-209",)}, run.coverage
    assert run.verdict_label() == "READY (sandbox contract only)"
    assert "configured, but every rule of it erred: webhook receiver (1 rule)" in run.coverage_line()
    required = checked(cfg, "HOOK-209", "IDEM-001", require=("webhook",))
    assert required.verdict == "not ready" and required.coverage.required_not_probed == ("webhook",)
    assert "required but no rule" not in required.coverage_line()  # it was selected: the line above says what happened


def test_a_selected_blocker_left_unprobed_by_a_missing_setting_is_an_error(tmp_path):
    """docs/design.md §4: no configuration reaches READY while a selected blocker was not probed. KEY-003 needs
    repo.production_paths: selected by id it is `error` (NOT READY), unselected a `skip` the verdict line names."""
    cfg = parse_config(f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{KEY}'}}\n", environ={})
    selected = checked(cfg, "KEY-003")
    result = selected.results[0]
    assert result.status is Status.ERROR and result.message == (
        "selected, but no production paths configured (repo.production_paths in golive.yaml)"
    )
    assert selected.verdict == "not ready"
    unselected = asyncio.run(
        engine.run(cfg, load_pack("mintfax"), engine.RunOptions(ignore=("IDEM", "RETRY", "RATE", "ERR", "FILE", "OBS", "HOOK", "BAL")))
    )
    key = next(r for r in unselected.results if r.rule.id == "KEY-003")
    assert key.status is Status.SKIP and "KEY-003" in unselected.not_probed()
    # a skip for what the documents do not cover stays a skip, selected or not
    flex = parse_config("provider: flexforward\nsandbox: {url: builtin}\n", environ={})
    assert checked(flex, "KEY-003").results[0].status is Status.SKIP
