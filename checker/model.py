"""The result model: rules as loaded, what a check returns, and a finished run."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"
    WAIVED = "waived"
    MANUAL = "manual"
    ATTESTED = "attested"


class Severity(enum.StrEnum):
    BLOCKER = "blocker"
    WARNING = "warning"
    INFO = "info"


# What a rule probes: the one place the targets are named (rules/catalog.yaml's `target:` is validated against it).
# The probed ones are what golive.yaml configures, `require:` names and a verdict's coverage speaks of, in this order;
# a manual item is attested by a person.
ProbedTarget = Literal["sandbox", "client", "webhook", "repo"]
Target = Literal[ProbedTarget, "manual"]
# what a rule's check needs: its target running, or only golive.yaml's settings of it (a catalog rule with `settings:`,
# HOOK-212 and BAL-001: they start nothing, take no --jobs slot and have a settings check's time bound)
Probe = Literal[Target, "config"]
PROBED_TARGETS: tuple[ProbedTarget, ...] = get_args(ProbedTarget)
TARGET_NAMES = {target: {"sandbox": "sandbox contract", "webhook": "webhook receiver"}.get(target, target) for target in PROBED_TARGETS}
BLOCKING = {Status.FAIL, Status.ERROR, Status.MANUAL}  # statuses that hold a go-live back (at the fail_on severity)


@dataclass(frozen=True, slots=True)
class Rule:
    """A catalog rule as one provider pack states it."""

    id: str
    title: str
    section: str
    target: Target
    severity: Severity
    checks: str
    why: str
    probe: str
    fix: str
    source: str | None = None
    cite: str | None = None  # the source document as a user finds it: "Title — URL"
    skip: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    # per fact the verdict rests on: {fact, value, documented, quote} or {fact, value, assumed} (checker/provenance.py)
    basis: tuple[Mapping[str, Any], ...] = ()
    # conflicts between the provider's documents on those facts: {about, quotes: [{document, quote}], reading, otherwise}
    readings: tuple[Mapping[str, Any], ...] = ()
    # the facts whose value decides the verdict (the catalog's `decides`; else all its facts): only these tag a failure
    decides: tuple[str, ...] = ()
    # per reading, in its order: {facts, named (the pack names this rule), values (the disputed ones)}
    reading_scopes: tuple[Mapping[str, Any], ...] = ()
    # the golive.yaml settings its check reads instead of probing a running target (the catalog's `settings:`)
    settings: tuple[str, ...] = ()

    @property
    def probes(self) -> Probe:
        """What its check needs: its target running, or (a settings rule) only golive.yaml."""
        return "config" if self.settings else self.target

    @property
    def assumptions(self) -> list[Mapping[str, Any]]:
        return [item for item in self.basis if "assumed" in item]

    def param(self, name: str, default: Any) -> Any:
        return self.params.get(name, default)


Evidence = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a check concludes about its target: a finding, with the evidence for it."""

    status: Status
    message: str
    evidence: tuple[Evidence, ...] = ()
    unset: bool = False  # a skip for a setting golive.yaml leaves out (not for what the documents do not cover)
    # the facts that decided this outcome, where a check knows better than its rule's `decides` (none: the rule's)
    decided_by: frozenset[str] | None = None
    # per deciding fact, the values that decided it (RETRY-105: the statuses retried): a reading disputing only
    # other values did not decide it
    decided_values: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    readings_decide: bool = True  # false: the failure stands under every reading the documents allow

    @classmethod
    def passed(cls, message: str, evidence: Sequence[Evidence] = ()) -> Outcome:
        return cls(Status.PASS, message, tuple(evidence))

    @classmethod
    def failed(cls, message: str, evidence: Sequence[Evidence] = ()) -> Outcome:
        return cls(Status.FAIL, message, tuple(evidence))

    @classmethod
    def skipped(cls, reason: str) -> Outcome:
        return cls(Status.SKIP, reason)

    @classmethod
    def not_set(cls, reason: str) -> Outcome:
        """Skipped because a setting is missing (repo.production_paths, client.batch_command…): a rule the user
        selected by id or prefix is then an error, not a skip — they asked for it to be probed (engine.run)."""
        return cls(Status.SKIP, reason, unset=True)


DURATION_DIGITS = 3  # a duration is kept to the millisecond from the start, so a render from report.json says the same


@dataclass(frozen=True, slots=True)
class Result:
    rule: Rule
    status: Status
    severity: Severity
    message: str
    duration_s: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    waiver: Mapping[str, Any] | None = None  # {rule, reason, by, expires, expired}: a waiver naming this rule
    attestation: Mapping[str, Any] | None = None  # {by, date, evidence}: who vouched for a manual item
    facts_read: frozenset[str] = frozenset()  # the pack facts the check read (checker/provenance.py): not reported
    started_s: float | None = None  # when its check started, in seconds from the run's start (None: decided without one)
    # a skip's kind, for "Not covered, and why": documents (the provider documents none), not configured, not implemented
    uncovered: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "duration_s", round(self.duration_s, DURATION_DIGITS))  # as report.json keeps it

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.waiver is not None:
            extra["waiver"] = dict(self.waiver)
        if self.attestation is not None:
            extra["attestation"] = dict(self.attestation)
        if self.started_s is not None:
            extra["started_s"] = round(self.started_s, 3)
        if self.uncovered is not None:
            extra["not_covered"] = self.uncovered
        return {
            "id": self.rule.id,
            "title": self.rule.title,
            "section": self.rule.section,
            "target": self.rule.target,
            "severity": self.severity.value,
            "status": self.status.value,
            "duration_s": self.duration_s,
            "message": self.message,
            "evidence": [dict(e) for e in self.evidence],
            "fix": self.rule.fix,
            "source": self.rule.source,
            "cite": self.rule.cite,
            # what the verdict rests on: per fact, documented (document, sentence) or assumed (why)
            "basis": [dict(item) for item in self.rule.basis],
            "readings": [dict(item) for item in self.rule.readings],
            **extra,
        }


