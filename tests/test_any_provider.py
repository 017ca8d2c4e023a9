"""Any provider is one YAML pack: a payments provider that is not built in (tests/data/packs/stripelike.yaml, written
the way the README teaches, its facts from Stripe's public documents and the official `stripe` package's source,
each cited), run end to end on the embedded sandbox served from the pack's facts alone — with the official SDK as
the client, its webhook verifier as the receiver, and a flawed raw-`requests` client.

What the official SDK really does (stripe 16.1.0, read in its source), and so what a careful reviewer expects:
- stripe/_api_requestor.py: every POST gets `Idempotency-Key: <uuid4>` (headers.setdefault) before the first attempt,
  and the same headers go with every retry: IDEM-101/102/103 pass. v1 bodies are form-encoded (metadata[order]=…).
- stripe/_http_client.py `_should_retry`: with max_network_retries=2, a connection error, 409 and any status >= 500
  are retried, a `Stripe-Should-Retry` header overrides; no other 4xx (RETRY-105 passes, RETRY-102 passes for
  409/500/502/503/504). `_sleep_time_seconds`: min(0.5 * 2**(n-1), 5) * U(0.5, 1), at least 0.5 s — equal jitter
  on a 0.5 s base, never under 0.5 s (the pack names that schedule, "floored equal jitter": RETRY-106 passes).
  With max_network_retries=3 (the test client's), four attempts in all (RETRY-108 passes). Its first retry always
  waits exactly 0.5 s, so jitter shows only from the second: with max_network_retries=2 a loaded machine's noise
  could hide it (RETRY-106 then said inconclusive, once in about eight CI runs), with 3 it cannot.
- An error it can read (the pack's envelope, {"error": {"type", "code", "message", "param"}}) becomes a StripeError
  subclass by status (402 CardError, 400 InvalidRequestError or, of type idempotency_error, IdempotencyError): the
  client exits 1 cleanly instead of crashing on golive's faults, as it did on mintfax-shaped ones.
- stripe/_webhook.py `verify_header`: rejects a timestamp older than the tolerance (300 s) but not one in the future
  (`timestamp < time.time() - tolerance`): HOOK-210 fails, every other HOOK rule passes for an endpoint written as
  Stripe's docs show it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from checker.config import parse_config
from checker.envelope import error_answer, event, form_decode, form_encode
from checker.errors import ConfigError
from checker.model import Status
from checker.packs import load_pack
from tests.conftest import ROOT, START_S, run_rules

PACK = ROOT / "tests" / "data" / "packs" / "stripelike.yaml"
CLIENT = ROOT / "tests" / "clients" / "stripe_client.py"
RECEIVER = ROOT / "tests" / "clients" / "stripe_receiver.py"
KEY = "sk_test_golive51Hc0ffee"
SECRET = "whsec_0123456789abcdef0123456789abcdef"

SANDBOX_RULES = ("IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005", "IDEM-006", "IDEM-007")
CLIENT_RULES = (
    "IDEM-101",
    "IDEM-102",
    "IDEM-103",
    "IDEM-104",
    "RETRY-101",
    "RETRY-102",
    "RETRY-103",
    "RETRY-105",
    "RETRY-106",
    "RETRY-108",
)
HOOK_RULES = tuple(f"HOOK-2{n:02d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13))


def config(tmp_path: Path, *, flaw: str = "", pack: Path = PACK, url: str = "builtin", webhook: bool = True) -> object:
    command = f"{{python}} {CLIENT} --payment-method {{to}} --ref {{ref}}" + (f" --flaw {flaw}" if flaw else "")
    text = (
        f"provider: {pack}\n"
        f"sandbox: {{url: '{url}', api_key: {KEY}}}\n"
        f'client:\n  command: "{command}"\n'
        '  env: {STRIPE_BASE_URL: "{base_url}", STRIPE_API_KEY: "{api_key}"}\n  timeout: 60\n'
    )
    if webhook:
        text += (
            "webhook:\n  url: http://127.0.0.1:{port}/hooks\n"
            f"  secret: {SECRET}\n"
            f'  start: "{{python}} {RECEIVER} --port {{port}}"\n'
            '  env: {STRIPE_WEBHOOK_SECRET: "{secret}", RECEIVER_DB: "{workdir}/receiver.db"}\n'
            f'  processed_count: "{{python}} {RECEIVER} count {{event_id}}"\n'
            "  start_timeout: 10\n"
        )
    path = tmp_path / "golive.yaml"
    path.write_text(text)
    return parse_config(text, str(path), environ={})


def test_the_official_sdk_and_its_verifier_through_golive_on_the_pack_driven_sandbox(tmp_path: Path) -> None:
    results = run_rules(config(tmp_path), *SANDBOX_RULES, *CLIENT_RULES, *HOOK_RULES)
    verdicts = {rule_id: results[rule_id].status for rule_id in (*SANDBOX_RULES, *CLIENT_RULES, *HOOK_RULES)}
    expected = {rule_id: Status.PASS for rule_id in verdicts} | {"HOOK-210": Status.FAIL}
    assert verdicts == expected, {r: (results[r].status.value, results[r].message) for r in verdicts if verdicts[r] != expected[r]}
    assert "400 idempotency_error" in results["IDEM-003"].message  # the documented refusal, as the pack states it
    assert "floored equal jitter" in results["RETRY-106"].message and "base 0.5 s, cap 5 s" in results["RETRY-106"].message
    assert "600 s in the future" in results["HOOK-210"].message


def test_a_flawed_raw_requests_client_fails_the_right_rules(tmp_path: Path) -> None:
    """A new Idempotency-Key per attempt, a fixed 1 s sleep, every failure retried (5 attempts), no retry after a reset."""
    results = run_rules(config(tmp_path, flaw="raw-requests", webhook=False), *CLIENT_RULES)
    failed = {rule_id for rule_id in CLIENT_RULES if results[rule_id].status is Status.FAIL}
    assert failed == {"IDEM-102", "RETRY-101", "RETRY-103", "RETRY-105", "RETRY-106", "RETRY-108"}, {
        r: (results[r].status.value, results[r].message) for r in CLIENT_RULES
    }
    assert "changed the key" in results["IDEM-102"].message
    assert "delays do not grow: fixed 1." in results["RETRY-106"].message  # 1.00 s planned, plus what the machine adds
    assert "402 was retried" in results["RETRY-105"].message


def test_a_sandbox_that_replays_a_different_body_is_not_ready(tmp_path: Path, sandbox) -> None:
    """The pack documents 400 idempotency_error for a reused key with other parameters; a sandbox (here golive's, served
    from a pack extending this one that says `replay`) that replays the first answer instead fails IDEM-003."""
    (tmp_path / "replaying.yaml").write_text(
        f"schema: golive-pack/1\nname: replaying\nextends: {PACK}\nfacts: {{idempotency: {{on_body_mismatch: replay}}}}\n"
        "provenance: {idempotency.on_body_mismatch: {assumed: a broken sandbox}}\n"
    )
    broken = sandbox(load_pack(str(tmp_path / "replaying.yaml")))
    result = run_rules(config(tmp_path, url=broken.url, webhook=False), "IDEM-003")["IDEM-003"]
    assert result.status is Status.FAIL, result.message
    assert "documented 400 idempotency_error" in result.message


def test_a_pack_extends_a_pack_file_which_extends_a_built_in(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("schema: golive-pack/1\nname: acmefax\nextends: mintfax\nfacts: {retry: {max_attempts: 4}}\n")
    (tmp_path / "team.yaml").write_text("schema: golive-pack/1\nname: teamfax\nextends: base.yaml\nfacts: {webhooks: {tolerance_s: 600}}\n")
    pack = load_pack(str(tmp_path / "team.yaml"))
    assert pack.name == "teamfax" and pack.facts.sandbox.features == ["delivery_lifecycle", "balance_holds"]  # mintfax's
    assert pack.facts.retry.max_attempts == 4 and pack.facts.webhooks and pack.facts.webhooks.tolerance_s == 600
    assert pack.cite("002_8baf5029274c2112.txt") == "Go-live checklist — https://mintfax.com/docs"  # still mintfax's document
    (tmp_path / "loop.yaml").write_text("schema: golive-pack/1\nname: loop\nextends: loop2.yaml\n")
    (tmp_path / "loop2.yaml").write_text("schema: golive-pack/1\nname: loop2\nextends: loop.yaml\n")
    with pytest.raises(ConfigError, match=r"loop2?\.yaml:3: extends: .* leads back to this pack"):
        load_pack(str(tmp_path / "loop.yaml"))
    (tmp_path / "missing.yaml").write_text("schema: golive-pack/1\nname: m\nextends: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"missing\.yaml:3: extends: no such pack: 'nowhere.yaml'"):
        load_pack(str(tmp_path / "missing.yaml"))


def test_the_packs_shapes_for_errors_events_and_forms() -> None:
    facts = load_pack(str(PACK)).facts
    body, headers = error_answer(
        facts.errors.model_dump(), 400, "parameter_missing", "amount: is required", fields=[("amount", "is required")]
    )
    assert (
        body
        == b'{"error": {"type": "invalid_request_error", "code": "parameter_missing", "message": "amount: is required", "param": "amount"}}'
    )
    assert headers == {"Content-Type": "application/json"}
    body, _ = error_answer(facts.errors.model_dump(), 400, "idempotency_error", "reused")
    assert b'"type": "idempotency_error"' in body  # a code that names a type is of that type (the SDK's IdempotencyError)
    retry_header = {"body": {"error": "{code}"}, "headers": {"5xx": {"Stripe-Should-Retry": "true"}, "503": {"Retry-After": "1"}}}
    assert error_answer(retry_header, 503, "x", "m")[1] == {
        "Content-Type": "application/json",
        "Stripe-Should-Retry": "true",
        "Retry-After": "1",
    }
    assert error_answer(retry_header, 429, "x", "m")[1] == {"Content-Type": "application/json"}
    assert facts.webhooks is not None
    shaped = event(facts.webhooks.envelope.model_dump(), "evt_1", "payment_intent.created", 1700000000.5, {"object": {"id": "pi_1"}})
    assert shaped == {
        "object": "event",
        "id": "evt_1",
        "type": "payment_intent.created",
        "created": 1700000000,
        "data": {"object": {"id": "pi_1"}},
    }
    form = form_encode({"amount": 2000, "metadata": {"order": "o/1"}, "items": ["a", "b"], "capture": True})
    assert form == "amount=2000&metadata%5Border%5D=o%2F1&items%5B0%5D=a&items%5B1%5D=b&capture=true"
    assert form_decode(form) == {"amount": "2000", "metadata": {"order": "o/1"}, "items": {"0": "a", "1": "b"}, "capture": "true"}
    assert form_decode("a[]=x&a[]=y") == {"a": {"0": "x", "1": "y"}}  # every item kept, as a[0], a[1]
    # golive's own envelope (mintfax's) where a pack states none: the proxy's faults always have a shape
    body, _ = error_answer({}, 422, "validation_failed", "to: bad", "Fix it.", [("to", "bad")])
    assert json.loads(body) == {
        "error": "validation_failed",
        "message": "to: bad",
        "action": "Fix it.",
        "context": {"errors": [{"field": "to", "message": "bad"}]},
    }


def test_golive_sandbox_serves_a_pack_file(tmp_path: Path) -> None:
    """`golive sandbox --provider PATH`: the pack's sandbox on a port, as a user runs it for local development — served
    from the pack's own facts, also where it extends another (here: another create path)."""
    import subprocess
    import time

    import httpx

    from checker.harness.receiver import free_port

    moved = tmp_path / "moved.yaml"
    moved.write_text(f"schema: golive-pack/1\nname: moved\nextends: {PACK}\nfacts: {{create: {{path: /v2/intents}}}}\n")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "checker", "sandbox", "--provider", str(moved), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(START_S * 10):  # bounded: START_S
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/v2/intents",
                    data={"amount": "2000", "currency": "usd"},
                    headers={"Authorization": f"Bearer {KEY}", "Idempotency-Key": "k-1"},
                )
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("golive sandbox did not start")
        assert answer.status_code == 200 and answer.json()["id"].startswith("pi_"), answer.text
        assert answer.json()["status"] == "requires_payment_method"
        missing = httpx.post(f"http://127.0.0.1:{port}/v2/intents", data={"currency": "usd"}, headers={"Authorization": f"Bearer {KEY}"})
        assert missing.status_code == 400 and missing.json()["error"]["param"] == "amount", missing.text
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize(
    ("events", "status"), [("", Status.PASS), (" --events charge.succeeded", Status.FAIL)], ids=["every-event", "other-event"]
)
def test_an_endpoint_registered_with_the_sdk_is_read_back_in_the_providers_field_names(tmp_path: Path, events: str, status: Status) -> None:
    """HOOK-212 on the pack-driven sandbox: the integration registers its endpoint with the official SDK
    (`webhook_endpoints.create`, `enabled_events: ["*"]`), golive lists the endpoints at the pack's path and reads
    `enabled_events`, where "*" stands for every event (webhooks.registration.all_events). A team pack extending the
    Stripe-like one names the event it needs."""
    (tmp_path / "team.yaml").write_text(
        f"schema: golive-pack/1\nname: teampay\nextends: {PACK}\nfacts: {{webhooks: {{required_events: [payment_intent.succeeded]}}}}\n"
        "provenance: {webhooks.required_events: {assumed: 'the events this integration acts on'}}\n"
        "rules: {HOOK-212: {source: sdk-webhook.py.txt}}\n"
    )
    register = ROOT / "tests" / "clients" / "stripe_register.py"
    text = (
        f"provider: {tmp_path / 'team.yaml'}\nsandbox: {{url: builtin, api_key: {KEY}}}\n"
        f"webhook:\n  url: http://127.0.0.1:{{port}}/hooks\n  secret: {SECRET}\n  events: [payment_intent.succeeded]\n"
        f'  register: "{{python}} {register} --base {{base_url}} --key {{api_key}} --url {{url}}{events}"\n'
    )
    result = run_rules(parse_config(text, str(tmp_path / "golive.yaml"), environ={}), "HOOK-212")["HOOK-212"]
    assert result.status is status, result.message
    if status is Status.FAIL:
        assert "not subscribed to payment_intent.succeeded" in result.message


