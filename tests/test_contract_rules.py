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


# ---------------------------------------------------------------- issue 26: contract probes with controls
#
# Servers nobody at golive wrote the judgement for: a canned-response mock as Prism serves one by default, a mock that
# ignores idempotency keys, one that refuses every request, and one whose ids have no documented shape. Each is a real
# HTTP server on 127.0.0.1 answering the stripe pack's requests (POST /v1/payment_intents, form-encoded).

STRIPE_KEY = "sk_test_golivecontrols0000000"
# the example id of Stripe's API reference, "The PaymentIntent object" (https://docs.stripe.com/api/payment_intents/object):
# '"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",' — what a static mock built from an example answers to every create
CANNED_ID = "pi_3MtwBwLkdIwHu7ix28a3tqPa"
STRIPE_RULES = ("IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005", "IDEM-006")


def stripe_shaped_mock(mode: str):  # type: ignore[no-untyped-def]
    """A Starlette app answering the stripe pack's create and read as `mode` says:

    - canned: Prism's default. Its guide "HTTP Mocking" (stoplightio/prism, docs/guides/01-mocking.md, "Static or
      Dynamic Generation"): "By default, Prism uses a **static generation strategy**" and "If the provided OpenAPI
      Schema Object has a response body example, it's used to provide a response." Its decision diagram takes "the
      lowest 2XX response" for a valid request and a 422/400 example for an invalid one; nothing in it reads an
      Idempotency-Key. So every valid create gets the one example, with one id, whatever the key.
    - ignores_keys: a stub that makes a new payment per request and never reads Idempotency-Key.
    - refuses: answers every POST 400 invalid_request_error (what a sandbox that cannot parse golive's request does).
    - plain_ids: honours keys (replays per key; 255 characters at most) but numbers its payments 1, 2, 3 …
    """
    import itertools
    import secrets
    from urllib.parse import parse_qs

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    numbers = itertools.count(1)
    by_key: dict[str, dict[str, object]] = {}

    def error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse({"error": {"type": "invalid_request_error", "code": code, "message": message}}, status_code=status)

    def payment(pid: str, amount: str) -> dict[str, object]:
        return {"id": pid, "object": "payment_intent", "amount": int(amount), "currency": "usd", "status": "requires_payment_method"}

    async def create(request):  # type: ignore[no-untyped-def]
        form = parse_qs((await request.body()).decode())
        if mode == "refuses":
            return error(400, "parameter_unknown", "Received unknown parameters")
        if "amount" not in form:
            return error(400, "parameter_missing", "Missing required param: amount.")
        amount = form["amount"][0]
        if mode == "canned":
            return JSONResponse(payment(CANNED_ID, "2000"))
        if mode == "ignores_keys":
            return JSONResponse(payment("pi_" + secrets.token_hex(12), amount))
        key = request.headers.get("idempotency-key")
        if key is not None and len(key) > 255:
            return error(400, "idempotency_key_too_long", "Idempotency keys are up to 255 characters long.")
        if key is None or key not in by_key:
            made = payment(str(next(numbers)), amount)
            if key is None:
                return JSONResponse(made)
            by_key[key] = made
        return JSONResponse(by_key[key])

    async def read(request):  # type: ignore[no-untyped-def]
        return JSONResponse(payment(request.path_params["pid"], "2000"))

    async def elsewhere(request):  # type: ignore[no-untyped-def]
        return JSONResponse({"type": "NO_PATH_MATCHED_ERROR", "status": 404}, status_code=404)  # Prism: "404 problem+json"

    return Starlette(
        routes=[
            Route("/v1/payment_intents", create, methods=["POST"]),
            Route("/v1/payment_intents/{pid}", read, methods=["GET"]),
            Route("/{rest:path}", elsewhere, methods=["GET", "POST"]),
        ]
    )


def run_stripe(url: str, *rule_ids: str):  # type: ignore[no-untyped-def]
    return run_rules(config_for("stripe", url, key=STRIPE_KEY), *rule_ids)


def test_a_canned_response_mock_fails_the_replay_rules_because_a_new_key_gets_the_same_id(served):
    """Before: IDEM-001, 002 and 004 passed against it ("the replay returned the original resource"): golive compared
    the replay's id with the first one and never asked whether a new key makes a new resource."""
    url = served(stripe_shaped_mock("canned")).url
    results = run_stripe(url, *STRIPE_RULES)
    for rule_id in ("IDEM-001", "IDEM-002", "IDEM-004"):
        result = results[rule_id]
        assert result.status is Status.FAIL, f"{rule_id}: {result.status} {result.message}"
        assert "a new key" in result.message and CANNED_ID in result.message, f"{rule_id}: {result.message}"
    # IDEM-005: accepted, and said why without guessing at truncation
    assert results["IDEM-005"].status is Status.FAIL
    assert "truncat" not in results["IDEM-005"].message and "whatever the key" in results["IDEM-005"].message
    # IDEM-006: true as far as it goes (the corrected request made a payment), and says that it proves nothing of keys
    assert results["IDEM-006"].status is Status.PASS
    assert "says nothing about keys" in results["IDEM-006"].message


