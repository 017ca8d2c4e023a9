"""Expand a `documents:` glob within bounds: `**` never enters a symlinked folder (`docs/a -> .` would make
the tree endless), and the walk stops with a clear error past a number of entries, a number of matches or a
time limit, or when it is told to stop (the check was interrupted). Meant to run off the event loop.
"""

from __future__ import annotations

import fnmatch
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_MAGIC = re.compile(r"[*?[]")


class WalkError(Exception):
    """The expansion went past a bound; the message says which and how to narrow the pattern."""


@dataclass(frozen=True)
class WalkLimits:
    max_entries: int = 200_000  # folder entries looked at
    max_matches: int = 1_000  # files a pattern may name
    max_seconds: float = 20.0


def bounded_glob(pattern: str, limits: WalkLimits = WalkLimits(), stop: threading.Event | None = None) -> list[Path]:
    """The regular files `pattern` names (glob syntax, `**` for any depth), sorted. Names starting with a dot
    match only a pattern part that starts with a dot, as with glob."""
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if _MAGIC.search(part)), len(parts))
    root = Path(*parts[:fixed]) if fixed else Path(".")
    rest = parts[fixed:]
    if rest and rest[-1] == "**":  # `docs/**` names every file below docs
        rest = (*rest, "*")
    if not rest:
        return [root] if root.is_file() else []
    deadline = time.monotonic() + limits.max_seconds
    seen = 0
    found: set[Path] = set()
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        folder, index = stack.pop()
        part, last = rest[index], index == len(rest) - 1
        if part == "**":
            stack.append((folder, index + 1))  # zero folders
        elif not _MAGIC.search(part):
            candidate = folder / part
            if last and candidate.is_file():
                found.add(candidate)
            elif not last and candidate.is_dir():
                stack.append((candidate, index + 1))
            continue
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > limits.max_entries:
                raise WalkError(f"{pattern!r} looks at over {limits.max_entries:,} files and folders; narrow the pattern")
            if seen % 256 == 0:
                if stop is not None and stop.is_set():
                    raise WalkError(f"{pattern!r}: stopped")
                if time.monotonic() > deadline:
                    raise WalkError(f"{pattern!r} took over {limits.max_seconds:g} s to expand; narrow the pattern")
            try:
                if part == "**":  # one more folder level, never through a symlink
                    if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                        stack.append((Path(entry.path), index))
                    continue
                if entry.name.startswith(".") and not part.startswith("."):
                    continue
                if not fnmatch.fnmatchcase(entry.name, part):
                    continue
                if last:
                    if entry.is_file():
                        found.add(Path(entry.path))
                        if len(found) > limits.max_matches:
                            raise WalkError(f"{pattern!r} names over {limits.max_matches:,} files; name the documents the client sends")
                elif entry.is_dir():
                    stack.append((Path(entry.path), index + 1))
            except OSError:
                continue
    return sorted(found)
