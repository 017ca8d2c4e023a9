"""The HOOK rules and BAL-001 against real receivers: real processes on real sockets, started by golive
through webhook.start, each either correct or with exactly one flaw."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from checker.config import Config, parse_config
from checker.model import Status
from tests.conftest import TEST_KEYS, Witness, client_for, run_rules

CLIENTS = Path(__file__).parent / "clients"
RECEIVER = CLIENTS / "receiver.py"
HOSTILE = CLIENTS / "hostile.py"
SECRET = "whsec_0f5a9c2d7e1b8a4c6d3e9f0a1b2c3d4e"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PROBED = [f"HOOK-2{n:02d}" for n in range(1, 14) if n != 12]


def hook_config(
    tmp_path: Path,
    *args: str,
    pack: str = "mintfax",
    secret: str = SECRET,
    start: str | None = None,
    processed: bool = True,
    events: str = "[fax.delivered, fax.failed, balance.low]",
    extra: str = "",
) -> Config:
    command = start or f"{{python}} {RECEIVER} --port {{port}} {' '.join(args)}"
    count = f'  processed_count: "{{python}} {RECEIVER} count {{event_id}}"\n' if processed else ""
    text = (
        f"provider: {pack}\n"
        f"sandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n"
        "webhook:\n"
        "  url: http://127.0.0.1:{port}/hooks\n"
        f"  secret: {secret}\n"
        f'  start: "{command}"\n'
        '  env: {RECEIVER_SECRET: "{secret}", RECEIVER_DB: "{workdir}/receiver.db"}\n'
        "  start_timeout: 10\n"
        f"  events: {events}\n"
        f"{count}{extra}"
    )
    path = tmp_path / "golive.yaml"
    path.write_text(text)
    from checker.config import load_config

    return load_config(path, environ={})


def statuses(results: dict) -> dict[str, str]:
    return {rule_id: result.status.value for rule_id, result in results.items()}


# ---------------------------------------------------------------- a correct receiver, and one flaw at a time


def test_a_correct_receiver_passes_every_webhook_rule(tmp_path: Path) -> None:
    results = run_rules(hook_config(tmp_path), "HOOK", "BAL")
    assert statuses(results) == {rule: "pass" for rule in [*PROBED, "HOOK-212", "BAL-001"]}, {
        k: r.message for k, r in results.items() if r.status is not Status.PASS
    }
    burst = [e for e in results["HOOK-209"].evidence if e["label"].startswith("burst")]
    assert len(burst) == 20 and all(e["status"] == 200 for e in burst)
    assert "processed once" in results["HOOK-208"].message


FLAWS = {
    # flaw: the rules it must fail (every other probed rule passes)
    "trust-all": {"HOOK-202", "HOOK-203", "HOOK-204", "HOOK-205", "HOOK-206", "HOOK-210"},
    "no-header-ok": {"HOOK-203"},
    "no-timestamp": {"HOOK-204", "HOOK-210"},
    "past-only": {"HOOK-210"},
    "first-signature": {"HOOK-211"},
    "reserialize": {"HOOK-201", "HOOK-213"},  # mintfax sends compact JSON: json.dumps re-makes spaced (issue 26)
    "dup-500": {"HOOK-207"},
    "double-process": {"HOOK-208"},
    "crash-malformed": {"HOOK-202", "HOOK-203"},  # no header cannot be parsed either
}


@pytest.mark.parametrize("flaw", sorted(FLAWS))
def test_each_flaw_fails_exactly_its_rules(tmp_path: Path, flaw: str) -> None:
    results = run_rules(hook_config(tmp_path, "--flaw", flaw), *PROBED)
    expected = {rule: ("fail" if rule in FLAWS[flaw] else "pass") for rule in PROBED}
    assert statuses(results) == expected, {k: r.message for k, r in results.items()}


def test_messages_name_the_flaw(tmp_path: Path) -> None:
    config = hook_config(tmp_path, "--flaw", "first-signature", "--flaw", "crash-malformed", "--flaw", "dup-500")
    results = run_rules(config, "HOOK-211", "HOOK-202", "HOOK-207")
    assert "checks only the first signature" in results["HOOK-211"].message
    assert "answered 500" in results["HOOK-202"].message and "not a rejection" in results["HOOK-202"].message
    assert "keeps redelivering" in results["HOOK-207"].message


def test_a_receiver_that_processes_synchronously_for_6_s_is_too_slow(tmp_path: Path) -> None:
    results = run_rules(hook_config(tmp_path, "--flaw", "slow"), "HOOK-201", "HOOK-209")
    assert results["HOOK-201"].status is Status.PASS
    assert results["HOOK-209"].status is Status.FAIL
    assert "not answered within 5 s" in results["HOOK-209"].message
    assert all(e["latency_s"] >= 5.5 for e in results["HOOK-209"].evidence if e.get("status") == 200)


def test_a_receiver_that_rejects_everything_fails_201_and_its_rejections_are_not_credited(tmp_path: Path) -> None:
    results = run_rules(hook_config(tmp_path, "--flaw", "reject-all"), "HOOK-201", "HOOK-202", "HOOK-204", "HOOK-211", "HOOK-213")
    assert results["HOOK-201"].status is Status.FAIL
    for rule in ("HOOK-202", "HOOK-204", "HOOK-211", "HOOK-213"):
        assert results[rule].status is Status.ERROR, rule
        assert "does not accept a valid delivery either" in results[rule].message


def test_hook_208_without_processed_count_is_an_error_when_selected(tmp_path: Path) -> None:
    results = run_rules(hook_config(tmp_path, processed=False), "HOOK-208")  # selected: asked to be probed (docs/design.md §4)
    assert results["HOOK-208"].status is Status.ERROR
    assert results["HOOK-208"].message.startswith("selected, but webhook.processed_count is not set")


# ---------------------------------------------------------------- receivers built on webhook libraries


@pytest.mark.slow
def test_stripe_style_verifier_accepts_future_timestamps(tmp_path: Path) -> None:
    """mintfax's scheme is Stripe's; stripe's verify_header only rejects *old* timestamps."""
    results = run_rules(hook_config(tmp_path, "--verifier", "stripe"), *PROBED)
    assert {k for k, s in statuses(results).items() if s != "pass"} == {"HOOK-210"}, {k: r.message for k, r in results.items()}


