"""Issue 29, items 5 and 6, as a new user and a reviewer meet them, through the real command line: `require` judged on
what a run selected (the README's pre-commit hook on `golive init`'s config, a one-rule run, `--require none`), KEY-004
for every provider, the webhook secret explained, URLs as delivered, `{port}` filled and "no commits yet" in the HTML,
JUnit times that are real; "Not covered, and why" and `golive report sign`.

KEY-004 judges golive.yaml, golive's own file: no provider fact is read (rules/catalog.yaml, KEY-004: no `facts:`), so
there is no third-party source to cite for it; the webhook secret's forms are signing.fresh_secret's (checker/signing.py).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import junitparser
import pytest

from checker.model import Result, RunResult, Severity, Status
from checker.packs import BUILTIN_PACKS, load_pack
from checker.report import render_html, render_junit, render_markdown
from tests.conftest import ROOT, golive
from tests.test_reports import _webhook_project, flawed_run


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, timeout=60)


def readme_hook() -> list[str]:
    """The pre-commit hook's command exactly as the docs write it (its `entry:` in docs/rules.md, "Keys and documents",
    where the README's pre-commit section moved), without the program's name."""
    readme = (ROOT / "docs" / "rules.md").read_text()
    entry = re.search(r"^\s+entry: (golive check .*)$", readme, re.M)
    assert entry, "the docs' pre-commit hook has no entry"
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert f"entry: {entry.group(1)}" in hooks  # the hook golive ships is the one the README shows
    return shlex.split(entry.group(1))[1:]


# ---------------------------------------------------------------- require: what the run selected


@pytest.mark.parametrize("provider", BUILTIN_PACKS)
def test_the_readmes_pre_commit_hook_passes_on_inits_config_in_a_clean_repository(tmp_path: Path, provider: str) -> None:
    """init, git init, the hook's exact command: READY (before: NOT READY, "required but no rule of it selected" or
    "selected, but no documents configured"). The key rules probe something (KEY-004 at least), so the document rules
    with no documents configured skip with the reason, as in a whole run."""
    assert golive("init", "--provider", provider, cwd=tmp_path).returncode == 0
    git(tmp_path, "init", "-q")
    done = golive(*readme_hook(), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Verdict: READY" in done.stdout and "required but no rule of it selected" not in done.stdout
    # the hook opts in with --skip-unconfigured: the same selection without it asks for every rule it names to be
    # probed, so a document rule with no documents configured is an error, never a silent READY
    strict = [a for a in readme_hook() if a != "--skip-unconfigured"]
    assert len(strict) == len(readme_hook()) - 1
    asked = golive(*strict, cwd=tmp_path)
    if "documents:" in (tmp_path / "golive.yaml").read_text():  # a provider whose documents cover files
        assert asked.returncode == 1 and "selected, but" in asked.stdout, asked.stdout
    git(tmp_path, "add", "golive.yaml")  # as at `git commit`: something staged, which KEY-002 then scans
    staged = golive(*readme_hook(), cwd=tmp_path)
    assert staged.returncode == 0, staged.stdout + staged.stderr


def test_a_one_rule_run_is_judged_on_the_targets_it_selected(tmp_path: Path) -> None:
    """`golive check --select HOOK-201`, the README's way to reproduce one rule: with the receiver configured it is
    judged on the receiver alone, whatever else `require:` names; without it, it is `error` (never a silent READY)."""
    config = _webhook_project(tmp_path / "hooks")
    text = config.read_text() + "require: [sandbox, client, webhook, repo]\n"  # as init writes it; no client configured
    config.write_text(text)
    done = golive("check", "--select", "HOOK-201", "--format", "text", cwd=config.parent, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "webhook receiver (1 rule, required)" in done.stdout and "client" not in done.stdout.split("Verdict:")[1]
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    golive("init", "--provider", "mintfax", cwd=fresh)
    alone = golive("check", "--select", "HOOK-201", "--format", "text", cwd=fresh)
    assert alone.returncode == 1
    assert "required (require: in golive.yaml names webhook), but no webhook receiver configured" in alone.stdout
    unrequired = golive("check", "--select", "HOOK-201", "--require", "none", "--format", "text", cwd=fresh)
    assert unrequired.returncode == 1 and "selected, but no webhook receiver configured" in unrequired.stdout  # nothing probed


@pytest.mark.parametrize("value", ["none", "", "NONE"])
def test_require_none_requires_nothing(tmp_path: Path, value: str) -> None:
    golive("init", "--provider", "idunox", cwd=tmp_path)
    done = golive("check", "--select", "IDEM-001,RETRY-102", "--require", value, "--skip-unconfigured", "--format", "text", cwd=tmp_path)
    if value == "NONE":  # the targets' names are lower case, as golive.yaml's require: spells them
        assert done.returncode == 2 and "is not one of" in done.stderr
        return
    assert done.returncode == 0, done.stdout + done.stderr
    assert "required" not in done.stdout.split("Verdict:")[1]
    # without --skip-unconfigured, RETRY-102 was asked for by name and cannot be probed (no client): an error
    asked = golive("check", "--select", "IDEM-001,RETRY-102", "--require", value, "--format", "text", cwd=tmp_path)
    assert asked.returncode == 1 and "selected, but no client configured" in asked.stdout, asked.stdout
    both = golive("check", "--require", "none,client", cwd=tmp_path)
    assert both.returncode == 2 and "none requires nothing: it cannot be combined with client" in both.stderr


# ---------------------------------------------------------------- KEY-004, secrets, URLs


@pytest.mark.parametrize("provider", BUILTIN_PACKS)
def test_a_literal_secret_in_golive_yaml_is_a_key_004_finding_for_every_provider(tmp_path: Path, provider: str) -> None:
    """Before: square, stripe and adyen skipped KEY-004 ("no document … says where an integration keeps its keys")."""
    assert load_pack(provider).rule("KEY-004").skip is None
    key = "sk_test_" + "7d1e8b3c6a5f0d4f9c2a"  # a literal, whatever its form: the file holds it
    (tmp_path / "golive.yaml").write_text(f"provider: {provider}\nsandbox: {{url: builtin, api_key: '{key}'}}\n")
    done = golive("check", "--select", "KEY-004", "--format", "text", "--fail-on", "warning", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "literal secrets in the config file: sandbox.api_key (golive.yaml:2)" in done.stdout
    assert key not in done.stdout


@pytest.mark.parametrize("provider", [p for p in BUILTIN_PACKS if load_pack(p).facts.webhooks])
def test_init_says_what_to_put_in_the_webhook_secret_and_its_recipe_makes_one(tmp_path: Path, provider: str) -> None:
    """The comment's recipe makes a secret the provider's signing scheme takes (Adyen: hex HMAC key; Standard
    Webhooks: whsec_ + base64; checker/signing.py, fresh_secret and standard_key)."""
    golive("init", "--provider", provider, cwd=tmp_path)
    text = (tmp_path / "golive.yaml").read_text()
    env = re.sub(r"[^A-Z0-9]+", "_", provider.upper())
    assert f"${{{env}_WEBHOOK_SECRET}}: for golive's checks (the embedded sandbox too) any secret you choose" in text
    recipe = re.search(rf"^#   export {env}_WEBHOOK_SECRET=\$\((python3 -c .*)\)$", text, re.M)
    assert recipe, text
    made = subprocess.run(["sh", "-c", recipe.group(1)], capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    scheme = load_pack(provider).facts.webhooks.signing()  # type: ignore[union-attr]
    scheme.sign([made], b"{}", timestamp=0, msg_id="evt_1", url="http://127.0.0.1/hooks")  # a SecretError if not its form


def test_an_unset_webhook_secret_says_what_to_set_and_suggests_no_literal(tmp_path: Path) -> None:
    (tmp_path / "golive.yaml").write_text(
        "provider: mintfax\nwebhook:\n  url: http://127.0.0.1:8700/hooks\n  secret: ${MINTFAX_WEBHOOK_SECRET}\n"
    )
    done = golive("check", cwd=tmp_path, env={"MINTFAX_WEBHOOK_SECRET": ""})
    assert done.returncode == 2
    assert "webhook.secret: environment variable MINTFAX_WEBHOOK_SECRET is not set (set it to the secret your receiver" in done.stderr
    assert "any value you choose" in done.stderr and ":-default" not in done.stderr


def test_messages_show_the_webhook_url_as_it_is_signed_and_delivered(tmp_path: Path) -> None:
    """Square signs the URL: a message with a trailing slash the delivery did not have made users suspect a mismatch
    (the slash was httpx's, which ends every base URL with one)."""
    from checker.harness.receiver import free_port

    port = free_port()
    (tmp_path / "golive.yaml").write_text(
        f"provider: square\nwebhook:\n  url: http://127.0.0.1:{port}/webhooks/square\n  secret: s3cret-x\n"
    )
    done = golive("check", "--select", "HOOK-201", "--format", "text", cwd=tmp_path)
    assert f"cannot connect to http://127.0.0.1:{port}/webhooks/square:" in done.stdout, done.stdout
    assert "/webhooks/square/" not in done.stdout


def test_the_html_fills_port_and_says_no_commits_yet(tmp_path: Path) -> None:
    config = _webhook_project(tmp_path / "p")
    git(config.parent, "init", "-q")
    done = golive("check", "--select", "HOOK-201", "--format", "html,json", cwd=config.parent, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    html = (config.parent / "golive-report" / "report.html").read_text()
    assert "{port}" not in html and "no git repository" not in html
    assert "no commits yet (uncommitted changes in" in html
    context = json.loads((config.parent / "golive-report" / "report.json").read_text())["context"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/hooks", context["webhook_url"]) and "--port {port}" not in context["receiver"]
    assert context["git"]["no_commits"] is True and context["git"]["commit"] == ""


def test_junit_section_times_are_their_rules_real_span_not_the_sum_of_concurrent_probes() -> None:
    pack = load_pack("mintfax")
    rules = [r for r in pack.rules if r.section == pack.rule("IDEM-001").section][:3]
    results = tuple(Result(rule, Status.PASS, Severity.BLOCKER, "ok", duration_s=1.0, started_s=0.5) for rule in rules)
    run = RunResult("mintfax", "sandbox", "2026-01-01T00:00:00Z", 1.6, "ready", False, results, "0")
    suite = next(iter(junitparser.JUnitXml.fromstring(render_junit(run).encode())))
    assert suite.time == pytest.approx(1.0)  # three probes at once for one second: 1 s, not 3 s
    apart = tuple(Result(r.rule, r.status, r.severity, "ok", 1.0, started_s=2.0 * n) for n, r in enumerate(results))
    suite = next(
        iter(junitparser.JUnitXml.fromstring(render_junit(RunResult("mintfax", "sandbox", "x", 5.0, "ready", False, apart, "0")).encode()))
    )
    assert suite.time == pytest.approx(3.0)
    old = tuple(Result(r.rule, r.status, r.severity, "ok", 1.0) for r in results)  # a report from before started_s
    suite = next(
        iter(junitparser.JUnitXml.fromstring(render_junit(RunResult("mintfax", "sandbox", "x", 1.5, "ready", False, old, "0")).encode()))
    )
    assert suite.time == pytest.approx(1.5)  # the sum, at most the run's time


def test_a_real_runs_junit_sections_take_no_longer_than_the_run(tmp_path: Path) -> None:
    done = golive("check", "--provider", "mintfax", "--select", "IDEM-00", "--format", "junit", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    xml = junitparser.JUnitXml.fromfile(str(tmp_path / "golive-report" / "junit.xml"))
    assert all(suite.time <= xml.time + 0.002 for suite in xml)


# ---------------------------------------------------------------- the reviewer's page


def test_not_covered_and_why_groups_the_skips_by_reason(tmp_path: Path) -> None:
    golive("init", "--provider", "square", cwd=tmp_path)
    done = golive("check", "--select", "KEY,FILE-001,IDEM-001", "--format", "json,html,md", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "golive-report" / "report.json").read_text())
    kinds = {r["id"]: r.get("not_covered") for r in report["results"]}
    assert kinds["FILE-001"] == "documents" and kinds["KEY-001"] == "documents" and kinds["IDEM-001"] is None
    assert "RETRY-102" in report["coverage"]["deselected"] and "FILE-002" not in report["coverage"]["deselected"]  # square: no files
    md = (tmp_path / "golive-report" / "report.md").read_text()
    html = (tmp_path / "golive-report" / "report.html").read_text()
    for text in (md, html):
        assert "Not covered, and why" in text and "The provider documents none" in text and "Deselected" in text
    assert "a payment takes no file upload" in md
    waived = render_markdown(flawed_run())  # a waiver, and a skip made without its kind (as an older report has it)
    assert "**Waived**" in waived and "**Skipped**" in waived


def test_report_sign_records_who_signed_what_and_a_later_change_shows(tmp_path: Path) -> None:
    done = golive("check", "--provider", "mintfax", "--select", "IDEM-001", "--format", "json", cwd=tmp_path, timeout=300)
    assert done.returncode == 0
    report = tmp_path / "golive-report" / "report.json"
    note = "ok for launch <script>alert(1)</script> | *not* markdown\nsecond line"
    signed = golive("report", "sign", str(report), "--by", "rev@example.com", "--decision", "approve", "--note", note, cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    data = json.loads(report.read_text())  # whole: written atomically, still a report
    block = data["signature"]
    assert (block["by"], block["decision"], block["note"]) == ("rev@example.com", "approve", note)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", block["digest"]) and block["digest"] in signed.stdout
    report.write_text(json.dumps(data, indent=4, sort_keys=True))  # formatted otherwise: the same report
    rendered = golive("report", "render", str(report), "--format", "html,md", "-o", "out", cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    html, md = (tmp_path / "out" / "report.html").read_text(), (tmp_path / "out" / "report.md").read_text()
    assert 'Approved</strong> by <span class="mono">rev@example.com</span>' in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "changed after it was signed" not in html
    assert "**Sign-off:** approved by rev@example.com" in md and "\\*not\\* markdown" in md and "This report was changed" not in md
    data["verdict"] = "not ready"  # changed after the signing
    report.write_text(json.dumps(data))
    again = golive("report", "render", str(report), "--format", "html,md", "-o", "out2", cwd=tmp_path)
    assert again.returncode == 0
    assert "This report was changed after it was signed" in (tmp_path / "out2" / "report.html").read_text()
    assert "This report was changed after it was signed" in (tmp_path / "out2" / "report.md").read_text()
    resigned = golive("report", "sign", str(report), "--by", "lead@example.org", "--decision", "reject", cwd=tmp_path)
    assert resigned.returncode == 0 and json.loads(report.read_text())["signature"]["by"] == "lead@example.org"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--by", "not an address", "--decision", "approve"], "is not an e-mail address"),
        (["--by", "a@b.co", "--decision", "maybe"], "'maybe' is not one of"),
        (["--by", "a@b.co", "--decision", "approve", "--note", "a\x1b[31mred"], "control character (U+001B)"),
        (["--by", "a@b.co", "--decision", "approve", "--note", "x" * 2001], "at most 2000"),
    ],
)
def test_report_sign_refuses_what_it_cannot_record_and_leaves_the_file(tmp_path: Path, args: list[str], said: str) -> None:
    report = tmp_path / "report.json"
    before = json.dumps(flawed_run().to_json())
    report.write_text(before)
    done = golive("report", "sign", str(report), *args, cwd=tmp_path)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert report.read_text() == before


def test_report_sign_refuses_a_file_that_is_not_a_report(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text("{}\n")
    done = golive("report", "sign", str(other), "--by", "a@b.co", "--decision", "approve", cwd=tmp_path)
    assert done.returncode == 2 and "is this a golive report.json?" in done.stderr and other.read_text() == "{}\n"


def test_a_fresh_runs_html_has_no_sign_off_and_a_flawed_runs_lists_what_it_did_not_cover() -> None:
    html = render_html(flawed_run())
    assert 'id="signoff"' not in html and 'id="not-covered"' in html
