"""The rule engine: select rules, prepare targets, run checks concurrently and bounded, decide the verdict."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import difflib
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from checker import __version__, traffic
from checker.budget import BudgetExceeded, within
from checker.config import Config
from checker.context import context_of, locations_of
from checker.errors import ConfigError, GoliveError, ProbeError, Problem
from checker.model import (
    PROBED_TARGETS,
    Coverage,
    Outcome,
    Probe,
    Qualifier,
    QualifierKind,
    ReadingScope,
    Result,
    Rule,
    RunResult,
    Severity,
    Status,
    verdict_of,
)
from checker.packs import Pack, shown
from checker.printable import printable, printable_deep
from checker.provenance import READING, covers
from checker.redact import Redactor, remember
from checker.registry import Check
from checker.targets import Targets, missing, not_set_up, prepared_targets, unconfigured
from checker.yamlfile import dotted

DEFAULT_TIMEOUT_S: dict[Probe, float] = {"sandbox": 60.0, "client": 300.0, "webhook": 120.0, "repo": 120.0, "config": 30.0}
# which probes take a --jobs slot first: the client's wait out real backoff sleeps (the longest, ~18 s for
# mintfax), so a run that starts them first ends with them instead of queueing them behind quick ones;
# the static checks take no slot at all (see `guarded`)
START_ORDER: dict[Probe, int] = {"repo": 0, "config": 0, "client": 1, "webhook": 2, "sandbox": 3}
STATIC: set[Probe] = {"repo", "config"}

NOT_IMPLEMENTED = "not implemented in this version of golive"
Progress = Callable[[str, Rule, "Result | None"], None]


@dataclass(frozen=True)
class RunOptions:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    environment: str | None = None
    fail_on: str = "blocker"
    jobs: int = 16
    today: dt.date = field(default_factory=dt.date.today)
    require: tuple[str, ...] = ()  # --require: targets that must be configured and probed (with golive.yaml's require:)
    traffic: bool = False  # keep what the proxy and the webhook sender exchanged (RunResult.traffic, for --format har)
    require_none: bool = False  # --require none: no target required, whatever golive.yaml's require: says
    # --skip-unconfigured: a selected rule whose target or setting is left out skips (with the reason) instead of erring,
    # as long as the selection probed something (a pre-commit hook's key and document rules with no documents configured)
    skip_unconfigured: bool = False


def registered() -> dict[str, Check]:
    """Every built-in check: importing the probes registers them (the registry itself imports no probe)."""
    import checker.probes  # noqa: F401
    from checker import registry

    return registry.registered()


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
    # in the pack's section order (the catalog lists FILE-003, a sandbox rule, among the idempotency ones): every output
    # follows the results' order, so the terminal, the HTML, Markdown and JUnit show the sections alike
    order = {section: n for n, section in enumerate(pack.sections)}
    return sorted(chosen, key=lambda rule: order.get(rule.section, len(order)))


# ---------------------------------------------------------------- running


def _decided_without_targets(rule: Rule, config: Config, checks: dict[str, Check], demanded: str | None = None) -> Outcome | None:
    """The outcome of a rule that needs no probe and no target: skipped, manual, attested or not configured.
    A rule whose target the user `demanded` (required it) and did not configure is an error, not a skip: they asked
    for it to be probed. Not configured and only selected, it is a skip marked unset (engine.run decides, once it
    knows whether the selection probed anything)."""
    if rule.skip:
        return Outcome.skipped(rule.skip)
    if rule.target == "manual":
        attestation = config.file.attestations.get(rule.id)
        if attestation is None:
            return Outcome(Status.MANUAL, "needs a person's attestation in golive.yaml (attestations)")
        evidence = f": {attestation.evidence}" if attestation.evidence else ""
        return Outcome(Status.ATTESTED, f"attested by {attestation.by} on {attestation.date.isoformat()}{evidence}")
    if rule.id not in checks:
        return Outcome.skipped(NOT_IMPLEMENTED)
    reason = unconfigured(rule, config)
    if reason is None:
        return None
    return Outcome(Status.ERROR, f"{demanded}, but {reason}") if demanded else Outcome.not_set(reason)


COVERED = PROBED_TARGETS  # the targets a verdict's coverage speaks of (manual items are listed)


def required_targets(config: Config, options: RunOptions, rules: Iterable[Rule]) -> tuple[str, ...]:
    """The targets this run must probe: those golive.yaml's `require:` and `--require` name (none with `--require none`)
    that some selected rule the pack covers probes. A run is judged on what it selected: a pre-commit hook selecting the
    key rules, or `--select HOOK-201`, is not held back by a required target none of its rules probes."""
    wanted = set(options.require) if options.require_none else {*config.file.require, *options.require}
    selected = {rule.target for rule in rules if not rule.skip}
    return tuple(t for t in COVERED if t in wanted and t in selected)


def _demanded(rule: Rule, options: RunOptions, required: tuple[str, ...]) -> str | None:
    """Why a rule must be probed rather than skipped when its target is missing, in the user's words; None if not."""
    if rule.target in required:
        where = "--require" if rule.target in options.require else "require: in golive.yaml"
        return f"required ({where} names {rule.target})"
    return None


