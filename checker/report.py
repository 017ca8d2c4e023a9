"""Report files: one renderer per format, each `render(run) -> text`, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from checker.model import RunResult

FILES = {"json": "report.json", "html": "report.html", "md": "report.md", "junit": "junit.xml", "sarif": "report.sarif"}


def render_json(run: RunResult) -> str:
    return json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[RunResult], str]] = {"json": render_json}


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(run: RunResult, formats: list[str], out_dir: Path) -> list[Path]:
    written = []
    for fmt in formats:
        if fmt == "text":
            continue
        path = out_dir / FILES[fmt]
        write_atomically(path, RENDERERS[fmt](run))
        written.append(path)
    return written
