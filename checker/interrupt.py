"""Running the engine so that Ctrl-C and SIGTERM stop it cleanly (ARCHITECTURE.md, "Interruption").

The first signal cancels the run (each probe cleans up and `engine.run` returns what it gathered); what is done with
the result (the reports) runs in a thread that signal does not stop; a second signal kills every process group golive
started, removes its folders (`harness.reaper`) and exits at once with 128 + the first signal."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _nothing() -> None:
    pass


def run_interruptibly(
    coro: Awaitable[T], then: Callable[[T], U], on_first: Callable[[], None] = _nothing
) -> tuple[tuple[T, U], int | None]:
    """Run `coro` to its end, but on the first Ctrl-C or SIGTERM cancel it (it cleans up and returns what it
    gathered; `on_first` is called first); then run `then` on its result in a thread, which a first signal does not
    stop. Returns (the result, what `then` returned) and the first signal received, or None."""
    from checker.harness.reaper import clean_up_now

    received: list[int] = []

    async def main() -> tuple[T, U]:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        cancellable = [task]  # emptied once `coro` has finished: the reports are being written

        def on_signal(signum: int) -> None:
            if received:
                clean_up_now()
                os.write(2, b"golive: interrupted again: exiting now\n")
                os._exit(128 + received[0])
            received.append(signum)
            on_first()
            os.write(2, b"golive: interrupted: stopping the probes and writing the report (again to exit at once)\n")
            if cancellable:
                cancellable.pop().cancel()

        for sig in SIGNALS:
            loop.add_signal_handler(sig, on_signal, sig)
        try:
            result = await coro
            cancellable.clear()
            return result, await asyncio.to_thread(then, result)
        finally:
            for sig in SIGNALS:
                loop.remove_signal_handler(sig)

    result = asyncio.run(main())
    return result, (received[0] if received else None)
