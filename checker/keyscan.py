"""Find API keys in a project's git-tracked files, fast: a literal search first, a regex only on hits.

Pure apart from reading files and asking git for its list; the repo checks judge what it returns.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from checker.errors import ProbeError
from checker.redact import mask

MAX_FILE_BYTES = 10 * 1024 * 1024
BINARY_SNIFF = 8192
# words that mark an example value, not a key someone leaked
PLACEHOLDER_WORDS = ("xxxx", "your", "example", "placeholder", "changeme", "dummy", "redacted", "sample", "insert", "replace")
MIN_DISTINCT = 6  # a real key's random part uses many characters; "fx_live_aaaaaaaa" is not one


class NotARepository(ProbeError):
    """The project is not in git: nothing is committed, so there is nothing to scan."""


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    line: int
    masked: str

    def evidence(self) -> dict[str, object]:
        return {"kind": "finding", "file": self.file, "line": self.line, "match": self.masked}


@dataclass
class Scan:
    findings: list[Finding] = field(default_factory=list)
    scanned: int = 0
    skipped_binary: int = 0
    skipped_large: int = 0
    unreadable: int = 0

    def summary(self) -> str:
        skipped = [
            f"{n} {what}"
            for n, what in ((self.skipped_binary, "binary"), (self.skipped_large, "over 10 MB"), (self.unreadable, "unreadable"))
            if n
        ]
        return f"{self.scanned} tracked files scanned" + (f" ({', '.join(skipped)} skipped)" if skipped else "")


def tracked_files(root: Path, paths: Iterable[str]) -> list[str]:
    """git's own list of tracked files under `paths` (relative to `root`); untracked and ignored files are not in it."""
    try:
        done = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--", *paths], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise ProbeError("git is not installed; the key scan reads git's list of tracked files") from None
    except subprocess.TimeoutExpired:
        raise ProbeError("git ls-files did not answer within 60 s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        first = message[0] if message else "git failed"
        if "not a git repository" in first:
            raise NotARepository(f"{root} is not in a git repository: nothing is committed, so there are no tracked files to scan")
        raise ProbeError(f"cannot list tracked files in {root}: {first}")
    return [name for name in done.stdout.decode("utf-8", "surrogateescape").split("\0") if name]


def key_pattern(prefixes: Iterable[str]) -> re.Pattern[bytes]:
    alternatives = "|".join(re.escape(p) for p in sorted(set(prefixes), key=len, reverse=True))
    return re.compile(rb"(?<![A-Za-z0-9_])(?:" + alternatives.encode() + rb")[A-Za-z0-9]{8,}")


def is_placeholder(key: str, prefix_length: int) -> bool:
    secret = key[prefix_length:].lower()
    return any(word in secret for word in PLACEHOLDER_WORDS) or len(set(secret)) < MIN_DISTINCT


def scan(root: Path, files: Iterable[str], prefixes: Iterable[str], *, max_file_bytes: int = MAX_FILE_BYTES) -> Scan:
    prefixes = [p for p in prefixes if p]
    result = Scan()
    if not prefixes:
        return result
    literals = [p.encode() for p in prefixes]
    pattern = key_pattern(prefixes)
    for name in files:
        path = root / name
        try:
            if path.is_symlink() or not path.is_file():
                continue
            if path.stat().st_size > max_file_bytes:
                result.skipped_large += 1
                continue
            data = path.read_bytes()
        except OSError:
            result.unreadable += 1
            continue
        if b"\0" in data[:BINARY_SNIFF]:
            result.skipped_binary += 1
            continue
        result.scanned += 1
        if not any(literal in data for literal in literals):
            continue
        for match in pattern.finditer(data):
            key = match.group().decode("ascii")
            prefix = next(p for p in sorted(prefixes, key=len, reverse=True) if key.startswith(p))
            if is_placeholder(key, len(prefix)):
                continue
            line = data.count(b"\n", 0, match.start()) + 1
            result.findings.append(Finding(name, line, mask(key)))
    return result


def matching(files: Iterable[str], patterns: Iterable[str]) -> list[str]:
    """Files matching any glob; `*` crosses folders (so `deploy/prod/**` and `config/production*` both work)."""
    patterns = list(patterns)
    return [name for name in files if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]