def _selected(config: Config, options: RunOptions) -> bool:
    """Every rule this run includes was named by id or prefix (--select, rules.select): each was asked to be probed."""
    return bool(options.select or config.file.rules.select)


PROBED = (Status.PASS, Status.FAIL, Status.WAIVED)  # a rule that judged its target


def _unprobed_selection(outcomes: dict[str, tuple[Outcome, float]], config: Config, options: RunOptions) -> bool:
    """Whether a selection's rules that a missing target or setting left unprobed are errors ("selected, but …"): a
    rule asked for by name or prefix must be probed, never a silent READY. With --skip-unconfigured (a pre-commit hook's
    key and document rules, where no documents are configured) a selection that probed some of its rules is judged on
    those, and its rules with nothing configured to judge skip with the reason, as in a whole run; one of which no
    rule judged anything still errs."""
    if not _selected(config, options):
        return False
    return not options.skip_unconfigured or not any(outcome.status in PROBED for outcome, _ in outcomes.values())


def coverage_of(rules: list[Rule], results: Iterable[Result], config: Config, required: tuple[str, ...]) -> Coverage:
    """Which targets this run probed (some rule of it judged: pass or fail), which it did not because golive.yaml does
    not configure them, and which are configured but no rule of them could judge (each erred), counted in the rules the
    pack covers (a rule the provider's documents do not cover is no gap); and the required targets not probed."""
    by_id = {r.rule.id: r for r in results}
    probed: dict[str, list[str]] = {}
    not_configured: dict[str, list[str]] = {}
    erred: dict[str, list[str]] = {}  # configured, but no rule of it could judge it (the receiver never came up…)
    for rule in rules:
        result = by_id.get(rule.id)
        if rule.target not in COVERED or rule.skip or result is None:
            continue
        if not_set_up(rule.target, config):  # whatever a settings check found
            not_configured.setdefault(rule.target, []).append(rule.id)
        elif result.status is Status.ERROR:
            erred.setdefault(rule.target, []).append(rule.id)
        elif result.status is not Status.SKIP:
            probed.setdefault(rule.target, []).append(rule.id)
    could_not = {target: ids for target, ids in erred.items() if target not in probed}  # a target some rule judged is probed
    # not configured, could not be probed, or no rule of it selected: not ready either way, whatever its rules' severities
    unprobed = [t for t in required if t not in probed]
    return Coverage(
        probed={target: tuple(ids) for target, ids in probed.items()},
        not_configured={target: tuple(ids) for target, ids in not_configured.items()},
        could_not_probe={target: tuple(ids) for target, ids in could_not.items()},
        required=tuple(required),
        required_not_probed=tuple(unprobed),
    )


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


