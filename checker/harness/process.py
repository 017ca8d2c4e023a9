"""Run the team's client command: placeholders filled, its own process group, output bounded, always reaped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from checker.errors import ProbeError
from checker.harness.reaper import kill_group, track_group

OUTPUT_LIMIT = 64 * 1024  # bytes kept of stdout and of stderr (the tail)
KILL_GRACE_S = 2.0  # for a killed group to exit
OUTPUT_GRACE_S = 0.5  # for its pipes to close once it has: a process that left the group may hold them for good


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool

    @property
    def output(self) -> str:
        return f"{self.stdout}\n{self.stderr}"

    @property
    def crash(self) -> str | None:
        """What the process died of, when it did not end by its own decision: a signal (or a shell's 128 + N for a
        crash signal), a Python programming error (AttributeError, TypeError, KeyError, ... in a traceback on
        stderr, exit 1: it could not handle what it got), a Node TypeError/ReferenceError/..., a Java or Go crash;
        None for a clean exit, a chosen non-zero exit included (raising HTTPError or an SDK's error at give-up)."""
        return crash_of(self.exit_code, self.stderr) if not self.timed_out else None

    def evidence(self) -> dict[str, object]:
        return {
            "kind": "process",
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "duration_s": round(self.duration_s, 3),
            "stdout_tail": self.stdout[-600:],
            "stderr_tail": self.stderr[-600:],
            **({"crash": self.crash} if self.crash else {}),
        }


_PYTHON = "Traceback (most recent call last):"
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")
# a crash is a programming error: the client could not handle what it got. An uncaught HTTPError from
# raise_for_status(), tenacity's RetryError or an SDK's APIError at give-up is how many clients fail on purpose.
PROGRAMMING_ERRORS = frozenset(
    [
        "AttributeError",
        "TypeError",
        "KeyError",
        "IndexError",
        "NameError",
        "UnboundLocalError",
        "AssertionError",
        "ZeroDivisionError",
        "RecursionError",
        "NotImplementedError",
        "UnicodeDecodeError",
        "UnicodeEncodeError",
        "JSONDecodeError",
        "ModuleNotFoundError",
        "ImportError",
        "SyntaxError",
        "MemoryError",
        "ReferenceError",
        "RangeError",
    ]
)
CRASH_SIGNALS = frozenset(int(s) for s in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGKILL))
# a Node crash report, line by line: the error, its stack frames (blank lines between allowed) and, from Node 12 on,
# the version. Read from the end, one line at a time: a regular expression over the whole report backtracked
# exponentially in the frames (`\n?` then `\s+` could each take a frame's newline), and stderr is the client's.
_NODE_ERROR = re.compile(r"(?:Uncaught )?((?:TypeError|ReferenceError|SyntaxError|RangeError)(?:\[\w+\])?: .*)")
_NODE_FRAME = re.compile(r"\s*at ")
_NODE_VERSION = re.compile(r"\s*Node\.js v[\d.]+\s*")
_JAVA = re.compile(r'^Exception in thread "[^"]*" (.*)$', re.M)
_GO = re.compile(r"^panic: (.*)$", re.M)


def crash_of(exit_code: int | None, stderr: str) -> str | None:
    """See ProcessResult.crash."""
    if exit_code is not None and exit_code < 0:
        try:
            return f"killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            return f"killed by signal {-exit_code}"
    if not exit_code:
        return None
    if exit_code - 128 in CRASH_SIGNALS:  # a shell between golive and the client reports its signal so
        return f"killed by {signal.Signals(exit_code - 128).name} (exit {exit_code})"
    text = stderr.rstrip()
    at = text.rfind(_PYTHON)
    if at >= 0 and exit_code == 1:  # a Python exception (uncaught, or logged before exiting 1)
        lines = text[at:].splitlines()[1:]
        exception = next((line for line in lines if line and not line.startswith(" ")), "")
        named = _EXCEPTION.match(exception)
        if named and named.group(1).rsplit(".", 1)[-1] in PROGRAMMING_ERRORS:
            return exception.strip()[:200]
        return None
    tail = text[-8000:]
    node = _node_error(tail)
    if node:
        return node[:200]
    for pattern in (_JAVA, _GO):
        match = pattern.search(tail)
        if match:
            return match.group(1).strip()[:200]
    return None


def _node_error(text: str) -> str | None:
    """The error of an uncaught Node exception that ends `text`: its line, then only stack frames (`    at …`, blank
    lines between them) and Node's version line. Time linear in the text: each line is looked at once."""
    lines = text.split("\n")
    end = len(lines)
    if end and _NODE_VERSION.fullmatch(lines[end - 1]):
        end -= 1
    frames, first = 0, end
    while first > 0 and (not lines[first - 1].strip() or _NODE_FRAME.match(lines[first - 1])):
        first -= 1
        frames += bool(lines[first].strip())
    if not frames or first == 0:
        return None
    error = _NODE_ERROR.fullmatch(lines[first - 1])
    # the first frame is indented, or a blank line stands between it and the error
    if not error or not (lines[first].strip() == "" or lines[first][:1].isspace()):
        return None
    return error.group(1).strip()