def _standard_pack(tmp_path: Path) -> str:
    pack = tmp_path / "standard-pack.yaml"
    pack.write_text(
        "schema: golive-pack/1\nname: mintfax-standard\nextends: mintfax\n"
        "facts:\n  webhooks:\n    scheme: standard\n    signature_header: webhook-signature\n"
        "    timestamp_header: webhook-timestamp\n    id_header: webhook-id\n"
    )
    return str(pack)


@pytest.mark.slow
def test_standard_webhooks_receiver_passes(tmp_path: Path) -> None:
    config = hook_config(tmp_path, "--scheme", "standard", pack=_standard_pack(tmp_path), secret=STANDARD_SECRET)
    results = run_rules(config, *PROBED)
    assert set(statuses(results).values()) == {"pass"}, {k: r.message for k, r in results.items()}


def _standardwebhooks_crashes_without_a_comma() -> bool:
    """What the installed standardwebhooks does with a signature header without a comma, read from the library itself:
    1.1.0 split every entry on ',' and raised ValueError (an exception its README's receiver does not catch); 1.3.0
    compares whole entries and raises WebhookVerificationError ("No matching signature found")."""
    import standardwebhooks

    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1nocomma"}
    try:
        standardwebhooks.Webhook(STANDARD_SECRET).verify(b"{}", headers)
    except standardwebhooks.WebhookVerificationError:
        return False
    except ValueError:
        return True
    raise AssertionError("standardwebhooks accepted a signature header without a comma")


