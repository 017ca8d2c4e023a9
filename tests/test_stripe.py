"""The built-in `stripe` pack, proven with the official SDK: the bundled examples (examples/stripe/) and a raw-`requests`
client through golive's proxy against the embedded sandbox served from rules/stripe.yaml, 127.0.0.1 only.

What the official SDK really does — stripe 16.1.0, read in its source (site-packages/stripe/):
- Retries: off unless asked. `StripeClient(max_network_retries=None)` (_stripe_client.py:160) keeps None in its
  RequestorOptions (_requestor_options.py:49), and HTTPClient._should_retry reads None as 0 (_http_client.py:124-128).
  Only the legacy global API (stripe.PaymentIntent.create) falls back to `stripe.max_network_retries = 2`
  (__init__.py:39, _requestor_options.py:95-96). So a StripeClient on its defaults is not go-live ready: the flawed
  example fails RETRY-101/102/103, and the good one sets max_network_retries=3.
- What it retries (_http_client.py:117-161): connection errors and timeouts (RequestsClient._handle_request_error,
  :652-664: requests' Timeout and ConnectionError, not SSL errors), a `Stripe-Should-Retry: true|false` header first
  (:144-148), then 409 (:151) and every status >= 500 (:159); no other 4xx.
- Backoff (_http_client.py:164-187): min(INITIAL_DELAY · 2^(n-1), MAX_DELAY) with INITIAL_DELAY 0.5 s and
  MAX_DELAY 5 s (:86-87), times U(0.5, 1) (:186), never under 0.5 s (:177) — equal jitter floored at the base, the
  pack's "floored equal jitter"; its first retry always waits exactly 0.5 s. It sleeps with time.sleep (:300).
- Retry-After: never read (no "retry-after" anywhere in the package); a 429 is retried only when the answer carries
  `Stripe-Should-Retry: true`, and then after its own backoff.
- Idempotency: every POST gets `Idempotency-Key` before the first attempt (_api_requestor.py:647-648, headers.setdefault;
  the key is 16 random bytes in UUID form, :106-108) and the same headers go with every retry: IDEM-101/102/103 pass.
  A new call is a new key, so a restarted process sends another one (IDEM-105: the pack skips it, Stripe suggests
  random keys).
- Timeout: 80 s per request (RequestsClient, _http_client.py:512; HTTPXClient :1164).
- Webhooks: Webhook.construct_event (_webhook.py:67) verifies every v1= signature and rejects a timestamp older than
  DEFAULT_TOLERANCE = 300 s (:64) with `if tolerance and timestamp < time.time() - tolerance` (:189) — no bound on
  the future, so a receiver using it alone fails HOOK-210.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import stripe

from checker.config import Config, load_config, parse_config
from checker.model import Status
from tests.conftest import ROOT, run_rules, verdicts

# slow, left out of the fast tier: the provider's official SDK as client and receiver (examples/stripe), end to end
pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "examples" / "stripe"
SECRET = "whsec_0123456789abcdef0123456789abcdef"
SANDBOX_RULES = ("IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005", "IDEM-006", "IDEM-007")
CLIENT_RULES = ("IDEM-101", "IDEM-102", "IDEM-103", "IDEM-104", "RETRY-101", "RETRY-102", "RETRY-103", "RETRY-105", "RETRY-106")
CLIENT_RULES += ("RETRY-108", "ERR-101")
HOOK_RULES = tuple(f"HOOK-2{n:02d}" for n in range(1, 14))
PROBED = (*SANDBOX_RULES, *CLIENT_RULES, *HOOK_RULES)


def example(kind: str) -> Config:
    return load_config(EXAMPLES / kind / "golive.yaml", environ={"STRIPE_WEBHOOK_SECRET": SECRET})


def test_the_sdk_version_whose_source_was_read() -> None:
    """The behaviour written above was read in stripe 16.1.0's source: a newer major version is to be read again."""
    assert stripe.VERSION.split(".")[0] == "16", f"stripe {stripe.VERSION}: re-read its retry and webhook code (module docstring)"


def test_the_good_example_is_ready_rule_by_rule() -> None:
    """max_network_retries=3 and construct_event plus a future bound: every rule the pack covers passes, for the reason
    the SDK's source gives."""
    results = run_rules(example("good"), *PROBED)
    verdicts(results, dict.fromkeys(PROBED, Status.PASS))
    assert "400 idempotency_error" in results["IDEM-003"].message
    assert "floored equal jitter" in results["RETRY-106"].message and "base 0.5 s, cap 5 s" in results["RETRY-106"].message
    assert "409, 500, 502, 503, 504" in results["RETRY-102"].message and "400, 401, 402, 403, 404" in results["RETRY-105"].message
    assert "payment_intent.payment_failed" in results["HOOK-212"].message and "1 endpoint(s) registered" in results["HOOK-212"].message


