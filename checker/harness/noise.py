"""Measure this machine's scheduling noise while the timing probes run, so that the timing judges
(checker/backoff.py) know how far a delay may stray without the client being at fault.

A calibration client runs beside the probed client: a separate Python process that pings a socket of
golive's, sleeps exactly CAL_SLEEP_S, and pings again, for as long as the timing probes run. Each gap
between golive's answer and the kernel's arrival time of the next ping, minus CAL_SLEEP_S, is one sample of
the latency any retry on this machine gains right now (a process waking up, being scheduled, writing to a
socket): a loaded CI runner gives larger samples, an idle laptop small ones. Like the proxy's timestamps,
they leave out how late golive's own event loop got round to reading the ping (golive's load is not the client's).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from checker.backoff import CLIENT_WORK_S, DEFAULT_NOISE, Noise
from checker.harness.process import Command, spawn
from checker.harness.proxy import Connection, stamped_listener

CAL_SLEEP_S = 0.2
MIN_SAMPLES = 5
LOCAL_WINDOW_S = 0.5  # calibration pings this close to a delay's end tell the latency that delay may have gained
CALIBRATION_CLIENT = r"""
import socket, sys, time
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    sock.sendall(b"p")
    if not sock.recv(1):
        break
    time.sleep(float(sys.argv[2]))
"""


class NoiseMeter:
    """Start with `start()`, read `noise()` at any time, end with `stop()`."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (monotonic time of the ping, latency it gained)
        self._listener: socket.socket | None = None
        self._serving: asyncio.Task[None] | None = None
        self._pid: int | None = None
        self._process: Command | None = None

    async def start(self) -> NoiseMeter:
        self._listener = listener = stamped_listener(1)
        self._serving = asyncio.ensure_future(self._serve(listener))
        port = listener.getsockname()[1]
        command = "{python} -I -S -c {script} {port} {sleep}"
        values = {"python": sys.executable, "script": CALIBRATION_CLIENT, "port": str(port), "sleep": str(CAL_SLEEP_S)}
        with contextlib.suppress(Exception):  # no calibration: the judges fall back to the default noise
            self._process = await spawn(command, values, env={}, cwd=Path.cwd(), what="golive's noise meter")
        return self

    async def _serve(self, listener: socket.socket) -> None:
        """Each ping's arrival is the kernel's (harness/proxy.py's Connection), as the proxy times a retry: what a
        busy event loop adds to neither is left out of both."""
        answered: float | None = None
        connection: Connection | None = None
        try:
            sock, _ = await asyncio.get_running_loop().sock_accept(listener)
            connection = Connection(sock)
            while True:
                connection.mark()
                if not await connection.read(1):
                    break
                arrived = connection.arrived if connection.arrived is not None else time.monotonic()
                if answered is not None:
                    self.samples.append((arrived, max(0.0, arrived - answered - CAL_SLEEP_S)))
                answered = time.monotonic()
                await connection.send(b"k")
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            if connection is not None:
                connection.close()

    async def ready(self, bound_s: float = 2 * MIN_SAMPLES * CAL_SLEEP_S) -> None:
        """Wait (bounded) until there are MIN_SAMPLES: a client that retries at once ends before the meter could tell."""
        deadline = time.monotonic() + bound_s
        while len(self.samples) < MIN_SAMPLES and self._process is not None and time.monotonic() < deadline:
            await asyncio.sleep(CAL_SLEEP_S / 2)

    def noise(self, ends: Sequence[Sequence[float]] = ()) -> Noise:
        """The noise model from what was measured so far (the defaults until there are MIN_SAMPLES): for the
        whole probe, and around each of `ends` (per run, the monotonic times at which its delays ended)."""
        if len(self.samples) < MIN_SAMPLES:
            return DEFAULT_NOISE
        latencies = sorted(latency for _, latency in self.samples)
        typical = latencies[int(0.95 * (len(latencies) - 1))]

        def around(end: float) -> float:
            near = [latency for t, latency in self.samples if abs(t - end) <= LOCAL_WINDOW_S]
            return max(near) if near else typical

        local = tuple(tuple(around(end) for end in run) for run in ends)
        return Noise(late=min(1.0, CLIENT_WORK_S + 2 * typical), floor=min(0.5, 0.01 + 2 * typical), samples=len(latencies), local=local)

    async def stop(self) -> None:
        if self._process is not None:
            await self._process.finish()
        if self._serving is not None:
            self._serving.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._serving, 2)
        if self._listener is not None:
            self._listener.close()
