"""The result model: rules as loaded, what a check returns, and a finished run."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args


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


# ---------------------------------------------------------------- what a verdict rests on
# A rule's basis is one item per provider fact its verdict reads: the three kinds are told apart by their type; in
# report.json by the key each adds after `fact` and `value` (`documented` and `quote`, `assumed`, `unstated`).


@dataclass(frozen=True, slots=True, kw_only=True)
class Documented:
    """A fact the provider's documents state: the document ("Title — URL") and the sentence."""

    fact: str
    value: str  # the fact's value as JSON text, cut (packs._basis)
    documented: str
    quote: str

    def to_json(self) -> dict[str, str]:
        return {"fact": self.fact, "value": self.value, "documented": self.documented, "quote": self.quote}


@dataclass(frozen=True, slots=True, kw_only=True)
class Assumed:
    """A fact golive assumes because no document of the pack states it, and why."""

    fact: str
    value: str
    assumed: str

    def to_json(self) -> dict[str, str]:
        return {"fact": self.fact, "value": self.value, "assumed": self.assumed}


@dataclass(frozen=True, slots=True, kw_only=True)
class Unstated:
    """A fact the pack sets without saying where it comes from."""

    fact: str
    value: str
    unstated: str  # UNSTATED: why there is no document or assumption to show

    def to_json(self) -> dict[str, str]:
        return {"fact": self.fact, "value": self.value, "unstated": self.unstated}


Basis = Documented | Assumed | Unstated
UNSTATED = "the pack does not say where this comes from"


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    document: str  # "Title — URL"
    quote: str

    def to_json(self) -> dict[str, str]:
        return {"document": self.document, "quote": self.quote}


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """Where the provider's documents disagree on a fact a rule rests on, and the reading golive takes."""

    about: str
    quotes: tuple[Quote, ...] = ()
    reading: str
    otherwise: str

    def to_json(self) -> dict[str, Any]:
        return {"about": self.about, "quotes": [q.to_json() for q in self.quotes], "reading": self.reading, "otherwise": self.otherwise}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingScope:
    """What one reading touches (not reported): the facts it sets, whether the pack names the rule, the values it
    disputes (none: all of them)."""

    facts: tuple[str, ...] = ()
    named: bool = True
    values: tuple[Any, ...] = ()


class QualifierKind(enum.StrEnum):
    ASSUMED = "assumed"  # the failure rests on golive's assumptions, not the provider's documents
    DISPUTED = "disputed"  # the provider's documents disagree on what decided it; golive took one reading


@dataclass(frozen=True, slots=True, kw_only=True)
class Qualifier:
    """What a failure's verdict stands on beside its message (engine._result): shown after the message in the checklist
    and on the rule's card, named in the triage lists (`words`)."""

    kind: QualifierKind
    facts: tuple[str, ...]  # the assumed facts, or what the documents disagree about
    text: str  # the sentence shown after the message: "[rests on golive's assumption, …]"

    @property
    def words(self) -> str:
        return QUALIFIER_WORDS[self.kind]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "facts": list(self.facts), "text": self.text}


QUALIFIER_WORDS = {QualifierKind.ASSUMED: "rests on golive's assumptions", QualifierKind.DISPUTED: "documents disagree"}


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
    # per fact the verdict rests on: documented (a document and its sentence), assumed (why) or unstated
    basis: tuple[Basis, ...] = ()
    # conflicts between the provider's documents on those facts, with the reading golive takes
    readings: tuple[Reading, ...] = ()
    # the facts whose value decides the verdict (the catalog's `decides`; else all its facts): only these tag a failure
    decides: tuple[str, ...] = ()
    # per reading, in its order: what the engine needs to tell whether that reading decided a failure
    reading_scopes: tuple[ReadingScope, ...] = ()
    # the golive.yaml settings its check reads instead of probing a running target (the catalog's `settings:`)
    settings: tuple[str, ...] = ()

    @property
    def probes(self) -> Probe:
        """What its check needs: its target running, or (a settings rule) only golive.yaml."""
        return "config" if self.settings else self.target

    @property
    def assumptions(self) -> list[Assumed]:
        return [item for item in self.basis if isinstance(item, Assumed)]

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
    message: str  # what the check said (redacted, printable, one line); the qualifiers are not in it
    duration_s: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    waiver: Mapping[str, Any] | None = None  # {rule, reason, by, expires, expired}: a waiver naming this rule
    attestation: Mapping[str, Any] | None = None  # {by, date, evidence}: who vouched for a manual item
    facts_read: frozenset[str] = frozenset()  # the pack facts the check read (checker/provenance.py): not reported
    started_s: float | None = None  # when its check started, in seconds from the run's start (None: decided without one)
    # a skip's kind, for "Not covered, and why": documents (the provider documents none), not configured, not implemented
    uncovered: str | None = None
    # what a failure's verdict stands on beside its message: golive's assumptions, a reading between documents
    qualifiers: tuple[Qualifier, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "duration_s", round(self.duration_s, DURATION_DIGITS))  # as report.json keeps it
        if self.started_s is not None:
            object.__setattr__(self, "started_s", round(self.started_s, DURATION_DIGITS))

    @property
    def full_message(self) -> str:
        """The message with its qualifiers after it, as the checklist, the cards and report.json's `message` show it."""
        return "".join([self.message, *(" " + q.text for q in self.qualifiers)])

    def to_json(self) -> dict[str, Any]:
        return ReportEntry.of(self).to_json()


