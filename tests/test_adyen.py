"""The built-in `adyen` pack, proven with the official SDK: the bundled examples (examples/adyen/) through golive's
proxy against the embedded sandbox served from rules/adyen.yaml, and the SDK called directly against that sandbox,
127.0.0.1 only.

What the official SDK really does — Adyen (the Adyen Python API library) 16.0.0, read in its source
(site-packages/Adyen/):
- Retries: none, at all. AdyenClient.call_adyen_api (client.py:329-421) makes one `self.http_client.request(...)`
  (:403-416) and hands the answer to _handle_response (:419), which raises for any status but 200, 201, 202, 204
  (:455-464): 400 AdyenAPIValidationError, 401 …AuthenticationError, 403 …InvalidPermission, 422
  …UnprocessableEntity, 404 and 500 AdyenAPICommunicationError, anything else (503 too) AdyenAPIResponseError
  (:503-530). There is no retry loop, no backoff, no jitter, no retry count anywhere in the package; a connection
  error or timeout is requests' own exception, not caught (httpclient.py:164-172). So the SDK on its defaults is not
  go-live ready: the flawed example fails RETRY-101/102/103, and the good one wraps the call in a retry loop.
- Retry-After: never read (no "retry-after" anywhere in the package).
- Idempotency: the SDK sends `Idempotency-Key` only when the caller passes `idempotency_key=` (client.py:388-389;
  every service method takes it, e.g. checkout/payments_api.py:46-54); it never makes one. Without it, IDEM-101 fails.
  Since the SDK never retries, reusing the key on a retry is the caller's loop's job (the good example: one UUID per
  payment, IDEM-102 passes).
- Timeout: http_timeout=30 s by default (client.py:93), passed to requests.request(timeout=…) (httpclient.py:164-172).
- Endpoint: every service keeps a hard-coded `baseUrl` (checkout/payments_api.py:14:
  "https://checkout-test.adyen.com/v72"); with platform="test" the SDK only swaps "-live" for "-test" in it
  (client.py:154-157). Setting `adyen.checkout.payments_api.baseUrl` is how the examples point it at golive's proxy.
- Authentication: the API key goes in `x-api-key` (httpclient.py:158-159), not `Authorization: Bearer`: the pack says
  so (api_key_header: X-API-Key) and the embedded sandbox takes the key there only.
- Webhooks: Adyen.util.is_valid_hmac_notification (util.py:49-74) takes the whole notification or one
  NotificationRequestItem. Given the notification it checks only notificationItems[0] (:63-64). It deep-copies,
  reads additionalData.hmacSignature and compares, in constant time (hmac.compare_digest, :74), the base64 HMAC-SHA256
  that generate_notification_sig (:9-35) computes: the key is the hex HMAC key decoded (binascii.a2b_hex, :13: a key
  that is not hex raises binascii.Error), the message the eight fields pspReference, originalReference,
  merchantAccountCode, merchantReference, amount.value, amount.currency, eventCode, success, each str()'d, a missing
  one as "" (dict.get(element, ""), :30-32), joined by ':' with NO escaping of ':' or '\\' (so "a:b" + "c" and "a" +
  "b:c" sign alike), no timestamp. What it returns is not always a bool: True/False when additionalData.hmacSignature
  is a string; None when there is no additionalData (:66 has no else); it raises KeyError without hmacSignature
  (:67) or without amount (:16), ValueError for an empty signature (:67-68), TypeError for a non-string one
  (compare_digest). A receiver that writes `if not is_valid_hmac_notification(...)` without catching those answers
  500 to a malformed or unsigned notification (the flawed example: HOOK-202/203 fail); one that writes `is False`
  accepts a notification without additionalData. golive's scheme `adyen` (checker/signing.py) signs what this function
  verifies (tests/test_signing.py checks both ways); the good example calls it per item and accepts only True.
"""

from __future__ import annotations

from pathlib import Path

import Adyen
import httpx
import pytest
from Adyen import settings

from checker.config import Config, load_config, parse_config
from checker.model import Status
from checker.packs import load_pack
from tests.conftest import ROOT, run_rules, verdicts

# slow, left out of the fast tier: the provider's official SDK as client and receiver (examples/adyen), end to end
pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "examples" / "adyen"
SANDBOX_RULES = ("IDEM-001", "IDEM-002", "IDEM-004", "IDEM-005")
CLIENT_RULES = ("IDEM-101", "IDEM-102", "IDEM-103", "IDEM-104", "RETRY-101", "RETRY-102", "RETRY-103", "RETRY-105", "ERR-101")
HOOK_RULES = ("HOOK-201", "HOOK-202", "HOOK-203", "HOOK-205", "HOOK-206", "HOOK-207", "HOOK-208", "HOOK-209")
PROBED = (*SANDBOX_RULES, *CLIENT_RULES)
KEY = "AQEgolive-test-key-0123456789"
HMAC_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"


def example(kind: str) -> Config:
    return load_config(EXAMPLES / kind / "golive.yaml", environ={"ADYEN_WEBHOOK_SECRET": HMAC_KEY})