def test_a_mock_that_ignores_keys_fails_the_replay_rules_and_its_vacuous_pass_says_so(served):
    """Before: IDEM-005 said "a provider that truncates keys makes different operations collide" (a guess: this one
    reads no key at all), and IDEM-006 passed as though the key had been honoured."""
    url = served(stripe_shaped_mock("ignores_keys")).url
    results = run_stripe(url, *STRIPE_RULES)
    for rule_id in ("IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005"):
        assert results[rule_id].status is Status.FAIL, f"{rule_id}: {results[rule_id].status} {results[rule_id].message}"
    assert "truncat" not in results["IDEM-005"].message and "ignores idempotency keys" in results["IDEM-005"].message
    assert results["IDEM-006"].status is Status.PASS
    assert "says nothing about keys" in results["IDEM-006"].message and "ignores" in results["IDEM-006"].message


def test_a_sandbox_refusing_every_request_leaves_the_concurrency_rule_unjudged(served):
    """Before: IDEM-004 failed "parallel requests with one key were answered 10x 400": the sandbox created nothing at
    all, so nothing about concurrency was observed. IDEM-005 likewise blamed the documented maximum ("a key of exactly
    255 characters … was refused") and IDEM-006 a burned key ("the corrected request with the same key was answered 400")."""
    url = served(stripe_shaped_mock("refuses")).url
    results = run_stripe(url, "IDEM-004", "IDEM-005", "IDEM-006")
    for rule_id in ("IDEM-004", "IDEM-005", "IDEM-006"):
        result = results[rule_id]
        assert result.status is Status.ERROR, f"{rule_id}: {result.status} {result.message}"
        assert "400" in result.message, result.message
    assert "every request was refused" in results["IDEM-004"].message


def test_ids_without_the_documented_shape_fail_the_replay_rule(served):
    """The stripe pack states the payment's id shape (create.id_pattern, from the example in Stripe's API reference):
    a mock that honours keys but numbers its payments fails IDEM-001 with that reason."""
    url = served(stripe_shaped_mock("plain_ids")).url
    result = run_stripe(url, "IDEM-001")["IDEM-001"]
    assert result.status is Status.FAIL, result.message
    assert "'1'" in result.message and "pi_" in result.message


def test_the_embedded_stripe_sandbox_passes_every_contract_rule_with_its_controls(sandbox):
    """The good integration of the same shape: every rule passes, and the replay rules say what their control showed."""
    url = sandbox("stripe").url
    results = run_stripe(url, *STRIPE_RULES, "IDEM-007")
    for rule_id in (*STRIPE_RULES, "IDEM-007"):
        assert results[rule_id].status is Status.PASS, f"{rule_id}: {results[rule_id].status} {results[rule_id].message}"
    for rule_id in ("IDEM-001", "IDEM-002", "IDEM-004"):
        assert "a new key created" in results[rule_id].message, f"{rule_id}: {results[rule_id].message}"
    assert "says nothing" not in results["IDEM-006"].message


@pytest.mark.slow
def test_a_pack_whose_id_shape_the_embedded_sandbox_cannot_make_is_refused_at_load(tmp_path):
    """A pack stating an id shape its own embedded sandbox would not make: IDEM-001 would fail golive's emulation on
    `url: builtin`, so the pack is refused when loaded, naming the fact; a pattern that is no regular expression too."""
    from tests.conftest import golive

    pack = tmp_path / "p.yaml"
    pack.write_text("schema: golive-pack/1\nname: p\nextends: stripe\nfacts:\n  sandbox: {id_prefix: ch_}\n")
    result = golive("rules", "--provider", str(pack))
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "facts.create.id_pattern: the embedded sandbox's ids ('ch_0123456789abcdef01234567') do not match the pattern pi_\\S+"
        in result.stderr
    )
    pack.write_text("schema: golive-pack/1\nname: p\nextends: stripe\nfacts:\n  create: {id_pattern: 'pi_(['}\n")
    result = golive("rules", "--provider", str(pack))
    assert result.returncode == 2 and "not a regular expression" in result.stderr, result.stdout + result.stderr


def test_a_sandbox_refusing_every_upload_leaves_the_file_type_rule_unjudged(served):
    """Before: FILE-003 failed "an executable named .pdf was answered 400 …, documented 422" against a sandbox that
    refuses every request (a pack whose encoding the API does not take): the refusal said nothing about content checks.
    Now a valid document is sent first, and its refusal makes the rule an error."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def refuse(request):  # type: ignore[no-untyped-def]
        return JSONResponse({"error": "validation_failed", "message": "unsupported request encoding"}, status_code=400)

    url = served(Starlette(routes=[Route("/{rest:path}", refuse, methods=["GET", "POST"])])).url
    result = run_rules(config_for("mintfax", url), "FILE-003")["FILE-003"]
    assert result.status is Status.ERROR, f"{result.status} {result.message}"
    assert "400" in result.message and "FILE-003" in result.message


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
