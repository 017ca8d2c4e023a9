"""What golive starts dies with golive, even when golive itself is killed with SIGKILL.

A small watchdog process, in a session of its own (so a CI runner's kill of golive's process group does not
reach it), holds the read end of a pipe whose write end only golive holds. golive tells it, line by line,
which process groups it started and which temporary folders it made, and which of them it has cleaned up
itself. When golive exits by any means the pipe reaches end-of-file: the watchdog kills the process groups
still listed, removes the folders still listed (a sandbox state file among them) and exits.

The same lists serve a second Ctrl-C, which cannot wait for the orderly clean-up: `clean_up_now` kills and
removes everything listed, synchronously, just before golive exits at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading

WATCHDOG = r"""
import os, shutil, signal, sys
fd = int(sys.argv[1])
groups, folders, pending = set(), set(), b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except InterruptedError:
        continue
    if not chunk:
        break
    pending += chunk
    *lines, pending = pending.split(b"\n")
    for line in lines:
        op, _, arg = line.decode("utf-8", "surrogateescape").partition(" ")
        if op == "+g": groups.add(int(arg))
        elif op == "-g": groups.discard(int(arg))
        elif op == "+d": folders.add(arg)
        elif op == "-d": folders.discard(arg)
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
for folder in folders:
    shutil.rmtree(folder, ignore_errors=True)
"""

_lock = threading.Lock()
_pipe: int | None = None
GROUPS: set[int] = set()  # process groups started and not yet killed
FOLDERS: set[str] = set()  # temporary folders made and not yet removed


def _tell(line: str) -> None:
    global _pipe
    with _lock:
        if _pipe is None:
            _pipe = _start_watchdog()
        if _pipe < 0:
            return
        with contextlib.suppress(OSError):  # the watchdog is gone (someone killed it): golive carries on
            os.write(_pipe, (line + "\n").encode("utf-8", "surrogateescape"))


def _start_watchdog() -> int:
    """Spawn the watchdog (no Popen object: nothing of ours waits for it, it outlives us on purpose)."""
    read_end, write_end = os.pipe()  # both close-on-exec: no child of golive holds the write end open
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        os.posix_spawn(
            sys.executable,
            [sys.executable, "-I", "-S", "-c", WATCHDOG, "3"],
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, devnull, 1),
                (os.POSIX_SPAWN_DUP2, devnull, 2),
                (os.POSIX_SPAWN_DUP2, read_end, 3),  # dup2 clears close-on-exec: the watchdog reads fd 3
            ],
            setsid=True,
        )
    except OSError:
        os.close(write_end)
        return -1  # no watchdog: golive still cleans up on every exit but SIGKILL
    finally:
        os.close(read_end)
        os.close(devnull)
    return write_end


def track_group(pid: int) -> None:
    GROUPS.add(pid)
    _tell(f"+g {pid}")


def kill_group(pid: int) -> None:
    """Kill a process group golive started (the whole group: whatever the command left running)."""
    GROUPS.discard(pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _tell(f"-g {pid}")


def track_folder(path: str) -> None:
    FOLDERS.add(path)
    _tell(f"+d {path}")


def forget_folder(path: str) -> None:
    """The folder has been removed in the orderly way."""
    FOLDERS.discard(path)
    _tell(f"-d {path}")


def clean_up_now() -> None:
    """Kill every listed group and remove every listed folder (synchronous: safe from a signal handler
    just before exiting at once)."""
    for pid in list(GROUPS):
        kill_group(pid)
    for path in list(FOLDERS):
        shutil.rmtree(path, ignore_errors=True)
        forget_folder(path)
