"""The rule engine: select rules, prepare targets, run checks concurrently and bounded, decide the verdict."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import difflib
import secrets
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from checker import __version__
from checker.config import Config
from checker.errors import ConfigError, GoliveError, ProbeError, Problem
from checker.model import Outcome, Result, Rule, RunResult, Severity, Status
from checker.packs import BUILTIN_PACKS, Pack
from checker.redact import Redactor
from checker.registry import Check, registered
from checker.yamlfile import dotted

DEFAULT_TIMEOUT_S = {"sandbox": 60.0, "client": 300.0, "webhook": 120.0, "repo": 120.0}
BLOCKING = {Status.FAIL, Status.ERROR, Status.MANUAL}

Progress = Callable[[str, Rule, "Result | None"], None]


@dataclass(frozen=True)
class RunOptions:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    environment: str | None = None
    fail_on: str = "blocker"
    jobs: int = 16
    today: dt.date = field(default_factory=dt.date.today)


# ---------------------------------------------------------------- selection


def _validate_ids(entries: Iterable[str], known: list[str], config: Config | None, where: tuple[str, ...], prefixes: bool) -> list[Problem]:
    problems = []
    for index, entry in enumerate(entries):
        ok = any(rule_id.startswith(entry) for rule_id in known) if prefixes else entry in known
        if ok and entry:
            continue
        close = difflib.get_close_matches(entry, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else ("use a rule id or a prefix such as HOOK" if prefixes else "")
        path: tuple[str | int, ...] = (*where, index) if prefixes or where[-1] == "waivers" else (*where, entry)
        line = config.line_of(*path) if config else None
        problems.append(Problem(config.path if config else "command line", line, dotted(path), f"unknown rule {entry!r}", hint))
    return problems


def select_rules(pack: Pack, config: Config, options: RunOptions) -> list[Rule]:
    """The pack's rules that this run includes: longest matching prefix wins between select and ignore."""
    known = [r.id for r in pack.rules]
    rules_cfg = config.file.rules
    problems = (
        _validate_ids(rules_cfg.select, known, config, ("rules", "select"), True)
        + _validate_ids(rules_cfg.ignore, known, config, ("rules", "ignore"), True)
        + _validate_ids(rules_cfg.severity, known, config, ("rules", "severity"), False)
        + _validate_ids([w.rule for w in config.file.waivers], known, config, ("waivers",), False)
        + _validate_ids(config.file.attestations, known, config, ("attestations",), False)
        + _validate_ids(options.select, known, None, ("--select",), True)
        + _validate_ids(options.ignore, known, None, ("--ignore",), True)
    )
    if problems:
        raise ConfigError(problems)
    select = options.select or tuple(rules_cfg.select)
    ignore = (*rules_cfg.ignore, *options.ignore)
    chosen = []
    for rule in pack.rules:
        best_select = max((len(s) for s in select if rule.id.startswith(s)), default=-1)
        best_ignore = max((len(i) for i in ignore if rule.id.startswith(i)), default=-1)
        if select and best_select < 0:
            continue
        if best_ignore > best_select:
            continue
        chosen.append(rule)
    return chosen


# ---------------------------------------------------------------- targets


@dataclass
class Targets:
    sandbox_url: str | None = None
    api_key: str | None = None
    sandbox_note: str = ""
    workdir: Path | None = None


@contextlib.asynccontextmanager
async def prepared_targets(config: Config, pack: Pack, needed: set[str]) -> AsyncIterator[Targets]:
    with tempfile.TemporaryDirectory(prefix="golive-run-") as workdir:
        async with _targets(config, pack, needed) as targets:
            targets.workdir = Path(workdir)
            yield targets


@contextlib.asynccontextmanager
async def _targets(config: Config, pack: Pack, needed: set[str]) -> AsyncIterator[Targets]:
    targets = Targets(api_key=config.file.sandbox.api_key)
    if "sandbox" not in needed and "client" not in needed:
        yield targets
        return
    url = config.file.sandbox.url
    if url != "builtin":
        targets.sandbox_url = url.rstrip("/")
        if not targets.api_key:
            targets.sandbox_note = "sandbox.api_key is not set"
        yield targets
        return
    provider = pack.name if pack.name in BUILTIN_PACKS else None
    if provider is None:
        targets.sandbox_note = f"there is no embedded sandbox for {pack.name}; set sandbox.url to the provider's sandbox"
        yield targets
        return
    if not targets.api_key:
        prefix = (pack.facts.keys.test_prefixes or ["test_"])[0]
        targets.api_key = f"{prefix}golive{secrets.token_hex(10)}"
    from checker.sandbox.server import EmbeddedSandbox

    sandbox = EmbeddedSandbox(provider)
    await asyncio.to_thread(sandbox.start)
    try:
        targets.sandbox_url = sandbox.url
        yield targets
    finally:
        await asyncio.to_thread(sandbox.stop)


# ---------------------------------------------------------------- running