@pytest.mark.parametrize("should_retry", [False, True], ids=["plain-429", "stripe-should-retry"])
def test_rate_limits_with_the_official_sdk(tmp_path: Path, should_retry: bool) -> None:
    """RATE-101 (waits at least Retry-After after a 429) with the official SDK. stripe 16.1.0's _should_retry never
    retries a 429 unless the answer carries `Stripe-Should-Retry: true`, and its _sleep_time_seconds never reads
    Retry-After. A pack can put that header on golive's injected 429s (errors.headers): then the SDK retries, but after
    its own 0.5 s backoff, not the Retry-After golive sent — a careful reviewer's verdict is fail either way, for the
    reason the message names."""
    headers = "  errors: {headers: {'429': {Stripe-Should-Retry: 'true'}}}\n" if should_retry else ""
    (tmp_path / "limited.yaml").write_text(
        f"schema: golive-pack/1\nname: limited\nextends: {PACK}\nfacts:\n  rate_limit: {{requests_per_s: 25}}\n{headers}"
        "provenance: {rate_limit: {assumed: a test}, errors.headers: {assumed: a test}}\n"
        "rules: {RATE-101: {source: errors.md}}\n"
    )
    result = run_rules(config(tmp_path, pack=tmp_path / "limited.yaml", webhook=False), "RATE-101")["RATE-101"]
    assert result.status is Status.FAIL, result.message
    if should_retry:
        assert "after a 429 with Retry-After: 2" in result.message and "waits too short" in result.message, result.message
    else:
        assert "after 429 with Retry-After: 2 the client did not retry (it exited 1)" in result.message, result.message