def fill(template: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def command_line(template: str, values: Mapping[str, str]) -> list[str]:
    """Split first, then fill each word: a value with spaces (a file path) stays one argument."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise ProbeError(f"client.command cannot be split into words: {exc}") from None
    return [fill(word, values) for word in words]


class _Pipes(asyncio.SubprocessProtocol):
    """What golive hears of a command: the tails of its stdout and stderr as they arrive, its own exit, and the
    end of its pipes (which a process that left its group may hold long after it exited)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.tails = {1: bytearray(), 2: bytearray()}
        self.received = {1: 0, 2: 0}  # bytes heard on each pipe so far, the part cut from its tail included
        self.open = {1, 2}
        self.exited = loop.create_future()
        self.closed = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        tail = self.tails.get(fd)
        if tail is not None:
            self.received[fd] += len(data)
            tail += data
            if len(tail) > OUTPUT_LIMIT:
                del tail[: len(tail) - OUTPUT_LIMIT]

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.open.discard(fd)
        if not self.open and not self.closed.done():
            self.closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


class Command:
    """A command golive started, in its own process group. Its own exit is what counts (`exited`); `finish` kills
    its group and collects its output without waiting for a process that escaped the group (a `setsid` helper
    holding the pipes), and closes the pipes while the event loop still runs."""

    def __init__(self, transport: asyncio.SubprocessTransport, pipes: _Pipes) -> None:
        self.pid: int = transport.get_pid()
        self._transport = transport
        self._pipes = pipes
        self._finishing: asyncio.Future[tuple[bytes, bytes]] | None = None

    @property
    def returncode(self) -> int | None:
        return self._transport.get_returncode()

    def heard(self, fd: int = 2) -> int:
        """How many bytes it has written to `fd` (stdout 1, stderr 2) so far: a mark for `since`."""
        return self._pipes.received[fd]

    def since(self, mark: int, fd: int = 2) -> bytes:
        """What it wrote to `fd` after `mark` (an earlier `heard`), as far as the kept tail reaches back."""
        tail = self._pipes.tails[fd]
        new = self._pipes.received[fd] - mark
        return bytes(tail[-new:]) if new > 0 else b""

    async def exited(self) -> int | None:
        """Its exit status, as soon as it has exited (not when its pipes close)."""
        await asyncio.shield(self._pipes.exited)
        return self.returncode

    async def finish(self) -> tuple[bytes, bytes]:
        """Kill its group, then the tails of stdout and stderr: what arrived until the pipes closed, or until
        OUTPUT_GRACE_S after the kill if something outside the group still holds them. Once, however often
        called; a caller cancelled meanwhile does not cut the clean-up short."""
        if self._finishing is None:
            self._finishing = asyncio.ensure_future(self._finish())
        return await asyncio.shield(self._finishing)

    async def _finish(self) -> tuple[bytes, bytes]:
        kill_group(self.pid)  # also whatever the command left running in its group
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._pipes.exited), KILL_GRACE_S)
        with contextlib.suppress(TimeoutError):  # the loop reads what is in the pipes before the timer fires
            await asyncio.wait_for(asyncio.shield(self._pipes.closed), OUTPUT_GRACE_S)
        self._transport.close()  # now, not in a destructor after the loop has closed
        return bytes(self._pipes.tails[1]), bytes(self._pipes.tails[2])


async def spawn(template: str, values: Mapping[str, str], *, env: Mapping[str, str], cwd: Path, what: str) -> Command:
    """Start a configured command: placeholders filled, output piped, in its own process group
    (so a timeout or Ctrl-C kills everything it started)."""
    argv = command_line(template, values)
    loop = asyncio.get_running_loop()
    try:
        transport, pipes = await loop.subprocess_exec(
            lambda: _Pipes(loop),
            *argv,
            cwd=cwd,
            env={**os.environ, **{k: fill(v, values) for k, v in env.items()}},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except (OSError, ValueError) as exc:
        raise ProbeError(f"cannot start {what} ({argv[0] if argv else 'empty command'}): {exc}") from None
    command = Command(transport, pipes)
    track_group(command.pid)  # killed with golive, even if golive is killed (harness/reaper.py)
    return command


async def run_client(
    template: str,
    values: Mapping[str, str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout_s: float,
    on_start: Callable[[int], None] | None = None,  # told the client's pid as soon as it runs
) -> ProcessResult:
    """Run the client until it exits (or `timeout_s`): its own exit code and output are the result, whatever it
    left running."""
    started = time.monotonic()
    command = await spawn(template, values, env=env, cwd=cwd, what="the client")
    if on_start is not None:
        on_start(command.pid)
    timed_out = False
    try:
        await asyncio.wait_for(command.exited(), timeout_s)
    except TimeoutError:
        timed_out = True
    finally:
        ended = time.monotonic()
        stdout, stderr = await command.finish()
    return ProcessResult(
        exit_code=None if timed_out else command.returncode,
        stdout=stdout.decode("utf-8", "replace"),
        stderr=stderr.decode("utf-8", "replace"),
        duration_s=ended - started,
        timed_out=timed_out,
    )
