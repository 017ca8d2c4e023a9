"""What a check gets to work with: the config, the pack, and handles on the targets."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from checker.config import Config
from checker.errors import ProbeError
from checker.packs import Pack

if TYPE_CHECKING:  # httpx loads only when a check talks to a target, not for static checks
    from checker.probes.sandbox_api import SandboxAPI

T = TypeVar("T")


def fresh_key(prefix: str = "golive") -> str:
    return f"{prefix}-{secrets.token_hex(12)}"


@dataclass
class ProbeContext:
    config: Config
    pack: Pack
    environment: str
    sandbox_url: str | None = None
    api_key: str | None = None
    # checks that create resources on the one sandbox account take this, so that what one
    # check observes (a balance, a count) is not disturbed by another check's requests
    account_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    workdir: Path | None = None  # a temporary folder for this run (sample documents)
    webhook_url: str | None = None
    webhook_error: str | None = None
    webhook_values: dict[str, str] = field(default_factory=dict)
    _shared: dict[str, asyncio.Task[Any]] = field(default_factory=dict)

    async def shared(self, name: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run `make` once per run under `name`; every check asking for it gets the same result."""
        if name not in self._shared:
            self._shared[name] = asyncio.ensure_future(make())
        return await asyncio.shield(self._shared[name])

    def refuse_live_key(self) -> None:
        key = self.api_key or ""
        if self.pack.is_live_key(key) or (self.environment == "live" and not self.pack.is_test_key(key)):
            raise ProbeError(
                "refusing to create resources with a live key: a readiness check never sends a real request; "
                "run the sandbox rules with the sandbox key"
            )

    def sandbox_api(self) -> SandboxAPI:
        if not self.sandbox_url or not self.api_key:
            raise ProbeError("the sandbox target is not configured (sandbox.url and sandbox.api_key)")
        self.refuse_live_key()
        from checker.probes.sandbox_api import SandboxAPI

        timeout_s = self.config.file.sandbox.timeout
        return SandboxAPI(self.sandbox_url, self.api_key, self.pack.facts, started=time.monotonic(), timeout_s=timeout_s)
