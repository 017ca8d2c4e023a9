"""The built-in `square` pack, proven with the official SDK: the bundled examples (examples/square/) through golive's
proxy against the embedded sandbox served from rules/square.yaml, 127.0.0.1 only, and the two small pack features
Square needed (a dotted id_field, an `errors` list).

What the official SDK really does — squareup 46.0.0.20260916, read in its source (site-packages/square/):
- Retries: on by default. HttpClient.request (core/http_client.py:338) reads `max_retries` from the request options,
  default 2: three attempts. It retries an answer when `_should_retry` (:120-122) holds: status >= 500, or 429, 408,
  409 (the README names 408, 429 and 5XX; 409 is retried too). Nothing else.
- Connection errors and timeouts: never retried. `self.httpx_client.request(...)` (:318-336) is outside any try, so
  httpx's ConnectError / ReadError / RemoteProtocolError / ReadTimeout go straight to the caller. The good example
  retries those itself with the same key; the flawed one, like the SDK alone, fails RETRY-103.
- Backoff (:98-117): Retry-After first (seconds or an HTTP date, capped at 60 s; :106-108), then X-RateLimit-Reset
  (+0-20 %), else min(1 s · 2^n, 60 s) times U(0.9, 1.1) (:20-22, 72-75, 116-117), slept with time.sleep (:341).
  `retry-after-ms` is never honoured: `retry_after_ms > 0` compares a str with an int and the TypeError is swallowed
  (:31-36). golive's pack skips RETRY-106/107: Square documents no numbers, and the proportional jitter fits none of
  golive's accepted schedules.
- Idempotency: the SDK sends no key of its own. `idempotency_key` is a required body field of payments.create
  (payments/raw_client.py:445); a retry resends the same `json=` (:342-354), so the same key: IDEM-102 holds for the
  SDK's own retries. Only the caller decides whether a retry of its own reuses it (the flawed example makes a uuid4
  per attempt: IDEM-102 fails).
- Timeout: 60 s per request unless `timeout=` is given (client.py:104-106); the good example sets 20 s.
- Base URL: `Square(base_url=…)` wins over `environment=` (client.py:839-845); the examples take it from
  SQUARE_BASE_URL only, which golive points at its proxy: no request leaves 127.0.0.1.
- Webhooks: utils/webhooks_helper.verify_signature: base64 HMAC-SHA256(signature key, notification URL + body) with
  hmac.compare_digest; no timestamp, so nothing is stale (HOOK-204/210/211 skipped by the pack).
"""

from __future__ import annotations

import importlib.metadata

import pytest

from checker.config import Config, load_config
from checker.http import Exchange
from checker.model import Status
from tests.conftest import ROOT, run_rules, verdicts

# slow, left out of the fast tier: the provider's official SDK as client and receiver (examples/square), end to end
pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "examples" / "square"
SECRET = "golive-square-signature-key-0123456789"
SANDBOX_RULES = ("IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005")
CLIENT_RULES = ("IDEM-101", "IDEM-102", "IDEM-103", "IDEM-104", "RETRY-101", "RETRY-102", "RETRY-103", "RETRY-105", "RETRY-108", "ERR-101")
HOOK_RULES = ("HOOK-201", "HOOK-202", "HOOK-203", "HOOK-205", "HOOK-206", "HOOK-207", "HOOK-208", "HOOK-209", "HOOK-213")
PROBED = (*SANDBOX_RULES, *CLIENT_RULES, *HOOK_RULES)


def example(kind: str) -> Config:
    return load_config(EXAMPLES / kind / "golive.yaml", environ={"SQUARE_WEBHOOK_SECRET": SECRET})


def test_the_sdk_version_whose_source_was_read() -> None:
    """The behaviour written above was read in squareup 46's source: a newer major version is to be read again."""
    version = importlib.metadata.version("squareup")
    assert version.split(".")[0] == "46", f"squareup {version}: re-read its retry and webhook code (module docstring)"


def test_the_good_example_is_ready_rule_by_rule() -> None:
    """The SDK's own status retries, a key per logical payment, connection errors retried with that key, and
    verify_signature over the raw body with event_id dedupe: every rule the pack covers passes."""
    results = run_rules(example("good"), *PROBED)
    verdicts(results, dict.fromkeys(PROBED, Status.PASS))
    assert "400 IDEMPOTENCY_KEY_REUSED" in results["IDEM-003"].message
    assert "46 characters was rejected" in results["IDEM-005"].message
    assert "500, 502, 503, 504" in results["RETRY-102"].message
    assert "retried with the same key" in results["RETRY-103"].message
    assert "keys are 36 characters at most (limit 45)" in results["IDEM-104"].message


