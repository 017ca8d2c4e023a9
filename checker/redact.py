"""Secrets never leave golive unmasked: `fx_test_abcdef123456` becomes `fx_test_…3456`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PREFIX = re.compile(r"^([A-Za-z]+_(?:test|live)_|whsec_|sk_|pk_)")
_BEARER = re.compile(r"(?i)(bearer\s+)([^\s\"',;]+)")


def mask(secret: str) -> str:
    match = _PREFIX.match(secret)
    prefix = match.group(1) if match else ""
    tail = secret[-4:] if len(secret) - len(prefix) >= 12 else ""
    return f"{prefix}…{tail}"


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so a secret that contains another is masked whole
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, mask(secret))
        return _BEARER.sub(lambda m: m.group(1) + (m.group(2) if "…" in m.group(2) else mask(m.group(2))), value)

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return value