def _severity(rule: Rule, config: Config, environment: str) -> Severity:
    if rule.id in config.file.rules.severity:
        return config.file.rules.severity[rule.id]
    if environment == "live" and rule.target == "manual":
        return Severity.BLOCKER
    return rule.severity


def _waiver_of(rule: Rule, config: Config, today: dt.date) -> dict[str, object] | None:
    for waiver in config.file.waivers:
        if waiver.rule == rule.id:
            expires = waiver.expires.isoformat()
            return {"rule": rule.id, "reason": waiver.reason, "by": waiver.by, "expires": expires, "expired": waiver.expires < today}
    return None


def _apply_waiver(outcome: Outcome, waiver: dict[str, object] | None) -> Outcome:
    """A failure under an unexpired waiver becomes `waived`; an expired waiver covers nothing and says so."""
    if outcome.status is not Status.FAIL or waiver is None:
        return outcome
    if waiver["expired"]:
        return Outcome(Status.FAIL, f"{outcome.message} (the waiver by {waiver['by']} expired on {waiver['expires']})", outcome.evidence)
    return Outcome(
        Status.WAIVED, f"{outcome.message} — waived by {waiver['by']} until {waiver['expires']}: {waiver['reason']}", outcome.evidence
    )


def _waiver_states(results: Iterable[Result], config: Config, today: dt.date) -> tuple[dict[str, object], ...]:
    """Every waiver in the config and what became of it: applied, unused (its rule did not fail), expired."""
    by_rule = {r.rule.id: r for r in results}
    states: list[dict[str, object]] = []
    for waiver in config.file.waivers:
        result = by_rule.get(waiver.rule)
        state = "expired" if waiver.expires < today else "applied" if result and result.status is Status.WAIVED else "unused"
        states.append(
            {"rule": waiver.rule, "reason": waiver.reason, "by": waiver.by, "expires": waiver.expires.isoformat(), "state": state}
        )
    return tuple(states)


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
        return _result(rule, *self.outcomes[rule.id], self.config, self.environment, self.options, self.redactor, self.reads.get(rule.id))

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


def deciding(rule: Rule, outcome: Outcome) -> frozenset[str]:
    """The facts that decided this outcome: the check's own account, else the rule's `decides` (rules/catalog.yaml)."""
    return outcome.decided_by if outcome.decided_by is not None else frozenset(rule.decides)


def _assumed(rule: Rule, reads: set[str], provider: str, outcome: Outcome | None = None) -> Qualifier | None:
    """What a failure stands on when it rests on golive's assumptions rather than the provider's documents: the facts
    its check read that the pack marks assumed and that decided the verdict (had one been otherwise, the verdict
    could differ: the rule's `decides`, or the outcome's `decided_by`), and how to state the provider's real
    behaviour instead. A fact that only shaped the probe (the body sent, a test value, an event's data) is not named."""
    reads = {shown(read) for read in reads}  # as the basis names its facts (a pack's mapping keys are its words)
    decided = {shown(path) for path in deciding(rule, outcome or Outcome(Status.FAIL, ""))}
    facts = [
        item
        for item in rule.assumptions
        if any(covers(read, item.fact) or covers(item.fact, read) for read in reads)
        and any(covers(path, item.fact) or covers(item.fact, path) for path in decided)
    ]
    if not facts:
        return None
    named = ", ".join(f"{item.fact} = {item.value}" if len(item.value) <= 24 else str(item.fact) for item in facts)
    text = (
        f"[rests on golive's assumption{'s' * (len(facts) > 1)}, not the provider's documents: {named} "
        f"(why: golive explain {rule.id} --provider {provider}); if the provider documents otherwise, state it in a pack "
        "that extends this one (docs/packs.md, 'Writing a rule pack')]"
    )
    return Qualifier(kind=QualifierKind.ASSUMED, facts=tuple(item.fact for item in facts), text=text)