def test_the_readmes_example_pack_is_served_and_probed_as_it_stands(tmp_path: Path) -> None:
    """The pack the README teaches with ("Writing a rule pack", the `acmepay` example), copied verbatim: it loads, the
    embedded sandbox serves it from its facts alone, and its covered contract rules pass against it."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```yaml\n", readme.index("A shorter one:")) + len("```yaml\n")
    (tmp_path / "acmepay.yaml").write_text(readme[start : readme.index("```", start)])
    text = f"provider: {tmp_path / 'acmepay.yaml'}\nsandbox: {{url: builtin, api_key: acme_test_0123456789}}\n"
    results = run_rules(parse_config(text, str(tmp_path / "golive.yaml"), environ={}), "IDEM-001", "IDEM-003")
    assert results["IDEM-001"].status is Status.PASS, results["IDEM-001"].message
    assert results["IDEM-003"].status is Status.PASS and "400 idempotency_error" in results["IDEM-003"].message, results["IDEM-003"].message


def test_an_envelope_path_through_a_constant_does_not_break_an_event() -> None:
    shaped = event(
        {"id": "id", "type": "type", "created": "created", "data": "data.object", "constant": {"data": "x"}}, "e1", "t", 0, {"a": 1}
    )
    assert shaped["data"] == {"object": {"a": 1}}
