"""What a check gets to work with: the config, the pack, and handles on the targets."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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


class AccountGuard:
    """One sandbox account probed by several checks at once. A check that compares the account's state
    before and after (a balance, a count) holds it alone (`exclusive`); client runs, which only add to it,
    share it with each other (`shared`). A waiting exclusive holder goes first, so clients cannot starve it."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._sharing = 0
        self._exclusive = False
        self._waiting = 0

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._changed:
            self._waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._exclusive and self._sharing == 0)
            finally:
                self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            async with self._changed:
                self._exclusive = False
                self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._exclusive and self._waiting == 0)
            self._sharing += 1
        try:
            yield
        finally:
            async with self._changed:
                self._sharing -= 1
                self._changed.notify_all()


@dataclass
class ProbeContext:
    config: Config
    pack: Pack
    environment: str
    sandbox_url: str | None = None
    api_key: str | None = None  # the team's sandbox key: what the client is given
    # the account the sandbox-contract checks probe: with the embedded sandbox one of its own, so that the
    # clients' requests never move the balance a contract check is watching; with a real sandbox, api_key's
    contract_key: str | None = None
    account: AccountGuard = field(default_factory=AccountGuard)
    workdir: Path | None = None  # a temporary folder for this run (sample documents)
    webhook_url: str | None = None
    webhook_error: str | None = None
    webhook_values: dict[str, str] = field(default_factory=dict)
    _shared: dict[str, asyncio.Task[Any]] = field(default_factory=dict)

    async def shared(self, name: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run `make` once per run under `name`; every check asking for it gets the same result."""
        if name not in self._shared:
            task = asyncio.ensure_future(make())
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved even when no check waits any more
            self._shared[name] = task
        return await asyncio.shield(self._shared[name])

    async def cancel_shared(self) -> None:
        """Cancel the shared probes still running (the run was interrupted; the checks that awaited them are
        gone) and wait for their clean-up: no client starts after the run's folder is removed."""
        pending = [task for task in self._shared.values() if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

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
        key = self.contract_key or self.api_key
        return SandboxAPI(self.sandbox_url, key, self.pack.facts, started=time.monotonic(), timeout_s=timeout_s)

    def client_account(self) -> contextlib.AbstractAsyncContextManager[None]:
        """What a client run holds: a share of the account when the contract checks probe the same one."""
        shares = self.contract_key in (None, self.api_key)
        return self.account.shared() if shares else contextlib.nullcontext()