def _decided_by_reading(rule: Rule, outcome: Outcome, scope: ReadingScope) -> bool:
    """Whether a reading golive took between disagreeing documents decided this failure: the check does not say the
    failure stands under every reading, the pack names the rule or the reading sets a deciding fact, and — where the
    pack says which values are disputed — some deciding value is one of them."""
    if not outcome.readings_decide:
        return False
    decided = deciding(rule, outcome)
    facts = list(scope.facts)
    if not scope.named and not any(covers(a, b) or covers(b, a) for a in decided for b in facts):
        return False
    disputed = set(scope.values)
    if disputed:
        values = [set(outcome.decided_values[fact]) for fact in facts if fact in outcome.decided_values]
        if values and not all(value <= disputed for value in values):
            return False  # a deciding value no reading disputes: the failure stands either way
    return True


def _readings(rule: Rule, provider: str, outcome: Outcome | None = None) -> Qualifier | None:
    """What a failure stands on when the provider's documents disagree on what decided it: that golive took one
    reading, which, and where the other is (one pack setting away: `golive explain`)."""
    scopes = rule.reading_scopes or tuple(ReadingScope() for _ in rule.readings)
    taken = [r for r, scope in zip(rule.readings, scopes, strict=False) if outcome is None or _decided_by_reading(rule, outcome, scope)]
    if not taken:
        return None
    about = "; ".join(f"{r.about} (golive reads: {r.reading})" for r in taken)
    text = f"[the provider's documents disagree on {about}; the other reading: golive explain {rule.id} --provider {provider}]"
    return Qualifier(kind=QualifierKind.DISPUTED, facts=tuple(r.about for r in taken), text=text)


def _qualifiers(rule: Rule, outcome: Outcome, provider: str, reads: set[str] | None) -> tuple[Qualifier, ...]:
    """What a failure's verdict stands on beside its message: golive's assumptions, then a reading between documents."""
    if outcome.status is not Status.FAIL or not (reads or rule.readings):
        return ()
    found = (_assumed(rule, reads or set(), provider, outcome), _readings(rule, provider, outcome))
    return tuple(q for q in found if q is not None)


def _result(
    rule: Rule,
    outcome: Outcome,
    duration: float,
    config: Config,
    environment: str,
    options: RunOptions,
    redactor: Redactor,
    reads: set[str] | None = None,
) -> Result:
    waiver = _waiver_of(rule, config, options.today)
    qualifiers = _qualifiers(rule, outcome, config.file.provider, reads)  # before a waiver turns the failure to waived
    outcome = _apply_waiver(outcome, waiver)
    attestation = config.file.attestations.get(rule.id) if outcome.status is Status.ATTESTED else None
    # the one seam between what targets said and every renderer: secrets masked, then made printable
    return Result(
        rule=rule,
        status=outcome.status,
        severity=_severity(rule, config, environment),
        message=printable(redactor.text(outcome.message), one_line=True),
        qualifiers=tuple(dataclasses.replace(q, text=printable(redactor.text(q.text), one_line=True)) for q in qualifiers),
        duration_s=duration,
        facts_read=frozenset(reads or ()),
        evidence=tuple(printable_deep(redactor.deep(dict(e))) for e in outcome.evidence),
        waiver=printable_deep(redactor.deep(waiver)) if waiver else None,
        uncovered=_uncovered(outcome),
        attestation=(
            printable_deep(redactor.deep({"by": attestation.by, "date": attestation.date.isoformat(), "evidence": attestation.evidence}))
            if attestation
            else None
        ),
    )


def _uncovered(outcome: Outcome) -> str | None:
    """Why a skipped rule covers nothing, for the reviewer's "Not covered, and why": a setting or target left out of
    golive.yaml (Outcome.not_set), no check in this version, or else what the provider's documents do not state (a
    pack's `skip:`, or a check that finds the fact it needs unset: no key prefix, no signed timestamp)."""
    if outcome.status is not Status.SKIP:
        return None
    if outcome.unset:
        return "not configured"
    return "not implemented" if outcome.message == NOT_IMPLEMENTED else "documents"
