"""Webhook signatures: the mintfax scheme, Standard Webhooks, GitHub- and Checkout.com-style body HMACs, Square's and Adyen's.

golive signs the deliveries it sends to a team's receiver with these, and the embedded sandbox
signs the events it delivers. Which scheme and which header names a provider uses come from
its pack (`facts.webhooks`).

- mintfax:  `X-Mintfax-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`;
  several `v1=` during a secret rotation (mintfax's document 002, docs/design.md §6).
- standard: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` (space-separated
  during rotation); the key is the base64 after `whsec_` (standardwebhooks.com).
- github:   `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`; no timestamp, one
  signature.
- square:   `x-square-hmacsha256-signature: <base64 HMAC-SHA256(signature key, notification URL + raw body)>`; no
  timestamp, one signature; the URL the provider delivers to is signed too (Square's "Validate that the
  notification is from Square"; its SDK's square.utils.webhooks_helper.verify_signature).
- checkout: `Cko-Signature: <hex HMAC-SHA256(signature key, raw body)>`, no prefix; no timestamp, one signature
  (Checkout.com's "Set up your webhook receiver").
- adyen:    no header: each `notificationItems[].NotificationRequestItem` carries
  `additionalData.hmacSignature` = base64 HMAC-SHA256(the hex HMAC key as bytes, "pspReference:originalReference:
  merchantAccountCode:merchantReference:amount.value:amount.currency:eventCode:success"), a missing field written as
  "" and nothing escaped — what the Adyen package's `Adyen.util.is_valid_hmac_notification` checks (16.0.0,
  util.py:9-35 and 49-74). The signature covers those eight fields, not the raw body; no timestamp, one signature.
  `signature_header` names where it sits inside an item (`additionalData.hmacSignature`).
- lob:      `Lob-Signature-Timestamp: <milliseconds since the epoch>`, `Lob-Signature: <hex HMAC-SHA256(secret,
  "<timestamp>.<raw body>")>`; one signature. golive's reading (rules/lob.yaml, assumed): Lob's Help Center section on
  securing an endpoint is in no stored copy, so the scheme is how integrations verify Lob's deliveries. The probes'
  timestamps are seconds; this scheme writes them as milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from checker.envelope import dig, put, serialise

ADYEN_ITEMS = "notificationItems"
ADYEN_ITEM = "NotificationRequestItem"
# the signed fields in their order; value and currency are amount's (Adyen/util.py:19-28)
ADYEN_FIELDS = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "value",
    "currency",
    "eventCode",
    "success",
)


class SecretError(ValueError):
    """A secret that the scheme cannot use (a Standard Webhooks secret that is not base64)."""


class Scheme:
    """One signature scheme: how it signs a delivery, the malformed signatures HOOK-203 sends, the secrets its provider
    hands out. A new scheme is one subclass registered in SCHEMES (and its tests, tests/test_signing.py); a pack
    names it in `webhooks.scheme`, and the pack's JSON Schema offers every registered name."""

    name: ClassVar[str]
    has_timestamp: ClassVar[bool] = True  # a timestamp is signed (HOOK-204's stale deliveries)
    several_signatures: ClassVar[bool] = True  # a delivery may carry one signature per secret (a rotation has two)
    in_body: ClassVar[bool] = False  # the signature is a field of the JSON body (Adyen's), not a header

    def sign(self, how: SigningScheme, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str) -> dict[str, str]:
        raise NotImplementedError

    def malformed(self, how: SigningScheme, good: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
        """Signature headers that are not a valid signature at all, each with a label for the evidence."""
        return [(label, {**good, how.signature_header: bad}) for label, bad in self.malformed_values(good[how.signature_header])]

    def malformed_values(self, value: str) -> list[tuple[str, str]]:
        return []

    def fresh_secret(self) -> str:
        return "whsec_" + secrets.token_hex(24)


class Mintfax(Scheme):
    """`X-Mintfax-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; several `v1=` in a rotation."""

    name = "mintfax"

    def sign(self, how: SigningScheme, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str) -> dict[str, str]:
        parts = [f"t={timestamp}", *(f"v1={_hex(s.encode(), f'{timestamp}.'.encode() + body)}" for s in secrets)]
        return {how.signature_header: ",".join(parts)}

    def malformed_values(self, value: str) -> list[tuple[str, str]]:
        t = value.split(",")[0]
        digest = value.split("v1=")[1][:64]
        return [
            ("garbage", "not-a-signature"),
            ("timestamp only", t),
            ("signature without timestamp", f"v1={digest}"),
            ("timestamp not a number", f"t=yesterday,v1={digest}"),
            ("signature not hex", f"{t},v1={'z' * 64}"),
            ("wrong scheme name", f"{t},v0={digest}"),
        ]


class Standard(Scheme):
    """Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` (space-separated in a
    rotation); the key is the base64 after `whsec_`."""

    name = "standard"

    def sign(self, how: SigningScheme, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str) -> dict[str, str]:
        content = f"{msg_id}.{timestamp}.".encode() + body
        signatures = " ".join(f"v1,{base64.b64encode(_mac(standard_key(s), content)).decode()}" for s in secrets)
        return {
            how.id_header or "webhook-id": msg_id,
            how.timestamp_header or "webhook-timestamp": str(timestamp),
            how.signature_header: signatures,
        }

    def malformed_values(self, value: str) -> list[tuple[str, str]]:
        signature = value.split(" ")[0].split(",", 1)[1]
        return [
            ("garbage", "not-a-signature"),
            ("not base64", "v1,!!!not*base64!!!"),
            ("unknown version", f"v2,{signature}"),
            ("empty", "v1,"),
        ]

    def fresh_secret(self) -> str:
        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class GitHub(Scheme):
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`; no timestamp, one signature."""

    name = "github"
    has_timestamp = several_signatures = False

    def sign(self, how: SigningScheme, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str) -> dict[str, str]:
        return {how.signature_header: f"sha256={_hex(secrets[0].encode(), body)}"}

    def malformed_values(self, value: str) -> list[tuple[str, str]]:
        digest = value.split("=", 1)[1]
        return [
            ("garbage", "not-a-signature"),
            ("wrong algorithm", f"sha1={digest[:40]}"),
            ("not hex", f"sha256={'z' * 64}"),
            ("empty", "sha256="),
        ]


class Square(Scheme):
    """`x-square-hmacsha256-signature: <base64 HMAC-SHA256(signature key, notification URL + raw body)>`."""

    name = "square"
    has_timestamp = several_signatures = False

    def sign(self, how: SigningScheme, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str) -> dict[str, str]:
        return {how.signature_header: base64.b64encode(_mac(secrets[0].encode(), url.encode() + body)).decode()}

    def malformed_values(self, value: str) -> list[tuple[str, str]]:
        return [
            ("garbage", "not-a-signature"),
            ("not base64", "!!!not*base64!!!"),
            ("hex instead of base64", base64.b64decode(value).hex()),
            ("empty", ""),
        ]


def _bare_hex_variants(value: str) -> list[tuple[str, str]]:
    """Malformed forms of a bare hex digest (Checkout.com's, Lob's)."""
    return [
        ("garbage", "not-a-signature"),
        ("not hex", "z" * 64),
        ("with a sha256= prefix", f"sha256={value}"),
        ("base64 instead of hex", base64.b64encode(bytes.fromhex(value)).decode()),
        ("empty", ""),
    ]


class Checkout(Scheme):
    """`Cko-Signature: <hex HMAC-SHA256(signature key, raw body)>`, no prefix; no timestamp, one signature."""

    name = "checkout"
    has_timestamp = several_signatures = False

    def sign(self, how: SigningScheme, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str) -> dict[str, str]:
        return {how.signature_header: _hex(secrets[0].encode(), body)}

    def malformed_values(self, value: str) -> list[tuple[str, str]]:
        return _bare_hex_variants(value)


class Adyen(Scheme):
    """No header: each notification item's `additionalData.hmacSignature` (SigningScheme.seal); one signature."""

    name = "adyen"
    has_timestamp = several_signatures = False
    in_body = True

    def sign(self, how: SigningScheme, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str) -> dict[str, str]:
        adyen_key(secrets[0])  # no headers (`seal` signs the event itself); the key is still checked
        return {}

    def fresh_secret(self) -> str:
        return secrets.token_hex(32).upper()


class Lob(Scheme):
    """`Lob-Signature-Timestamp: <milliseconds>`, `Lob-Signature: <hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`."""

    name = "lob"
    several_signatures = False

    def sign(self, how: SigningScheme, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str) -> dict[str, str]:
        millis = str(timestamp * 1000)
        return {
            how.timestamp_header or "Lob-Signature-Timestamp": millis,
            how.signature_header: _hex(secrets[0].encode(), f"{millis}.".encode() + body),
        }

    def malformed(self, how: SigningScheme, good: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
        # the timestamp is signed: one that is not a number, or seconds instead of the signed milliseconds
        stamp = how.timestamp_header or "Lob-Signature-Timestamp"
        seconds = str(int(good[stamp]) // 1000)
        return [
            *super().malformed(how, good),
            ("timestamp not a number", {**good, stamp: "yesterday"}),
            ("timestamp in seconds, not the one signed", {**good, stamp: seconds}),
        ]

    def malformed_values(self, value: str) -> list[tuple[str, str]]:
        return _bare_hex_variants(value)

    def fresh_secret(self) -> str:
        return secrets.token_hex(24)  # Lob documents no form for its webhook secrets (none kept here): no whsec_, which is Stripe's


# every scheme a pack may name (`webhooks.scheme`), in the order the pack's JSON Schema lists them
SCHEMES: dict[str, Scheme] = {s.name: s for s in (Mintfax(), Standard(), GitHub(), Square(), Checkout(), Adyen(), Lob())}


@dataclass(frozen=True, slots=True)
class SigningScheme:
    """A pack's scheme (`webhooks.scheme`, one of SCHEMES) with the header names it gives."""

    name: str
    signature_header: str
    timestamp_header: str | None = None  # standard: webhook-timestamp
    id_header: str | None = None  # standard: webhook-id

    @property
    def scheme(self) -> Scheme:
        return SCHEMES[self.name]

    @property
    def has_timestamp(self) -> bool:
        return self.scheme.has_timestamp

    @property
    def carries_several_signatures(self) -> bool:
        return self.scheme.several_signatures

    @property
    def in_body(self) -> bool:
        """The signature is a field of the JSON body (Adyen's additionalData.hmacSignature), not a header."""
        return self.scheme.in_body

    @property
    def signs_raw_body(self) -> bool:
        """What is signed is the body's bytes, so a receiver must verify them before parsing (HOOK-213)."""
        return not self.scheme.in_body

    def sign(self, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str = "") -> dict[str, str]:
        """The headers of a delivery of `body` to `url`, with one signature per secret (a rotation has two). An in-body
        scheme has none (`seal` signs the event itself); its key is still checked."""
        return self.scheme.sign(self, secrets, body, timestamp=timestamp, msg_id=msg_id, url=url)

    def malformed(self, good: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
        """Signature headers that are not a valid signature at all, each with a label for the evidence."""
        return self.scheme.malformed(self, good)

    # ---------------------------------------------------------------- in-body signatures (Adyen)

    def seal(self, event: dict[str, Any], secrets: Sequence[str]) -> dict[str, Any]:
        """The event signed inside its body: a copy with each notification item's signature set (with the first
        secret: one signature per item). A header scheme's event is returned as it is."""
        if not self.in_body:
            return event
        event = copy.deepcopy(event)
        for item in _items(event):
            put(item, self.signature_header, adyen_signature(item, secrets[0]))
        return event

    def sign_delivery(
        self,
        secrets: Sequence[str],
        body: bytes,
        *,
        timestamp: int,
        msg_id: str,
        url: str = "",
        body_format: Mapping[str, Any] | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A delivery of the JSON `body`, signed: its body (re-written with the signature inside, for an in-body
        scheme, in the provider's `body_format` as `envelope.serialise` takes it; else unchanged) and its headers."""
        if self.in_body:
            sealed = self.seal(json.loads(body), secrets)
            return serialise(sealed, body_format), {}
        return body, self.sign(secrets, body, timestamp=timestamp, msg_id=msg_id, url=url)

    def tampered(self, event: dict[str, Any]) -> dict[str, Any]:
        """A sealed event with a signed field changed after signing: the first item's amount.value, plus one."""
        event = copy.deepcopy(event)
        for item in _items(event)[:1]:
            value = dig(item, "amount.value")
            put(item, "amount.value", value + 1 if isinstance(value, int) else 1)
        return event

    def malformed_events(self, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """A sealed event with signatures that are not a valid signature at all, each with a label for the evidence."""
        good = str(dig(_items(event)[0], self.signature_header)) if _items(event) else ""
        values: list[tuple[str, Any]] = [
            ("a garbage signature", "not-a-signature"),
            ("a signature that is not base64", "!!!not*base64!!!"),
            ("a hex signature instead of base64", base64.b64decode(good).hex() if good else "00"),
            ("an empty signature", ""),
            ("a number as the signature", 12345),
        ]
        return [(label, self._with_signature(event, value)) for label, value in values]

    def unsigned_events(self, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """A sealed event without its signature: the field removed, and additionalData removed altogether."""
        path = self.signature_header
        parent, _, name = path.rpartition(".")
        bare, none = copy.deepcopy(event), copy.deepcopy(event)
        for item in _items(bare):
            holder = dig(item, parent) if parent else item
            if isinstance(holder, dict):
                holder.pop(name, None)
        for item in _items(none):
            item.pop(path.split(".")[0], None)
        return [(f"no {path}", bare), (f"no {path.split('.')[0]} at all", none)]

    def _with_signature(self, event: dict[str, Any], value: Any) -> dict[str, Any]:
        event = copy.deepcopy(event)
        for item in _items(event):
            put(item, self.signature_header, value)
        return event


def _items(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The NotificationRequestItems of an Adyen notification."""
    entries = event.get(ADYEN_ITEMS)
    if not isinstance(entries, list):
        return []
    return [e[ADYEN_ITEM] for e in entries if isinstance(e, dict) and isinstance(e.get(ADYEN_ITEM), dict)]


def adyen_signing_string(item: dict[str, Any]) -> str:
    """The eight fields of a NotificationRequestItem joined by ':' as Adyen's package joins them: str() of each, ""
    for a missing one, no escaping (Adyen/util.py:15-31)."""
    amount = item.get("amount")
    amount = amount if isinstance(amount, dict) else {}
    fields = {**item, "value": amount.get("value", ""), "currency": amount.get("currency", "")}
    return ":".join(str(fields.get(name, "")) for name in ADYEN_FIELDS)


def adyen_signature(item: dict[str, Any], secret: str) -> str:
    return base64.b64encode(_mac(adyen_key(secret), adyen_signing_string(item).encode())).decode()


def adyen_key(secret: str) -> bytes:
    try:
        return binascii.a2b_hex(secret)
    except (binascii.Error, ValueError):
        raise SecretError("an Adyen HMAC key is hexadecimal (64 characters, from the Customer Area)") from None


def fresh_secret(scheme: str) -> str:
    """A new random secret in the form the scheme's provider hands out: an Adyen HMAC key is 64 hex digits; a
    Standard Webhooks secret is whsec_ + base64; the others whsec_ + hex (also for no scheme at all)."""
    return SCHEMES[scheme].fresh_secret() if scheme in SCHEMES else Scheme().fresh_secret()


def standard_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise SecretError("a Standard Webhooks secret is 'whsec_' followed by base64") from None


def _mac(key: bytes, content: bytes) -> bytes:
    return hmac.new(key, content, hashlib.sha256).digest()


def _hex(key: bytes, content: bytes) -> str:
    return hmac.new(key, content, hashlib.sha256).hexdigest()