def test_the_sdk_version_whose_source_was_read() -> None:
    """The behaviour written above was read in Adyen 16.0.0's source: a newer major version is to be read again."""
    assert settings.LIB_VERSION.split(".")[0] == "16", f"Adyen {settings.LIB_VERSION}: re-read its client and util code (module docstring)"


def test_the_good_example_is_ready_rule_by_rule() -> None:
    """One UUID Idempotency-Key per payment, a retry loop around the SDK for 503 and requests without an answer, no
    retry of a 4xx: every rule the pack covers passes, for the reason it gives."""
    results = run_rules(example("good"), *PROBED)
    verdicts(results, dict.fromkeys(PROBED, Status.PASS))
    assert "Idempotency-Key echo" in results["IDEM-002"].message
    assert "65 characters was rejected" in results["IDEM-005"].message and "64 characters are accepted" in results["IDEM-005"].message
    assert "limit 64" in results["IDEM-104"].message
    assert "reused the key" in results["IDEM-102"].message
    assert "400, 401, 403, 422" in results["RETRY-105"].message


def test_the_flawed_example_fails_for_the_reasons_it_states() -> None:
    """The SDK on its defaults: one request per call and no Idempotency-Key. Key reuse cannot be judged without a
    retry: error, never pass; a client that sends no key fails the key rules that need one."""
    results = run_rules(example("flawed"), *PROBED)
    failed = ("IDEM-101", "IDEM-103", "IDEM-104", "RETRY-101", "RETRY-102", "RETRY-103")
    verdicts(results, dict.fromkeys(PROBED, Status.PASS) | dict.fromkeys(failed, Status.FAIL) | {"IDEM-102": Status.ERROR})
    assert "carry no Idempotency-Key header" in results["IDEM-101"].message
    assert "did not retry (it exited 1)" in results["RETRY-101"].message
    assert "503 was not retried" in results["RETRY-102"].message
    assert "the connection was reset after the request and the client did not retry" in results["RETRY-103"].message
    assert "rests on golive's assumption" in results["RETRY-102"].full_message  # Adyen lists no retryable status: golive reads 503
    assert "did not retry after 503" in results["IDEM-102"].message


def test_the_sdk_sends_a_key_only_when_asked_and_adyen_replays_it(sandbox) -> None:
    """The SDK against the pack-driven sandbox directly: without idempotency_key= no header goes out, so two calls are
    two payments; with one, the second call is the first payment replayed and the key is echoed (Adyen: "check the
    idempotency-key HTTP header returned in the response")."""
    server = sandbox("adyen")
    adyen = Adyen.Adyen(xapikey=KEY, platform="test")
    adyen.checkout.payments_api.baseUrl = f"{server.url}/v72"
    request = {"amount": {"currency": "EUR", "value": 1000}, "reference": "order-1", "merchantAccount": "GoliveECOM"}

    first, second = (adyen.checkout.payments_api.payments(dict(request)) for _ in range(2))
    assert first.message["pspReference"] != second.message["pspReference"]

    replayed = [adyen.checkout.payments_api.payments(dict(request), idempotency_key="order-1-payment") for _ in range(2)]
    assert replayed[0].message == replayed[1].message and replayed[0].status_code == replayed[1].status_code == 200
    echoed = httpx.post(
        f"{server.url}/v72/payments", json=request, headers={"X-API-Key": KEY, "Idempotency-Key": "order-1-payment"}, timeout=10
    )
    assert echoed.headers["idempotency-key"] == "order-1-payment"
    assert echoed.json()["pspReference"] == replayed[0].message["pspReference"]


def test_the_sdk_raises_adyens_error_code_and_does_not_retry(sandbox) -> None:
    """A refused request reaches the caller once, as the SDK's exception with Adyen's errorCode (client.py:501): the
    sandbox answers in Adyen's error fields (errors.md: status, errorCode, title, detail)."""
    server = sandbox("adyen")
    adyen = Adyen.Adyen(xapikey=KEY, platform="test")
    adyen.checkout.payments_api.baseUrl = f"{server.url}/v72"
    with pytest.raises(Adyen.AdyenAPIUnprocessableEntity) as refused:
        adyen.checkout.payments_api.payments({"amount": {"currency": "EUR", "value": 1000}, "reference": "no-merchant"})
    assert refused.value.status_code == 422 and refused.value.error_code == "702"