def test_the_flawed_example_fails_for_the_reasons_it_states() -> None:
    """The SDK on its defaults never retries; construct_event alone bounds only past timestamps; a redelivery answered
    409; payment_intent.payment_failed not subscribed. Key reuse and backoff cannot be judged without a retry: error,
    never pass."""
    results = run_rules(example("flawed"), *PROBED)
    failed = ("RETRY-101", "RETRY-102", "RETRY-103", "HOOK-207", "HOOK-210", "HOOK-212")
    verdicts(
        results,
        dict.fromkeys(PROBED, Status.PASS) | dict.fromkeys(failed, Status.FAIL) | {"IDEM-102": Status.ERROR, "RETRY-106": Status.ERROR},
    )
    assert "did not retry (it exited 1)" in results["RETRY-101"].message
    assert "409 was not retried" in results["RETRY-102"].message and "504 was not retried" in results["RETRY-102"].message
    assert "the connection was reset after the request and the client did not retry" in results["RETRY-103"].message
    assert "did not retry after 409" in results["IDEM-102"].message and "1 attempts" in results["RETRY-106"].message
    assert "got 409" in results["HOOK-207"].message
    assert "600 s in the future (200)" in results["HOOK-210"].message
    assert "does not include payment_intent.payment_failed" in results["HOOK-212"].message
    assert "gave up after 1 attempt" in results["RETRY-108"].message  # no retries is within the bound, and says so


def raw_client_config(tmp_path: Path, pack: str = "stripe", client: Path = ROOT / "tests" / "clients" / "stripe_raw_client.py") -> Config:
    text = (
        f"provider: {pack}\nsandbox: {{url: builtin, api_key: sk_test_golive51Hc0ffee}}\n"
        f'client:\n  command: "{{python}} {client} --payment-method {{to}} --ref {{ref}}"\n'
        '  env: {STRIPE_BASE_URL: "{base_url}", STRIPE_API_KEY: "{api_key}"}\n  timeout: 60\n'
    )
    return parse_config(text, str(tmp_path / "golive.yaml"), environ={})


def test_a_raw_requests_client_fails_the_right_rules(tmp_path: Path) -> None:
    """A new Idempotency-Key per attempt, a fixed 1 s sleep, every failure retried (5 attempts), no retry after a reset."""
    rules = tuple(r for r in CLIENT_RULES if r != "ERR-101")
    results = run_rules(raw_client_config(tmp_path), *rules)
    failed = {rule_id for rule_id in rules if results[rule_id].status is Status.FAIL}
    assert failed == {"IDEM-102", "RETRY-101", "RETRY-103", "RETRY-105", "RETRY-106", "RETRY-108"}, {
        r: (results[r].status.value, results[r].message) for r in rules
    }
    assert "changed the key" in results["IDEM-102"].message
    assert "delays do not grow: fixed 1." in results["RETRY-106"].message  # 1.00 s planned, plus what the machine adds
    assert "402 was retried" in results["RETRY-105"].message


@pytest.mark.parametrize("should_retry", [False, True], ids=["plain-429", "stripe-should-retry"])
def test_rate_limits_with_the_official_sdk(tmp_path: Path, should_retry: bool) -> None:
    """RATE-101 (waits at least Retry-After after a 429), which the stripe pack skips (Stripe documents its test-mode
    limit, 25 a second, but no Retry-After), with the good example's client in front of a pack that sends one. The SDK
    never retries a 429 unless the answer carries `Stripe-Should-Retry: true`, and never reads Retry-After: with that
    header (errors.headers) it retries after its own 0.5 s backoff, not the Retry-After golive sent — fail either way,
    for the reason named."""
    headers = "  errors: {headers: {'429': {Stripe-Should-Retry: 'true'}}}\n" if should_retry else ""
    (tmp_path / "limited.yaml").write_text(
        f"schema: golive-pack/1\nname: limited\nextends: stripe\nfacts:\n  rate_limit: {{requests_per_s: 25}}\n{headers}"
        "provenance: {rate_limit: {assumed: a test}, errors.headers: {assumed: a test}}\n"
        "rules: {RATE-101: {source: stripe/errors.md}}\n"
    )
    config = raw_client_config(tmp_path, str(tmp_path / "limited.yaml"), EXAMPLES / "good" / "pay.py")
    result = run_rules(config, "RATE-101")["RATE-101"]
    assert result.status is Status.FAIL, result.message
    if should_retry:
        assert "after a 429 with Retry-After: 2" in result.message and "waits too short" in result.message, result.message
    else:
        assert "after 429 with Retry-After: 2 the client did not retry (it exited 1)" in result.message, result.message


@pytest.mark.parametrize(("events", "status"), [("*", Status.PASS), ("charge.succeeded", Status.FAIL)], ids=["every-event", "other-event"])
def test_an_endpoint_registered_with_the_sdk_is_read_back_in_stripes_field_names(tmp_path: Path, events: str, status: Status) -> None:
    """HOOK-212 on the pack-driven sandbox: the good example's registration step (`webhook_endpoints.create`) run with
    other events; golive lists the endpoints at the pack's path and reads `enabled_events`, where "*" stands for every
    event (webhooks.registration.all_events)."""
    register = EXAMPLES / "good" / "register_webhook.py"
    text = (
        f"provider: stripe\nsandbox: {{url: builtin, api_key: sk_test_golive51Hc0ffee}}\n"
        f"webhook:\n  url: http://127.0.0.1:{{port}}/hooks\n  secret: {SECRET}\n"
        "  events: [payment_intent.succeeded, payment_intent.payment_failed]\n"
        '  env: {STRIPE_BASE_URL: "{base_url}", STRIPE_API_KEY: "{api_key}"}\n'
        f'  register: "{{python}} {register} {{url}} --events {events}"\n'
    )
    result = run_rules(parse_config(text, str(tmp_path / "golive.yaml"), environ={}), "HOOK-212")["HOOK-212"]
    assert result.status is status, result.message
    if status is Status.FAIL:
        assert "not subscribed to payment_intent.succeeded" in result.message
