"""Report files: one renderer per format, each `render(run) -> text`, written atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from checker.model import RunResult
from checker.report import github, gitlab, html, jsonfile, junit, markdown, sarif
from checker.report.diff import diff_runs, render_diff
from checker.report.html import timeline_svg
from checker.report.load import load_report
from checker.report.merge import merge_runs

# one module per format, each with FILE and `render(run) -> text`; a new format is one module and one line here.
# A format whose FILE is None is printed to stdout by the command line instead (github: workflow commands)
FORMATS = {"json": jsonfile, "sarif": sarif, "html": html, "md": markdown, "junit": junit, "github": github, "gitlab": gitlab}
FILES = {name: module.FILE for name, module in FORMATS.items() if module.FILE is not None}
PRINTED = tuple(name for name, module in FORMATS.items() if module.FILE is None)
RENDERERS: dict[str, Callable[[RunResult], str]] = {name: module.render for name, module in FORMATS.items()}
render_json, render_sarif, render_html = jsonfile.render, sarif.render, html.render
render_markdown, render_junit = markdown.render, junit.render

__all__ = [
    "FILES",
    "FORMATS",
    "PRINTED",
    "RENDERERS",
    "diff_runs",
    "load_report",
    "merge_runs",
    "render_diff",
    "timeline_svg",
    "write_atomically",
    "write_reports",
]


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # readable like any file the user writes (mkstemp makes it 0600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(run: RunResult, formats: list[str], out_dir: Path) -> list[Path]:
    """Each format's file in `out_dir`; `text` and the printed formats are the command line's to print."""
    written = []
    for fmt in formats:
        if fmt == "text" or fmt in PRINTED:
            continue
        path = out_dir / FILES[fmt]
        write_atomically(path, RENDERERS[fmt](run))
        written.append(path)
    return written
