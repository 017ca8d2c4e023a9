"""checker/sandbox/deadline.py: `within` bounds a wait as asyncio.timeout does (TimeoutError once it has run out, within
a tick), costs a request no timer of its own, and tells its own expiry from a cancellation that came from elsewhere."""

from __future__ import annotations

import asyncio

import pytest

from checker.sandbox import deadline
from checker.sandbox.deadline import within


@pytest.fixture(autouse=True)
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadline, "TICK_S", 0.02)


def test_a_wait_that_runs_out_is_a_timeout_and_one_that_ends_in_time_is_not() -> None:
    async def run() -> None:
        with pytest.raises(TimeoutError), within(0.05):
            await asyncio.sleep(30)
        with within(5):
            await asyncio.sleep(0.01)
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]  # nothing left pending

    asyncio.run(asyncio.wait_for(run(), 10))


def test_many_waits_share_one_watch_and_each_is_bounded_on_its_own() -> None:
    async def one(seconds: float, bound: float) -> str:
        try:
            with within(bound):
                await asyncio.sleep(seconds)
            return "done"
        except TimeoutError:
            return "timeout"

    async def run() -> list[str]:
        return await asyncio.gather(*(one(0.01, 5) for _ in range(50)), *(one(30, 0.05) for _ in range(50)))

    results = asyncio.run(asyncio.wait_for(run(), 10))
    assert results == ["done"] * 50 + ["timeout"] * 50


def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    async def waiting() -> None:
        with within(5):
            await asyncio.sleep(30)

    async def run() -> None:
        task = asyncio.ensure_future(waiting())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(run(), 10))