@dataclass(frozen=True, slots=True)
class RunResult:
    provider: str
    environment: str
    started_at: str
    duration_s: float
    verdict: str
    interrupted: bool
    results: tuple[Result, ...]
    tool_version: str
    config_file: str | None = None  # the config's file name, for locations in SARIF
    fail_on: str = "blocker"
    waivers: tuple[Mapping[str, Any], ...] = ()  # every waiver in the config, with its state: applied | unused | expired
    # which targets were probed and which not: {probed: {target: [rule id]}, not_configured: {…}, could_not_probe: {…},
    # required: [target], required_not_probed: [target]} (engine.coverage_of)
    coverage: Mapping[str, Any] = field(default_factory=dict)
    # what was checked, for a reviewer: {config, git: {commit, dirty}, client, receiver, sandbox, pack: {name, path, digest}}
    context: Mapping[str, Any] = field(default_factory=dict)
    locations: Mapping[str, int] = field(default_factory=dict)  # target -> the config line that configures it (SARIF, annotations)
    # what the fault proxy and the webhook sender exchanged (with --format har: checker/traffic.py), redacted and
    # printable; not in report.json
    traffic: tuple[Mapping[str, Any], ...] = ()
    traffic_dropped: int = 0  # exchanges over traffic.MAX_EXCHANGES, not kept

    def __post_init__(self) -> None:
        object.__setattr__(self, "duration_s", round(self.duration_s, DURATION_DIGITS))  # as report.json keeps it

    # a reviewer's sign-off read back with a saved report (report/signoff.py): {by, decision, note, signed_at, digest,
    # intact}; not part of to_json: it signs the file it was written into, not a rendering of it
    signature: Mapping[str, Any] | None = None

    def not_probed(self) -> list[str]:
        """Blockers the pack covers that were skipped all the same, because of a setting in golive.yaml (KEY-003
        without repo.production_paths): a READY verdict says it did not look there."""
        return [r.rule.id for r in self.results if r.status is Status.SKIP and r.severity is Severity.BLOCKER and r.rule.skip is None]

    def verdict_label(self) -> str:
        """The verdict as people read it: READY over a partial set of targets says which it covers."""
        if self.verdict != "ready":
            return "NOT READY"
        probed = [TARGET_NAMES[t] for t in TARGET_NAMES if t in (self.coverage.get("probed") or {})]
        if not probed:  # a report from before coverage was recorded has none to speak of
            return "READY (nothing probed)" if self.coverage else "READY"
        if not self.coverage.get("not_configured") and not self.coverage.get("could_not_probe"):
            return "READY"
        named = probed[0] if len(probed) == 1 else f"{', '.join(probed[:-1])} and {probed[-1]}"
        return f"READY ({named} only)"

    def coverage_line(self) -> str:
        """Which targets were probed and which were not configured (required ones the verdict counts against)."""
        probed, missing = self.coverage.get("probed") or {}, self.coverage.get("not_configured") or {}
        required = set(self.coverage.get("required") or ())

        def listed(ids: Mapping[str, list[str]]) -> str:
            items = [(t, len(ids[t])) for t in TARGET_NAMES if t in ids]
            return ", ".join(f"{TARGET_NAMES[t]} ({n} rule{'s' * (n != 1)}{', required' if t in required else ''})" for t, n in items)

        parts = [f"probed: {listed(probed) or 'nothing'}"] if probed or missing or self.coverage.get("could_not_probe") else []
        if missing:
            parts.append(f"not configured: {listed(missing)}")
        if erred := self.coverage.get("could_not_probe") or {}:
            parts.append(f"configured, but every rule of it erred: {listed(erred)}")
        said = {*missing, *erred}
        unselected = [t for t in self.coverage.get("required_not_probed") or () if t not in said]  # the others: above
        if unselected:
            parts.append(f"required but no rule of it selected: {', '.join(unselected)}")
        return "; ".join(parts)

    def summary(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for result in self.results:
            counts[result.status.value] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "golive-report/1",
            "tool": {"name": "golive", "version": self.tool_version},
            "provider": self.provider,
            "environment": self.environment,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "verdict": self.verdict,
            "interrupted": self.interrupted,
            "fail_on": self.fail_on,
            "config_file": self.config_file,
            "summary": self.summary(),
            "coverage": dict(self.coverage),
            "context": dict(self.context),
            "locations": dict(self.locations),
            "waivers": [dict(w) for w in self.waivers],
            "results": [r.to_json() for r in self.results],
        }


def verdict_of(results: Iterable[Result], fail_on: str) -> str:
    severities = blocking_severities(fail_on)
    for result in results:
        if result.status in BLOCKING and result.severity in severities:
            return "not ready"
    return "ready"


def blocking_severities(fail_on: str) -> set[Severity]:
    """The severities whose failures hold the verdict back: blockers, and warnings too with `--fail-on warning`."""
    return {Severity.BLOCKER} | ({Severity.WARNING} if fail_on == "warning" else set())
