"""What golive does with its own bug: a crash file with the traceback (redacted like any log), one line on stderr
naming it, exit 3 (ARCHITECTURE.md, "Exit codes belong to exceptions")."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback

import click

from checker import __version__

INTERNAL = 3  # the exit code of a golive bug


def internal_error(exc: BaseException) -> int:
    """Write `exc`'s crash file and say where it is; never raises (a full disk, no memory: it says what it can)."""
    if isinstance(exc, MemoryError):  # formatting a traceback needs memory there may not be: say it plainly
        exc.__traceback__ = None
        os.write(2, b"golive: internal error (out of memory). This is a bug; please report what was being checked\n")
        return INTERNAL
    try:
        from checker.redact import known

        redactor = known()  # the crash file is a log like any other: no secret in it
        fd, path = tempfile.mkstemp(prefix="golive-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(redactor.text(f"golive {__version__}\nargv: {sys.argv!r}\n\n"))
            handle.write(redactor.text("".join(traceback.format_exception(exc))))
        message = redactor.text(f"{type(exc).__name__}: {exc}")
        click.echo(f"golive: internal error ({message}). This is a bug; details were written to {path}", err=True)
    except BaseException:  # the crash handler itself failed (a full disk, no memory): never a bare traceback
        os.write(2, f"golive: internal error ({type(exc).__name__}). This is a bug; no details could be written\n".encode())
    return INTERNAL
