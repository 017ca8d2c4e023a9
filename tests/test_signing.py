"""golive's webhook signatures, cross-checked against verifiers golive did not write: an HMAC built
here from RFC 2104 on hashlib, the `standardwebhooks` package, and stripe's verifier (mintfax's
scheme is Stripe's)."""

from __future__ import annotations

import base64
import contextlib
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


# ---------------------------------------------------------------- Adyen: the signature inside the body

ADYEN = SigningScheme("adyen", "additionalData.hmacSignature")
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"


def adyen_notification(**item: object) -> dict:
    fields = {
        "pspReference": "7914073381342284",
        "eventCode": "AUTHORISATION",
        "eventDate": "2026-11-26T10:00:00+01:00",
        "merchantAccountCode": "GoliveECOM",
        "merchantReference": "order-1",
        "amount": {"value": 1130, "currency": "EUR"},
        "success": "true",
    }
    return {"live": "false", "notificationItems": [{"NotificationRequestItem": {**fields, **item}}]}


def test_adyens_sdk_verifies_what_golive_signs_and_refuses_a_changed_field() -> None:
    """Adyen.util.is_valid_hmac_notification (Adyen 16.0.0) accepts golive's in-body signature, for the whole
    notification and for the item alone, also with a ':' and a '\\' in a signed field (neither side escapes); a signed
    field changed after signing, another key, or golive's malformed signatures do not verify."""
    from Adyen.util import is_valid_hmac_notification

    for notification in (adyen_notification(), adyen_notification(merchantReference="a:b\\c", originalReference="x")):
        sealed = ADYEN.seal(notification, [ADYEN_KEY])
        assert "hmacSignature" not in json.dumps(notification)  # sealing copies
        assert is_valid_hmac_notification(sealed, ADYEN_KEY) is True
        assert is_valid_hmac_notification(sealed["notificationItems"][0]["NotificationRequestItem"], ADYEN_KEY) is True
        assert is_valid_hmac_notification(ADYEN.tampered(sealed), ADYEN_KEY) is False
        assert is_valid_hmac_notification(ADYEN.seal(notification, ["AB" * 32]), ADYEN_KEY) is False
        for label, bad in ADYEN.malformed_events(sealed):
            with contextlib.suppress(ValueError, TypeError):  # the SDK raises for an empty or non-string signature
                assert not is_valid_hmac_notification(bad, ADYEN_KEY), label


def test_golives_adyen_signature_matches_an_independent_hmac() -> None:
    """The signing string as Adyen's documents and SDK build it, HMAC'd from RFC 2104 with the hex-decoded key."""
    sealed = ADYEN.seal(adyen_notification(), [ADYEN_KEY])
    text = b"7914073381342284::GoliveECOM:order-1:1130:EUR:AUTHORISATION:true"
    expected = base64.b64encode(rfc2104_hmac_sha256(bytes.fromhex(ADYEN_KEY), text)).decode()
    assert sealed["notificationItems"][0]["NotificationRequestItem"]["additionalData"]["hmacSignature"] == expected


def test_the_adyen_scheme_signs_no_header_and_refuses_a_key_that_is_not_hex() -> None:
    assert ADYEN.sign([ADYEN_KEY], b"{}", timestamp=0, msg_id="x") == {}
    assert ADYEN.in_body and not ADYEN.signs_raw_body and not ADYEN.has_timestamp and not ADYEN.carries_several_signatures
    with pytest.raises(SecretError):
        ADYEN.sign(["whsec_not-hex"], b"{}", timestamp=0, msg_id="x")
    body, headers = ADYEN.sign_delivery([ADYEN_KEY], json.dumps(adyen_notification()).encode(), timestamp=0, msg_id="x")
    assert headers == {} and json.loads(body) == ADYEN.seal(adyen_notification(), [ADYEN_KEY])


def test_unsigned_adyen_notifications_and_what_the_sdk_makes_of_them() -> None:
    """What HOOK-203 sends. The SDK does not return False for either: without additionalData it returns None (util.py:66
    has no else), without hmacSignature it raises KeyError (util.py:67). A receiver must treat both as unsigned."""
    from Adyen.util import is_valid_hmac_notification

    sealed = ADYEN.seal(adyen_notification(), [ADYEN_KEY])
    (label_bare, bare), (label_none, none) = ADYEN.unsigned_events(sealed)
    assert label_bare == "no additionalData.hmacSignature" and label_none == "no additionalData at all"
    with pytest.raises(KeyError):
        is_valid_hmac_notification(bare, ADYEN_KEY)
    assert is_valid_hmac_notification(none, ADYEN_KEY) is None


def test_header_schemes_leave_the_event_as_it_is() -> None:
    event = json.loads(BODY)
    assert MINTFAX.seal(event, [SECRET]) is event
    body, headers = MINTFAX.sign_delivery([SECRET], BODY, timestamp=1, msg_id="m")
    assert body == BODY and headers == MINTFAX.sign([SECRET], BODY, timestamp=1, msg_id="m")
