"""The sandbox clock: wall time plus an offset that tests move (POST /_sandbox/clock)."""

from __future__ import annotations

import time


class SandboxClock:
    """Every account's clock is the sandbox's plus the account's own offset: a probe that ages its keys past their
    expiry (IDEM-007) moves only its own account, so no other probe's keys expire under it."""

    def __init__(self, *, frozen: bool = False) -> None:
        self.offset_s = 0.0
        self.accounts: dict[str, float] = {}
        self._frozen_at = time.time() if frozen else None  # a frozen clock moves only when advanced

    def now(self, account: str | None = None) -> float:
        base = time.time() if self._frozen_at is None else self._frozen_at
        return base + self.offset_s + (self.accounts.get(account, 0.0) if account is not None else 0.0)

    def advance(self, seconds: float, account: str | None = None) -> None:
        if account is None:
            self.offset_s += seconds
        else:
            self.accounts[account] = self.accounts.get(account, 0.0) + seconds


class TokenBucket:
    """Per-account rate limit: `rate` requests a second, bursts up to what one window of `window_s` seconds allows
    (at least one request, so a rate below 1/s still lets a request through now and then). rate 0 = unlimited."""

    def __init__(self, rate: float, window_s: float = 1.0) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate * window_s)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, account: str) -> tuple[bool, float, float]:
        """(allowed, tokens left, seconds until one token is back)."""
        if self.rate <= 0:
            return True, float("inf"), 0.0
        now = time.monotonic()
        tokens, last = self._buckets.get(account, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[account] = (tokens - 1, now)
            return True, tokens - 1, 0.0
        self._buckets[account] = (tokens, now)
        return False, tokens, (1 - tokens) / self.rate