@pytest.mark.slow
def test_the_standardwebhooks_library_as_its_readme_uses_it(tmp_path: Path) -> None:
    """standardwebhooks checks both timestamp directions and every signature. Up to 1.1.0 a header without a comma
    raised ValueError, not WebhookVerificationError, so a receiver that catches only the latter (as its README does)
    answered 500 and failed HOOK-202; from 1.3.0 it raises its own exception and every rule passes. The expectation
    follows the installed version's behaviour, read just above (the verdict must follow what the library does)."""
    config = hook_config(
        tmp_path, "--scheme", "standard", "--verifier", "standardwebhooks", pack=_standard_pack(tmp_path), secret=STANDARD_SECRET
    )
    results = run_rules(config, *PROBED)
    not_passed = {k for k, s in statuses(results).items() if s != "pass"}
    if _standardwebhooks_crashes_without_a_comma():
        assert not_passed == {"HOOK-202"}, {k: r.message for k, r in results.items()}
        assert "answered 500" in results["HOOK-202"].message
    else:
        assert not_passed == set(), {k: r.message for k, r in results.items()}


@pytest.mark.slow
def test_github_style_scheme_skips_what_it_cannot_carry(tmp_path: Path) -> None:
    pack = tmp_path / "github-pack.yaml"
    pack.write_text(
        "schema: golive-pack/1\nname: mintfax-github\nextends: mintfax\n"
        "facts:\n  webhooks:\n    scheme: github\n    signature_header: X-Hub-Signature-256\n"
    )
    results = run_rules(hook_config(tmp_path, "--scheme", "github", pack=str(pack)), *PROBED)
    skipped = {k for k, s in statuses(results).items() if s == "skip"}
    assert skipped == {"HOOK-204", "HOOK-210", "HOOK-211"}
    assert all(results[k].status is Status.PASS for k in PROBED if k not in skipped)
    flawed = run_rules(hook_config(tmp_path, "--scheme", "github", "--flaw", "trust-all", pack=str(pack)), "HOOK-205", "HOOK-206")
    assert set(statuses(flawed).values()) == {"fail"}


@pytest.mark.slow
def test_square_style_scheme_with_squares_own_verifier(tmp_path: Path) -> None:
    """Square's scheme (base64 HMAC-SHA256 over the notification URL + the raw body, no timestamp), verified by the
    squareup SDK's own helper (square.utils.webhooks_helper.verify_signature, squareup 46): every rule it can carry
    passes, the timestamp and rotation rules are skipped for what the scheme cannot carry, and an endpoint that
    trusts everything fails the signature rules."""
    pack = tmp_path / "square-pack.yaml"
    pack.write_text(
        "schema: golive-pack/1\nname: mintfax-square\nextends: mintfax\n"
        "facts:\n  webhooks:\n    scheme: square\n    signature_header: x-square-hmacsha256-signature\n"
    )
    config = hook_config(tmp_path, "--scheme", "square", "--verifier", "square", pack=str(pack))
    webhook = config.file.webhook
    assert webhook is not None
    signed_url = webhook.model_copy(update={"env": {**webhook.env, "RECEIVER_URL": "{url}"}})
    config = type(config)(
        **{**{f: getattr(config, f) for f in config.__slots__}, "file": config.file.model_copy(update={"webhook": signed_url})}
    )
    results = run_rules(config, *PROBED)
    skipped = {k for k, s in statuses(results).items() if s == "skip"}
    assert skipped == {"HOOK-204", "HOOK-210", "HOOK-211"}
    assert all(results[k].status is Status.PASS for k in PROBED if k not in skipped), {k: results[k].message for k in PROBED}
    trusting = type(config)(
        **{
            **{f: getattr(config, f) for f in config.__slots__},
            "file": config.file.model_copy(
                update={"webhook": signed_url.model_copy(update={"start": signed_url.start + " --flaw trust-all"})}
            ),
        }
    )
    flawed = run_rules(trusting, "HOOK-205", "HOOK-206")
    assert set(statuses(flawed).values()) == {"fail"}


# ---------------------------------------------------------------- starting the receiver


