"""What a command writes besides its own lines: report files, the printed formats, a file the user named; and a
stdout whose reader went away."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from checker.errors import OutputError

if TYPE_CHECKING:
    from checker.model import RunResult


def write_reports(run: RunResult, formats: list[str], output: Path) -> tuple[list[Path], OutputError | None]:
    """The report files written, or why none was: for the caller to raise once it has printed what it prints
    (a full disk must not cost the checklist and the verdict)."""
    from checker.report import write_reports

    try:
        return write_reports(run, formats, output), None
    except OutputError as exc:
        return [], exc


def print_formats(run: RunResult, formats: list[str]) -> None:
    """The formats that are printed rather than written (`github`: workflow commands the Actions runner reads from
    stdout), after everything else, also with -q: they were asked for by name."""
    from checker.report import PRINTED, RENDERERS

    for fmt in formats:
        if fmt in PRINTED:
            click.echo(RENDERERS[fmt](run), nl=False)


def write_and_say(run: RunResult, formats: list[str], output: Path) -> OutputError | None:
    """Write the report files, name them and print the printed formats; what stopped the writing is returned."""
    written, unwritten = write_reports(run, formats, output)
    for path in written:
        click.echo(f"Report: {path}")
    print_formats(run, formats)
    return unwritten


def write_file(path: Path, text: str) -> None:
    """A file the user asked for, whole or not at all; what stops it is exit 2 naming the file and why."""
    from checker.report import reason_of, write_atomically

    try:
        write_atomically(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {reason_of(exc, path)}") from None


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
