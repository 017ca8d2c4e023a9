"""Reports from real runs: HTML, Markdown, JUnit and SARIF from one result model; waivers, expired
waivers and attestations in them; `golive report render / merge / diff`; the step summary."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import junitparser
import pytest
from markdown_it import MarkdownIt

from checker import engine
from checker.config import load_config
from checker.model import Coverage, GitState, PackIdentity, Qualifier, QualifierKind, RunContext, RunResult, Status
from checker.packs import load_pack
from checker.report import diff_runs, load_report, merge_runs, render_html, render_junit, render_markdown, timeline_svg, write_reports
from tests.conftest import TEST_KEYS, golive

CLIENTS = Path(__file__).parent / "clients"
SECRET = "whsec_0f5a9c2d7e1b8a4c6d3e9f0a1b2c3d4e"
TODAY = dt.date.today()


def hostile_project(folder: Path) -> Path:
    """A project whose receiver answers every delivery with markup and terminal escapes, with a
    waiver (HOOK-201), an expired waiver (KEY-004) and an attestation (LIVE-004)."""
    folder.mkdir(parents=True, exist_ok=True)
    later, earlier = TODAY + dt.timedelta(days=30), TODAY - dt.timedelta(days=1)
    (folder / "golive.yaml").write_text(
        "provider: mintfax\n"
        f"sandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n"
        "webhook:\n"
        "  url: http://127.0.0.1:{port}/hooks\n"
        f"  secret: {SECRET}\n"
        f'  start: "{{python}} {CLIENTS / "hostile.py"} --port {{port}} --mode markup"\n'
        "  events: [fax.delivered, fax.failed, balance.low]\n"
        "waivers:\n"
        f"  - {{rule: HOOK-201, reason: 'receiver <b>rewrite</b> lands next sprint', by: ops@example.com, expires: {later}}}\n"
        f"  - {{rule: KEY-004, reason: 'moving secrets to vault', by: sec@example.com, expires: {earlier}}}\n"
        "attestations:\n"
        "  LIVE-004: {by: sec@example.com, date: 2026-11-20, evidence: 'https://wiki.example.com/rotation'}\n"
    )
    return folder / "golive.yaml"


def run_of(config_path: Path, *select: str, environment: str | None = None) -> RunResult:
    config = load_config(config_path, environ={})
    options = engine.RunOptions(select=select, environment=environment)
    return asyncio.run(engine.run(config, load_pack("mintfax"), options))


TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "send_fax.py", line 41, in <module>\n'
    "    main()\n"
    '  File "send_fax.py", line 37, in main\n'
    "    raise SystemExit(f'failed with HTTP {status}: <b>{body}</b>')\n"
    "SystemExit: failed with HTTP 503: <b>service_unavailable</b>\n"
)
ASSUMED = Qualifier(
    kind=QualifierKind.ASSUMED,
    facts=("retry.request_timeout_s",),
    text="[rests on golive's assumption, not the provider's documents: retry.request_timeout_s = 30 (why: golive explain RETRY-104)]",
)


def flawed_run(*, dirty: bool = True) -> RunResult:
    """A flawed integration's run as the engine reports it, made in code so a browser test needs no probes: the mintfax
    pack's real rules (titles, fixes, what they rest on) with failures, an error, a waiver, a skip and manual items, the
    evidence a client probe records (attempts whose keys change, a process whose stderr is a traceback, the expected
    backoff windows), webhook deliveries, coverage and what was checked."""
    from checker.model import Result

    pack = load_pack("mintfax")
    keys = ["5c0ffee0-1d7b-4fc5-9f9a-4d25b109fe7d", "9d1e9ad9-7711-4904-8477-db7b958ebb2f", "e2fa2356-a6b0-43b1-b336-cab8df22f7bf"]
    attempts = [
        {"kind": "attempt", "n": n + 1, "t": t, "answered_t": t + 0.01, "method": "POST", "path": "/v1/fax",
         "idempotency_key": keys[n], "status": status, "proxy": proxy}
        for n, (t, status, proxy) in enumerate([(0.41, 503, "injected 503"), (1.43, 503, "injected 503"), (2.45, 201, "forwarded")])
    ]  # fmt: skip
    process = {"kind": "process", "exit_code": 1, "timed_out": False, "duration_s": 2.61, "stdout_tail": "sending invoice.pdf\n",
               "stderr_tail": TRACEBACK}  # fmt: skip
    windows = {"kind": "backoff_windows", "model": "documented", "windows": [[1.0, 2.0], [2.0, 3.0]]}
    delivery = {"kind": "delivery", "label": "stale", "event_id": "evt_golive_187902851494877a2c83", "t": 0.0, "status": 200,
                "latency_s": 0.01, "answer": '{"message": "ok"}'}  # fmt: skip
    outcomes: dict[str, tuple[Status, str, tuple[dict[str, object], ...]]] = {
        "IDEM-001": (Status.PASS, "the replay returned the original resource fax_5a49404e4001489672b9cf28", ()),
        "IDEM-102": (Status.FAIL, f"the retry after 503 changed the key ({keys[0]} -> {keys[1]})", (*attempts, process)),
        "RETRY-101": (Status.FAIL, "the client retried +15005550004 but exited 1 (each attempt carried a new key)", (*attempts, process)),
        "RETRY-104": (Status.FAIL, "the client waited the 35 s golive held it on a request that never answered", ()),
        "RETRY-106": (Status.FAIL, "delays 1.02, 1.02 s: delays do not grow: fixed 1.02 s", (*attempts, windows)),
        "RETRY-102": (Status.ERROR, "cannot start the client: send_fax.py exited before its first request", (process,)),
        "RATE-101": (Status.ERROR, "cannot start the client: send_fax.py exited before its first request", (process,)),
        "HOOK-201": (Status.WAIVED, "rejected a correctly signed delivery (401)", (delivery,)),
        "HOOK-204": (Status.FAIL, "accepted a delivery with a valid signature 600 s old (200)", (delivery,)),
        "HOOK-212": (Status.FAIL, "webhook.events does not include fax.failed, balance.low", ()),
        "KEY-001": (Status.SKIP, "repo is not configured", ()),
        "BAL-001": (Status.FAIL, "nothing watches the balance: subscribe to balance.low or set balance.poll: true", ()),
        "ERR-102": (Status.FAIL, "after a 422 the client's output lacks the field error", (process,)),
        "LIVE-001": (Status.MANUAL, "attest it in golive.yaml (attestations: LIVE-001)", ()),
        "LIVE-004": (Status.ATTESTED, "attested by sec@example.com on 2026-11-20", ()),
    }
    waiver = {"rule": "HOOK-201", "reason": "receiver rewrite lands next sprint", "by": "ops@example.com", "expires": "2099-01-31"}
    results = []
    for rule in sorted((pack.rule(i) for i in outcomes), key=lambda r: (pack.sections.index(r.section), pack.rules.index(r))):
        status, message, evidence = outcomes[rule.id]
        waived = {**waiver, "expired": False} if status is Status.WAIVED else None
        attested = {"by": "sec@example.com", "date": "2026-11-20", "evidence": "wiki"} if status is Status.ATTESTED else None
        qualifiers = (ASSUMED,) if rule.id == "RETRY-104" else ()
        results.append(
            Result(rule, status, rule.severity, message, 1.0, evidence, waiver=waived, attestation=attested, qualifiers=qualifiers)
        )
    by_target: dict[str, list[str]] = {}
    for result in results:
        if result.rule.target != "manual" and result.status is not Status.SKIP:
            by_target.setdefault(result.rule.target, []).append(result.rule.id)
    return RunResult(
        provider="mintfax", environment="sandbox", started_at="2026-11-26T10:00:00Z", duration_s=38.8, verdict="not ready",
        interrupted=False, results=tuple(results), tool_version="0.1.0", config_file="golive.yaml",
        waivers=({**waiver, "state": "applied"},),
        coverage=Coverage(probed={t: tuple(ids) for t, ids in by_target.items()}, not_configured={"repo": ("KEY-001",)}),
        context=RunContext(
            config="examples/mintfax/flawed/golive.yaml",
            git=GitState(commit="defe39153db0cbf72ddda5e76894b789e6f70ac0", dirty=dirty, changed_files=2 if dirty else 0),
            sandbox="embedded", client="{python} send_fax.py --to {to} --file {file} --ref {ref}",
            receiver="{python} receiver.py --port {port}", webhook_url="http://127.0.0.1:{port}/webhooks/mintfax",
            register=None, pack=PackIdentity(name="mintfax", title="mintfax fax API", path="built-in", sha256="77a67d66d2d1"),
        ),
    )  # fmt: skip


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    path = hostile_project(tmp_path_factory.mktemp("hostile"))
    return run_of(path, "IDEM-001", "HOOK-201", "HOOK-203", "KEY-004", "LIVE")


def test_waivers_and_attestations_reach_the_report(hostile_run: RunResult) -> None:
    results = {r.rule.id: r for r in hostile_run.results}
    assert results["HOOK-201"].status is Status.WAIVED
    assert results["HOOK-201"].waiver == {
        "rule": "HOOK-201",
        "reason": "receiver <b>rewrite</b> lands next sprint",
        "by": "ops@example.com",
        "expires": str(TODAY + dt.timedelta(days=30)),
        "expired": False,
    }
    assert results["KEY-004"].status is Status.FAIL and results["KEY-004"].waiver["expired"] is True  # type: ignore[index]
    assert "expired on" in results["KEY-004"].message
    assert results["LIVE-004"].status is Status.ATTESTED
    assert results["LIVE-004"].attestation == {
        "by": "sec@example.com",
        "date": "2026-11-20",
        "evidence": "https://wiki.example.com/rotation",
    }
    states = {w["rule"]: w["state"] for w in hostile_run.waivers}
    assert states == {"HOOK-201": "applied", "KEY-004": "expired"}
    data = hostile_run.to_json()
    assert data["waivers"][1]["state"] == "expired" and data["results"][0]["id"] == "IDEM-001"


def test_live_mode_blocks_on_unattested_items_and_not_on_attested_ones(tmp_path: Path) -> None:
    path = tmp_path / "golive.yaml"
    path.write_text(
        "provider: mintfax\nattestations:\n"
        + "".join(f"  LIVE-{n:03d}: {{by: a@example.com, date: 2026-11-20}}\n" for n in (*range(1, 7), 8, 9, 10))
    )
    sandbox_mode = run_of(path, "LIVE")
    live_mode = run_of(path, "LIVE", environment="live")
    assert sandbox_mode.verdict == "ready"
    assert live_mode.verdict == "not ready"
    blocking = [r.rule.id for r in live_mode.results if r.status is Status.MANUAL]
    assert blocking == ["LIVE-007"]
    path.write_text(path.read_text() + "  LIVE-007: {by: a@example.com, date: 2026-11-21, evidence: top-up alert}\n")
    assert run_of(path, "LIVE", environment="live").verdict == "ready"
    junit = junitparser.JUnitXml.fromstring(render_junit(live_mode).encode())
    failures = [case.name for suite in junit for case in suite if case.result and isinstance(case.result[0], junitparser.Failure)]
    assert failures == ["LIVE-007 Alert or automatic top-up on low balance"]


def test_junit_has_one_testcase_per_rule_as_junit_expects(hostile_run: RunResult) -> None:
    xml = junitparser.JUnitXml.fromstring(render_junit(hostile_run).encode())
    cases = {case.name.split()[0]: case for suite in xml for case in suite}
    assert set(cases) == {r.rule.id for r in hostile_run.results}
    kinds = {rid: type(case.result[0]).__name__ if case.result else "pass" for rid, case in cases.items()}
    assert kinds["IDEM-001"] == "pass"
    assert kinds["KEY-004"] == "Failure"
    assert kinds["HOOK-203"] == "Error"  # cannot judge: the receiver rejects valid deliveries too
    assert kinds["HOOK-201"] == "pass"  # waived
    assert kinds["LIVE-001"] == "Skipped" and kinds["LIVE-004"] == "pass"
    assert xml.failures == 1 and xml.errors == 1 and xml.skipped == 9  # the ten LIVE items but LIVE-004 (attested)
    assert "\x1b" not in render_junit(hostile_run)


def test_markdown_renders_and_escapes_what_targets_said(hostile_run: RunResult) -> None:
    text = render_markdown(hostile_run)
    assert text.startswith("## golive: ❌ NOT READY · mintfax (sandbox)")
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<table>") == 2
    assert "<script" not in html and "<b>" not in html and "<img" not in html
    assert "KEY-004" in html and "Expired waivers" in text
    first_table = html.split("</table>")[0]
    assert first_table.count("<tr>") == 1 + sum(r.status.value in ("fail", "error", "waived", "manual") for r in hostile_run.results)


def test_html_is_self_contained_escaped_and_small(hostile_run: RunResult) -> None:
    html = render_html(hostile_run)
    assert "<script>document.title" not in html and "&lt;script&gt;document.title" in html
    assert "\x1b" not in html and "<b>rewrite</b>" not in html and "&lt;b&gt;rewrite&lt;/b&gt;" in html
    for remote in ("http://", "https://", "//cdn", "@import", "url("):
        outside = [line for line in html.splitlines() if remote in line and "wiki.example.com" not in line and "127.0.0.1" not in line]
        assert not [line for line in outside if "src=" in line or "href=" in line or "@import" in line], remote
    assert "script-src 'sha256-" in html  # only golive's own script may run
    assert len(html.encode()) < 80_000


def test_timeline_draws_attempts_and_the_expected_windows() -> None:
    evidence = [
        {"kind": "attempt", "n": 1, "t": 0.1, "answered_t": 0.12, "method": "POST", "status": 503},
        {"kind": "attempt", "n": 2, "t": 1.5, "answered_t": 1.52, "method": "POST", "status": 201},
        {"kind": "backoff_windows", "model": "documented", "windows": [[1.0, 2.0]]},
    ]
    svg = str(timeline_svg(evidence))
    assert svg.count("<circle") == 2 and svg.count("<rect") == 1
    assert 'class="bad"' in svg and 'class="ok"' in svg  # the 503 red, the 201 green (report.css)
    assert "expected window for retry 1: 1.12–2.12 s" in svg
    assert timeline_svg([{"kind": "note", "text": "x"}]) is None


def test_render_from_json_gives_the_same_reports(hostile_run: RunResult, tmp_path: Path) -> None:
    write_reports(hostile_run, ["json", "html", "md", "junit", "sarif"], tmp_path / "a")
    done = golive(
        "report", "render", str(tmp_path / "a" / "report.json"), "--format", "html,md,junit,sarif,json", "-o", str(tmp_path / "b")
    )
    assert done.returncode == 0, done.stderr
    for name in ("report.html", "report.md", "junit.xml", "report.sarif", "report.json"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text(), name
    assert oct((tmp_path / "b" / "report.html").stat().st_mode & 0o777) in ("0o644", "0o664")


def test_bad_report_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"schema": "golive-report/1",\n "results": [}')
    (tmp_path / "other.json").write_text('{"schema": "something-else/2", "results": []}')
    broken = golive("report", "render", "broken.json", cwd=tmp_path)
    assert broken.returncode == 2 and "broken.json:2: not JSON" in broken.stderr
    other = golive("report", "render", "other.json", cwd=tmp_path)
    assert other.returncode == 2 and "other.json" in other.stderr and "schema" in other.stderr
    missing = golive("report", "diff", "nope.json", "other.json", cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read the report" in missing.stderr
    assert "Traceback" not in broken.stderr + other.stderr + missing.stderr


def _webhook_project(folder: Path, *flaws: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    flags = " ".join(f"--flaw {f}" for f in flaws)
    (folder / "golive.yaml").write_text(
        "provider: mintfax\n"
        f"sandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n"
        "webhook:\n  url: http://127.0.0.1:{port}/hooks\n"
        f"  secret: {SECRET}\n"
        f'  start: "{{python}} {CLIENTS / "receiver.py"} --port {{port}} {flags}"\n'
        '  env: {RECEIVER_SECRET: "{secret}", RECEIVER_DB: "{workdir}/r.db"}\n'
        "  events: [fax.delivered, fax.failed, balance.low]\n"
    )
    return folder / "golive.yaml"


def test_merge_of_parallel_jobs_and_diff_between_runs(tmp_path: Path) -> None:
    good = _webhook_project(tmp_path / "good")
    flawed = _webhook_project(tmp_path / "flawed", "no-timestamp")
    # two parallel jobs of one check, each a part of the rules
    job_a = golive("check", "--select", "HOOK-20", "--format", "json", "--output", "a", cwd=good.parent)
    job_b = golive("check", "--select", "HOOK-21,IDEM-001", "--format", "json", "--output", "b", cwd=good.parent)
    assert job_a.returncode == 0 and job_b.returncode == 0, job_a.stdout + job_b.stdout
    merged = golive("report", "merge", "a/report.json", "b/report.json", "-o", "merged", "--format", "json,md", cwd=good.parent)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    report = json.loads((good.parent / "merged" / "report.json").read_text())
    ids = [r["id"] for r in report["results"]]
    assert len(ids) == len(set(ids)) == 9 + 4 + 1
    # HOOK-208 (a warning) selected without processed_count: an error, not probed; the verdict stands on the blockers
    assert report["verdict"] == "ready" and report["summary"]["pass"] == 13 and report["summary"]["error"] == 1
    # the flawed receiver's run against the good one: new failures, and the gate
    bad = golive("check", "--select", "HOOK-20,HOOK-21", "--format", "json", "--output", "c", cwd=flawed.parent)
    assert bad.returncode == 1
    old, new = good.parent / "merged" / "report.json", flawed.parent / "c" / "report.json"
    changes = diff_runs(load_report(old), load_report(new))
    assert sorted(c["id"] for c in changes["new_failures"]) == ["HOOK-204", "HOOK-210"]
    assert [c["id"] for c in changes["changed"]] == ["IDEM-001"]  # absent from the new run
    gate = golive("report", "diff", str(old), str(new), "--fail-on-new")
    assert gate.returncode == 1 and "New failures (2)" in gate.stdout and "HOOK-204" in gate.stdout
    back = golive("report", "diff", str(new), str(old), "--fail-on-new")
    assert back.returncode == 0 and "Fixed (2)" in back.stdout
    with pytest.raises(Exception, match="different runs"):
        other = load_report(old)
        merge_runs([other, RunResult(**{**{f: getattr(other, f) for f in other.__dataclass_fields__}, "provider": "idunox"})])


def test_step_summary_is_appended_on_github_actions(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    (tmp_path / "golive.yaml").write_text(f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n")
    done = golive("check", "--select", "IDEM-001", cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 0, done.stdout + done.stderr
    text = summary.read_text()
    assert text.startswith("earlier step\n## golive: ✅ READY · mintfax (sandbox)")
    assert TEST_KEYS["mintfax"] not in text


def test_html_verdict_reads_as_the_terminal_with_coverage_and_counts_by_severity() -> None:
    from checker.report.html import attention
    from checker.terminal import by_severity

    flawed = flawed_run()
    page = render_html(flawed)
    assert "<title>golive: NOT READY · mintfax (sandbox)</title>" in page
    assert by_severity(flawed) == "blockers: 4 failed, 2 error · warnings: 3 failed · info: 1 failed"
    assert f'<div class="severities">{by_severity(flawed)}</div>' in page
    assert "probed: sandbox contract (1 rule), client (7 rules), webhook receiver (4 rules); not configured: repo (1 rule)" in page
    # one cause across rules is one entry, linked to each card; its message without the qualifier the card has
    blockers, warnings = attention(flawed)
    assert [e.ids for e in blockers.entries][-1] == ["RETRY-102", "RATE-101"] and blockers.entries[-1].fix == ""
    assert warnings.entries[0].message == "the client waited the 35 s golive held it on a request that never answered"
    assert warnings.entries[0].notes == ["rests on golive's assumptions"]
    # READY over a part of the targets says which part, as the terminal does
    sandbox_only = RunResult(
        **{**{f: getattr(flawed, f) for f in flawed.__dataclass_fields__}, "verdict": "ready",
           "results": tuple(r for r in flawed.results if r.rule.id == "IDEM-001"),
           "coverage": Coverage(probed={"sandbox": ("IDEM-001",)}, not_configured={"client": ("IDEM-101",)})}
    )  # fmt: skip
    ready = render_html(sandbox_only)
    assert sandbox_only.verdict_label() == "READY (sandbox contract only)"
    assert "<strong>READY (sandbox contract only)</strong>" in ready and 'id="attention"' not in ready


def test_html_evidence_cells_keep_their_lines_escaped_and_cut() -> None:
    from checker.report.html import BLOCK_LINES, _cell, header

    assert [header(c) for c in ("exit_code", "stderr_tail", "idempotency_key", "latency_s", "n", "t", "x")] == [
        "exit code", "stderr tail", "idempotency key", "latency (s)", "#", "t (s)", "x",
    ]  # fmt: skip
    tail = "\n".join(f"line {n}" for n in range(1, 21)) + "\n"
    cell = _cell(tail, "stderr_tail")
    assert cell.block and cell.text.splitlines()[-1] == "line 20" and len(cell.text.splitlines()) == BLOCK_LINES + 1
    assert cell.text.startswith("… 12 earlier lines (all in report.json)\nline 13")  # a tail keeps its end
    body = _cell("a\n" + "b" * 500, "answer")
    assert body.text.startswith("a\n" + "b" * 120 + "…") and len(body.text) < 130  # each line cut as one value was
    assert _cell({"status": "queued", "id": "fax_1"}).text == "status=queued\nid=fax_1"
    one_line = _cell("x" * 500, "note")
    assert not one_line.block and one_line.text.endswith("(500 characters; all in report.json)")
    page = render_html(flawed_run())
    assert "SystemExit: failed with HTTP 503: &lt;b&gt;service_unavailable&lt;/b&gt;" in page
    assert '<td class="block">Traceback (most recent call last):\n  File' in page  # newlines kept in the page


def test_html_says_what_was_checked_and_what_was_not_configured() -> None:
    from checker.report.html import checked

    flawed = flawed_run(dirty=False)
    rows = {label: (value, kind) for label, value, kind in checked(flawed)}
    assert rows["git commit"] == ("defe39153db0 (clean)", "mono")
    no_receiver = RunResult(
        **{
            **{f: getattr(flawed, f) for f in flawed.__dataclass_fields__},
            "context": dataclasses.replace(flawed.context, receiver=None, git=None),
        }
    )
    rows = {label: (value, kind) for label, value, kind in checked(no_receiver)}
    assert rows["receiver command"] == ("not configured", "none")
    assert rows["git commit"] == ("not recorded: no git repository, or git did not answer", "none")
    old = RunResult(**{**{f: getattr(flawed, f) for f in flawed.__dataclass_fields__}, "context": None})  # a report.json before context
    assert {value for label, value, _ in checked(old) if label == "client command"} == {"not recorded in this report"}


def test_a_duration_renders_the_same_live_and_from_report_json(tmp_path: Path) -> None:
    """A run of 0.5499 s said "took 0.5 s" live and "took 0.6 s" rendered from report.json, which kept 0.55 (the
    rounding happened twice: a loaded machine's timing decided whether the two reports agreed). A duration is kept to
    the millisecond from the start."""
    run = RunResult("mintfax", "sandbox", "2026-12-07T10:00:00Z", 0.5499, "ready", False, (), "0.1.0")
    assert run.duration_s == 0.55 and run.to_json()["duration_s"] == 0.55
    write_reports(run, ["json", "html"], tmp_path / "a")
    done = golive("report", "render", str(tmp_path / "a" / "report.json"), "--format", "html", "-o", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    assert "took 0.6 s" in (tmp_path / "b" / "report.html").read_text()
    assert (tmp_path / "a" / "report.html").read_text() == (tmp_path / "b" / "report.html").read_text()


# ---------------------------------------------------------------- round 3: typed results


def test_qualifiers_travel_as_data_and_are_never_read_back_out_of_a_message(tmp_path: Path) -> None:
    """A failure's qualifiers ("rests on golive's assumptions", "documents disagree") are `Result.qualifiers`: the
    checklist, the cards and report.json's `message` show them after the message (`full_message`), the triage lists
    name them, and a saved report gives them back as data. Before, the engine appended them to the message and the
    terminal and the HTML found them again with `message.find`: a check whose own words held "[rests on golive's
    assumption" was cut there in the triage, and what a waiver added after the qualifier was lost from it."""
    from checker.model import Qualifier, QualifierKind, Result
    from checker.report.html import attention
    from checker.terminal import Checklist

    pack = load_pack("mintfax")
    qualifier = Qualifier(kind=QualifierKind.DISPUTED, facts=("retrying after 402",), text="[the provider's documents disagree on it]")
    quoting = "the receiver logged: [rests on golive's assumption, not mine] and answered 500"
    results = (
        Result(pack.rule("HOOK-207"), Status.FAIL, pack.rule("HOOK-207").severity, quoting),
        Result(pack.rule("ERR-103"), Status.FAIL, pack.rule("ERR-103").severity, "402 was retried", qualifiers=(qualifier,)),
    )
    run = RunResult("mintfax", "sandbox", "2026-11-26T00:00:00Z", 1.0, "not ready", False, results, "0")
    out = io.StringIO()
    Checklist(out, colour=False).render(run, pack.sections, "golive")
    triage = out.getvalue()[out.getvalue().index("What to fix first") :]
    assert quoting in triage  # whole: nothing in a check's words is taken for a qualifier
    assert "402 was retried (documents disagree: golive explain ERR-103)" in triage
    entries = {e.ids[0]: e for group in attention(run) for e in group.entries}
    assert (entries["HOOK-207"].message, entries["HOOK-207"].notes) == (quoting, [])
    assert (entries["ERR-103"].message, entries["ERR-103"].notes) == ("402 was retried", ["documents disagree"])
    write_reports(run, ["json"], tmp_path)
    saved = json.loads((tmp_path / "report.json").read_text())["results"][1]
    assert saved["message"] == "402 was retried [the provider's documents disagree on it]"  # as golive always wrote it
    assert saved["qualifiers"] == [{"kind": "disputed", "facts": ["retrying after 402"], "text": qualifier.text}]
    again = load_report(tmp_path / "report.json").results
    assert (again[1].message, again[1].qualifiers) == ("402 was retried", (qualifier,))
    assert (again[0].message, again[0].qualifiers) == (quoting, ())


# ---------------------------------------------------------------- round 3: fast tier
# slow, left out of the fast tier: golive subprocesses that check and then render, merge and diff reports (marked here rather
# than above each test while this file is edited by others)
pytest.mark.slow(test_merge_of_parallel_jobs_and_diff_between_runs)
pytest.mark.slow(test_step_summary_is_appended_on_github_actions)
pytest.mark.slow(test_render_from_json_gives_the_same_reports)