def test_the_key_goes_in_x_api_key_only(sandbox) -> None:
    """Where a pack names api_key_header, the embedded sandbox takes the key there and nowhere else: a client sending
    `Authorization: Bearer` (what golive assumes for other providers) is refused, as Adyen would refuse it."""
    server = sandbox("adyen")
    body = {"amount": {"currency": "EUR", "value": 1000}, "reference": "r", "merchantAccount": "GoliveECOM"}
    bearer = httpx.post(f"{server.url}/v72/payments", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert bearer.status_code == 401 and bearer.json()["errorCode"] == "unauthorized"
    assert httpx.post(f"{server.url}/v72/payments", json=body, headers={"X-API-Key": KEY}, timeout=10).status_code == 200


def test_a_custom_client_sending_the_key_elsewhere_is_an_error_not_a_pass(tmp_path: Path) -> None:
    """The contract probe speaks the pack's header too: against the embedded sandbox with the adyen pack, the
    sandbox rules pass only because golive sends X-API-Key (a Bearer key would be refused, and the rule an error)."""
    text = "provider: adyen\nsandbox: {url: builtin, api_key: AQEgolive-contract-0123}\n"
    results = run_rules(parse_config(text, str(tmp_path / "golive.yaml"), environ={}), *SANDBOX_RULES)
    verdicts(results, dict.fromkeys(SANDBOX_RULES, Status.PASS))


def test_the_good_receiver_passes_every_hook_rule_adyen_covers() -> None:
    """examples/adyen/good/webhook.py: the SDK's verifier on each item, only True accepted, [accepted] answered, each
    (pspReference, eventCode) processed once. The timestamp, rotation, subscription and raw-body rules are skipped
    with the pack's reasons."""
    results = run_rules(example("good"), *HOOK_RULES, "HOOK-204", "HOOK-210", "HOOK-211", "HOOK-212", "HOOK-213")
    verdicts(
        results,
        dict.fromkeys(HOOK_RULES, Status.PASS) | dict.fromkeys(("HOOK-204", "HOOK-210", "HOOK-211", "HOOK-212", "HOOK-213"), Status.SKIP),
    )
    assert "(401, 401, 401, 401, 401, 401)" in results["HOOK-202"].message  # five malformed signatures and another key's
    assert "(401, 401)" in results["HOOK-203"].message  # no hmacSignature; no additionalData at all
    assert "within 10 s" in results["HOOK-209"].message
    assert "no timestamp" in (results["HOOK-204"].rule.skip or "")
    assert "not the raw body" in (results["HOOK-213"].rule.skip or "")
    answers = [e.get("answer") for e in results["HOOK-201"].evidence if e.get("kind") == "delivery"]
    assert answers == ["[accepted]"]


def test_the_flawed_receiver_fails_for_the_sdks_exceptions_and_for_duplicates() -> None:
    """examples/adyen/flawed/webhook.py: `if not is_valid_hmac_notification(...)` with its exceptions left to the
    framework (500), business logic before storing. The signature rules that need a value (HOOK-205/206) pass: the SDK
    returns False there."""
    results = run_rules(example("flawed"), *HOOK_RULES)
    failed = ("HOOK-202", "HOOK-203", "HOOK-207", "HOOK-208")
    verdicts(results, dict.fromkeys(HOOK_RULES, Status.PASS) | dict.fromkeys(failed, Status.FAIL))
    assert "answered 500 to a delivery with an empty signature" in results["HOOK-202"].message
    assert "answered 500 to a delivery with no additionalData.hmacSignature" in results["HOOK-203"].message
    assert "got 500" in results["HOOK-207"].message
    assert "processed 2 times" in results["HOOK-208"].message


def test_the_sandbox_delivers_adyen_notifications_the_sdk_verifies(sandbox, tmp_path: Path) -> None:
    """The embedded sandbox signs its own deliveries with the pack's scheme: inside the body for adyen. Adyen's
    documents kept here give no endpoint registration API, so the built-in pack has none and its sandbox delivers
    nothing; a pack that extends it with one (as a team's own could) gets AUTHORISATION notifications that
    Adyen.util.is_valid_hmac_notification accepts."""
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from Adyen.util import is_valid_hmac_notification

    pack = tmp_path / "adyen-registered.yaml"
    pack.write_text(
        "schema: golive-pack/1\nname: adyen-registered\nextends: adyen\n"
        "facts:\n  webhooks:\n    scheme: adyen\n    signature_header: additionalData.hmacSignature\n"
        "    endpoints_path: /v1/webhooks\n    created_event: AUTHORISATION\n"
    )
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"[accepted]")

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        server = sandbox(load_pack(str(pack)))
        headers = {"X-API-Key": KEY}
        url = f"http://127.0.0.1:{receiver.server_port}/hooks"
        registered = httpx.post(f"{server.url}/v1/webhooks", json={"url": url, "events": ["AUTHORISATION"]}, headers=headers, timeout=10)
        assert registered.status_code == 200, registered.text
        hmac_key = registered.json()["secret"]
        body = {"amount": {"currency": "EUR", "value": 1000}, "reference": "order-9", "merchantAccount": "GoliveECOM"}
        payment = httpx.post(f"{server.url}/v72/payments", json=body, headers=headers, timeout=10).json()
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert received, "no notification delivered"
        notification = json.loads(received[0])
        item = notification["notificationItems"][0]["NotificationRequestItem"]
        assert notification["live"] == "false" and item["eventCode"] == "AUTHORISATION"
        assert item["pspReference"] == payment["pspReference"] and item["amount"] == {"currency": "EUR", "value": 1000}
        assert is_valid_hmac_notification(notification, hmac_key) is True
        item["amount"]["value"] = 1
        assert is_valid_hmac_notification(notification, hmac_key) is False
    finally:
        receiver.shutdown()
        receiver.server_close()
