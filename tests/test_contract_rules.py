"""IDEM-001..007 and FILE-003 both ways: pass against the embedded sandbox, fail against a broken one."""

from __future__ import annotations

import json

import pytest

from checker.model import Status
from tests.brokensandbox import broken_sandbox
from tests.conftest import KEY_PLACE, config_for, run_rules

CONTRACT = ("IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005", "IDEM-006", "IDEM-007", "FILE-003")
# what each provider's documents cover (the rest is skip with a reason)
APPLIES = {
    "mintfax": {"IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005", "IDEM-007", "FILE-003"},
    "idunox": {"IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-007"},
    "flexforward": {"IDEM-001", "IDEM-002", "IDEM-004", "IDEM-006"},
}
# rule -> the flaw that must make it fail
FLAW_FOR = {
    "IDEM-001": "ignores_keys",
    "IDEM-002": "hides_replay",
    "IDEM-003": "body_keyed",
    "IDEM-004": "racy",
    "IDEM-005": "truncates_keys",
    "IDEM-006": "burns_keys",
    "IDEM-007": "never_expires",
    "FILE-003": "accepts_any_file",
}


@pytest.mark.parametrize("provider", ["mintfax", "idunox", "flexforward"])
def test_contract_rules_pass_against_the_embedded_sandbox(sandbox, provider):
    url = sandbox(provider).url
    results = run_rules(config_for(provider, url), *CONTRACT)
    for rule_id in CONTRACT:
        result = results[rule_id]
        if rule_id in APPLIES[provider]:
            assert result.status is Status.PASS, f"{rule_id}: {result.status} {result.message}"
            assert result.evidence, f"{rule_id} passed without evidence"
        else:
            assert result.status is Status.SKIP, f"{rule_id}: {result.status}"
            assert provider in result.message and "document" in result.message


CASES = [(provider, rule_id) for provider, rules in APPLIES.items() for rule_id in sorted(rules)]


@pytest.mark.parametrize(("provider", "rule_id"), CASES)
def test_contract_rule_fails_against_a_sandbox_with_that_flaw(sandbox, served, provider, rule_id):
    upstream = sandbox(provider).url
    key_in, key_name = KEY_PLACE[provider]
    flawed = served(broken_sandbox(upstream, FLAW_FOR[rule_id], key_in, key_name)).url
    result = run_rules(config_for(provider, flawed), rule_id)[rule_id]
    assert result.status is Status.FAIL, f"{rule_id} on {FLAW_FOR[rule_id]}: {result.status} {result.message}"
    assert result.message and result.evidence


@pytest.mark.parametrize(("provider", "rule_id"), CASES)
def test_contract_rule_passes_through_an_honest_proxy(sandbox, served, provider, rule_id):
    """The broken-sandbox proxy itself changes nothing unless its flaw applies: each failure above is the flaw's."""
    upstream = sandbox(provider).url
    key_in, key_name = KEY_PLACE[provider]
    other_flaw = "accepts_any_file" if rule_id != "FILE-003" else "burns_keys"
    proxied = served(broken_sandbox(upstream, other_flaw, key_in, key_name)).url
    result = run_rules(config_for(provider, proxied), rule_id)[rule_id]
    assert result.status is Status.PASS, f"{rule_id} through an honest proxy: {result.status} {result.message}"


def test_unreachable_sandbox_is_an_error_not_a_failure():
    results = run_rules(config_for("mintfax", "http://127.0.0.1:9"), "IDEM-001", "IDEM-004")
    for result in results.values():
        assert result.status is Status.ERROR
        assert "cannot connect" in result.message


def test_rejected_key_is_an_error_with_the_reason(sandbox):
    url = sandbox("mintfax").url
    result = run_rules(config_for("mintfax", url, key="fx_test_"), "IDEM-001")["IDEM-001"]
    assert result.status is Status.PASS  # any fx_test_ key is a sandbox account
    result = run_rules(config_for("mintfax", url, key="sk_test_wrongprovider"), "IDEM-001")["IDEM-001"]
    assert result.status is Status.ERROR
    assert "refused the API key" in result.message


