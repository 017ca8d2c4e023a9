"""Report files: one renderer per format, each `render(run) -> text`, written atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from checker.errors import OutputError
from checker.model import RunResult
from checker.report import github, gitlab, har, html, jsonfile, junit, markdown, sarif
from checker.report.diff import diff_runs, render_diff
from checker.report.html import timeline_svg
from checker.report.load import load_report
from checker.report.merge import merge_runs

# one module per format, each with FILE and `render(run) -> text`; a new format is one module and one line here (the
# command line's --format takes these names, in this order, after its own `text`).
# A format whose FILE is None is printed to stdout by the command line instead (github: workflow commands)
FORMATS = {"json": jsonfile, "html": html, "md": markdown, "junit": junit, "sarif": sarif, "github": github, "gitlab": gitlab, "har": har}
# the formats that need what `golive check` recorded during the run (RunResult.traffic), which report.json does not keep:
# `report render|merge` refuse them, saying why
RECORDED = {"har": "report.json does not keep the traffic; golive check --format har writes traffic.har while it runs"}
FILES = {name: module.FILE for name, module in FORMATS.items() if module.FILE is not None}
PRINTED = tuple(name for name, module in FORMATS.items() if module.FILE is None)
RENDERERS: dict[str, Callable[[RunResult], str]] = {name: module.render for name, module in FORMATS.items()}
render_json, render_sarif, render_html = jsonfile.render, sarif.render, html.render
render_markdown, render_junit = markdown.render, junit.render

__all__ = [
    "FILES",
    "FORMATS",
    "PRINTED",
    "RECORDED",
    "RENDERERS",
    "cannot_write",
    "diff_runs",
    "load_report",
    "merge_runs",
    "reason_of",
    "render_diff",
    "timeline_svg",
    "unwritable",
    "write_atomically",
    "write_reports",
]


def write_atomically(path: Path, text: str) -> None:
    """`text` as `path`, whole or not at all (OSError: nothing left behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = _staged(path, text)
    try:
        os.replace(staged, path)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise


def _staged(path: Path, text: str) -> str:
    """`text` written and synced to a temporary file beside `path` (the same file system: a rename makes it `path`);
    on any failure the temporary file is removed."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # readable like any file the user writes (mkstemp makes it 0600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_reports(run: RunResult, formats: list[str], out_dir: Path) -> list[Path]:
    """Each format's file in `out_dir`; `text` and the printed formats are the command line's to print. All or
    none: every file is rendered and written beside its name first, and takes its name only once all are whole.
    An OSError (the folder under a file, read-only, a full disk) is an OutputError naming the folder and why,
    and leaves no temporary file."""
    texts = {out_dir / FILES[fmt]: RENDERERS[fmt](run) for fmt in formats if fmt in FILES}
    staged: list[tuple[str, Path]] = []
    done: list[Path] = []
    at: Path | None = None
    try:
        if texts:
            out_dir.mkdir(parents=True, exist_ok=True)
        for at, text in texts.items():
            staged.append((_staged(at, text), at))
        for temporary, at in staged:
            os.replace(temporary, at)
            done.append(at)
    except BaseException as exc:
        for temporary, path in staged:
            if path not in done:
                Path(temporary).unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
        where = f" (writing {at.name})" if at is not None else ""
        kept = (
            f"only {', '.join(p.name for p in done)} {'was' if len(done) == 1 else 'were'} written"
            if done
            else "none of this run's reports was written"
        )
        raise OutputError(f"{cannot_write(out_dir, reason_of(exc, out_dir))}{where}; {kept}") from None
    return list(texts)


def cannot_write(out_dir: Path, reason: str) -> str:
    shown = str(out_dir)
    return f"cannot write the reports to {shown if shown.endswith(os.sep) else shown + os.sep}: {reason}"


def unwritable(out_dir: Path, formats: list[str]) -> str | None:
    """Why the reports of `formats` could not be written to `out_dir`, as far as a trial tells before the run (it,
    or a folder above it, is a file; it cannot be made or written in; its disk is full; a report's name is taken by
    a folder), or None. The trial's file, and the folders it made, are removed."""
    names = [FILES[fmt] for fmt in formats if fmt in FILES]
    if not names:
        return None
    made: list[Path] = []
    try:
        for folder in reversed((out_dir, *out_dir.parents)):
            if not folder.is_dir():
                folder.mkdir()
                made.append(folder)
        taken = next((name for name in names if (out_dir / name).is_dir()), None)
        if taken is not None:
            return f"{out_dir / taken} is a folder"
        space = os.statvfs(out_dir)
        if space.f_blocks and (space.f_bfree if os.geteuid() == 0 else space.f_bavail) == 0:  # f_blocks 0: /proc and the like
            return _words(errno.ENOSPC)
        fd, trial = tempfile.mkstemp(prefix=".golive-trial-", dir=out_dir)
        os.close(fd)
        os.unlink(trial)
    except OSError as exc:
        return reason_of(exc, out_dir)
    finally:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
    return None


def reason_of(exc: OSError, path: Path) -> str:
    """Why `path` (a folder or a file) could not be written, in the OS's words; for a path under a file, which file."""
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        if blocking is None and path.exists() and not path.is_dir():
            return "it is a file"
        if blocking is not None:
            return f"it is under a file ({blocking} is a file)"
    return _words(exc.errno) if exc.errno else str(exc)


def _words(code: int) -> str:
    """The OS's words for an errno, as part of a sentence: 'no space left on device'."""
    words = os.strerror(code)
    return words[:1].lower() + words[1:]
