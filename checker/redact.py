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


FRAGMENT = 8  # a piece of a secret this long, cut off at either end of a text (an output tail, an excerpt), is masked too

# every secret this process has read (config files, generated sandbox keys): for messages made outside a run,
# such as a crash file
_KNOWN: set[str] = set()


def remember(secrets: Iterable[str]) -> None:
    _KNOWN.update(s for s in secrets if s)


def known() -> Redactor:
    return Redactor(_KNOWN)


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so a secret that contains another is masked whole
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, mask(secret))
            value = _cut_ends(value, secret)
        return _BEARER.sub(lambda m: m.group(1) + (m.group(2) if "…" in m.group(2) else mask(m.group(2))), value)

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return value


def _cut_ends(value: str, secret: str) -> str:
    """Mask the end of a secret that a truncation left at the start of `value`, and its start left at the end."""
    if len(secret) <= FRAGMENT:
        return value
    for size in range(len(secret) - 1, FRAGMENT - 1, -1):
        if value.startswith(secret[-size:]):
            value = "…" + value[size:]
            break
    for size in range(len(secret) - 1, FRAGMENT - 1, -1):
        if value.endswith(secret[:size]):
            value = value[: len(value) - size] + mask(secret)
            break
    return value
