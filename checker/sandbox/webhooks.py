"""The embedded sandbox delivers its events to the registered endpoints, as the provider does:
signed, at least once, and again with backoff when an endpoint answers slower than the deadline
(5 s for mintfax) or with anything but a 2xx (seed 002: "Slow responses (over 5 seconds) trigger
redelivery"). Where the pack states the provider's redelivery (`webhooks.redelivery`: the waits between
attempts, how long it keeps trying), the sandbox follows it on its own clock (which `/_sandbox/clock` moves);
otherwise golive's backoff below. Each attempt is logged on the `golive.sandbox` logger, which `golive sandbox` prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from checker.http import tls_context
from checker.packs import RedeliveryFacts
from checker.sandbox.app import Sandbox, loopback_url
from checker.sandbox.store import DueDelivery, LostWrite
from checker.signing import SigningScheme

log = logging.getLogger("golive.sandbox")
log.addHandler(logging.NullHandler())  # silent inside `golive check`; `golive sandbox` adds a console handler

TICK_S = 0.2
BATCH = 50
CONCURRENCY = 16
BACKOFF_S = (1, 2, 4, 8, 16, 32, 60)  # after attempt 1, 2, …; then 60 s (no redelivery stated in the pack)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Redelivery:
    """When the next attempt is due after `attempt` failed ones, or None: given up. The waits are the provider's
    (the last repeats), bounded by how long it keeps trying after the first attempt; with no bound, one attempt
    after each wait and no more."""

    waits: tuple[float, ...] = BACKOFF_S
    total_s: float | None = None
    attempts: int | None = MAX_ATTEMPTS

    @classmethod
    def of(cls, stated: RedeliveryFacts | None) -> Redelivery:
        if stated is None:
            return cls()
        waits = tuple(stated.after_s) or BACKOFF_S  # how long, not how often: golive's backoff within that time
        total = stated.for_hours * 3600 if stated.for_hours is not None else None
        return cls(waits, total, None if total is not None else len(waits) + 1)

    def next_wait(self, attempt: int) -> float | None:
        if self.attempts is not None and attempt >= self.attempts:
            return None
        wait = self.waits[min(attempt, len(self.waits)) - 1]
        elapsed = sum(self.waits[min(n, len(self.waits)) - 1] for n in range(1, attempt))  # since the first attempt
        if self.total_s is not None and elapsed + wait > self.total_s:
            return None
        return wait


class DeliveryWorker:
    def __init__(
        self,
        sandbox: Sandbox,
        scheme: SigningScheme,
        timeout_s: float,
        body_format: Mapping[str, Any] | None = None,
        redelivery: Redelivery | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.redelivery = redelivery or Redelivery()
        self.scheme = scheme
        self.body_format = body_format  # webhooks.serialisation: how an in-body signature's event is written again
        self.timeout_s = timeout_s
        self.in_flight: set[tuple[str, str]] = set()
        self.limit = asyncio.Semaphore(CONCURRENCY)
        self.tasks: set[asyncio.Task[None]] = set()
        self.client = httpx.AsyncClient(
            verify=tls_context(),
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": "golive-sandbox-webhooks"},
        )

    async def run(self) -> None:
        try:
            while True:
                self.tick()
                await asyncio.sleep(TICK_S)
        finally:
            for task in self.tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*self.tasks, return_exceptions=True)
            await self.client.aclose()

    def tick(self) -> None:
        store = self.sandbox.store
        accounts = store.accounts_with_webhooks()
        if not accounts:  # the common case (and every load benchmark): nothing registered, nothing to plan
            return
        for account in accounts:
            self.sandbox.settle(account)  # move faxes along on the sandbox clock, so their events exist
        due_now = store.due_deliveries({account: self.sandbox.clock.now(account) for account in accounts}, BATCH)
        written = store.batch  # what settling and planning wrote: posted only once it is committed
        for due in due_now:
            key = (due.event_id, due.webhook_id)
            if key in self.in_flight:
                continue
            self.in_flight.add(key)
            task = asyncio.ensure_future(self.deliver(due, written))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def deliver(self, due: DueDelivery, written: int = 0) -> None:
        """Post one delivery, once the changes that made it are committed (`written`: their batch, or 0), and record
        how it went."""
        try:
            if written:
                try:
                    await self.sandbox.store.durable(written)
                except LostWrite:
                    log.warning("webhook %s: not sent; the sandbox could not save the change it reports", due.event_id)
                    return
            async with self.limit:
                status, problem, elapsed = await self._post(due)
            attempt = due.attempts + 1
            store, now = self.sandbox.store, self.sandbox.clock.now(due.account)
            where = f"{due.event_id} {due.type} -> {due.url}"
            if status is not None and 200 <= status < 300:
                store.delivery_attempted(due.event_id, due.webhook_id, status, "delivered", now)
                log.info("webhook %s: %d in %.0f ms (attempt %d)", where, status, elapsed * 1000, attempt)
            elif (wait := self.redelivery.next_wait(attempt)) is None:
                store.delivery_attempted(due.event_id, due.webhook_id, status, "abandoned", now)
                log.warning("webhook %s: %s (attempt %d); giving up", where, problem, attempt)
            else:
                store.delivery_attempted(due.event_id, due.webhook_id, status, "pending", now + wait)
                log.warning("webhook %s: %s (attempt %d); redelivering in %g s", where, problem, attempt, wait)
        finally:
            self.in_flight.discard((due.event_id, due.webhook_id))

    async def _post(self, due: DueDelivery) -> tuple[int | None, str, float]:
        if not self.sandbox.options.allow_remote_webhooks and not loopback_url(due.url):  # registered before the rule, or by hand
            return None, "not sent: the endpoint is not on this machine (golive sandbox --allow-remote-webhooks)", 0.0
        # signed in headers, or inside the body (Adyen's additionalData.hmacSignature): the scheme says which
        body, signed = self.scheme.sign_delivery(
            [due.secret], due.payload.encode(), timestamp=int(time.time()), msg_id=due.event_id, url=due.url, body_format=self.body_format
        )
        headers = {"Content-Type": "application/json", **signed}
        started = time.monotonic()
        try:
            async with self.client.stream("POST", due.url, content=body, headers=headers) as response:
                status = response.status_code  # the body is not read: only the status matters
        except httpx.TimeoutException:
            return None, f"no answer within {self.timeout_s:g} s", time.monotonic() - started
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__} {exc}".strip(), time.monotonic() - started
        elapsed = time.monotonic() - started
        return status, f"answered {status}", elapsed
