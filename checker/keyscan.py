"""Find API keys in what a project keeps in git, fast: a literal search first, a regex only on hits.

What is scanned is what is or will be committed: every file in git's index, as the index holds it, plus
uncommitted edits of those files in the working tree. A tracked file deleted or edited in the working tree
is still read from git (`git cat-file`), so deleting a key locally does not hide it. Untracked and ignored
files are not scanned; a key removed in an earlier commit stays in the history, which is not scanned.

Pure apart from reading files and asking git; the repo checks judge what it returns.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from checker.errors import ProbeError
from checker.redact import mask

MAX_FILE_BYTES = 10 * 1024 * 1024
BINARY_SNIFF = 8192
GIT_TIMEOUT_S = 60
# words that mark an example value, not a key someone leaked
PLACEHOLDER_WORDS = ("xxxx", "your", "example", "placeholder", "changeme", "dummy", "redacted", "sample", "insert", "replace")
MIN_DISTINCT = 6  # a real key's random part uses many characters; "fx_live_aaaaaaaa" is not one
SKIPPED_MODES = ("120000", "160000")  # symbolic links and submodules: no content of this repository's own


class NotARepository(ProbeError):
    """The project is not in git: nothing is committed, so there is nothing to scan."""


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    line: int
    masked: str
    version: str = ""  # "" when git and the working tree agree; else which copy holds the key
    prefix: str = ""  # the longest prefix the key matched (its kind)

    def evidence(self) -> dict[str, object]:
        item: dict[str, object] = {"kind": "finding", "file": self.file, "line": self.line, "match": self.masked}
        if self.version:
            item["version"] = self.version
        return item


@dataclass(frozen=True, slots=True)
class Tracked:
    """A file in git's index: its blob, and how the working tree's copy stands."""

    name: str
    oid: str
    mode: str
    state: str = "clean"  # clean | modified | deleted (in the working tree)


@dataclass
class Scan:
    findings: list[Finding] = field(default_factory=list)
    scanned: int = 0
    skipped_binary: int = 0
    skipped_large: int = 0
    unreadable: int = 0
    from_git: int = 0  # files read from git because the working tree's copy is gone or differs
    searched: int = 0  # files whose text was searched (in the working tree, in git, or both): 0 finds nothing by construction

    def summary(self) -> str:
        skipped = [
            f"{n} {what}"
            for n, what in ((self.skipped_binary, "binary"), (self.skipped_large, "over 10 MB"), (self.unreadable, "unreadable"))
            if n
        ]
        text = f"{self.scanned} tracked files scanned"
        if self.from_git:
            text += f", {self.from_git} of them also as git holds them (deleted or edited in the working tree)"
        return text + (f" ({', '.join(skipped)} skipped)" if skipped else "")


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=GIT_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ProbeError("git is not installed; the key scan reads git's list of tracked files") from None
    except subprocess.TimeoutExpired:
        raise ProbeError(f"git {args[0]} did not answer within {GIT_TIMEOUT_S} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        first = message[0] if message else "git failed"
        if "not a git repository" in first:
            raise NotARepository(f"{root} is not in a git repository: nothing is committed, so there are no tracked files to scan")
        raise ProbeError(f"cannot list tracked files in {root}: {first}")
    return done.stdout


def _names(output: bytes) -> list[str]:
    return [name for name in output.decode("utf-8", "surrogateescape").split("\0") if name]


def tracked_files(root: Path, paths: Iterable[str]) -> list[Tracked]:
    """git's index under `paths` (relative to `root`), each file with the state of its working-tree copy;
    untracked and ignored files are not in it."""
    paths = list(paths)
    staged = _git(root, "ls-files", "-s", "-z", "--", *paths)
    changed = set(_names(_git(root, "ls-files", "-m", "-z", "--", *paths)))
    deleted = set(_names(_git(root, "ls-files", "-d", "-z", "--", *paths)))
    files: dict[str, Tracked] = {}
    for entry in _names(staged):
        info, _, name = entry.partition("\t")
        mode, oid, _stage = info.split(" ")
        if name not in files:  # an unmerged file has several stages: one is enough
            state = "deleted" if name in deleted else "modified" if name in changed else "clean"
            files[name] = Tracked(name, oid, mode, state)
    return list(files.values())


def read_blobs(root: Path, oids: Iterable[str], max_bytes: int = MAX_FILE_BYTES) -> Iterator[tuple[str, bytes | None, bool]]:
    """(oid, content, too_large) for each blob, streamed from one `git cat-file --batch`; content None when git
    cannot read it, and not read when it is over `max_bytes`."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return
    process = subprocess.Popen(
        ["git", "-C", str(root), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def feed() -> None:
        try:
            stdin.write("".join(f"{oid}\n" for oid in wanted).encode())
            stdin.close()
        except OSError:
            pass

    timer = threading.Timer(GIT_TIMEOUT_S, process.kill)
    threading.Thread(target=feed, daemon=True).start()
    timer.start()
    try:
        for oid in wanted:
            header = stdout.readline().split()
            if len(header) != 3:  # "<oid> missing", or git was killed
                yield oid, None, False
                continue
            size = int(header[2])
            if size > max_bytes:
                left = size + 1  # the content and its newline, read past without keeping it
                while left > 0 and (chunk := stdout.read(min(65536, left))):
                    left -= len(chunk)
                yield oid, None, True
                continue
            data = stdout.read(size)
            stdout.read(1)  # the newline after each object
            yield oid, data, False
    finally:
        timer.cancel()
        process.kill()
        process.wait()
        stdout.close()  # the pipe's file object: left open it warns (ResourceWarning) when collected


# what follows a prefix, by the kind of key. An API key is letters and digits (mintfax's `fx_test_abc123def456`, Stripe's
# `sk_test_…`; Checkout's `[a-z2-7]{26}` before its last character). A webhook signing secret may be base64: Standard
# Webhooks' `whsec_` is followed by the key in base64, '+' and '/' anywhere and '=' at the end (standardwebhooks
# decodes it with b64decode); the alphabet also holds the hex and alphanumeric secrets of the other schemes.
API_KEY_TAIL = rb"[A-Za-z0-9]{8,}"
BASE64_TAIL = rb"[A-Za-z0-9+/]{8,}={0,2}"


def key_pattern(prefixes: Iterable[str], base64: Iterable[str] = ()) -> re.Pattern[bytes]:
    """Any key of these prefixes (those in `base64` followed by base64), not glued to a word before it. Linear time:
    each alternative is a literal and one run of its alphabet, and nothing after the run can fail."""
    base64 = set(base64)
    ordered = sorted(set(prefixes) | base64, key=len, reverse=True)  # the longest prefix first: its key is the longer
    alternatives = b"|".join(re.escape(p).encode() + (BASE64_TAIL if p in base64 else API_KEY_TAIL) for p in ordered)
    return re.compile(rb"(?<![A-Za-z0-9_])(?:" + alternatives + rb")")


def is_placeholder(key: str, prefix_length: int) -> bool:
    secret = key[prefix_length:].lower()
    return any(word in secret for word in PLACEHOLDER_WORDS) or len(set(secret)) < MIN_DISTINCT


def scan(
    root: Path, files: Iterable[Tracked], prefixes: Iterable[str], *, base64: Iterable[str] = (), max_file_bytes: int = MAX_FILE_BYTES
) -> Scan:
    """The keys of `prefixes` (and of `base64`, whose keys are base64: webhook secrets) in these files."""
    base64 = [p for p in base64 if p]
    prefixes = list(dict.fromkeys([*(p for p in prefixes if p), *base64]))
    result = Scan()
    if not prefixes:
        return result
    literals = [p.encode() for p in prefixes]
    pattern = key_pattern(prefixes, base64)
    longest_first = sorted(prefixes, key=len, reverse=True)
    seen: set[tuple[str, int, str]] = set()

    searched: set[str] = set()

    def search(name: str, data: bytes, version: str) -> None:
        if b"\0" in data[:BINARY_SNIFF]:
            result.skipped_binary += 1
            return
        searched.add(name)
        if not any(literal in data for literal in literals):
            return
        line, counted = 1, 0  # lines counted from where the last key stood: a file full of keys is read once
        for match in pattern.finditer(data):
            key = match.group().decode("ascii")
            prefix = next(p for p in longest_first if key.startswith(p))
            if is_placeholder(key, len(prefix)):
                continue
            line += data.count(b"\n", counted, match.start())
            counted = match.start()
            if (name, line, key) not in seen:  # the same key in git's copy and the working tree's: once
                seen.add((name, line, key))
                result.findings.append(Finding(name, line, mask(key), version, prefix))

    from_git: dict[str, list[Tracked]] = {}
    for tracked in files:
        if tracked.mode in SKIPPED_MODES:
            continue
        result.scanned += 1
        if tracked.state != "clean":  # git's copy differs from (or replaces) the working tree's: read it too
            from_git.setdefault(tracked.oid, []).append(tracked)
        if tracked.state == "deleted":
            continue
        path = root / tracked.name
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
        search(tracked.name, data, "uncommitted edit in the working tree" if tracked.state == "modified" else "")
    result.from_git = sum(len(group) for group in from_git.values())
    for oid, blob, too_large in read_blobs(root, from_git, max_file_bytes):
        for tracked in from_git[oid]:
            if too_large:
                result.skipped_large += 1
            elif blob is None:
                result.unreadable += 1
            else:
                label = "deleted from the working tree, still in git" if tracked.state == "deleted" else "in git (the working tree differs)"
                search(tracked.name, blob, label)
    result.searched = len(searched)
    return result


def matching(files: Iterable[Tracked], patterns: Iterable[str]) -> list[Tracked]:
    """Files matching any glob; `*` crosses folders (so `deploy/prod/**` and `config/production*` both work)."""
    patterns = list(patterns)
    return [f for f in files if any(fnmatch.fnmatchcase(f.name, pattern) for pattern in patterns)]
