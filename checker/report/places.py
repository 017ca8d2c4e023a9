"""Where in the repository each finding belongs, and its stable identity: shared by SARIF, GitHub annotations and
GitLab Code Quality, so that the three point at the same line and a finding keeps its fingerprint from run to run."""

from __future__ import annotations

import hashlib
import posixpath
from collections import Counter
from dataclasses import dataclass

from checker.model import Result, RunResult, Status, blocking_severities


@dataclass(frozen=True, slots=True)
class Place:
    """One location of a finding. `uri` is relative to the folder golive ran in (the repository's root in CI); None
    when the run had no config file (`golive check --provider P` with no golive.yaml)."""

    uri: str | None
    line: int
    fingerprint: str  # hex SHA-256 of what identifies the finding; never of its message (timings, keys, ids vary)


def config_uri(run: RunResult) -> str | None:
    """golive.yaml relative to the repository's root where git told (`context.git.folder`); else relative to the folder
    golive ran in. `context.config` is the path as the user
    gave it (made relative when the file is under the current folder); a path outside that folder cannot be placed in
    the repository, so the file's bare name stands for it (right when golive runs beside its config)."""
    if not run.config_file:
        return None
    git = run.context.git if run.context else None
    folder = git.folder if git else None
    if folder is not None and not folder.startswith(("/", "../")) and ".." not in folder.split("/"):
        return posixpath.join(folder, run.config_file)  # from the repository's root, wherever golive ran
    shown = run.context.config if run.context else None
    if shown:
        path = posixpath.normpath(shown.replace("\\", "/"))
        if not path.startswith(("/", "../")) and path != ".." and posixpath.basename(path) == run.config_file:
            return path
    return run.config_file


def in_repository(run: RunResult, file: str) -> str | None:
    """A file named by a finding's evidence (relative to the config's folder, as the checks name them) relative to
    the folder golive ran in; None for a file outside it (a document given by an absolute path)."""
    config = config_uri(run)
    folder = posixpath.dirname(config) if config else ""
    if posixpath.isabs(file):
        return None
    path = posixpath.normpath(posixpath.join(folder, file.replace("\\", "/")))
    return None if path == ".." or path.startswith("../") else path


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).hexdigest()


def places(run: RunResult, result: Result) -> list[Place]:
    """Each place a finding belongs: the files its evidence names (a committed key's file and line, golive.yaml's
    key, a failing document), else the golive.yaml line that configures the rule's target (`run.locations`: the client
    at client.command, the webhook at its section…; then the provider line; then line 1).

    The fingerprint hashes the rule, the provider, the file and what the finding is about there: a committed key's
    masked form (`fx_live_…a1b2`, stable while the key is; not its line, so an edit above it keeps the identity), a
    config key's dotted path, a document's name; a second identical item in one file adds its ordinal. A finding
    about a target hashes the rule and the config file: one per rule, whatever its message says this time."""
    rule, config = result.rule, config_uri(run)
    items = [e for e in result.evidence if isinstance(e.get("file"), str) and e["file"]]
    # a failing document rule lists every document it looked at, and names in its message the ones that fail
    named = [e for e in items if _line(e.get("line")) or str(e["file"]) in result.full_message]
    found: list[Place] = []
    seen: Counter[tuple[str, str]] = Counter()
    for item in named or items:
        uri = in_repository(run, str(item["file"]))
        if uri is None:
            continue
        identity = str(item.get("match") or item.get("key") or "")
        seen[uri, identity] += 1
        found.append(Place(uri, _line(item.get("line")) or 1, fingerprint(rule.id, run.provider, uri, identity, seen[uri, identity])))
    if found:
        return found
    line = _line(run.locations.get(rule.target)) or _line(run.locations.get("config")) or 1
    return [Place(config, line, fingerprint(rule.id, run.provider, config or "", "target", rule.target))]


def _line(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def reported(run: RunResult) -> list[Result]:
    """The results a CI annotation or a code-quality issue is made for: every `fail` and `error` (a rule that could
    not be checked holds a blocker's verdict too), and a `manual` item where it counts against the verdict (live
    mode). Waived failures are left out: the waiver is the team's decision (SARIF keeps them, as suppressions)."""
    blocking = blocking_severities(run.fail_on)
    return [r for r in run.results if r.status in (Status.FAIL, Status.ERROR) or (r.status is Status.MANUAL and r.severity in blocking)]


def what_happened(result: Result) -> str:
    """The finding's message, with what its status means when it is not a plain failure."""
    prefix = {Status.ERROR: "could not be checked: ", Status.MANUAL: "needs an attestation: "}.get(result.status, "")
    return prefix + result.full_message
