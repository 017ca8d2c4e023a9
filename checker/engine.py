"""The rule engine: run the selected rules' checks concurrently and bounded on the targets `targets.py` starts, and
decide the verdict. What a run includes is `selection.py`'s; how an outcome becomes a result, `shaping.py`'s."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from checker import __version__, traffic
from checker.budget import BudgetExceeded, within
from checker.config import Config
from checker.context import context_of, locations_of
from checker.errors import GoliveError, ProbeError
from checker.model import (
    Outcome,
    Probe,
    Result,
    Rule,
    RunResult,
    Status,
    verdict_of,
)
from checker.packs import Pack
from checker.printable import printable_deep
from checker.provenance import READING
from checker.redact import Redactor, remember
from checker.registry import Check
from checker.selection import COVERED as COVERED
from checker.selection import NOT_IMPLEMENTED as NOT_IMPLEMENTED
from checker.selection import RunOptions as RunOptions
from checker.selection import _decided_without_targets, _demanded, _unprobed_selection, required_targets
from checker.selection import coverage_of as coverage_of
from checker.selection import select_rules as select_rules
from checker.shaping import Shaping, _waiver_states
from checker.shaping import _result as _result
from checker.targets import Targets, missing, prepared_targets

DEFAULT_TIMEOUT_S: dict[Probe, float] = {"sandbox": 60.0, "client": 300.0, "webhook": 120.0, "repo": 120.0, "config": 30.0}
# which probes take a --jobs slot first: the client's wait out real backoff sleeps (the longest, ~18 s for
# mintfax), so a run that starts them first ends with them instead of queueing them behind quick ones;
# the static checks take no slot at all (see `guarded`)
START_ORDER: dict[Probe, int] = {"repo": 0, "config": 0, "client": 1, "webhook": 2, "sandbox": 3}
STATIC: set[Probe] = {"repo", "config"}

Progress = Callable[[str, Rule, "Result | None"], None]


def registered() -> dict[str, Check]:
    """Every built-in check: importing the probes registers them (the registry itself imports no probe)."""
    import checker.probes  # noqa: F401
    from checker import registry

    return registry.registered()


# ---------------------------------------------------------------- selection


# ---------------------------------------------------------------- running


async def _run_one(check: Check, rule: Rule, ctx: object, timeout_s: float) -> tuple[Outcome, float]:
    started = time.monotonic()
    try:
        outcome = await within(check.fn(ctx, rule), timeout_s)  # type: ignore[arg-type]
    except BudgetExceeded:
        outcome = Outcome(Status.ERROR, f"the probe did not finish within {timeout_s:g} s (not counting waits for a shared target)")
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


@dataclass
class RunState:
    """One run as it goes: what it was given, and each rule's outcome and reads as they come (an interruption keeps
    everything finished so far)."""

    config: Config
    pack: Pack
    options: RunOptions
    rules: list[Rule]
    checks: dict[str, Check]
    progress: Progress | None = None
    required: tuple[str, ...] = ()  # the targets this run must probe (required_targets)
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    t0: float = field(default_factory=time.monotonic)
    redactor: Redactor = field(default_factory=lambda: Redactor(()))
    outcomes: dict[str, tuple[Outcome, float]] = field(default_factory=dict)
    reads: dict[str, set[str]] = field(default_factory=dict)  # per rule, the pack facts its check read (checker/provenance.py)
    began: dict[str, float] = field(default_factory=dict)  # per probed rule, when its check started (time.monotonic)
    recording: traffic.Traffic | None = None  # what the proxy and the webhook sender exchanged (--format har)
    receiver: dict[str, str] = field(default_factory=dict)  # the {port} and {url} this run gave the receiver (context)
    interrupted: bool = False

    @property
    def environment(self) -> str:
        return self.options.environment or self.config.file.environment

    def result(self, rule: Rule) -> Result:
        shaping = Shaping(self.config, self.environment, self.options, self.redactor)
        return _result(rule, *self.outcomes[rule.id], shaping, self.reads.get(rule.id))

    def decided(self, rule: Rule, outcome: Outcome, took: float = 0.0) -> None:
        self.outcomes[rule.id] = (outcome, took)
        if self.progress:  # finished: a line of its own in CI's log
            self.progress("done", rule, self.result(rule))


async def _run_checks(run: RunState, targets: Targets) -> None:
    """Decide what the prepared targets leave no probe for, run the rest concurrently (at most `options.jobs` at once);
    fills `run.outcomes` as each finishes, so an interruption keeps everything finished so far."""
    from checker.probes.context import ProbeContext

    ctx = ProbeContext(
        config=run.config,
        pack=run.pack,
        environment=run.environment,
        sandbox_url=targets.sandbox_url,
        api_key=targets.api_key,
        contract_key=targets.contract_key,
        workdir=targets.workdir,
        webhook_url=targets.webhook_url,
        webhook_error=targets.webhook_error,
        webhook_values=targets.webhook_values,
        receiver_process=targets.receiver,
    )
    runnable = []
    for rule in (rule for rule in run.rules if rule.id not in run.outcomes):  # not decided before the targets were prepared
        absent = missing(rule, targets)
        if absent is not None:
            run.decided(rule, absent)
        else:
            runnable.append(rule)
    runnable.sort(key=lambda rule: START_ORDER[rule.probes])
    limit = asyncio.Semaphore(max(1, run.options.jobs))

    async def guarded(rule: Rule) -> None:
        check = run.checks[rule.id]
        if check.creates:
            try:
                ctx.refuse_live_key()
            except ProbeError as exc:
                run.decided(rule, Outcome(Status.ERROR, str(exc)))
                return
        # the static checks read local files and settings: they take no --jobs slot, so they never queue
        # behind network probes, nor hold a slot a client probe (which waits out real backoff) could use
        async with limit if rule.probes not in STATIC else contextlib.nullcontext():
            if run.progress:
                run.progress("start", rule, None)
            timeout = float(rule.param("timeout_s", DEFAULT_TIMEOUT_S[rule.probes]))
            READING.set(run.reads.setdefault(rule.id, set()))  # this task's own: the facts the check reads
            traffic.TAPE.set(run.recording.tape(rule.id) if run.recording is not None else None)  # and what it exchanges
            run.began[rule.id] = time.monotonic()  # when it started: a section's real time is its rules' span, not their sum
            outcome, took = await _run_one(check, rule, ctx, timeout)
            died = targets.receiver_died(rule)
            if died:  # whatever answered after the receiver exited was not the receiver golive started
                outcome = Outcome(Status.ERROR, died)
            run.decided(rule, outcome, took)

    try:
        await asyncio.gather(*(guarded(rule) for rule in runnable))
    finally:
        await ctx.cancel_shared()
        await ctx.close()


async def run(config: Config, pack: Pack, options: RunOptions, progress: Progress | None = None) -> RunResult:
    started_at, t0 = dt.datetime.now(dt.UTC), time.monotonic()
    rules = select_rules(pack, config, options)
    state = RunState(config, pack, options, rules, registered(), progress, started_at=started_at, t0=t0)
    state.redactor = Redactor(config.secrets)
    # what needs no target is decided first: an interruption while the targets start cannot mislabel it
    state.required = required_targets(config, options, rules)
    for rule in rules:
        decided = _decided_without_targets(rule, config, state.checks, _demanded(rule, options, state.required))
        if decided is not None:
            state.decided(rule, decided)
    needed = {rule.probes for rule in rules if rule.id not in state.outcomes}
    state.recording = traffic.Traffic() if options.traffic else None
    try:
        async with prepared_targets(config, pack, needed) as targets:
            state.receiver = targets.webhook_values  # the {port} and {url} this run gave the receiver, for the run's context
            generated = [key for key in (targets.api_key, targets.contract_key) if key]
            remember(generated)
            state.redactor = Redactor((*config.secrets, *generated))
            await _run_checks(state, targets)
    except asyncio.CancelledError:
        # Ctrl-C or SIGTERM (interrupt.run_interruptibly cancels this task): every probe has been cancelled and
        # has run its clean-up (process groups killed, proxies closed), the receiver and the sandbox are
        # stopped; keep what was gathered and mark the rest
        task = asyncio.current_task()
        if task is None or task.uncancel() > 0:
            raise
        state.interrupted = True
    return _finished(state)


def _finished(state: RunState) -> RunResult:
    """The run's result: every rule's outcome (an unfinished one marked), shaped, with its coverage and context."""
    config, options, rules, outcomes, redactor = state.config, state.options, state.rules, state.outcomes, state.redactor
    for rule in rules:
        outcomes.setdefault(rule.id, (Outcome(Status.ERROR, "not finished: the check was interrupted"), 0.0))
    unprobed = _unprobed_selection(outcomes, config, options)
    for rule in rules:
        outcome, took = outcomes[rule.id]
        if outcome.unset and unprobed:  # a target or setting left out, the rule asked for, and nothing else judged
            outcomes[rule.id] = (Outcome(Status.ERROR, f"selected, but {outcome.message}", outcome.evidence), took)
    began, t0 = state.began, state.t0
    results = tuple(
        dataclasses.replace(result, started_s=began[result.rule.id] - t0) if result.rule.id in began else result
        for result in (state.result(rule) for rule in rules)
    )
    chosen = {rule.id for rule in rules}
    # the pack's rules this run left out (--select, --ignore, rules:): "Not covered, and why" names them
    deselected = [rule.id for rule in state.pack.rules if rule.id not in chosen and not rule.skip]
    coverage = dataclasses.replace(coverage_of(rules, results, config, state.required), deselected=tuple(deselected))
    recording = state.recording
    return RunResult(
        fail_on=options.fail_on,
        waivers=tuple(printable_deep(redactor.deep(w)) for w in _waiver_states(results, config, options.today)),
        provider=state.pack.name,
        environment=state.environment,
        started_at=state.started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        duration_s=time.monotonic() - t0,
        verdict="not ready" if state.interrupted or coverage.required_not_probed else verdict_of(results, options.fail_on),
        coverage=coverage,
        context=context_of(config, state.pack, redactor, state.receiver),
        locations=locations_of(config),
        interrupted=state.interrupted,
        results=results,
        tool_version=__version__,
        config_file=None if config.path == "(built-in)" else Path(config.path).name,
        # what the client and the receiver were sent and answered, through the same seam as the evidence
        traffic=tuple(traffic.cleaned(entry, redactor.deep, printable_deep) for entry in recording.entries()) if recording else (),
        traffic_dropped=recording.dropped if recording is not None else 0,
    )
