"""What a run checked, for the reviewer who signs it off: the config, the integration's git commit, the commands golive
ran, the provider pack; and where in golive.yaml each target is configured (SARIF and annotations point there)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from checker.config import Config
from checker.model import GitState, PackIdentity, RunContext
from checker.packs import BUILTIN_PACKS, Pack
from checker.printable import printable
from checker.redact import Redactor

BUILT_IN = "(built-in)"
GIT_TIMEOUT_S = 10  # for the metadata only: a slow git leaves the commit out, it does not hold the run


def context_of(config: Config, pack: Pack, redactor: Redactor, receiver: Mapping[str, str] | None = None) -> RunContext:
    """The facts of the run a reviewer needs to tell what was checked, through the seam every message passes (secrets
    masked: the config's, every ${VAR}'s value, the URLs' credentials; then printable); git bounded in time. `receiver`:
    the {port} and {url} this run gave the receiver, filled into its URL and commands as the run used them."""
    file = config.file
    webhook = file.webhook
    used = {name: value for name, value in (receiver or {}).items() if name in ("port", "url")}

    def filled(text: str | None) -> str | None:
        for name, value in used.items():
            text = text.replace("{" + name + "}", value) if text is not None else None
        return text

    git = git_state(config.base_dir) if config.path != BUILT_IN else None

    def clean(text: str) -> str:
        return printable(redactor.text(text))

    def optional(text: str | None) -> str | None:
        return None if text is None else clean(text)

    identity = pack_identity(pack)
    return RunContext(
        config=optional(None if config.path == BUILT_IN else _shown(Path(config.path))),
        git=dataclasses.replace(git, commit=clean(git.commit), folder=clean(git.folder)) if git else None,
        sandbox=optional("embedded" if file.sandbox.url == "builtin" else file.sandbox.url),
        client=optional(file.client.command if file.client else None),
        receiver=optional(filled(webhook.start) if webhook else None),
        webhook_url=optional(filled(webhook.url) if webhook else None),
        register=optional(filled(webhook.registration) if webhook else None),
        pack=dataclasses.replace(
            identity, name=clean(identity.name), title=clean(identity.title), path=clean(identity.path), sha256=optional(identity.sha256)
        ),
    )


def pack_identity(pack: Pack) -> PackIdentity:
    """A pack by name and by content: the first 12 hex digits of its file's SHA-256 say which revision was used."""
    path = Path(pack.path)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        digest = None
    return PackIdentity(name=pack.name, title=pack.title, path="built-in" if pack.name in BUILTIN_PACKS else _shown(path), sha256=digest)


def git_state(folder: Path) -> GitState | None:
    """The commit the integration's working tree is at and whether it has changes git would show; None outside a
    repository or without git (the report says so rather than failing a run over it)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, timeout=GIT_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None

    # one call for both: the config's folder from the repository's root ("services/fax/", where SARIF and annotations
    # place findings from; an empty line at the root), then the commit
    parsed = git("rev-parse", "--show-prefix", "HEAD")
    born = parsed is not None
    if parsed is None:  # a repository without commits yet (`git init` only) has no HEAD to name: it is one all the same
        parsed = git("rev-parse", "--show-prefix")
    status = git("status", "--porcelain") if parsed is not None else None
    if parsed is None or status is None:
        return None
    prefix, commit = [*parsed.split("\n"), "", ""][:2]
    changed = [line for line in status.splitlines() if line]
    # a repository without commits yet: commit "" stays a string for readers of golive-report/1
    return GitState(
        commit=commit.strip() if born else "", dirty=bool(changed), changed_files=len(changed), folder=prefix.strip(), no_commits=not born
    )


def locations_of(config: Config) -> dict[str, int]:
    """Per target, the line of golive.yaml that configures it: a client finding belongs at client.command, a webhook
    one at the webhook section; what is not in the file belongs at its provider line."""
    if config.path == BUILT_IN:
        return {}
    fallback = config.lines.get(("provider",)) or 1
    where: dict[str, list[tuple[str, ...]]] = {
        "sandbox": [("sandbox", "url"), ("sandbox",)],
        "client": [("client", "command"), ("client",)],
        "webhook": [("webhook",)],
        "repo": [("repo", "paths"), ("repo",)],
        "config": [("provider",)],
        "manual": [("attestations",)],
    }
    return {target: next((config.lines[p] for p in paths if p in config.lines), fallback) for target, paths in where.items()}


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when under it."""
    try:
        return os.path.relpath(path) if path.is_absolute() and Path.cwd() in path.parents else str(path)
    except ValueError:
        return str(path)
