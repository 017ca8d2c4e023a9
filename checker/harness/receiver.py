"""Start the team's webhook receiver (`webhook.start`): its own process group, a bounded wait for its
port, and a stop that kills the whole group afterwards (also when the run is interrupted, and through the
reaper's watchdog when golive itself is killed).

golive probes only a receiver it saw open the port: the port must be free before the receiver starts, and
(where /proc tells) the socket that answers must belong to the receiver's process group. A receiver that
exits while the probes run is noticed (`RunningReceiver.failure`): verdicts after that are not its.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from checker.errors import ProbeError
from checker.harness.process import Command, spawn
from checker.printable import printable
from checker.redact import command_line

POLL_S = 0.05
TAIL = 600
SETTLE_S = 0.3  # for the receiver's stderr about a failed delivery to reach golive's end of the pipe (evidence only)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens on host:port (a socket in TIME_WAIT does not count)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
    return False


async def _port_open(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 0.5)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _listening_inodes(port: int) -> set[str] | None:
    """The inodes of the sockets listening on `port` (any address), or None where /proc does not tell."""
    found: set[str] = set()
    readable = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found if readable else None


def _group_sockets(pgid: int) -> set[str] | None:
    """The socket inodes open in the processes of process group `pgid`, or None where /proc does not tell."""
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    inodes: set[str] = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
        except (OSError, IndexError, ValueError):
            continue
    return inodes


def port_holder(port: int) -> str | None:
    """Which process listens on `port`, as "pid N (its command line)", where /proc tells (another user's does not); the
    command line with its credentials masked (`--api-key …`, key-shaped values, known secrets) before it is cut."""
    listening = _listening_inodes(port)
    if not listening:
        return None
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    wanted = {f"socket:[{inode}]" for inode in listening}
    for pid in pids:
        held: set[str] = set()
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):  # closed since the listing
                    held.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
            if not held & wanted:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                words = handle.read(4096).split(b"\0")
        except OSError:  # gone, or another user's
            continue
        command = printable(command_line(w.decode("utf-8", "replace") for w in words if w), one_line=True)
        return f"pid {pid} ({command[:100]})"
    return None


def owned_by_group(port: int, pgid: int) -> bool | None:
    """Whether the socket listening on `port` belongs to process group `pgid` (None: cannot tell here)."""
    listening = _listening_inodes(port)
    if listening is None:
        return None
    mine = _group_sockets(pgid)
    if mine is None:
        return None
    return bool(listening & mine)


@dataclass
class RunningReceiver:
    """The receiver golive started, as the probes see it: whether it is still the one answering."""

    pid: int
    exit_code: int | None = None
    tail: str = ""
    command: Command | None = field(default=None, repr=False)

    @property
    def failure(self) -> str | None:
        if self.exit_code is None:
            return None
        return f"the webhook receiver exited {self.exit_code} during the check: {self.tail or '(no output)'}"

    def mark(self) -> int:
        """Where the receiver's stderr is now: `stderr_since(mark)` is what it writes from here on."""
        return self.command.heard() if self.command else 0

    async def stderr_since(self, mark: int) -> str:
        """The tail (TAIL characters) of what the receiver wrote to stderr since `mark`, once it has reached golive: a
        traceback is written before the connection closes, but the pipe may be read a moment after the socket. Waits at
        most SETTLE_S for a first byte, then as long as more keeps coming within POLL_S (also bounded by SETTLE_S)."""
        if self.command is None:
            return ""
        deadline = time.monotonic() + SETTLE_S
        heard = self.command.heard()
        while heard == mark and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            heard = self.command.heard()
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            if self.command.heard() == heard:
                break
            heard = self.command.heard()
        return self.command.since(mark).decode("utf-8", "replace").strip()[-TAIL:]


@contextlib.asynccontextmanager
async def running_receiver(
    template: str, values: Mapping[str, str], *, env: Mapping[str, str], cwd: Path, host: str, port: int, start_timeout_s: float
) -> AsyncIterator[RunningReceiver]:
    """Run `template` until the block ends. A taken port, a receiver that exits or does not open `port` within
    `start_timeout_s`, or a port answered by another process raise ProbeError (with the tail of its output)."""
    if port_taken(host, port):
        raise ProbeError(
            f"port {port} is already in use by another process (a receiver left from an earlier run?): golive probes only "
            "a receiver it saw open its port; stop that process, or write {port} in webhook.url to get a free one"
        )
    process = await spawn(template, values, env=env, cwd=cwd, what="the webhook receiver")
    state = RunningReceiver(process.pid, command=process)

    async def stop() -> str:
        out, err = await process.finish()
        return (err or out).decode("utf-8", "replace").strip()[-TAIL:]

    async def watch() -> None:
        state.exit_code = await process.exited()  # its own exit: a helper it left holding its pipes does not hide it
        state.tail = await stop()  # what it left in its group would otherwise answer in its place

    deadline = time.monotonic() + start_timeout_s
    try:
        while not await _port_open(host, port):
            if process.returncode is not None:
                last = await stop()
                raise ProbeError(f"the webhook receiver exited {process.returncode} before opening port {port}: {last or '(no output)'}")
            if time.monotonic() > deadline:
                last = await stop()
                raise ProbeError(
                    f"the webhook receiver did not open {host}:{port} within {start_timeout_s:g} s (webhook.start_timeout): "
                    f"{last or '(no output)'}"
                )
            await asyncio.sleep(POLL_S)
        if owned_by_group(port, process.pid) is False:
            last = await stop()
            raise ProbeError(
                f"port {port} answers, but not from the receiver golive started (its process group holds no socket on it); "
                f"webhook.start must run the receiver in the foreground: {last or '(no output)'}"
            )
        watcher = asyncio.ensure_future(watch())
        try:
            yield state
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
    finally:
        await stop()