def test_a_receiver_that_cannot_start_makes_every_webhook_probe_an_error(tmp_path: Path) -> None:
    config = hook_config(tmp_path, start="{python} -c 'import sys; sys.exit(\\\"missing dependency: flask\\\")'")
    results = run_rules(config, "HOOK-201", "HOOK-205")
    for result in results.values():
        assert result.status is Status.ERROR
        assert "exited 1 before opening port" in result.message and "missing dependency: flask" in result.message


@pytest.mark.slow
def test_a_receiver_that_never_opens_its_port_is_an_error_after_start_timeout(tmp_path: Path) -> None:
    config = hook_config(tmp_path, start="{python} -c 'import time; time.sleep(60)'", extra="")
    text = config.path
    Path(text).write_text(Path(text).read_text().replace("start_timeout: 10", "start_timeout: 1"))
    from checker.config import load_config

    started = time.monotonic()
    results = run_rules(load_config(Path(text), environ={}), "HOOK-201")
    assert results["HOOK-201"].status is Status.ERROR
    assert "did not open" in results["HOOK-201"].message
    assert time.monotonic() - started < 20


def test_the_receiver_is_stopped_after_the_check(tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    launcher = tmp_path / "launch.py"
    launcher.write_text(
        "import os, sys\n"
        f"open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
        f"os.execv(sys.executable, [sys.executable, {str(RECEIVER)!r}, *sys.argv[1:]])\n"
    )
    run_rules(hook_config(tmp_path, start=f"{{python}} {launcher} --port {{port}}"), "HOOK-201")
    pid = int(marker.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail("the receiver is still running after the check")


def test_unreachable_receiver_is_an_error_not_a_fail(tmp_path: Path) -> None:
    from checker.harness.receiver import free_port

    port = free_port()
    config = parse_config(f"provider: mintfax\nwebhook: {{url: 'http://127.0.0.1:{port}/hooks', secret: {SECRET}}}\n", environ={})
    results = run_rules(config, "HOOK-201", "HOOK-203")
    assert results["HOOK-201"].status is Status.ERROR and "not reachable" in results["HOOK-201"].message
    assert results["HOOK-203"].status is Status.ERROR


def test_no_webhook_section_errs_on_the_selected_probes_and_fails_the_balance_rule(tmp_path: Path) -> None:
    config = parse_config(f"provider: mintfax\nsandbox: {{api_key: '{TEST_KEYS['mintfax']}'}}\n", environ={})
    results = run_rules(config, "HOOK")  # selected, and nothing of it probed: not probing them is an error (tests/test_engine.py)
    assert results["HOOK-201"].status is Status.ERROR and "selected, but no webhook receiver" in results["HOOK-201"].message
    # HOOK-212 reads only webhook.events, but follows its section (issue 15): no webhook section, no subscription verdict
    assert results["HOOK-212"].status is Status.ERROR and results["HOOK-212"].message == results["HOOK-201"].message
    results = run_rules(config, "HOOK", "BAL")  # beside a rule that judges (BAL-001), still asked for: still an error
    assert results["HOOK-201"].status is Status.ERROR and "selected, but no webhook receiver" in results["HOOK-201"].message
    assert results["BAL-001"].status is Status.FAIL  # the balance is watched by a subscription or by polling: neither
    # with --skip-unconfigured a selection that judged something (BAL-001) is judged on it (issue 29)
    results = run_rules(config, "HOOK", "BAL", skip_unconfigured=True)
    assert results["HOOK-201"].status is Status.SKIP and results["HOOK-201"].message.startswith("no webhook receiver")
    required = run_rules(config, "HOOK", "BAL", require=("webhook",), skip_unconfigured=True)  # unless its target is required
    assert required["HOOK-201"].status is Status.ERROR and "required (--require names webhook), but" in required["HOOK-201"].message
    polled = parse_config("provider: mintfax\nbalance: {poll: true}\n", environ={})
    assert run_rules(polled, "BAL-001")["BAL-001"].status is Status.PASS


def test_hook_212_names_the_missing_events(tmp_path: Path) -> None:
    config = parse_config("provider: mintfax\nwebhook: {events: [fax.delivered]}\n", environ={})
    results = run_rules(config, "HOOK-212", "BAL-001")
    assert results["HOOK-212"].status is Status.FAIL
    assert "fax.failed, balance.low" in results["HOOK-212"].message
    assert results["BAL-001"].status is Status.FAIL


def test_hook_212_and_bal_001_read_the_registered_endpoints_of_a_real_sandbox(sandbox) -> None:  # type: ignore[no-untyped-def]
    served = sandbox("mintfax")
    extra = "webhook: {events: [fax.delivered, fax.failed, balance.low]}\n"
    config = parse_config(f"provider: mintfax\nsandbox: {{url: '{served.url}', api_key: '{TEST_KEYS['mintfax']}'}}\n{extra}", environ={})
    results = run_rules(config, "HOOK-212", "BAL-001")
    assert results["HOOK-212"].status is Status.FAIL and "no webhook endpoint is registered" in results["HOOK-212"].message
    api = client_for(served.url, "mintfax")
    api.post("/v1/account/webhooks", json={"url": "http://127.0.0.1:9/hooks", "events": ["fax.delivered", "fax.failed"]})
    results = run_rules(config, "HOOK-212", "BAL-001")
    assert results["HOOK-212"].status is Status.FAIL and "balance.low" in results["HOOK-212"].message
    assert results["BAL-001"].status is Status.FAIL
    api.post("/v1/account/webhooks", json={"url": "http://localhost:9/hooks2", "events": ["balance.low"]})
    results = run_rules(config, "HOOK-212", "BAL-001")
    assert results["HOOK-212"].status is Status.PASS and "2 endpoint(s)" in results["HOOK-212"].message
    assert results["BAL-001"].status is Status.PASS


# ---------------------------------------------------------------- hostile receivers


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hang", "trickle", "huge", "redirect", "reset", "markup"])
def test_a_hostile_receiver_ends_in_bounded_time_with_fail_or_error(tmp_path: Path, mode: str, witness: Witness) -> None:
    start = f"{{python}} {HOSTILE} --port {{port}} --mode {mode} --location {witness.url}"
    started = time.monotonic()
    results = run_rules(hook_config(tmp_path, start=start), *PROBED)
    elapsed = time.monotonic() - started
    assert elapsed < 90, elapsed  # every delivery is bounded (10 s); the probes run at once
    assert witness.hits == 0, "a redirect was followed"
    # a 20 MB answer still carries a 200: only the rejections can fail there
    judged = ["HOOK-202", "HOOK-203", "HOOK-204", "HOOK-205", "HOOK-206", "HOOK-210"] if mode == "huge" else PROBED
    for rule in judged:
        assert results[rule].status in (Status.FAIL, Status.ERROR), (rule, results[rule].status, results[rule].message)
    assert not any("internal error" in r.message for r in results.values())
    valid = results["HOOK-201"]
    assert valid.status is (Status.PASS if mode == "huge" else Status.FAIL)
    if mode == "redirect":
        assert "307 redirect" in valid.message and "follows no redirect" in valid.message
    if mode == "huge":
        assert any("cut" in e.get("answer", "") for e in results["HOOK-202"].evidence)
        assert all(len(e.get("answer", "")) < 1000 for r in results.values() for e in r.evidence)
    if mode == "markup":
        answers = [e["answer"] for e in results["HOOK-201"].evidence if "answer" in e]
        assert answers and "\x1b" not in answers[0] and "\u202e" not in answers[0]


@pytest.mark.slow
def test_markup_from_a_receiver_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    from tests.conftest import golive

    start = f"{{python}} {HOSTILE} --port {{port}} --mode markup"
    hook_config(tmp_path, start=start)
    result = golive("check", "--select", "HOOK-201", "-v", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- the receiver's own python


def test_examples_receivers_are_plain_python() -> None:
    """The bundled receivers need only the standard library (a user copies them as they are)."""
    import ast

    root = Path(__file__).resolve().parent.parent / "examples" / "mintfax"
    for path in root.glob("*/receiver.py"):
        tree = ast.parse(path.read_text())
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert imported <= set(sys.stdlib_module_names) | {"__future__"}, (path, imported - set(sys.stdlib_module_names))


# ---------------------------------------------------------------- issue 26: the receiver's side of a failed delivery


def square_receiver_config(tmp_path: Path, *flaws: str) -> Path:
    """A receiver verifying Square's scheme with squareup's own `verify_signature`, as golive.yaml in tmp_path."""
    pack = tmp_path / "square-pack.yaml"
    pack.write_text(
        "schema: golive-pack/1\nname: mintfax-square\nextends: mintfax\n"
        "facts:\n  webhooks:\n    scheme: square\n    signature_header: x-square-hmacsha256-signature\n"
    )
    flags = "".join(f" --flaw {flaw}" for flaw in flaws)
    (tmp_path / "golive.yaml").write_text(
        f"provider: {pack}\n"
        f"sandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n"
        "webhook:\n"
        "  url: http://127.0.0.1:{port}/hooks\n"
        f"  secret: {SECRET}\n"
        f'  start: "{{python}} {RECEIVER} --port {{port}} --scheme square --verifier square{flags}"\n'
        '  env: {RECEIVER_SECRET: "{secret}", RECEIVER_DB: "{workdir}/receiver.db", RECEIVER_URL: "{url}"}\n'
        "  start_timeout: 10\n"
    )
    return tmp_path / "golive.yaml"


@pytest.mark.slow
def test_the_receivers_stderr_is_in_the_evidence_of_a_delivery_it_failed(tmp_path: Path) -> None:
    """squareup 46.0.0.20260916's verify_signature (square/utils/webhooks_helper.py:44) runs
    `signature_header.encode("utf-8")`: given `headers.get(...)` without a default, a delivery without the header is an
    AttributeError, which http.server prints to stderr before closing the connection unanswered. The rule that sent it
    names the exception and shows the traceback (its evidence, -v and the HTML report); a delivery it accepted carries
    none of its output."""
    from checker.config import load_config
    from tests.conftest import golive

    path = square_receiver_config(tmp_path, "uncaught-missing-header")
    results = run_rules(load_config(path, environ={}), "HOOK-201", "HOOK-203")
    assert results["HOOK-201"].status is Status.PASS, results["HOOK-201"].message
    assert not [e for e in results["HOOK-201"].evidence if e.get("kind") == "receiver_output"]
    missing = results["HOOK-203"]
    assert missing.status is Status.FAIL, missing.message
    assert "the receiver's stderr says: AttributeError: 'NoneType' object has no attribute 'encode'" in missing.message
    said = [e for e in missing.evidence if e.get("kind") == "receiver_output"]
    assert said and "webhooks_helper.py" in said[0]["receiver_stderr_tail"] and said[0]["delivery"].startswith("no ")
    assert SECRET not in repr(missing.evidence)

    done = golive("check", "--select", "HOOK-203", "-v", "--format", "text,html", "--output", "out", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "the receiver's stderr after no x-square-hmacsha256-signature header:" in done.stdout, done.stdout
    assert "AttributeError: 'NoneType' object has no attribute 'encode'" in done.stdout
    html = (tmp_path / "out" / "report.html").read_text()
    assert "receiver stderr tail" in html and "AttributeError: &#39;NoneType&#39; object has no attribute &#39;encode&#39;" in html


@pytest.mark.slow
def test_hook_209s_leftovers_never_reach_another_rule(tmp_path: Path) -> None:
    """A receiver that serves one delivery at a time, 1 s each: HOOK-209's burst of 20 outlasts golive's 10 s wait, and
    the receiver still serves the abandoned deliveries afterwards. The other rules' deliveries must not queue behind
    them: HOOK-209 fails (late answers), every other rule passes, as each does run alone."""
    rules = ("HOOK-201", "HOOK-202", "HOOK-207", "HOOK-208", "HOOK-209", "HOOK-213")
    results = run_rules(hook_config(tmp_path, "--flaw", "block-1s"), *rules)
    assert results["HOOK-209"].status is Status.FAIL, results["HOOK-209"].message
    others = {r: (results[r].status.value, results[r].message) for r in rules if r != "HOOK-209"}
    assert all(status == "pass" for status, _ in others.values()), others


# ---------------------------------------------------------------- issue 26: deliveries as the provider sends them


def _stripe_config(tmp_path: Path, *args: str) -> Config:
    """The stripe pack (Stripe-Signature: the mintfax scheme under Stripe's header name), the suite's receiver."""
    return hook_config(tmp_path, "--header", "Stripe-Signature", *args, pack="stripe", events="[payment_intent.succeeded]")


def test_a_receiver_verifying_reserialised_json_fails_hook_201_for_a_compact_provider(tmp_path: Path) -> None:
    """The issue's false READY: a receiver that verifies `json.dumps(json.loads(body))` (tests/clients/receiver.py
    --flaw reserialize, Python's defaults: `", "` and `": "` between items) rejects every delivery of a provider that
    sends compact JSON. mintfax's pack states compact JSON (assumed: its documents show no delivery's bytes), so
    golive's valid delivery is compact and HOOK-201, a blocker, fails naming the re-serialisation; golive used to
    send its valid delivery as json.dumps writes it, exactly what such a receiver re-makes, and HOOK-201 passed.
    A receiver verifying the raw bytes passes HOOK-201 and HOOK-213."""
    results = run_rules(hook_config(tmp_path, "--flaw", "reserialize"), "HOOK-201", "HOOK-213", "HOOK-202")
    valid = results["HOOK-201"]
    assert valid.status is Status.FAIL, valid.message
    assert "as the provider sends it (compact JSON)" in valid.message, valid.message
    assert "the same event sent as spaced JSON" in valid.message and "re-serialised" in valid.message, valid.message
    assert results["HOOK-213"].status is Status.FAIL, results["HOOK-213"].message
    assert results["HOOK-202"].status is Status.PASS, results["HOOK-202"].message  # judged on what it does accept
    raw = run_rules(hook_config(tmp_path), "HOOK-201", "HOOK-213")
    assert statuses(raw) == {"HOOK-201": "pass", "HOOK-213": "pass"}, {k: r.message for k, r in raw.items()}
    assert "as the provider sends it (compact JSON)" in raw["HOOK-201"].message


def test_a_receiver_verifying_reserialised_json_fails_hook_201_for_a_pretty_printing_provider(tmp_path: Path) -> None:
    """Stripe sends its events pretty-printed, indented by two spaces: stripe-node 22.5.0 signs its test deliveries
    as `JSON.stringify(EVENT_PAYLOAD, null, 2)` (test/Webhook.spec.ts:12) and posts exactly that to its framework
    examples (examples/webhook-signing/test/main.ts:46-60). A receiver verifying `json.dumps(json.loads(body))`
    re-makes one line from those bytes and rejects every real delivery: HOOK-201 fails. One verifying the raw bytes
    passes, so does stripe-python's own `WebhookSignature.verify_header` (stripe/_webhook.py: the HMAC of
    `"<t>." + payload`, the bytes as given)."""
    results = run_rules(_stripe_config(tmp_path, "--flaw", "reserialize"), "HOOK-201", "HOOK-213")
    assert results["HOOK-201"].status is Status.FAIL, results["HOOK-201"].message
    assert "as the provider sends it (JSON indented by 2 spaces)" in results["HOOK-201"].message, results["HOOK-201"].message
    assert "re-serialised" in results["HOOK-201"].message
    assert results["HOOK-213"].status is Status.FAIL, results["HOOK-213"].message
    for args in ((), ("--verifier", "stripe")):
        good = run_rules(_stripe_config(tmp_path, *args), "HOOK-201", "HOOK-213")
        assert statuses(good) == {"HOOK-201": "pass", "HOOK-213": "pass"}, (args, {k: r.message for k, r in good.items()})


SQUARE_NOTIFICATION = (  # Square's signed test notification, as its SDKs' tests verify it (see below)
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f",'
    b'"created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)


def test_a_packs_format_writes_the_providers_real_bytes() -> None:
    """The formats the built-in packs state give back the bytes the providers' own code signs and verifies:
    - Square: the notification in square-python-sdk's tests/integration/test_webhooks_helper.py:5 (and its Go, Node,
      PHP and Ruby SDKs' tests), which squareup's `verify_signature` (square/utils/webhooks_helper.py) accepts with
      the signature at :6 — compact JSON, keys as sent. Re-serialised by json.dumps it no longer verifies.
    - Stripe: stripe-node 22.5.0 signs `JSON.stringify(EVENT_PAYLOAD, null, 2)` (test/Webhook.spec.ts:12) and posts
      that to its examples (examples/webhook-signing/test/main.ts:46-60); node itself writes it here, when present."""
    import json
    import shutil
    import subprocess

    from square.utils.webhooks_helper import verify_signature

    from checker import envelope
    from checker.packs import load_pack

    def fmt(name: str) -> dict:
        hooks = load_pack(name).facts.webhooks
        assert hooks is not None
        return hooks.serialisation.format()

    square = {
        "signature_key": "Ibxx_5AKakO-3qeNVR61Dw",
        "notification_url": "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9",
        "signature_header": "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=",
    }
    written = envelope.serialise(json.loads(SQUARE_NOTIFICATION), fmt("square"))
    assert written == SQUARE_NOTIFICATION
    assert verify_signature(request_body=written.decode(), **square)
    assert not verify_signature(request_body=json.dumps(json.loads(SQUARE_NOTIFICATION)), **square)  # what golive sent before

    event = {"id": "evt_123", "type": "charge.succeeded", "object": "event", "data": {"object": {"id": "ch_123", "note": "café / ✓"}}}
    stripe = envelope.serialise(event, fmt("stripe"))
    assert stripe.startswith(b'{\n  "id": "evt_123",\n  "type": "charge.succeeded",') and "café / ✓".encode() in stripe
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: JSON.stringify(…, null, 2), stripe-node's serialiser, cannot be compared")
    made = subprocess.run(
        [node, "-e", f"process.stdout.write(JSON.stringify({json.dumps(event)}, null, 2))"], capture_output=True, timeout=30
    )
    assert made.returncode == 0, made.stderr
    assert stripe == made.stdout


@pytest.mark.slow
def test_the_embedded_sandbox_delivers_in_the_packs_format(sandbox) -> None:  # type: ignore[no-untyped-def]
    """The embedded sandbox's deliveries carry the pack's format, signed over those bytes: Stripe's indented by two
    spaces, mintfax's compact. It used to write every event as json.dumps does (", " and ": " on one line), which no
    built-in provider sends."""
    import json

    import httpx

    from checker import envelope
    from checker.packs import load_pack
    from tests.test_sandbox_webhooks import Endpoint, register, send_fax

    for provider in ("stripe", "mintfax"):
        served = sandbox(provider)
        endpoint = Endpoint()
        try:
            if provider == "stripe":
                api = httpx.Client(base_url=served.url, headers={"Authorization": "Bearer sk_test_golive51Hc0ffee"}, timeout=15)
                answer = api.post(
                    "/v1/webhook_endpoints",
                    content=f"url={endpoint.url}&enabled_events[0]=*".encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                assert answer.status_code == 200, answer.text
                created = api.post("/v1/payment_intents", data={"amount": "2000", "currency": "usd", "payment_method": "pm_card_visa"})
                assert created.status_code == 200, created.text
                api.close()
            else:
                api = client_for(served.url, "mintfax")
                register(api, endpoint.url, ["fax.queued"])
                send_fax(api)
            endpoint.wait_for(1)
            body = endpoint.deliveries[0][2]
            assert body.startswith(b'{\n  "') if provider == "stripe" else (b'":"' in body and b'", "' not in body), (provider, body[:200])
            hooks = load_pack(provider).facts.webhooks
            assert hooks is not None and body == envelope.serialise(json.loads(body), hooks.serialisation.format()), provider
        finally:
            endpoint.server.shutdown()
            endpoint.server.server_close()
