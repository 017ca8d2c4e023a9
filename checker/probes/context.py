"""What a check gets to work with: the config, the pack, and handles on the targets."""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from checker import budget, traffic
from checker.budget import Budget, waiting
from checker.config import Config
from checker.errors import ProbeError
from checker.packs import KeyFacts, Pack
from checker.probes.keys import fresh_key as fresh_key  # where the probes have always found it
from checker.provenance import READING, untracked

if TYPE_CHECKING:  # httpx loads only when a check talks to a target, not for static checks
    from checker.harness.noise import NoiseMeter
    from checker.harness.receiver import RunningReceiver
    from checker.probes.sandbox_api import SandboxAPI

T = TypeVar("T")
PACED_DELIVERIES = 4  # deliveries on their way to the receiver at once, outside HOOK-209's burst


ACCOUNT_SUFFIX = 6  # characters that tell one client run's account from another's


def sandbox_key(keys: KeyFacts, tag: str) -> str:
    """A key golive makes for its embedded sandbox: the pack's first test prefix, then `tag` and random characters,
    or, where the pack states the provider's key format (`keys.format`), a body of that format an SDK's key check
    takes (checkout-sdk's `^sk_(sbox_)?[a-z2-7]{26}[a-z2-7*#$=]$`: "golive" and hex digits would fail it)."""
    prefix = (keys.test_prefixes or ["test_"])[0]
    if keys.format is None:
        return f"{prefix}{tag}{secrets.token_hex(10)}"
    return prefix + "".join(secrets.choice(keys.format.alphabet) for _ in range(keys.format.length))


def account_key(keys: KeyFacts, team_key: str) -> str:
    """An account of its own on the embedded sandbox (any key is one), close to the team's key so that the
    redaction of the team's key covers it too: the key and a suffix, or, where the pack states the key format and
    the team's key has it, the key with its last characters replaced, so that the result has the format too."""
    shape = keys.format
    prefix = next((p for p in keys.test_prefixes if team_key.startswith(p)), None)
    if shape is not None and prefix is not None and shape.fits(team_key[len(prefix) :]):
        return team_key[:-ACCOUNT_SUFFIX] + "".join(secrets.choice(shape.alphabet) for _ in range(ACCOUNT_SUFFIX))
    return f"{team_key}x{secrets.token_hex(ACCOUNT_SUFFIX // 2)}"


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
                with waiting():  # not counted against the waiting check's time bound
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
            with waiting():
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
    # the webhook receiver: deliveries share it, a few at a time (a correct receiver with a modest listen queue
    # answers them all); HOOK-209's burst has it alone, so no other rule's delivery meets a receiver at its limit
    receiver: AccountGuard = field(default_factory=AccountGuard)
    _pacing: asyncio.Semaphore | None = None
    workdir: Path | None = None  # a temporary folder for this run (sample documents)
    webhook_url: str | None = None
    webhook_error: str | None = None
    webhook_values: dict[str, str] = field(default_factory=dict)
    receiver_process: RunningReceiver | None = None  # the receiver golive started (webhook.start): its stderr, for evidence
    _shared: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    _shared_budgets: dict[str, Budget] = field(default_factory=dict)
    _shared_reads: dict[str, set[str]] = field(default_factory=dict)
    _shared_tapes: dict[str, traffic.Tape | None] = field(default_factory=dict)  # what each shared probe exchanged (har)

    async def shared(self, name: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run `make` once per run under `name`; every check asking for it gets the same result. The probe runs
        under a budget of its own that each awaiting check follows (checker/budget.py)."""
        if name not in self._shared:
            own, read, tape = Budget(math.inf), set[str](), traffic.shared_tape()
            token, reading, taping = budget.CURRENT.set(own), READING.set(read), traffic.TAPE.set(tape)
            try:
                task = asyncio.ensure_future(make())
            finally:
                budget.CURRENT.reset(token)
                READING.reset(reading)
                traffic.TAPE.reset(taping)
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved even when no check waits any more
            self._shared[name] = task
            self._shared_budgets[name] = own
            self._shared_reads[name] = read
            self._shared_tapes[name] = tape
        traffic.awaited(self._shared_tapes[name])  # its exchanges are every awaiting check's too
        mine = budget.CURRENT.get()
        try:
            with mine.following(self._shared_budgets[name]) if mine is not None else contextlib.nullcontext():
                return await asyncio.shield(self._shared[name])
        finally:  # the facts the shared probe read are every awaiting check's (checker/provenance.py)
            reads = READING.get()
            if reads is not None:
                reads |= self._shared_reads[name]

    def shared_result(self, name: str) -> Any:
        """What the shared probe `name` found, once it has finished without error; else None."""
        task = self._shared.get(name)
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    async def noise_meter(self) -> NoiseMeter:
        """The run's noise meter (checker/harness/noise.py), started by the first timing check that asks."""
        from checker.harness.noise import NoiseMeter

        return await self.shared("noise-meter", lambda: NoiseMeter().start())

    async def close(self) -> None:
        """End what the checks left running for the whole run (the noise meter)."""
        meter = self.shared_result("noise-meter")
        if meter is not None:
            await meter.stop()

    async def cancel_shared(self) -> None:
        """Cancel the shared probes still running (the run was interrupted; the checks that awaited them are
        gone) and wait for their clean-up: no client starts after the run's folder is removed."""
        pending = [task for task in self._shared.values() if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def refuse_live_key(self) -> None:
        key = self.api_key or ""
        with untracked():  # a guard, not a verdict's basis
            live = self.pack.is_live_key(key) or (self.environment == "live" and not self.pack.is_test_key(key))
        if live:
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

    @contextlib.asynccontextmanager
    async def delivery_slot(self) -> AsyncIterator[None]:
        """Hold while one delivery is on its way to the receiver (waiting for it does not count against a bound)."""
        if self._pacing is None:
            self._pacing = asyncio.Semaphore(PACED_DELIVERIES)
        async with self.receiver.shared():
            with waiting():
                await self._pacing.acquire()
            try:
                yield
            finally:
                self._pacing.release()

    def client_key(self) -> str | None:
        """The API key one client run gets. On the embedded sandbox, an account of its own (the team's key and
        a suffix): one probe's rate limit, balance and stored idempotency keys never reach another's. A real
        sandbox has the one account the key names."""
        if self.api_key and self.config.file.sandbox.url == "builtin":
            with untracked():  # how golive names an account, not a verdict's basis
                return account_key(self.pack.facts.keys, self.api_key)
        return self.api_key

    def client_account(self) -> contextlib.AbstractAsyncContextManager[None]:
        """What a client run holds: a share of the account when the contract checks probe the same one."""
        shares = self.contract_key in (None, self.api_key)
        return self.account.shared() if shares else contextlib.nullcontext()