def _pre_decided(rule: Rule, config: Config, checks: dict[str, Check], targets: Targets) -> Outcome | None:
    """The outcome of a rule that needs no probe: skipped, manual or attested."""
    if rule.skip:
        return Outcome.skipped(rule.skip)
    if rule.target == "manual":
        attestation = config.file.attestations.get(rule.id)
        if attestation is None:
            return Outcome(Status.MANUAL, "needs a person's attestation in golive.yaml (attestations)")
        evidence = f": {attestation.evidence}" if attestation.evidence else ""
        return Outcome(Status.ATTESTED, f"attested by {attestation.by} on {attestation.date.isoformat()}{evidence}")
    if rule.id not in checks:
        return Outcome.skipped("not implemented in this version of golive")
    target = checks[rule.id].target
    if target in ("sandbox", "client") and not targets.sandbox_url:
        return Outcome.skipped(targets.sandbox_note or "the sandbox is not configured")
    if target == "sandbox" and not targets.api_key:
        return Outcome.skipped(targets.sandbox_note or "sandbox.api_key is not set")
    if target == "client" and config.file.client is None:
        return Outcome.skipped("no client configured (client.command in golive.yaml)")
    if target == "repo" and config.path == "(built-in)":
        return Outcome.skipped("no golive.yaml: the repo checks read the project that a config file names")
    if target == "webhook" and config.file.webhook is None:
        return Outcome.skipped("no webhook receiver configured (webhook.url in golive.yaml)")
    return None


async def _run_one(check: Check, rule: Rule, ctx: object, timeout_s: float) -> tuple[Outcome, float]:
    started = time.monotonic()
    try:
        outcome = await asyncio.wait_for(check.fn(ctx, rule), timeout_s)  # type: ignore[arg-type]
    except TimeoutError:
        outcome = Outcome(Status.ERROR, f"the probe did not finish within {timeout_s:g} s")
    except ProbeError as exc:
        outcome = Outcome(Status.ERROR, str(exc))
    except GoliveError as exc:
        outcome = Outcome(Status.ERROR, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a bug in a check: report it on the rule, keep the run going
        where = traceback.extract_tb(exc.__traceback__)[-1]
        outcome = Outcome(
            Status.ERROR, f"internal error in the check ({type(exc).__name__}: {exc}) at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}"
        )
    return outcome, time.monotonic() - started


def _severity(rule: Rule, config: Config, environment: str) -> Severity:
    if rule.id in config.file.rules.severity:
        return config.file.rules.severity[rule.id]
    if environment == "live" and rule.target == "manual":
        return Severity.BLOCKER
    return rule.severity


def _apply_waiver(rule: Rule, outcome: Outcome, config: Config, today: dt.date) -> Outcome:
    if outcome.status is not Status.FAIL:
        return outcome
    for waiver in config.file.waivers:
        if waiver.rule != rule.id:
            continue
        if waiver.expires < today:
            return Outcome(
                Status.FAIL, f"{outcome.message} (the waiver by {waiver.by} expired on {waiver.expires.isoformat()})", outcome.evidence
            )
        return Outcome(
            Status.WAIVED,
            f"{outcome.message} — waived by {waiver.by} until {waiver.expires.isoformat()}: {waiver.reason}",
            outcome.evidence,
        )
    return outcome


def verdict_of(results: Iterable[Result], fail_on: str) -> str:
    blocking_severities = {Severity.BLOCKER} | ({Severity.WARNING} if fail_on == "warning" else set())
    for result in results:
        if result.status in BLOCKING and result.severity in blocking_severities:
            return "not ready"
    return "ready"


async def run(config: Config, pack: Pack, options: RunOptions, progress: Progress | None = None) -> RunResult:
    from checker.probes.context import ProbeContext

    started_at = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    environment = options.environment or config.file.environment
    rules = select_rules(pack, config, options)
    checks = registered()
    needed = {checks[r.id].target for r in rules if r.id in checks and not r.skip}
    outcomes: dict[str, tuple[Outcome, float]] = {}
    async with prepared_targets(config, pack, needed) as targets:
        redactor = Redactor((*config.secrets, *(s for s in [targets.api_key] if s)))
        ctx = ProbeContext(
            config=config,
            pack=pack,
            environment=environment,
            sandbox_url=targets.sandbox_url,
            api_key=targets.api_key,
            workdir=targets.workdir,
        )
        runnable = []
        for rule in rules:
            decided = _pre_decided(rule, config, checks, targets)
            if decided is not None:
                outcomes[rule.id] = (decided, 0.0)
                if progress:
                    progress("done", rule, _result(rule, decided, 0.0, config, environment, options, redactor))
            else:
                runnable.append(rule)
        limit = asyncio.Semaphore(max(1, options.jobs))

        async def guarded(rule: Rule) -> None:
            check = checks[rule.id]
            if check.creates:
                try:
                    ctx.refuse_live_key()
                except ProbeError as exc:
                    outcomes[rule.id] = (Outcome(Status.ERROR, str(exc)), 0.0)
                    return
            async with limit:
                if progress:
                    progress("start", rule, None)
                timeout = float(rule.param("timeout_s", DEFAULT_TIMEOUT_S.get(check.target, 60.0)))
                outcomes[rule.id] = await _run_one(check, rule, ctx, timeout)
                if progress:
                    progress("done", rule, _result(rule, *outcomes[rule.id], config, environment, options, redactor))

        await asyncio.gather(*(guarded(rule) for rule in runnable))
    results = tuple(_result(rule, *outcomes[rule.id], config, environment, options, redactor) for rule in rules)
    return RunResult(
        provider=pack.name,
        environment=environment,
        started_at=started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        duration_s=time.monotonic() - t0,
        verdict=verdict_of(results, options.fail_on),
        interrupted=False,
        results=results,
        tool_version=__version__,
        config_file=None if config.path == "(built-in)" else Path(config.path).name,
    )


def _result(
    rule: Rule, outcome: Outcome, duration: float, config: Config, environment: str, options: RunOptions, redactor: Redactor
) -> Result:
    outcome = _apply_waiver(rule, outcome, config, options.today)
    return Result(
        rule=rule,
        status=outcome.status,
        severity=_severity(rule, config, environment),
        message=redactor.text(outcome.message),
        duration_s=duration,
        evidence=tuple(redactor.deep(dict(e)) for e in outcome.evidence),
    )