def test_the_flawed_example_fails_for_the_reasons_it_states() -> None:
    """A uuid4 per attempt, every ApiError retried (4xx too), resets not retried, no error code printed; a receiver
    verifying re-serialised JSON (json.dumps' `", "`, so Square's compact notifications are all rejected: HOOK-201,
    issue 26) and processing redeliveries again."""
    results = run_rules(example("flawed"), *PROBED)
    failed = ("IDEM-102", "RETRY-101", "RETRY-103", "RETRY-105", "ERR-101", "HOOK-201", "HOOK-208", "HOOK-213")
    verdicts(results, dict.fromkeys(PROBED, Status.PASS) | dict.fromkeys(failed, Status.FAIL))
    assert "changed the key" in results["IDEM-102"].message
    assert "each attempt carried a new key" in results["RETRY-101"].message
    assert "did not retry" in results["RETRY-103"].message
    assert "400 was retried (3 requests)" in results["RETRY-105"].message
    assert "processed 2 times" in results["HOOK-208"].message
    assert "re-serialised" in results["HOOK-213"].message  # diagnosed from HOOK-201's rejection: "verifies JSON it re-serialised"
    assert "as the provider sends it (compact JSON)" in results["HOOK-201"].message and "re-serialised" in results["HOOK-201"].message


def test_an_answer_field_may_be_dotted_and_an_errors_list_carries_the_code() -> None:
    """Square answers {"payment": {...}} and errors as {"errors": [{category, code, ...}]}: a pack names the id
    `payment.id`, and golive reads the first error's code (and its category beside it)."""

    def answer(body: bytes) -> Exchange:
        return Exchange("POST", "/v2/payments", 400, {}, body, 0.0, 0.0)

    created = answer(b'{"payment": {"id": "p1", "status": "COMPLETED"}, "id.x": 2}')
    assert created.field("payment.id") == "p1" and created.field("payment.status") == "COMPLETED"
    assert created.field("id.x") == 2 and created.field("payment.nothing") is None and created.field("id") is None
    refused = answer(b'{"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "IDEMPOTENCY_KEY_REUSED"}]}')
    assert refused.error_code() == "IDEMPOTENCY_KEY_REUSED"
    assert refused.error_codes() == {"IDEMPOTENCY_KEY_REUSED", "INVALID_REQUEST_ERROR"}
    assert answer(b'{"errors": []}').error_code() is None
    assert answer(b'{"error": {"type": "api_error", "code": "x"}}').error_codes() == {"api_error", "x"}  # Stripe's, unchanged


# ---------------------------------------------------------------- issue 26: error codes in Square's spelling


def test_every_error_of_the_embedded_sandbox_is_one_of_squares_error_codes(sandbox) -> None:
    """squareup 46.0.0.20260916, square/types/error_code.py:6-172: `ErrorCode` is a Literal of upper-case names
    (INTERNAL_SERVER_ERROR, UNAUTHORIZED, BAD_REQUEST, …, RATE_LIMITED, SERVICE_UNAVAILABLE, GATEWAY_TIMEOUT). The
    embedded sandbox answered Square clients with golive's own lower-case names (`unauthorized`, `not_found`,
    `invalid_json`, `idempotency_key_too_long`), which no Square client compares against. Each is now in Square's
    spelling (the pack's errors.codes and errors.code_case)."""
    import typing

    import httpx
    from square.types.error_code import ErrorCode

    known = set(typing.get_args(typing.get_args(ErrorCode)[0]))
    url = sandbox("square").url
    good = {"Authorization": "Bearer EAAAEgolivesquaretest0001", "Content-Type": "application/json"}
    answers = {
        "no key": httpx.post(url + "/v2/payments", json={}),
        "unknown payment": httpx.get(url + "/v2/payments/nope", headers=good),
        "not JSON": httpx.post(url + "/v2/payments", content=b"{", headers=good),
        "no route": httpx.get(url + "/v2/nowhere", headers=good),
        "key too long": httpx.post(
            url + "/v2/payments", json={"idempotency_key": "k" * 300, "source_id": "cnon:card-nonce-ok"}, headers=good
        ),
        "missing field": httpx.post(url + "/v2/payments", json={"idempotency_key": "k1"}, headers=good),
    }
    codes = {what: answer.json()["errors"][0]["code"] for what, answer in answers.items()}
    assert all(answer.status_code >= 400 for answer in answers.values()), {w: a.status_code for w, a in answers.items()}
    assert {what: code for what, code in codes.items() if code not in known} == {}
    assert codes["no key"] == "UNAUTHORIZED" and codes["unknown payment"] == "NOT_FOUND" and codes["not JSON"] == "EXPECTED_JSON_BODY"


def test_err_101_looks_for_the_code_as_the_envelope_spells_it() -> None:
    from checker.envelope import spelled
    from checker.packs import load_pack

    square = load_pack("square").facts.errors.model_dump()
    assert spelled(square, "invalid_request") == "BAD_REQUEST" and spelled(square, "rate_limited") == "RATE_LIMITED"
    assert spelled(load_pack("stripe").facts.errors.model_dump(), "invalid_request") == "invalid_request"
