"""Start the team's webhook receiver (`webhook.start`): its own process group, a bounded wait for its
port, and a stop that kills the whole group afterwards (also when the run is interrupted)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from checker.errors import ProbeError
from checker.harness.process import KILL_GRACE_S, _kill_group, gather_output, spawn

POLL_S = 0.05


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def _port_open(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 0.5)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


@contextlib.asynccontextmanager
async def running_receiver(
    template: str, values: Mapping[str, str], *, env: Mapping[str, str], cwd: Path, host: str, port: int, start_timeout_s: float
) -> AsyncIterator[None]:
    """Run `template` until the block ends. A receiver that exits, or does not open `port` within
    `start_timeout_s`, raises ProbeError with the tail of what it printed."""
    process = await spawn(template, values, env=env, cwd=cwd, what="the webhook receiver")
    outputs = gather_output(process)

    async def stop() -> str:
        _kill_group(process.pid)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), KILL_GRACE_S)
        try:
            out, err = await asyncio.wait_for(asyncio.shield(outputs), KILL_GRACE_S)
        except TimeoutError:
            outputs.cancel()
            return ""
        return (err or out).decode("utf-8", "replace").strip()[-600:]

    deadline = time.monotonic() + start_timeout_s
    try:
        while not await _port_open(host, port):
            if process.returncode is not None:
                tail = await stop()
                raise ProbeError(f"the webhook receiver exited {process.returncode} before opening port {port}: {tail or '(no output)'}")
            if time.monotonic() > deadline:
                tail = await stop()
                raise ProbeError(
                    f"the webhook receiver did not open {host}:{port} within {start_timeout_s:g} s (webhook.start_timeout): "
                    f"{tail or '(no output)'}"
                )
            await asyncio.sleep(POLL_S)
        yield
    finally:
        if process.returncode is None or not outputs.done():
            await stop()