# ---------------------------------------------------------------- what a run covered and what it checked


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """Which targets a run probed and which not, each with its rules' ids (engine.coverage_of, merge.merged_coverage)."""

    probed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    not_configured: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    could_not_probe: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # configured, but every rule of it erred
    required: tuple[str, ...] = ()
    required_not_probed: tuple[str, ...] = ()
    deselected: tuple[str, ...] = ()  # the pack's rules the run left out (--select, --ignore, rules:)

    def to_json(self) -> dict[str, Any]:
        def ids(by_target: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
            return {target: list(rules) for target, rules in by_target.items()}

        return {
            "probed": ids(self.probed),
            "not_configured": ids(self.not_configured),
            "could_not_probe": ids(self.could_not_probe),
            "required": list(self.required),
            "required_not_probed": list(self.required_not_probed),
            "deselected": list(self.deselected),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GitState:
    """The integration's working tree: its commit ("" before the first), whether git shows changes, and where the config
    sits in the repository ("services/fax/")."""

    commit: str
    dirty: bool = False
    changed_files: int = 0
    folder: str = ""
    no_commits: bool = False  # a repository without commits yet: commit is ""

    def to_json(self) -> dict[str, Any]:
        state: dict[str, Any] = {"commit": self.commit, "dirty": self.dirty, "changed_files": self.changed_files, "folder": self.folder}
        return {**state, "no_commits": True} if self.no_commits else state


@dataclass(frozen=True, slots=True, kw_only=True)
class PackIdentity:
    """A pack by name and by content: the first 12 hex digits of its file's SHA-256."""

    name: str
    title: str = ""
    path: str = ""
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "path": self.path, "sha256": self.sha256}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunContext:
    """What was checked, for a reviewer (context.context_of): the config, the commit, the commands, the pack."""

    config: str | None = None
    git: GitState | None = None
    sandbox: str | None = None
    client: str | None = None
    receiver: str | None = None
    webhook_url: str | None = None
    register: str | None = None
    pack: PackIdentity | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "git": self.git.to_json() if self.git else None,
            "sandbox": self.sandbox,
            "client": self.client,
            "receiver": self.receiver,
            "webhook_url": self.webhook_url,
            "register": self.register,
            "pack": self.pack.to_json() if self.pack else None,
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
    coverage: Coverage | None = None  # which targets were probed and which not (None: a report from before it was recorded)
    context: RunContext | None = None  # what was checked, for a reviewer (None: a report from before it was recorded)
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
        coverage = self.coverage
        probed = [TARGET_NAMES[t] for t in TARGET_NAMES if coverage and t in coverage.probed]
        if not probed:  # a report from before coverage was recorded has none to speak of
            return "READY (nothing probed)" if coverage else "READY"
        assert coverage is not None
        if not coverage.not_configured and not coverage.could_not_probe:
            return "READY"
        named = probed[0] if len(probed) == 1 else f"{', '.join(probed[:-1])} and {probed[-1]}"
        return f"READY ({named} only)"

    def coverage_line(self) -> str:
        """Which targets were probed and which were not configured (required ones the verdict counts against)."""
        coverage = self.coverage or Coverage()
        probed, missing, required = coverage.probed, coverage.not_configured, set(coverage.required)

        def listed(ids: Mapping[str, tuple[str, ...]]) -> str:
            items = [(t, len(ids[t])) for t in TARGET_NAMES if t in ids]
            return ", ".join(f"{TARGET_NAMES[t]} ({n} rule{'s' * (n != 1)}{', required' if t in required else ''})" for t, n in items)

        parts = [f"probed: {listed(probed) or 'nothing'}"] if probed or missing or coverage.could_not_probe else []
        if missing:
            parts.append(f"not configured: {listed(missing)}")
        if erred := coverage.could_not_probe:
            parts.append(f"configured, but every rule of it erred: {listed(erred)}")
        said = {*missing, *erred}
        unselected = [t for t in coverage.required_not_probed if t not in said]  # the others: above
        if unselected:
            parts.append(f"required but no rule of it selected: {', '.join(unselected)}")
        return "; ".join(parts)

    def summary(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for result in self.results:
            counts[result.status.value] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return ReportFile.of(self).to_json()


# ---------------------------------------------------------------- report.json (schema golive-report/1)
# The file's shape as types: the writer (`to_json`), the reader (report/load.py validates a file into them) and the
# JSON Schema (`golive schema report`, generated from them) share these definitions.

REPORT_SCHEMA: Literal["golive-report/1"] = "golive-report/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool:
    name: str = "golive"
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportEntry:
    """One rule's result as report.json keeps it: the rule's words beside the result."""

    id: str
    title: str
    section: str
    target: str
    severity: Severity
    status: Status
    duration_s: float = 0.0
    message: str  # with its qualifiers' text after it (as every golive before qualifiers were data wrote it)
    evidence: tuple[dict[str, Any], ...] = ()
    fix: str = ""
    source: str | None = None
    cite: str | None = None
    basis: tuple[Basis, ...] = ()
    readings: tuple[Reading, ...] = ()
    waiver: dict[str, Any] | None = None
    attestation: dict[str, Any] | None = None
    started_s: float | None = None  # when its check started, from the run's start
    not_covered: Literal["documents", "not configured", "not implemented"] | None = None
    qualifiers: tuple[Qualifier, ...] = ()  # written only where there are some

    @classmethod
    def of(cls, result: Result) -> ReportEntry:
        rule = result.rule
        return cls(
            id=rule.id,
            title=rule.title,
            section=rule.section,
            target=rule.target,
            severity=result.severity,
            status=result.status,
            duration_s=result.duration_s,
            message=result.full_message,
            evidence=tuple(dict(e) for e in result.evidence),
            fix=rule.fix,
            source=rule.source,
            cite=rule.cite,
            basis=rule.basis,
            readings=rule.readings,
            waiver=dict(result.waiver) if result.waiver is not None else None,
            attestation=dict(result.attestation) if result.attestation is not None else None,
            started_s=result.started_s,
            not_covered=cast(Any, result.uncovered),
            qualifiers=result.qualifiers,
        )

    @property
    def own_message(self) -> str:
        """`message` without its qualifiers' text (which report.json keeps after it, for readers of the text alone)."""
        suffix = "".join(" " + q.text for q in self.qualifiers)
        return self.message[: len(self.message) - len(suffix)] if suffix and self.message.endswith(suffix) else self.message

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.waiver is not None:
            extra["waiver"] = dict(self.waiver)
        if self.attestation is not None:
            extra["attestation"] = dict(self.attestation)
        if self.started_s is not None:
            extra["started_s"] = self.started_s
        if self.not_covered is not None:
            extra["not_covered"] = self.not_covered
        if self.qualifiers:
            extra["qualifiers"] = [q.to_json() for q in self.qualifiers]
        return {
            "id": self.id,
            "title": self.title,
            "section": self.section,
            "target": self.target,
            "severity": self.severity.value,
            "status": self.status.value,
            "duration_s": self.duration_s,
            "message": self.message,
            "evidence": [dict(e) for e in self.evidence],
            "fix": self.fix,
            "source": self.source,
            "cite": self.cite,
            # what the verdict rests on: per fact, documented (document, sentence) or assumed (why)
            "basis": [item.to_json() for item in self.basis],
            "readings": [item.to_json() for item in self.readings],
            **extra,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFile:
    """report.json as a whole."""

    schema: Literal["golive-report/1"]
    tool: Tool
    provider: str
    environment: str
    started_at: str
    duration_s: float
    verdict: Literal["ready", "not ready"]
    interrupted: bool = False
    fail_on: Literal["blocker", "warning"] = "blocker"
    config_file: str | None = None
    summary: dict[str, int] = field(default_factory=dict)  # results per status (written; a reader counts them again)
    coverage: Coverage | None = None  # written {} where a run recorded none
    context: RunContext | None = None  # likewise
    locations: dict[str, int] = field(default_factory=dict)
    waivers: tuple[dict[str, Any], ...] = ()
    results: tuple[ReportEntry, ...]

    @classmethod
    def of(cls, run: RunResult) -> ReportFile:
        return cls(
            schema=REPORT_SCHEMA,
            tool=Tool(version=run.tool_version),
            provider=run.provider,
            environment=run.environment,
            started_at=run.started_at,
            duration_s=run.duration_s,
            verdict=cast(Any, run.verdict),
            interrupted=run.interrupted,
            fail_on=cast(Any, run.fail_on),
            config_file=run.config_file,
            summary=run.summary(),
            coverage=run.coverage,
            context=run.context,
            locations=dict(run.locations),
            waivers=tuple(dict(w) for w in run.waivers),
            results=tuple(ReportEntry.of(r) for r in run.results),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "tool": {"name": self.tool.name, "version": self.tool.version},
            "provider": self.provider,
            "environment": self.environment,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "verdict": self.verdict,
            "interrupted": self.interrupted,
            "fail_on": self.fail_on,
            "config_file": self.config_file,
            "summary": dict(self.summary),
            "coverage": self.coverage.to_json() if self.coverage else {},
            "context": self.context.to_json() if self.context else {},
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
