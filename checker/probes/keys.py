"""Fresh random keys the probes send: idempotency keys, correlation ids, references. A module of its own so that the
probes' context and the sandbox API both use it, neither importing the other for it."""

from __future__ import annotations

import secrets


def fresh_key(prefix: str = "golive") -> str:
    return f"{prefix}-{secrets.token_hex(12)}"
