"""Any provider is one YAML pack: packs extending packs, a pack's shapes (errors, events, forms), `golive sandbox` serving
a pack file, and the README's example pack served as it stands. The built-in `stripe` pack (rules/stripe.yaml, written
the way the README teaches) is the base these tests extend; its own end-to-end proof with the official SDK is
tests/test_stripe.py.
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

PACK = "stripe"
KEY = "sk_test_golive51Hc0ffee"


def test_a_sandbox_that_replays_a_different_body_is_not_ready(tmp_path: Path, sandbox) -> None:
    """The pack documents 400 idempotency_error for a reused key with other parameters; a sandbox (here golive's, served
    from a pack extending this one that says `replay`) that replays the first answer instead fails IDEM-003."""
    (tmp_path / "replaying.yaml").write_text(
        f"schema: golive-pack/1\nname: replaying\nextends: {PACK}\nfacts: {{idempotency: {{on_body_mismatch: replay}}}}\n"
        "provenance: {idempotency.on_body_mismatch: {assumed: a broken sandbox}}\n"
    )
    broken = sandbox(load_pack(str(tmp_path / "replaying.yaml")))
    config = parse_config(
        f"provider: {PACK}\nsandbox: {{url: '{broken.url}', api_key: {KEY}}}\n", str(tmp_path / "golive.yaml"), environ={}
    )
    result = run_rules(config, "IDEM-003")["IDEM-003"]
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
    # the resource goes under data.object, as Stripe sends it (the stripe package's Event.Data.object)
    shaped = event(facts.webhooks.envelope.model_dump(), "evt_1", "payment_intent.created", 1700000000.5, {"id": "pi_1"})
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


@pytest.mark.slow
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


def test_the_readmes_example_pack_is_served_and_probed_as_it_stands(tmp_path: Path) -> None:
    """The pack docs/packs.md teaches with ("Writing a rule pack", the `acmepay` example), copied verbatim: it loads, the
    embedded sandbox serves it from its facts alone, and its covered contract rules pass against it."""
    readme = (ROOT / "docs" / "packs.md").read_text()
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
