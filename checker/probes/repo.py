"""Static checks of the project: KEY-001..004 (keys) and FILE-001/002 (documents). No network."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from checker.errors import ProbeError
from checker.keyscan import Finding, NotARepository, Scan, matching, scan, tracked_files
from checker.model import Outcome, Rule
from checker.packs import size_limit
from checker.probes.context import ProbeContext
from checker.redact import mask
from checker.registry import check
from checker.sniff import EXTENSIONS, sniff
from checker.walk import WalkError, bounded_glob
from checker.yamlfile import dotted

SECRET_PATHS = (("sandbox", "api_key"), ("webhook", "secret"))
T = TypeVar("T")


def _config_location(ctx: ProbeContext, *path: str) -> tuple[str, int | None]:
    config = Path(ctx.config.path)
    try:
        name = str(config.resolve().relative_to(ctx.config.base_dir))
    except ValueError:
        name = config.name
    return name, ctx.config.line_of(*path)


def _where(ctx: ProbeContext, *path: str) -> str:
    name, line = _config_location(ctx, *path)
    return f"{name}:{line}" if line else name


def _config_evidence(ctx: ProbeContext, *path: str, **extra: object) -> dict[str, object]:
    name, line = _config_location(ctx, *path)
    return {"kind": "config", "file": name, "line": line, "key": ".".join(path), **extra}


# ---------------------------------------------------------------- KEY-001


@check("KEY-001")
async def key_prefix_matches_environment(ctx: ProbeContext, rule: Rule) -> Outcome:
    key = ctx.config.file.sandbox.api_key
    keys = ctx.pack.facts.keys
    if not key:
        return Outcome.not_set("sandbox.api_key is not set")
    expected = keys.live_prefixes if ctx.environment == "live" else keys.test_prefixes
    other = keys.test_prefixes if ctx.environment == "live" else keys.live_prefixes
    where = _where(ctx, "sandbox", "api_key")
    evidence = [_config_evidence(ctx, "sandbox", "api_key", value=mask(key))]
    publishable = _longest(key, keys.publishable_prefixes)
    if publishable and len(publishable) >= len(_longest(key, [*expected, *other])):
        return Outcome.failed(
            f"the key ({mask(key)}) is a publishable key ({publishable}…), meant for front-end code: it is not an API key; "
            f"use the secret or restricted {ctx.environment} key ({where})",
            evidence,
        )
    if key.startswith(tuple(expected)):
        return Outcome.passed(f"the key ({mask(key)}) has the {ctx.environment} prefix", evidence)
    if key.startswith(tuple(other)):
        wrong = "live" if ctx.environment == "sandbox" else "sandbox"
        return Outcome.failed(f"environment is {ctx.environment} but the key ({mask(key)}) is a {wrong} key ({where})", evidence)
    return Outcome.failed(
        f"the key ({mask(key)}) starts with none of the {ctx.environment} prefixes {', '.join(expected)} ({where})", evidence
    )


# ---------------------------------------------------------------- KEY-004


@check("KEY-004")
async def keys_come_from_the_environment(ctx: ProbeContext, rule: Rule) -> Outcome:
    literals = [dotted(path) for path in SECRET_PATHS if ctx.config.literal_secrets.get(dotted(path))]
    present = [dotted(path) for path in SECRET_PATHS if dotted(path) in ctx.config.literal_secrets]
    if not present:
        return Outcome.not_set("golive.yaml sets no sandbox.api_key or webhook.secret")
    if literals:
        places = ", ".join(f"{name} ({_where(ctx, *name.split('.'))})" for name in literals)
        evidence = [_config_evidence(ctx, *name.split(".")) for name in literals]
        return Outcome.failed(
            f"literal secrets in the config file: {places}; write each as a single ${{VAR}} "
            "(a literal default in ${VAR:-…} or text around the reference is in the file too)",
            evidence,
        )
    verb = "come" if len(present) > 1 else "comes"
    return Outcome.passed(f"{' and '.join(present)} {verb} from the environment (${{VAR}})")


# ---------------------------------------------------------------- KEY-002 / KEY-003


async def _scan(ctx: ProbeContext, prefixes: list[str], only: list[str] | None = None, base64: list[str] | None = None) -> Scan | Outcome:
    """The scan (`base64`: prefixes whose keys are base64, webhook secrets), or a skip when the project is not in git."""
    root = ctx.config.base_dir
    try:
        files = await asyncio.to_thread(tracked_files, root, ctx.config.file.repo.paths)
    except NotARepository as exc:
        return Outcome.not_set(str(exc))
    if not files and not await asyncio.to_thread(tracked_files, root, ()):  # a repository just made: nothing committed yet
        return Outcome.not_set("git tracks no file yet (no commits, nothing staged): nothing is committed, so there is nothing to scan")
    if only is not None:
        files = matching(files, only)
    return await asyncio.to_thread(scan, root, files, prefixes, base64=base64 or ())


def _list(findings: list[Finding], limit: int = 5) -> str:
    shown = ", ".join(f"{f.file}:{f.line} ({f.masked}{'; ' + f.version if f.version else ''})" for f in findings[:limit])
    return shown + (f" and {len(findings) - limit} more" if len(findings) > limit else "")


async def _judge_scan(
    ctx: ProbeContext,
    prefixes: list[str],
    what: str,
    where: str,
    only: list[str] | None = None,
    publishable: list[str] | None = None,
    base64: list[str] | None = None,
    *,
    selected_by: tuple[str, ...] = ("repo", "paths"),
) -> Outcome:
    """Fail naming each key found (file:line, masked), pass saying what was scanned, skip outside git, error when
    no file was read (a scan of nothing vouches for nothing). With `publishable`, the scan looks for those prefixes
    too and drops a key whose longest matching prefix is one; `base64` are the prefixes (among `prefixes`) whose keys
    are base64."""
    result = await _scan(ctx, [*prefixes, *(publishable or [])], only, base64)
    if isinstance(result, Outcome):
        return result
    if not result.findings and not result.searched:
        key = ".".join(selected_by)
        chosen = f"{key} ({_where(ctx, *selected_by)})" if ctx.config.lines.get(selected_by) else f"{key} (not set: the whole repository)"
        if not result.scanned:
            raise ProbeError(
                f"nothing to scan in {where}: {chosen} selects no file git tracks (commit or stage the project's files, or "
                "correct the paths); a scan of nothing vouches for nothing"
            )
        raise ProbeError(
            f"nothing in {where} could be searched ({result.summary()}; none was read as text): a scan of nothing vouches for nothing"
        )
    if publishable:
        kept = [f for f in result.findings if f.prefix not in publishable]
        result = dataclasses.replace(result, findings=kept)
    if result.findings:
        n = len(result.findings)
        return Outcome.failed(
            f"{n} {_plural(what) if n > 1 else what} in {where}: {_list(result.findings)}; {result.summary()}",
            [f.evidence() for f in result.findings],
        )
    return Outcome.passed(f"no {what} ({', '.join(prefixes)}) in {where}; {result.summary()}")


def _plural(what: str) -> str:
    """ "live key or webhook secret" -> "live keys or webhook secrets"."""
    return " or ".join(part + "s" for part in what.split(" or "))


def _longest(key: str, prefixes: list[str]) -> str:
    return max((p for p in prefixes if p and key.startswith(p)), key=len, default="")


@check("KEY-002")
async def no_live_key_committed(ctx: ProbeContext, rule: Rule) -> Outcome:
    keys = ctx.pack.facts.keys
    prefixes = [*keys.live_prefixes, *keys.webhook_secret_prefixes]
    if not prefixes:
        return Outcome.skipped(f"{ctx.pack.name} documents no live key prefix to recognise a live key by")
    # a publishable key is meant for front-end code: where its prefix is the longer match, it is no finding
    what = "live key or webhook secret" if keys.webhook_secret_prefixes else "live key"
    # a webhook secret may be base64 (Standard Webhooks' whsec_): '+' and '/' in it
    return await _judge_scan(
        ctx, prefixes, what, "tracked files", publishable=keys.publishable_prefixes, base64=keys.webhook_secret_prefixes
    )


@check("KEY-003")
async def no_sandbox_key_in_production(ctx: ProbeContext, rule: Rule) -> Outcome:
    prefixes = ctx.pack.facts.keys.test_prefixes
    production = ctx.config.file.repo.production_paths
    if not prefixes:
        return Outcome.skipped(f"{ctx.pack.name} documents no sandbox key prefix to recognise a sandbox key by")
    if not production:
        return Outcome.not_set("no production paths configured (repo.production_paths in golive.yaml)")
    return await _judge_scan(
        ctx,
        prefixes,
        "sandbox key",
        f"production paths ({', '.join(production)})",
        only=production,
        selected_by=("repo", "production_paths"),
    )


# ---------------------------------------------------------------- FILE-001 / FILE-002


def _expand_documents(ctx: ProbeContext, stop: threading.Event) -> list[Path]:
    found: list[Path] = []
    missing = []
    for pattern in ctx.config.file.documents:
        try:
            files = bounded_glob(str(ctx.config.resolve(pattern)), stop=stop)
        except WalkError as exc:
            raise ProbeError(f"documents: {exc}") from None
        if not files:
            missing.append(pattern)
        found.extend(files)
    if missing:
        raise ProbeError(f"no file matches documents: {', '.join(missing)}")
    return found


async def off_the_loop(work: Callable[[threading.Event], T]) -> T:
    """File-system work in a thread, so that the event loop (signals, timeouts, other probes) never waits
    on a slow disk or a huge tree; when the check is cancelled the work is told to stop."""
    stop = threading.Event()
    try:
        return await asyncio.to_thread(work, stop)
    finally:
        stop.set()


async def _documents_or_skip(ctx: ProbeContext) -> list[Path] | Outcome:
    if ctx.pack.facts.files is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no file uploads")
    if not ctx.config.file.documents:
        return Outcome.not_set("no documents configured (documents: in golive.yaml)")
    return await ctx.shared("documents", lambda: off_the_loop(lambda stop: _expand_documents(ctx, stop)))


def _sniff(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            return sniff(stream)
    except OSError as exc:
        raise ProbeError(f"cannot read the document {path.name}: {exc.strerror or exc}") from None


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _name(ctx: ProbeContext, path: Path) -> str:
    try:
        return str(path.relative_to(ctx.config.base_dir))
    except ValueError:
        return str(path)


@check("FILE-001")
async def documents_are_accepted_types(ctx: ProbeContext, rule: Rule) -> Outcome:
    documents = await _documents_or_skip(ctx)
    if isinstance(documents, Outcome):
        return documents
    accepted_types = ctx.pack.facts.files.types if ctx.pack.facts.files else []
    problems, evidence = [], []
    kinds = await off_the_loop(lambda stop: [_sniff(path) for path in documents if not stop.is_set()])
    for path, kind in zip(documents, kinds, strict=True):
        name = _name(ctx, path)
        accepted = kind in accepted_types
        extension_ok = accepted and path.suffix.lower() in EXTENSIONS.get(kind, set())
        evidence.append(
            {
                "kind": "document",
                "file": name,
                "content": kind,
                "extension": path.suffix or "(none)",
                "accepted": accepted,
                "extension_agrees": extension_ok,
            }
        )
        if not accepted:
            problems.append(f"{name} is {kind}, not an accepted type")
        elif not extension_ok:
            problems.append(f"{name} is {kind} but named {path.suffix or 'without an extension'}")
    if problems:
        return Outcome.failed("; ".join(problems), evidence)
    kinds = sorted({str(e["content"]) for e in evidence})
    return Outcome.passed(
        f"{len(evidence)} document{'s' * (len(evidence) != 1)}, all accepted types ({', '.join(kinds)}) named by their content", evidence
    )


@check("FILE-002")
async def documents_under_size_limit(ctx: ProbeContext, rule: Rule) -> Outcome:
    documents = await _documents_or_skip(ctx)
    if isinstance(documents, Outcome):
        return documents
    limit = int(rule.param("max_bytes", ctx.pack.facts.files.max_bytes if ctx.pack.facts.files else 0))
    sizes = await off_the_loop(lambda stop: [p.stat().st_size for p in documents])
    evidence = [{"kind": "document", "file": _name(ctx, p), "bytes": size} for p, size in zip(documents, sizes, strict=True)]
    over = [e for e in evidence if int(e["bytes"]) > limit]  # type: ignore[call-overload]
    if over:
        listed = ", ".join(f"{e['file']} ({int(e['bytes']):,} bytes)" for e in over)  # type: ignore[call-overload]
        return Outcome.failed(f"files must be {size_limit(limit)}: {listed}", evidence)
    largest = max(int(e["bytes"]) for e in evidence)  # type: ignore[call-overload]
    return Outcome.passed(f"{len(evidence)} document{'s' * (len(evidence) != 1)} {size_limit(limit)} (largest {_size(largest)})", evidence)