@pytest.mark.parametrize("environment", ["sandbox", "live"])
def test_a_live_key_never_reaches_a_creating_probe(sandbox, environment):
    url = sandbox("mintfax").url
    config = config_for("mintfax", url, key="fx_live_9c2a7d1e8b3c6a5f0d4f", extra=f"environment: {environment}\n")
    results = run_rules(config, *CONTRACT)
    for rule_id in APPLIES["mintfax"]:
        assert results[rule_id].status is Status.ERROR
        assert "live key" in results[rule_id].message
        assert "9c2a7d1e8b3c6a5f0d4f" not in results[rule_id].message
    stats = __import__("httpx").get(url + "/_sandbox/stats", headers={"Authorization": "Bearer fx_test_observer"}).json()
    assert stats["resources"] == {}


def test_live_environment_refuses_unprefixed_keys_of_providers_without_prefixes(sandbox):
    url = sandbox("idunox").url
    config = config_for("idunox", url, key="some-live-looking-key", extra="environment: live\n")
    result = run_rules(config, "IDEM-001")["IDEM-001"]
    assert result.status is Status.ERROR and "live key" in result.message


def test_the_key_window_is_skipped_where_the_clock_cannot_move(sandbox, served):
    """A provider's sandbox has no clock golive can move: IDEM-007 would take the whole window to observe, so it is
    skipped with that reason (a warning: never a blocker left unprobed)."""
    flawed = served(broken_sandbox(sandbox("mintfax").url, "no_control")).url
    result = run_rules(config_for("mintfax", flawed), "IDEM-007")["IDEM-007"]
    assert result.status is Status.SKIP, result.message
    assert "this sandbox's clock cannot be moved" in result.message and "24 h window" in result.message


def test_moving_one_accounts_clock_ages_no_other_accounts_keys(sandbox):
    """IDEM-007 ages its own account's keys by a day while other probes run: a key stored on another account
    still replays (the clock is per account, POST /_sandbox/clock with scope account)."""
    import httpx

    url = sandbox("mintfax").url
    other, mover = "fx_test_otheraccount0001", "fx_test_movingaccount001"
    body = {"to": "+15005550000"}
    files = {"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
    with httpx.Client(base_url=url, timeout=10) as api:
        first = api.post("/v1/fax", data=body, files=files, headers={"Authorization": f"Bearer {other}", "Idempotency-Key": "k-window"})
        moved = api.post(
            "/_sandbox/clock", json={"advance_s": 86400 + 60, "scope": "account"}, headers={"Authorization": f"Bearer {mover}"}
        )
        again = api.post("/v1/fax", data=body, files=files, headers={"Authorization": f"Bearer {other}", "Idempotency-Key": "k-window"})
    assert first.status_code == 201 and moved.status_code == 200, (first.text, moved.text)
    assert again.headers.get("idempotency-replayed") == "true" and again.json()["id"] == first.json()["id"]


# ---------------------------------------------------------------- issue 26: evidence of what the sandbox answered


def test_a_nested_error_body_is_kept_in_the_evidence():
    """Stripe's errors are all inside one object (Stripe's API reference, "Errors": `{"error": {"type": …, "code": …,
    "message": …, "param": …}}`; the stripe pack's `errors.body`). The evidence of a request kept only a body's
    top-level scalars, so IDEM-006's refused create showed as `{}`: the reason for the 400 was lost. Now nested
    values are kept (bounded: 4 levels, 20 entries, 300 characters a string)."""
    results = run_rules(config_for("stripe", key="sk_test_nestedevidence01"), "IDEM-006")
    result = results["IDEM-006"]
    assert result.status is Status.PASS, result.message
    refused = [e for e in result.evidence if e.get("kind") == "request" and e.get("status") == 400]
    assert refused, result.evidence
    error = refused[0]["body"]["error"]
    assert error["type"] == "invalid_request_error" and "amount" in error["message"], refused[0]


def test_evidence_of_a_huge_answer_stays_an_excerpt():
    from checker.http import EVIDENCE_ITEMS, Exchange

    deep: dict = {"error": {"code": "x" * 5000, "list": list(range(1000))}}
    for _ in range(50):
        deep = {"next": deep}
    body = {"error": {"code": "x" * 5000, "list": list(range(1000))}, "chain": deep}
    shown = Exchange("GET", "/", 400, {}, json.dumps(body).encode(), 0.0, 0.0).evidence(1)["body"]
    assert len(shown["error"]["code"]) < 400 and len(shown["error"]["list"]) == EVIDENCE_ITEMS + 1
    assert len(json.dumps(shown)) < 4000
