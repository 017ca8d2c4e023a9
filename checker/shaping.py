"""From a check's outcome to the `Result` every output shows: the severity for the environment, a waiver, the
qualifiers a failure carries (an assumed or contested fact that decided it: catalog `decides:`, `Outcome.decided_by`),
and the one seam where what targets said is masked and made printable. The engine (checker/engine.py) calls it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from checker.config import Config
from checker.model import Outcome, Qualifier, QualifierKind, ReadingScope, Result, Rule, Severity, Status
from checker.packs import shown
from checker.printable import printable, printable_deep
from checker.provenance import covers
from checker.redact import Redactor
from checker.selection import NOT_IMPLEMENTED, RunOptions


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


@dataclass(frozen=True)
class Shaping:
    """What a run's results are shaped by: its config (severities, waivers, attestations), environment, options (the
    day waivers are judged on) and the redactor of the secrets it knows."""

    config: Config
    environment: str
    options: RunOptions
    redactor: Redactor


def _result(rule: Rule, outcome: Outcome, duration: float, shaping: Shaping, reads: set[str] | None = None) -> Result:
    config, environment, options, redactor = shaping.config, shaping.environment, shaping.options, shaping.redactor
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
