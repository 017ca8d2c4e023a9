"""A rule's time bound counts its own work, not the time it waits for a resource another rule holds (the
sandbox account, the webhook receiver): a documented 80 s client timeout in one probe must not push a
contract check that waits for the same account past its 60 s bound.

The engine gives each check a `Budget` (through a context variable, so everything the check starts shares
it); a wait for a shared resource runs inside `waiting()`, which stops the budget's clock meanwhile. A probe
shared by several checks runs under a budget of its own, which every check awaiting it follows (`following`):
its waits stop the clock of each of them, not only of the check that happened to start it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Awaitable, Iterator
from typing import TypeVar

T = TypeVar("T")


class BudgetExceeded(Exception):
    """The check used up its own time (waits not counted)."""


class Budget:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self._waited = 0.0
        self._waiting = 0
        self._since = 0.0
        self._following: list[tuple[Budget, float]] = []

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Stop the clock while the block waits (overlapping waits of one check count once)."""
        if self._waiting == 0:
            self._since = time.monotonic()
        self._waiting += 1
        try:
            yield
        finally:
            self._waiting -= 1
            if self._waiting == 0:
                self._waited += time.monotonic() - self._since

    def waited(self) -> float:
        """The time this budget's clock has stood still so far (its own waits and those of what it follows)."""
        now = time.monotonic()
        followed = sum(other.waited() - start for other, start in self._following)
        return self._waited + (now - self._since if self._waiting else 0.0) + followed

    @contextlib.contextmanager
    def following(self, other: Budget) -> Iterator[None]:
        """While this check awaits a probe shared with other checks (which runs under `other`), the probe's waits
        for a shared resource stop this check's clock too, whichever check started the probe."""
        entry = (other, other.waited())
        self._following.append(entry)
        try:
            yield
        finally:
            self._following.remove(entry)
            self._waited += other.waited() - entry[1]

    def used(self) -> float:
        return time.monotonic() - self.started - self.waited()

    def left(self) -> float:
        return self.seconds - self.used()


CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("golive_budget", default=None)


@contextlib.contextmanager
def waiting() -> Iterator[None]:
    """Around a wait for a shared resource: not counted against the current check's bound."""
    budget = CURRENT.get()
    if budget is None:
        yield
        return
    with budget.waiting():
        yield


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """Await `awaitable` (a check) under a Budget of `seconds`; BudgetExceeded when its own time runs out."""
    budget = Budget(seconds)
    token = CURRENT.set(budget)
    try:
        task = asyncio.ensure_future(awaitable)  # copies the context: the check and what it starts share the budget
    finally:
        CURRENT.reset(token)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=max(0.01, budget.left()))
            if done:
                return task.result()
            if budget.left() <= 0:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                raise BudgetExceeded
    except asyncio.CancelledError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise
