"""`within(seconds)`: a bound on a wait that every request makes (its body arriving), kept by one timer per event loop.

`asyncio.timeout` arms a timer and disarms it around each wait; for a request whose body has already arrived that costs
more than reading the body (measured: 5.5 of 6.6 µs). Here a request only notes its deadline in a dict, and one timer
per event loop, waking once a second while any deadline is noted, cancels the tasks whose deadline has passed; the
cancellation comes out of `within` as `TimeoutError`, as from `asyncio.timeout` (a wait bounded at 30 s ends within
31 s). Used from the event loop's thread only, like everything the sandbox's app does.
"""

from __future__ import annotations

import asyncio
import weakref

TICK_S = 1.0


class _Watch:
    """The deadlines of one event loop's tasks, and the timer that enforces them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.due: dict[asyncio.Task[object], float] = {}
        self.expired: set[asyncio.Task[object]] = set()
        self.armed = False

    def arm(self) -> None:
        if not self.armed:
            self.armed = True
            self.loop.call_later(TICK_S, self.tick)

    def tick(self) -> None:
        self.armed = False
        now = self.loop.time()
        for task in [task for task, at in self.due.items() if at <= now]:
            del self.due[task]
            self.expired.add(task)
            task.cancel()
        if self.due:
            self.arm()


_WATCHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watch] = weakref.WeakKeyDictionary()


class within:
    """`with within(seconds): await ...` raises TimeoutError where the block is still waiting after `seconds`."""

    __slots__ = ("cancelling", "seconds", "task", "watch")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> within:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("within() bounds a wait of a task")
        watch = _WATCHES.get(loop)
        if watch is None:
            watch = _WATCHES[loop] = _Watch(loop)
        self.task, self.watch, self.cancelling = task, watch, task.cancelling()
        watch.due[task] = loop.time() + self.seconds
        watch.arm()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        watch, task = self.watch, self.task
        watch.due.pop(task, None)
        if task in watch.expired:
            watch.expired.discard(task)
            # ours, and no other cancellation pending: the wait ran out (else the other cancellation goes on)
            if task.uncancel() <= self.cancelling and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc
