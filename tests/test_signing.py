"""golive's webhook signatures, cross-checked against verifiers golive did not write: an HMAC built
here from RFC 2104 on hashlib, the `standardwebhooks` package, and stripe's verifier (mintfax's
scheme is Stripe's)."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
import standardwebhooks
import stripe

from checker.signing import SecretError, SigningScheme

MINTFAX = SigningScheme("mintfax", "X-Mintfax-Signature")
STANDARD = SigningScheme("standard", "webhook-signature", "webhook-timestamp", "webhook-id")
GITHUB = SigningScheme("github", "X-Hub-Signature-256")
SECRET = "whsec_5f0a9c2d7e1b8a4c6d3e9f0a1b2c3d4e"
OLD_SECRET = "whsec_00aa11bb22cc33dd44ee55ff66778899"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = json.dumps({"event_id": "evt_1", "type": "fax.delivered", "created_at": "2026-11-23T10:00:00Z", "data": {"id": "fax_1"}}).encode()


def rfc2104_hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC from its definition, H((K ^ opad) || H((K ^ ipad) || m)), without the hmac module."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + message).digest()
    return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).digest()


def test_mintfax_signature_matches_an_independent_hmac() -> None:
    ts = 1795400000
    header = MINTFAX.sign([SECRET], BODY, timestamp=ts, msg_id="evt_1")["X-Mintfax-Signature"]
    expected = rfc2104_hmac_sha256(SECRET.encode(), f"{ts}.".encode() + BODY).hex()
    assert header == f"t={ts},v1={expected}"


def test_mintfax_rotation_carries_one_v1_per_secret_in_order() -> None:
    ts = 1795400000
    header = MINTFAX.sign([OLD_SECRET, SECRET], BODY, timestamp=ts, msg_id="evt_1")["X-Mintfax-Signature"]
    parts = header.split(",")
    assert parts[0] == f"t={ts}"
    assert parts[1] == "v1=" + rfc2104_hmac_sha256(OLD_SECRET.encode(), f"{ts}.".encode() + BODY).hex()
    assert parts[2] == "v1=" + rfc2104_hmac_sha256(SECRET.encode(), f"{ts}.".encode() + BODY).hex()


def test_stripes_verifier_accepts_golives_mintfax_signature() -> None:
    now = int(time.time())
    header = MINTFAX.sign([OLD_SECRET, SECRET], BODY, timestamp=now, msg_id="evt_1")["X-Mintfax-Signature"]
    assert stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(BODY.decode() + " ", header, SECRET, tolerance=300)


def test_standard_webhooks_library_verifies_golives_signature() -> None:
    now = int(time.time())
    headers = STANDARD.sign([STANDARD_SECRET], BODY, timestamp=now, msg_id="msg_2Kq")
    assert standardwebhooks.Webhook(STANDARD_SECRET).verify(BODY, headers) == json.loads(BODY)
    library = standardwebhooks.Webhook(STANDARD_SECRET).sign("msg_2Kq", _dt(now), BODY.decode())
    assert headers["webhook-signature"] == library


def test_standard_webhooks_rotation_is_space_separated_and_verifies() -> None:
    other = "whsec_" + base64.b64encode(b"x" * 24).decode()
    now = int(time.time())
    headers = STANDARD.sign([other, STANDARD_SECRET], BODY, timestamp=now, msg_id="msg_1")
    assert len(headers["webhook-signature"].split(" ")) == 2
    standardwebhooks.Webhook(STANDARD_SECRET).verify(BODY, headers)


def test_github_style_signature_matches_an_independent_hmac() -> None:
    header = GITHUB.sign([SECRET], BODY, timestamp=0, msg_id="x")["X-Hub-Signature-256"]
    assert header == "sha256=" + rfc2104_hmac_sha256(SECRET.encode(), BODY).hex()


@pytest.mark.parametrize("scheme", [MINTFAX, STANDARD, GITHUB], ids=lambda s: s.name)
def test_malformed_variants_never_verify(scheme: SigningScheme) -> None:
    secret = STANDARD_SECRET if scheme is STANDARD else SECRET
    now = int(time.time())
    good = scheme.sign([secret], BODY, timestamp=now, msg_id="msg_1")
    variants = scheme.malformed(good)
    assert len(variants) >= 4
    for label, headers in variants:
        assert headers[scheme.signature_header] != good[scheme.signature_header], label
        if scheme is STANDARD:
            with pytest.raises(Exception):  # noqa: B017 - the library raises ValueError for some (see test_webhook_rules)
                standardwebhooks.Webhook(secret).verify(BODY, headers)
        elif scheme is MINTFAX:
            with pytest.raises(stripe.SignatureVerificationError):
                stripe.WebhookSignature.verify_header(BODY.decode(), headers[scheme.signature_header], secret, tolerance=300)


def test_a_standard_secret_that_is_not_base64_is_refused() -> None:
    with pytest.raises(SecretError):
        STANDARD.sign(["whsec_not*base64"], BODY, timestamp=0, msg_id="x")


def _dt(ts: int):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, tz=dt.UTC)


def test_squares_sdk_verifies_golives_square_signature() -> None:
    """The squareup SDK's verifier (square.utils.webhooks_helper.verify_signature) accepts what golive signs for
    Square's scheme, and refuses it for another URL, another body or another key."""
    from square.utils.webhooks_helper import verify_signature

    scheme = SigningScheme("square", "x-square-hmacsha256-signature")
    url = "http://127.0.0.1:8700/hooks"
    header = scheme.sign([SECRET], BODY, timestamp=0, msg_id="", url=url)["x-square-hmacsha256-signature"]
    check = {"request_body": BODY.decode(), "signature_header": header, "signature_key": SECRET, "notification_url": url}
    assert verify_signature(**check)
    assert not verify_signature(**{**check, "notification_url": url + "/other"})
    assert not verify_signature(**{**check, "request_body": BODY.decode() + " "})
    assert not verify_signature(**{**check, "signature_key": SECRET + "x"})
    for label, bad in scheme.malformed({"x-square-hmacsha256-signature": header}):
        assert not verify_signature(**{**check, "signature_header": bad["x-square-hmacsha256-signature"]}), label
