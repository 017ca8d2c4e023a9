"""Which rules a run includes and what it asks of them: `--select`/`--ignore` and `rules:` checked against the pack,
the rules decided before any target starts (skipped, manual, attested, not configured), the targets `require:` makes
the run probe, and what a run's coverage says it probed. The engine (checker/engine.py) runs what this selects."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from checker.config import Config
from checker.errors import ConfigError, Problem
from checker.model import PROBED_TARGETS, Coverage, Outcome, Result, Rule, Status
from checker.packs import Pack
from checker.registry import Check
from checker.targets import not_set_up, unconfigured
from checker.yamlfile import dotted

NOT_IMPLEMENTED = "not implemented in this version of golive"


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
