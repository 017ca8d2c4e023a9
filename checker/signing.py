"""Webhook signatures: the mintfax scheme, Standard Webhooks, GitHub- and Checkout.com-style body HMACs and Square's.

golive signs the deliveries it sends to a team's receiver with these, and the embedded sandbox
signs the events it delivers. Which scheme and which header names a provider uses come from
its pack (`facts.webhooks`).

- mintfax:  `X-Mintfax-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`;
  several `v1=` during a secret rotation (seed 002, DESIGN section 6).
- standard: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` (space-separated
  during rotation); the key is the base64 after `whsec_` (standardwebhooks.com).
- github:   `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`; no timestamp, one
  signature.
- square:   `x-square-hmacsha256-signature: <base64 HMAC-SHA256(signature key, notification URL + raw body)>`; no
  timestamp, one signature; the URL the provider delivers to is signed too (Square's "Validate that the
  notification is from Square"; its SDK's square.utils.webhooks_helper.verify_signature).
- checkout: `Cko-Signature: <hex HMAC-SHA256(signature key, raw body)>`, no prefix; no timestamp, one signature
  (Checkout.com's "Set up your webhook receiver").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

SCHEMES = ("mintfax", "standard", "github", "square", "checkout")
BODY_ONLY = ("github", "square", "checkout")  # schemes that sign the body alone: no timestamp, one signature


class SecretError(ValueError):
    """A secret that the scheme cannot use (a Standard Webhooks secret that is not base64)."""


@dataclass(frozen=True, slots=True)
class SigningScheme:
    name: str
    signature_header: str
    timestamp_header: str | None = None  # standard: webhook-timestamp
    id_header: str | None = None  # standard: webhook-id

    @property
    def has_timestamp(self) -> bool:
        return self.name not in BODY_ONLY

    @property
    def carries_several_signatures(self) -> bool:
        return self.name not in BODY_ONLY

    def sign(self, secrets: Sequence[str], body: bytes, *, timestamp: int, msg_id: str, url: str = "") -> dict[str, str]:
        """The headers of a delivery of `body` to `url`, with one signature per secret (a rotation has two)."""
        if self.name == "square":
            return {self.signature_header: base64.b64encode(_mac(secrets[0].encode(), url.encode() + body)).decode()}
        if self.name == "checkout":
            return {self.signature_header: _hex(secrets[0].encode(), body)}
        if self.name == "mintfax":
            parts = [f"t={timestamp}", *(f"v1={_hex(s.encode(), f'{timestamp}.'.encode() + body)}" for s in secrets)]
            return {self.signature_header: ",".join(parts)}
        if self.name == "standard":
            content = f"{msg_id}.{timestamp}.".encode() + body
            signatures = " ".join(f"v1,{base64.b64encode(_mac(standard_key(s), content)).decode()}" for s in secrets)
            return {
                self.id_header or "webhook-id": msg_id,
                self.timestamp_header or "webhook-timestamp": str(timestamp),
                self.signature_header: signatures,
            }
        return {self.signature_header: f"sha256={_hex(secrets[0].encode(), body)}"}

    def malformed(self, good: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
        """Signature headers that are not a valid signature at all, each with a label for the evidence."""
        header = self.signature_header
        value = good[header]
        if self.name == "mintfax":
            t = value.split(",")[0]
            digest = value.split("v1=")[1][:64]
            variants = [
                ("garbage", "not-a-signature"),
                ("timestamp only", t),
                ("signature without timestamp", f"v1={digest}"),
                ("timestamp not a number", f"t=yesterday,v1={digest}"),
                ("signature not hex", f"{t},v1={'z' * 64}"),
                ("wrong scheme name", f"{t},v0={digest}"),
            ]
        elif self.name == "standard":
            signature = value.split(" ")[0].split(",", 1)[1]
            variants = [
                ("garbage", "not-a-signature"),
                ("not base64", "v1,!!!not*base64!!!"),
                ("unknown version", f"v2,{signature}"),
                ("empty", "v1,"),
            ]
        elif self.name == "checkout":
            variants = [
                ("garbage", "not-a-signature"),
                ("not hex", "z" * 64),
                ("with a sha256= prefix", f"sha256={value}"),
                ("base64 instead of hex", base64.b64encode(bytes.fromhex(value)).decode()),
                ("empty", ""),
            ]
        elif self.name == "square":
            variants = [
                ("garbage", "not-a-signature"),
                ("not base64", "!!!not*base64!!!"),
                ("hex instead of base64", base64.b64decode(value).hex()),
                ("empty", ""),
            ]
        else:
            digest = value.split("=", 1)[1]
            variants = [
                ("garbage", "not-a-signature"),
                ("wrong algorithm", f"sha1={digest[:40]}"),
                ("not hex", f"sha256={'z' * 64}"),
                ("empty", "sha256="),
            ]
        return [(label, {**good, header: bad}) for label, bad in variants]


def standard_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise SecretError("a Standard Webhooks secret is 'whsec_' followed by base64") from None


def _mac(key: bytes, content: bytes) -> bytes:
    return hmac.new(key, content, hashlib.sha256).digest()


def _hex(key: bytes, content: bytes) -> str:
    return hmac.new(key, content, hashlib.sha256).hexdigest()
