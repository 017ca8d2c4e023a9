"""Rule packs: the shared catalog (rules/catalog.yaml) joined with one provider's facts and overrides."""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import difflib
import json
import re
import string
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import yaml

from checker.envelope import DEFAULT_BODY, DEFAULT_FIELDS_AT
from checker.errors import ConfigError, Problem
from checker.linear_regex import LinearPattern, PatternError
from checker.model import UNSTATED, Assumed, Basis, Documented, Reading, ReadingScope, Rule, Severity, Unstated
from checker.model import Quote as QuoteShown
from checker.printable import printable
from checker.provenance import FactsModel, covers
from checker.schema import Strict, validate
from checker.signing import SigningScheme
from checker.yamlfile import Expect, YamlDocument, load_yaml, top_level_keys

RULE_ID = re.compile(r"^[A-Z]{2,8}-\d{3}$")
BUILTIN_PACKS = ("mintfax", "idunox", "flexforward", "square", "checkout", "adyen", "stripe", "gocardless", "lob")


def data_dir(name: str) -> Path:
    """`rules/` or `reports/`: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"golive's {name}/ folder is missing from the installation ({here})")


# ---------------------------------------------------------------- the catalog


class CatalogRule(Strict):
    id: str
    title: str
    section: str
    target: Literal["sandbox", "client", "webhook", "repo", "manual"]
    severity: Severity
    checks: str
    why: str
    probe: str
    fix: str
    facts: list[str] = []  # the provider facts its verdict rests on (paths into a pack's facts: "retry.base_s", "magic")
    # which of `facts` decide its verdict: had one of them been otherwise, the same integration could get another
    # verdict (the rest only shape how golive asks: the body it sends, its test values, a delivery's event); unset:
    # all of `facts`. Only an assumed or contested fact in here tags a failure "rests on golive's assumptions" or
    # "documents disagree" (checker/engine.py); a check may narrow it for one outcome (Outcome.decided_by)
    decides: list[str] | None = None

    @pydantic.model_validator(mode="after")
    def _decides_among_facts(self) -> CatalogRule:
        stray = [path for path in self.decides or () if not any(covers(fact, path) for fact in self.facts)]
        if stray:
            raise ValueError(f"decides names facts the rule does not rest on: {', '.join(stray)} (add them to facts)")
        return self

    # golive's own rule: it judges golive.yaml, not the provider, so it applies whatever a pack's documents say (KEY-004)
    every_pack: bool = False


class Catalog(Strict):
    schema_: Literal["golive-catalog/1"] = pydantic.Field(alias="schema")
    sections: list[str]
    rules: list[CatalogRule]


# ---------------------------------------------------------------- rule texts: templates filled from a pack's facts

TEXTS = ("title", "checks", "why", "probe", "fix")
WORDS = ("create.noun",)  # facts that only word the rules' texts: no verdict rests on them
NEUTRAL = {"create.noun": "resource"}  # else a placeholder reads <retry.max_attempts>: the pack's value goes there
# {retry.max_attempts} or {idempotency.max_length|255}: a fact of the pack, or the words after | when it is unset;
# ${VAR} (an environment variable in a config example) is text
PLACEHOLDER = re.compile(r"(?<!\$)\{([a-z_][a-z0-9_.]*)(?:\|([^{}]*))?\}")


def shown(text: str) -> str:
    """Text a pack wrote, as every output receives it: one printable line. The seam for pack text, as the engine's
    `_result` is for a target's: a pack is a file users download from a third party, so its words (the facts that
    fill a rule's texts, skip reasons, sources, document titles, quotes, assumptions, readings, its title) pass
    here once, when the pack is loaded, and no output receives a control character, a terminal escape or a line
    break from one; each renderer still escapes for its format (Markdown, HTML, workflow commands, YAML)."""
    return printable(text.strip(), one_line=True)


def filled(text: str, facts: Facts | None) -> str:
    """A rule's text in the pack's own numbers and words: "at most 3 attempts" for a provider documenting 3. Without
    a pack (the catalog on its own: `golive rules`, `explain` without --provider), every placeholder's fallback.
    A pack's value goes in as `shown` makes it: the rule's text stays one printable line."""

    def one(match: re.Match[str]) -> str:
        if facts is None:
            return match.group(2) if match.group(2) is not None else NEUTRAL.get(match.group(1), f"<{match.group(1)}>")
        value = fact_value(facts, match.group(1))
        if value is None or value == [] or value == {}:
            return match.group(2) if match.group(2) is not None else "the documented value"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, list):
            return shown(", ".join(str(v) for v in value))
        return f"{value:,}" if isinstance(value, int) and value >= 10_000 else shown(str(value))

    return PLACEHOLDER.sub(one, text)


# ---------------------------------------------------------------- provider facts

# A pack is a third party's file, and an endpoint in it is a path on the sandbox golive.yaml names, never a place of
# its own: httpx sends a request for `http://other-host/…` (or `//other-host/…`) there, with the API key. So a path
# starts with one '/' and holds only what RFC 3986 allows in a path (no backslash, space, control character, query or
# fragment; anything else percent-encoded); `{id}` (the created resource's id) only where the field says so.
PATH_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@/")


def path_problem(path: str, placeholders: tuple[str, ...] = ()) -> str | None:
    """Why `path` is not an endpoint path on the sandbox (None: it is one)."""
    if not path.startswith("/"):
        url = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", path) or "." in path.split("/", 1)[0]
        return ("a URL where a path belongs" if url else "not a path") + ": an endpoint is a path on sandbox.url, starting with '/'"
    if path.startswith("//"):
        return "starts with '//', which names a host: an endpoint is a path on sandbox.url, with one '/'"
    rest = path
    for name in placeholders:
        rest = rest.replace("{" + name + "}", "")
    bad = next((c for c in rest if c not in PATH_CHARACTERS), None)
    if bad is None:
        return None
    if bad == "\\":
        return "holds a backslash, which some URL parsers read as '/': write '/'"
    if bad in "?#":
        return f"holds {bad!r}: an endpoint is a path, without a query or fragment"
    if bad in "{}":
        allowed = ", ".join("{" + name + "}" for name in placeholders)
        return f"holds {bad!r}: " + (f"{allowed} is the only placeholder here" if allowed else "no placeholder is filled in here")
    if not bad.isprintable() or bad.isspace():
        return f"holds a control character or a space ({bad!r}): write it percent-encoded"
    return f"holds {bad!r}, which a path does not: write it percent-encoded"


def _endpoint(placeholders: tuple[str, ...]) -> pydantic.AfterValidator:
    def valid(path: str) -> str:
        problem = path_problem(path, placeholders)
        if problem:
            raise ValueError(problem)
        return path

    return pydantic.AfterValidator(valid)


def _schema_pattern(placeholders: tuple[str, ...]) -> Any:
    """The same rule for editors, in the JSON Schema (`golive schema pack`)."""
    one = "[A-Za-z0-9._~%!$&'()*+,;=:@/-]"  # PATH_CHARACTERS
    pattern = "^/(?!/)(" + "|".join([one, *("\\{" + name + "\\}" for name in placeholders)]) + ")*$"
    return pydantic.Field(json_schema_extra={"pattern": pattern})


EndpointPath = Annotated[str, _endpoint(()), _schema_pattern(())]  # an endpoint of the provider: a path on the sandbox
ReadPath = Annotated[str, _endpoint(("id",)), _schema_pattern(("id",))]  # where one resource is read: `{id}` is its id


class KeyFormat(FactsModel):
    """A key's body after its prefix, as the provider (or its SDK's key check) states it: `length` characters, each
    one of `alphabet`. The keys golive makes for its embedded sandbox (the team's, the contract's, one per client
    run) follow it, so an SDK that checks a key's shape takes them (checkout-sdk: `^sk_(sbox_)?[a-z2-7]{26}[a-z2-7*#$=]$`)."""

    alphabet: Annotated[str, pydantic.StringConstraints(min_length=2)]
    length: Annotated[int, pydantic.Field(ge=8, le=255)]

    def fits(self, body: str) -> bool:
        return len(body) == self.length and all(c in self.alphabet for c in body)


class KeyFacts(FactsModel):
    """Key kinds by prefix. test and live: API keys (secret or restricted), valid as sandbox.api_key in their
    environment; live ones must never be committed (KEY-002), test ones not in production paths (KEY-003).
    publishable: meant for front-end code, so committing one is no finding, and it is never an API key (KEY-001).
    webhook_secret: a webhook signing secret, which must never be committed either (KEY-002)."""

    test_prefixes: list[str] = []
    live_prefixes: list[str] = []
    publishable_prefixes: list[str] = []
    webhook_secret_prefixes: list[str] = []
    # how a key may be sent in Authorization (where no api_key_header names a header of its own): `bearer` (Bearer
    # <key>) and/or `basic` (HTTP Basic with the key as the user name and no password, as Stripe's API reference shows
    # with curl -u sk_test_…:). The embedded sandbox accepts each style listed.
    schemes: list[Literal["bearer", "basic"]] = ["bearer"]
    format: KeyFormat | None = None  # what follows the test prefix in a key, where the provider documents it


class FileSpec(FactsModel):
    field: str
    kind: str = "pdf"


class CreateFacts(FactsModel):
    path: EndpointPath
    method: Literal["POST"] = "POST"
    # json; multipart (fields and a file); form (application/x-www-form-urlencoded, nested objects as a[b]=c)
    encoding: Literal["multipart", "json", "form"]
    fields: dict[str, str] = {}
    alternate_fields: dict[str, str] = {}
    invalid_fields: dict[str, str] = {}
    file: FileSpec | None = None
    body: dict[str, Any] | None = None
    alternate_body: dict[str, Any] | None = None
    invalid_body: dict[str, Any] | None = None
    created_status: int = 201
    id_field: str = "id"
    # the shape of every id a create answers, where a document shows it (Stripe: pi_…): a regular expression the whole
    # id matches; IDEM-001 fails an id without it. Unset: any id
    id_pattern: str | None = None
    status_field: str | None = None
    noun: str = "resource"  # what one create makes, in the rules' words: "a second fax", "a second payment"

    @pydantic.field_validator("id_pattern")
    @classmethod
    def _id_pattern_compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:  # run in RE2 like sandbox.patterns: a pack's pattern over a target's text is linear time
                LinearPattern(pattern)
            except PatternError as exc:
                raise ValueError(f"{pattern!r} is not a regular expression golive runs ({exc}); RE2's syntax") from None
        return pattern


class MismatchError(FactsModel):
    """A reused key with a different body is refused: this status, with this error code (or type)."""

    status: int
    code: str


class ReplayFacts(FactsModel):
    """How a request with a used key is answered: the first answer again (`status: same`, or that answer under another
    status), or an error that names the resource the key already made (GoCardless: 409 `invalid_state`, its errors'
    reason `idempotent_creation_conflict` and `links.conflicting_resource_id`, which its SDK follows with a GET): then
    `status` is the error's, `code` its code (or reason) and `existing_id_at` where in the answer the resource's id is."""

    status: Literal["same"] | int = "same"
    headers: dict[str, str] = {}
    echo_header: str | None = None
    missing_key_echo: str | None = None
    code: str | None = None  # the replay is an error with this code (GoCardless: idempotent_creation_conflict)
    existing_id_at: str | None = None  # where that error names the existing resource's id (a dotted path into the answer)

    @pydantic.model_validator(mode="after")
    def _error_names_its_status(self) -> ReplayFacts:
        if (self.code is not None or self.existing_id_at is not None) and not isinstance(self.status, int):
            raise ValueError("a replay answered as an error (code, existing_id_at) needs that error's status: a number, not 'same'")
        if self.existing_id_at is not None and not 400 <= int(self.status) < 500:
            raise ValueError(f"existing_id_at names the resource in an error answer: status must be a 4xx, not {self.status}")
        return self

    def names_existing(self) -> bool:
        """The replay is an error answer naming the resource the key made, not that resource's answer again."""
        return self.existing_id_at is not None


class IdempotencyFacts(FactsModel):
    key_in: Literal["header", "body"]
    name: str
    required: bool = False
    max_length: int | None = None
    ttl_hours: float | None = None
    # replay: the first answer again; conflict: 409; or {status, code}: that error (Stripe: 400 idempotency_error)
    on_body_mismatch: Literal["replay", "conflict", "undocumented"] | MismatchError = "undocumented"
    replay: ReplayFacts = ReplayFacts()


class SdkSchedule(Strict):
    """One official SDK's retry delays, as its source computes them (checker/backoff.py's models): `model` on
    `base_s` and `max_delay_s` (the pack's retry.base_s and retry.max_delay_s unless stated), the doubling starting
    `shift` retries later (stripe-node: -1, it waits the base twice) or earlier. SDK behaviour, never a document's."""

    model: Literal["exact", "full jitter", "equal jitter", "floored equal jitter"]
    base_s: Annotated[float, pydantic.Field(gt=0, le=3600)] | None = None
    max_delay_s: Annotated[float, pydantic.Field(gt=0, le=3600)] | None = None
    shift: Annotated[int, pydantic.Field(ge=-8, le=8)] = 0


class RetryFacts(FactsModel):
    retryable_statuses: list[int]
    non_retryable_statuses: list[int]
    base_s: float = 1.0
    max_delay_s: float = 30.0
    jitter_s: float = 0.0
    # the schedules accepted beside the documented one (RETRY-106); unset: golive's reading, see
    # checker/backoff.py's default_variants (full and equal jitter where jitter is documented, else added jitter)
    variants: list[Literal["full jitter", "equal jitter", "floored equal jitter", "added jitter"]] | None = None
    max_attempts: int = 5
    immediate_first_retry: bool = False  # the provider documents a first retry at once, then the schedule from retry 1
    # where the provider documents no schedule and the pack takes it from its official SDKs: each SDK's, by the SDK's
    # name ("stripe-node"), each cited to its source (provenance retry.sdk_schedules.<name>); RETRY-106 accepts any of
    # them (and only the `variants` the pack names beside them), in place of base_s/jitter_s's documented schedule
    sdk_schedules: dict[Annotated[str, pydantic.StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@/-]{0,63}$")], SdkSchedule] = {}
    stop_on_4xx: bool = False
    request_timeout_s: float | None = None


class RateLimitHeaders(FactsModel):
    limit: str = "X-RateLimit-Limit"
    remaining: str = "X-RateLimit-Remaining"
    reset: str = "X-RateLimit-Reset"


class RateLimitFacts(FactsModel):
    requests_per_s: float
    # the period the provider states its limit over, and so what the limit header counts (GoCardless: 1000 a minute,
    # sent as `ratelimit-limit: 1000`); the header is an integer count of requests per window, never a fraction
    window: Literal["second", "minute", "hour"] = "second"
    headers: RateLimitHeaders = RateLimitHeaders()  # what the embedded sandbox names its rate-limit headers


class SandboxFacts(FactsModel):
    """How golive's embedded sandbox emulates the provider, beyond what the checks read: the fields a valid create
    has and the patterns they match (an invalid one gets `invalid_status` with `invalid_code`), how a created
    resource looks, which field carries the magic values, what a request does while another with its key is in
    flight (409 conflict, or wait for the first and answer as its retry), and the named features that no fact can
    express (see README, "Writing a rule pack"). No verdict rests on these: they shape the emulation only."""

    required: list[str] = []
    # required fields of another JSON type than a non-empty string (GoCardless: amount an integer); dotted paths
    required_types: dict[str, Literal["string", "integer", "number", "boolean", "object", "array", "any"]] = {}
    patterns: dict[str, str] = {}
    invalid_status: int = 400
    invalid_code: str = "validation_failed"
    id_prefix: str = ""
    initial_status: str = "created"
    magic_field: str | None = None
    # a second request while the first with its key runs: 409 (conflict), waits for it (wait), or 429 Too many
    # requests (too_many: Checkout.com's "the other requests will return a 429 Too many requests response")
    in_flight: Literal["conflict", "wait", "too_many"] = "conflict"

    @pydantic.field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: dict[str, str]) -> dict[str, str]:
        """Each pattern compiles for RE2, which matches in linear time (checker/linear_regex.py)."""
        for name, pattern in patterns.items():
            try:
                LinearPattern(pattern)
            except PatternError as exc:
                raise ValueError(
                    f"{name}: {pattern!r} is not a regular expression golive runs ({exc}); a pack's patterns are RE2's syntax,"
                    r" matched in linear time: no backreferences or lookarounds, \z for the end"
                ) from None
        return patterns

    response_fields: list[str] | None = None  # what a create answers (None: the whole resource)
    # fields the provider sets on every created resource, beside what the request sent (Lob: object, url), which an
    # official SDK needs to parse the answer (lob-python's Postcard requires id and url)
    resource_fields: dict[str, Any] = {}
    features: list[Literal["courier_retry", "delivery_lifecycle", "balance_holds"]] = []  # checker/sandbox/features.py
    params: dict[str, Any] = {}  # the features' settings (balance_holds: price_cents, low_balance_cents)
    path_aliases: list[EndpointPath] = []  # other paths the create is served at (its read at <alias>/{id})


class ErrorFacts(FactsModel):
    """What the provider's error answers look like: every fault golive injects, and every error of the embedded
    sandbox, is written this way, so a client (or an official SDK) parses them as it would the provider's.

    `body` is a JSON template: a string that is exactly one placeholder becomes its value, others are filled in;
    placeholders: {status} {code} {type} {message} {action} {param}. `fields_at` is where a list of
    {field, message} goes for a validation error (dotted path; none: left out). `types` gives {type} per status.
    `headers` adds headers by status: "429", "4xx", "5xx" (the exact status wins over its class)."""

    body: dict[str, Any] = DEFAULT_BODY
    fields_at: str | None = DEFAULT_FIELDS_AT
    types: dict[int, str] = {}
    headers: dict[str, dict[str, str]] = {}
    # {code} in the provider's spelling: golive's names (rate_limited, not_found, invalid_request, …) mapped to the
    # provider's where they differ (Square: invalid_request → BAD_REQUEST), the rest in `code_case` (upper: RATE_LIMITED)
    codes: dict[str, str] = {}
    code_case: Literal["as_is", "upper"] = "as_is"


def size_limit(max_bytes: int) -> str:
    """A file limit in the words of a document: "under 10 MB (10,000,000 bytes)" for 9,999,999 (decimal
    megabytes, the strict reading of "under 10 MB"), else "at most N bytes"."""
    over = max_bytes + 1
    if over % 1_000_000 == 0:
        return f"under {over // 1_000_000} MB ({over:,} bytes)"
    return f"at most {max_bytes:,} bytes"


class FileFacts(FactsModel):
    types: list[Literal["pdf", "docx", "xlsx", "jpg", "png", "tiff", "html", "txt"]]
    max_bytes: int
    unsupported_error: str = "unsupported_file_type"
    too_large_error: str = "file_too_large"


class EnvelopeFacts(FactsModel):
    """The field names of a webhook event (dotted paths for nesting: `data: data.object`), how `created` is
    written (iso: "2026-11-26T10:00:00Z"; unix: seconds), and constant fields every event carries."""

    id: str = "event_id"
    type: str = "type"
    created: str = "created_at"
    created_format: Literal["iso", "unix"] = "iso"
    data: str = "data"
    constant: dict[str, Any] = {}
    # several events per delivery: the key of the list that holds them ({"events": [...]}, GoCardless); the paths above
    # are then inside each event. Unset: the delivery is one event
    batch: str | None = None


class RegistrationFacts(FactsModel):
    """How an endpoint is registered (POST) and listed (GET) at `webhooks.endpoints_path`: the request's field names,
    and the field of the list answer that holds the endpoints."""

    url_field: str = "url"
    events_field: str = "events"
    all_events: str | None = None  # a value of events_field that subscribes to every event ("*")
    secret_field: str = "secret"
    list_field: str = "data"
    created_status: int = 200  # what a registration answers
    deleted_status: int = 200  # what a deletion answers (204: no body; else {id, deleted: true})


class SerialisationFacts(FactsModel):
    """How the provider writes a delivery's JSON: the bytes it signs, which golive's valid deliveries (HOOK-201 and
    the ones every other webhook rule compares with) and the embedded sandbox's deliveries carry, so that a receiver
    that would reject the provider's real bytes (it verifies JSON it re-serialised) is caught there. `indent`: spaces
    per level of pretty-printed JSON (Stripe's 2), or none for one line; `separators` (one line only): compact
    {"a":1,"b":2} or spaced {"a": 1, "b": 2}; an indented body has ": " after each key and nothing after ",".
    `ascii`: non-ASCII characters as \\uXXXX escapes, else UTF-8; `escape_slash`: "/" as "\\/"; `key_order`: the
    envelope's order (constant fields, id, type, created, data) or sorted. Unstated: compact JSON in UTF-8."""

    indent: Annotated[int, pydantic.Field(ge=1, le=8)] | None = None
    separators: Literal["compact", "spaced"] | None = None  # unset: compact (an indented body has its own)
    ascii: bool = False
    escape_slash: bool = False
    key_order: Literal["as_built", "sorted"] = "as_built"

    @pydantic.model_validator(mode="after")
    def _one_line_or_indented(self) -> SerialisationFacts:
        if self.indent is not None and self.separators is not None:
            raise ValueError("give indent (pretty-printed JSON) or separators (JSON on one line), not both")
        return self

    def format(self) -> dict[str, Any]:
        """The format as `envelope.serialise` takes it; each field read (and so recorded as a fact the rule read)."""
        return {
            "indent": self.indent,
            "separators": self.separators,
            "ascii": self.ascii,
            "escape_slash": self.escape_slash,
            "key_order": self.key_order,
        }


class RedeliveryFacts(FactsModel):
    """How the provider resends a delivery its endpoint did not acknowledge, as its documents state it: the waits
    between attempts (the last one repeats until `for_hours` have passed since the first), and how long it keeps
    trying. The embedded sandbox resends on this schedule (scaled down: checker/sandbox/webhooks.py), and the
    report says how long a receiver may be down before it loses an event (`summary`)."""

    after_s: list[Annotated[float, pydantic.Field(gt=0)]] = []  # none: the provider gives no schedule, only how long
    for_hours: Annotated[float, pydantic.Field(gt=0)] | None = None  # none: the schedule's attempts, then no more

    @pydantic.model_validator(mode="after")
    def _stated(self) -> RedeliveryFacts:
        if not self.after_s and self.for_hours is None:
            raise ValueError("state the waits between attempts (after_s), how long the provider keeps trying (for_hours), or both")
        return self

    def total_s(self) -> float:
        """How long after the first attempt the provider stops trying."""
        return self.for_hours * 3600 if self.for_hours is not None else sum(self.after_s)

    def summary(self) -> str:
        """ "resent for up to 72 hours (after 1 min, 2 min, …)": how long a receiver may be down and still get the event."""
        hour = "a receiver down for an hour loses nothing" if self.total_s() > 3600 else "a receiver down for an hour loses it"
        if not self.after_s:
            return f"resent for up to {_duration(self.total_s())}: {hour} (the waits between attempts are not documented)"
        steps = ", ".join(_duration(s) for s in self.after_s[:12]) + (", …" if len(self.after_s) > 12 else "")
        return f"resent for up to {_duration(self.total_s())}: {hour} (waits {steps})"


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("min", 60)):
        if seconds >= size and (seconds % size == 0 or seconds >= 2 * size):
            value = seconds / size
            return f"{value:g} {unit}" if value != 1 else f"1 {unit.rstrip('s')}"
    return f"{seconds:g} s"


class WebhookFacts(FactsModel):
    scheme: Literal["mintfax", "standard", "github", "square", "checkout", "adyen", "lob"]
    signature_header: str  # adyen: where the signature sits inside each notification item (additionalData.hmacSignature)
    timestamp_header: str | None = None  # standard: webhook-timestamp; lob: Lob-Signature-Timestamp
    id_header: str | None = None  # standard: webhook-id
    tolerance_s: float = 300
    deadline_s: float = 5
    redelivery: RedeliveryFacts | None = None  # how the provider resends an unacknowledged delivery (none: not stated)
    required_events: list[str] = []
    balance_event: str | None = None  # the event that warns of a low balance (BAL-001)
    endpoints_path: EndpointPath | None = None  # where a real sandbox lists the registered endpoints (HOOK-212)
    event_data: dict[str, Any] = {}  # a realistic `data` object for the deliveries golive sends
    envelope: EnvelopeFacts = EnvelopeFacts()
    serialisation: SerialisationFacts = SerialisationFacts()  # how a delivery's JSON is written (its bytes are signed)
    registration: RegistrationFacts = RegistrationFacts()
    created_event: str | None = None  # the event the embedded sandbox emits when a resource is created (a pack of its own)
    event_types: list[str] = []  # every event the provider sends: what an endpoint may subscribe to (none: any)
    # the status a receiver must answer a delivery it rejects with, where the provider documents one (GoCardless: 498
    # "Token Invalid" for an invalid signature): the rejection rules ask for it instead of any 4xx
    rejection_status: Annotated[int, pydantic.Field(ge=400, le=499)] | None = None

    def signing(self) -> SigningScheme:
        return SigningScheme(self.scheme, self.signature_header, self.timestamp_header, self.id_header)


class Facts(FactsModel):
    keys: KeyFacts = KeyFacts()
    api_key_header: str | None = None  # the header an API key goes in, whole (Adyen: X-API-Key); none: Authorization: Bearer
    create: CreateFacts
    get_path: ReadPath | None = None
    balance_path: EndpointPath | None = None
    idempotency: IdempotencyFacts
    correlation_header: str | None = None
    retry: RetryFacts
    rate_limit: RateLimitFacts | None = None
    files: FileFacts | None = None
    magic: dict[str, str] = {}
    webhooks: WebhookFacts | None = None
    errors: ErrorFacts = ErrorFacts()
    sandbox: SandboxFacts = SandboxFacts()


def _fields(model: type[pydantic.BaseModel], prefix: str = "") -> Iterator[tuple[str, list[Any]]]:
    """Every field of a pack's facts, depth first: its path ("retry.base_s") and the types it may hold."""
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        kinds = [field.annotation, *typing.get_args(field.annotation)]
        yield path, kinds
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, FactsModel):
                yield from _fields(kind, path)


def _place_models() -> None:
    """Tell each facts model the path it sits at in a pack's facts: its reads are recorded under it (checker/provenance.py)."""
    for path, kinds in _fields(Facts):
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, FactsModel):
                kind._path = path


_place_models()


class Document(Strict):
    """A provider document a pack cites: how a user finds it, its title and public URL (`site`: the URL, or its
    host and path as the document names them, `https://` understood), never the file name the pack knows it by."""

    title: str = pydantic.Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")
    site: str = pydantic.Field(min_length=1, max_length=500, pattern=r"^\S+$")
    revision: str = ""  # "later revision": which of two versions of one document

    @property
    def url(self) -> str:
        return self.site if "://" in self.site else f"https://{self.site}"

    def cite(self, lines: str | None = None) -> str:
        """ "Title — URL": what `explain`, `rules`, the reports' `cite` and every basis line show (with the lines of a
        source file a fact is read from)."""
        at = f", line{'s' * any(c in lines for c in '-,')} {lines}" if lines else ""
        return f"{self.title}{f' ({self.revision})' if self.revision else ''}{at} — {self.url}"


class Provenance(Strict):
    """Where one fact comes from: a document and the sentence it rests on, or golive's assumption and why."""

    doc: str | None = None
    quote: str | None = None
    assumed: str | None = None
    # where in the document, for a source file: its line numbers ("190-203", "86-87, 164-187"), shown with its title
    lines: Annotated[str, pydantic.StringConstraints(pattern=r"^[0-9]+(-[0-9]+)?(, ?[0-9]+(-[0-9]+)?){0,7}$")] | None = None

    @pydantic.model_validator(mode="after")
    def _documented_or_assumed(self) -> Provenance:
        if bool(self.doc and self.quote) == bool(self.assumed) or bool(self.doc) != bool(self.quote):
            raise ValueError("give either 'doc' and 'quote' (the document and its sentence) or 'assumed' (golive's reading, and why)")
        if self.lines is not None and self.doc is None:
            raise ValueError("'lines' says where in a document the quote is: give it with 'doc' and 'quote'")
        return self


class Quote(Strict):
    doc: str
    quote: str


class Conflict(Strict):
    """Two documents that disagree, and the reading golive takes."""

    about: str
    facts: list[str] = []  # the facts the reading sets
    rules: list[str] = []  # the rules whose verdicts take the reading (else: the rules resting on `facts`)
    # the values of `facts` the documents disagree on (402, where one says a 402 is not retried and another is
    # silent): a failure every one of whose deciding values is undisputed stands under either reading, and is not
    # tagged (Outcome.decided_values); unset: any failure the facts decide takes the reading
    values: list[int | str] = []
    quotes: list[Quote] = pydantic.Field(min_length=2)
    reading: str  # what golive does, and why that reading
    otherwise: str  # how a pack takes the other reading


class RuleOverride(Strict):
    source: str | None = None
    skip: str | None = None
    # the rule applies though no document of the pack says what it expects: golive's reading, and why (IDEM-004's
    # one resource for concurrent requests, where the documents say nothing of concurrency)
    assumed: str | None = None
    severity: Severity | None = None
    params: dict[str, Any] = {}

    @pydantic.model_validator(mode="after")
    def _source_or_skip(self) -> RuleOverride:
        given = [bool(value and value.strip()) for value in (self.source, self.skip, self.assumed)]  # a blank reason is none
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of 'source' (the document that covers the rule), 'assumed' (why golive applies it though "
                "no document says so) or 'skip' (why it does not apply)"
            )
        return self


class PackFile(Strict):
    schema_: Literal["golive-pack/1"] = pydantic.Field(alias="schema")
    # the name is printed in every report's heading and used in file and class names: a plain word
    name: str = pydantic.Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str = pydantic.Field("", max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")
    extends: str | None = None
    documents: dict[str, Document] = {}  # the documents `source`, `provenance` and `conflicts` cite, by name
    facts: Facts
    provenance: dict[str, Provenance] = {}  # fact path ("retry.base_s", "magic.busy") -> where it comes from
    conflicts: list[Conflict] = []
    rules: dict[str, RuleOverride] = {}


# ---------------------------------------------------------------- the joined pack


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    title: str
    path: str
    facts: Facts
    sections: tuple[str, ...]
    rules: tuple[Rule, ...]
    documents: Mapping[str, str] = dataclasses.field(default_factory=dict)  # name -> "Title — URL"

    def cite(self, document: str | None) -> str:
        """A document as a user finds it ("Title — URL"), not the file name a pack knows it by."""
        return self.documents.get(document or "", document or "n/a")

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def is_live_key(self, key: str) -> bool:
        return any(key.startswith(p) for p in self.facts.keys.live_prefixes)

    def is_test_key(self, key: str) -> bool:
        return any(key.startswith(p) for p in self.facts.keys.test_prefixes)


@cache
def load_catalog() -> tuple[Catalog, YamlDocument]:
    doc = load_yaml(data_dir("rules") / "catalog.yaml", what="rule catalog", expect=_schema_is("golive-catalog/", "golive's rule catalog"))
    catalog = validate(Catalog, doc.data, doc)
    problems = []
    seen: set[str] = set()
    for index, rule in enumerate(catalog.rules):
        where = ("rules", index, "id")
        if not RULE_ID.match(rule.id):
            problems.append(doc.problem(where, f"rule id {rule.id!r} is not of the form ABC-123"))
        if rule.id in seen:
            problems.append(doc.problem(where, f"rule id {rule.id} is defined twice"))
        if rule.section not in catalog.sections:
            problems.append(doc.problem(("rules", index, "section"), f"unknown section {rule.section!r}"))
        for n, path in enumerate(rule.facts):
            if not is_fact_path(path):
                problems.append(doc.problem(("rules", index, "facts", n), f"no such fact: {path!r}"))
        for name in TEXTS:
            for match in PLACEHOLDER.finditer(getattr(rule, name)):
                if not is_fact_path(match.group(1)):
                    problems.append(doc.problem(("rules", index, name), f"no such fact in a placeholder: {match.group(0)}"))
        seen.add(rule.id)
    if problems:
        raise ConfigError(problems)
    return catalog, doc


def _schema_is(prefix: str, kind: str) -> Expect:
    """A check that the file says what it is (`schema: golive-pack/1`) before anything in it is reported:
    a file named as a pack by mistake is refused without echoing its lines."""

    def expect(node: yaml.MappingNode) -> str | None:
        schema = top_level_keys(node).get("schema")
        if isinstance(schema, yaml.ScalarNode) and str(schema.value).startswith(prefix):
            return None
        return f"not {kind}: its top level has no 'schema: {prefix}1'"

    return expect


def resolve_pack_path(name_or_path: str, relative_to: Path | None = None, named_in: tuple[str, int | None] | None = None) -> Path:
    """The pack file a provider name stands for. `named_in` (file, line) is where the name was written, so
    that an unknown provider is reported there (golive.yaml:2: provider: …)."""

    def problem(message: str, hint: str = "") -> ConfigError:
        if named_in is None:
            return ConfigError.single(name_or_path, message, hint=hint)
        return ConfigError([Problem(named_in[0], named_in[1], "provider", f"{message}: {name_or_path!r}", hint)])

    if name_or_path in BUILTIN_PACKS:
        return data_dir("rules") / f"{name_or_path}.yaml"
    try:
        path = Path(name_or_path).expanduser()
    except RuntimeError:  # "~someone" with no such user
        path = Path(name_or_path)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    if path.suffix not in (".yaml", ".yml"):
        if path.exists():  # never read (and echo) a file that does not even claim to be a pack
            raise problem("a rule pack is a YAML file ending in .yaml or .yml", "see README, 'Writing a rule pack'")
        close = difflib.get_close_matches(name_or_path, BUILTIN_PACKS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"built-in packs: {', '.join(BUILTIN_PACKS)}; or give a path to a pack YAML"
        raise problem("unknown provider", hint)
    if named_in is not None and not path.is_file():
        raise problem("no such pack file", f"looked for {path}")
    return path


def load_pack(name_or_path: str, relative_to: Path | None = None, named_in: tuple[str, int | None] | None = None) -> Pack:
    return _load_pack(resolve_pack_path(name_or_path, relative_to, named_in).resolve())


@cache
def _load_pack(path: Path) -> Pack:
    catalog, _ = load_catalog()
    doc = load_yaml(path, what="rule pack", expect=_schema_is("golive-pack/", "a golive rule pack"))
    pack_file = validate(PackFile, _pack_data(path, doc, ()), doc)

    known = {rule.id: rule for rule in catalog.rules}
    problems = []
    for rule_id in pack_file.rules:
        if rule_id not in known:
            close = difflib.get_close_matches(rule_id, known, n=1)
            problems.append(doc.problem(("rules", rule_id), "unknown rule id", f"did you mean '{close[0]}'?" if close else ""))
    problems += _provenance_problems(pack_file, doc)
    problems += _id_shape_problems(pack_file, doc)
    if problems:
        raise ConfigError(problems)

    rules = []
    for base_rule in catalog.rules:
        override = pack_file.rules.get(base_rule.id)
        skip = f"the {pack_file.name} pack does not cover this rule" if override is None else shown(override.skip or "") or None
        skip = None if base_rule.every_pack else skip
        source = shown(override.source or "") or None if override else None
        words = {name: filled(getattr(base_rule, name), pack_file.facts) for name in TEXTS}
        rules.append(
            Rule(
                id=base_rule.id,
                section=base_rule.section,
                target=base_rule.target,
                severity=(override.severity if override and override.severity else base_rule.severity),
                **words,
                source=source,
                cite=(
                    _cite(pack_file, override.source)
                    if override and source
                    else f"assumed (no document of the pack says it): {shown(override.assumed)}"
                    if override and override.assumed
                    else None
                ),
                skip=skip,
                params=_frozen(override.params) if override else {},
                basis=_basis(pack_file, base_rule.facts),
                readings=_readings(pack_file, base_rule.id, base_rule.facts),
                decides=tuple(base_rule.facts if base_rule.decides is None else base_rule.decides),
                reading_scopes=_reading_scopes(pack_file, base_rule.id, base_rule.facts),
            )
        )
    return Pack(
        name=pack_file.name,
        title=shown(pack_file.title) or pack_file.name,
        path=str(path),
        facts=pack_file.facts,
        sections=tuple(catalog.sections),
        rules=tuple(rules),
        documents=_frozen({shown(name): _cite(pack_file, name) for name in pack_file.documents}),  # as `source` names them
    )


MAX_EXTENDS = 8  # how long a chain of packs extending packs may be
_LOADING: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("golive_packs_loading", default=())


def _pack_data(path: Path, doc: YamlDocument, chain: tuple[Path, ...]) -> dict[str, Any]:
    """A pack's data with what it extends merged in (`extends:` a built-in pack, or a pack file relative to this one,
    which may extend another); the documents a base brought keep their titles and URLs, so they cite its provider."""
    data = doc.data
    extends = data.get("extends")
    if extends is None:
        return data
    if not isinstance(extends, str) or not extends:
        raise doc_error(doc, ("extends",), "must name a built-in pack or a pack file")
    if extends in BUILTIN_PACKS:
        base_path = _builtin_path(extends)
    else:
        base_path = (path.parent / Path(extends).expanduser()).resolve()
        if base_path.suffix not in (".yaml", ".yml") or not base_path.is_file():
            hint = f"a built-in pack ({', '.join(BUILTIN_PACKS)}) or a pack file; looked for {base_path}"
            raise doc_error(doc, ("extends",), f"no such pack: {extends!r}", hint)
    if base_path == path or base_path in chain or base_path in _LOADING.get() or len(chain) + len(_LOADING.get()) >= MAX_EXTENDS:
        raise doc_error(doc, ("extends",), f"{extends!r} leads back to this pack (or is more than {MAX_EXTENDS} packs deep)")
    token = _LOADING.set((*_LOADING.get(), path))
    try:
        _load_pack(base_path)  # the base is valid on its own, its problems reported at its own lines
    finally:
        _LOADING.reset(token)
    base_doc = load_yaml(base_path, what="rule pack", expect=_schema_is("golive-pack/", "a golive rule pack"))
    base = _pack_data(base_path, base_doc, (*chain, path))
    merged = _deep_merge(_without_what_is_restated(base, data), data)
    own_rules = data.get("rules") or {}
    if isinstance(own_rules, Mapping):
        # a rule the pack names replaces the base's entry whole (source and skip exclude each other)
        merged["rules"] = {**base.get("rules", {}), **own_rules}
    merged.pop("extends", None)
    return merged


def _builtin_path(name: str) -> Path:
    return (data_dir("rules") / f"{name}.yaml").resolve()


def embedded_id_sample(facts: Facts) -> str:
    """An id as golive's embedded sandbox makes it for this pack (checker/sandbox/packed.py, features.py): a UUID for
    `courier_retry`, else `sandbox.id_prefix` and 24 hex digits."""
    if "courier_retry" in facts.sandbox.features:
        return "a1b2c3d4-e5f6-4890-abcd-ef1234567890"
    return facts.sandbox.id_prefix + "0123456789abcdef01234567"


def _id_shape_problems(pack: PackFile, doc: YamlDocument) -> list[Problem]:
    """The embedded sandbox must make ids of the documented shape, or IDEM-001 would fail golive's own emulation."""
    pattern, sample = pack.facts.create.id_pattern, embedded_id_sample(pack.facts)
    if pattern is None or LinearPattern(pattern).fullmatch(sample):
        return []
    return [
        doc.problem(
            ("facts", "create", "id_pattern"),
            f"the embedded sandbox's ids ({sample!r}) do not match the pattern {pattern}",
            "set facts.sandbox.id_prefix so that golive's own sandbox makes ids of the documented shape",
        )
    ]


# ---------------------------------------------------------------- provenance


@cache
def fact_paths() -> dict[str, bool]:
    """Every path into a pack's facts ("retry.base_s"), and whether it is a mapping whose keys are paths too
    ("magic.busy", "create.fields.to")."""
    return {path: any(kind is dict or typing.get_origin(kind) is dict for kind in kinds) for path, kinds in _fields(Facts)}


def is_fact_path(path: str) -> bool:
    paths = fact_paths()
    return path in paths or any(mapping and path.startswith(p + ".") for p, mapping in paths.items())


def fact_value(facts: Facts, path: str) -> Any:
    value: Any = facts
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
        if value is None:
            return None
    return value


def _provenance_problems(pack: PackFile, doc: YamlDocument) -> list[Problem]:
    known = {rule.id for rule in load_catalog()[0].rules}
    problems = []
    for path, entry in pack.provenance.items():
        if not is_fact_path(path):
            close = difflib.get_close_matches(path, fact_paths(), n=1)
            problems.append(doc.problem(("provenance", path), "no such fact", f"did you mean '{close[0]}'?" if close else ""))
        if entry.doc is not None and entry.doc not in pack.documents:
            problems.append(doc.problem(("provenance", path, "doc"), f"unknown document {entry.doc!r}", "name it under 'documents:'"))
    for index, conflict in enumerate(pack.conflicts):
        for path in conflict.facts:
            if not is_fact_path(path):
                problems.append(doc.problem(("conflicts", index, "facts"), f"no such fact: {path!r}"))
        for rule_id in conflict.rules:
            if rule_id not in known:
                problems.append(doc.problem(("conflicts", index, "rules"), f"unknown rule id {rule_id!r}"))
        for n, quote in enumerate(conflict.quotes):
            if quote.doc not in pack.documents:
                problems.append(doc.problem(("conflicts", index, "quotes", n, "doc"), f"unknown document {quote.doc!r}"))
    return problems


def _leaves(pack: PackFile, path: str) -> list[str]:
    """The facts a declared path stands for, as the pack sets them: a section's fields, a mapping's keys when the
    pack states their provenance one by one ("magic.busy"), else the fact itself; unset ones are left out."""
    paths = fact_paths()
    below = [p for p in paths if p == path or p.startswith(path + ".")] or [path]
    leaves = []
    for leaf in (p for p in below if not any(q.startswith(p + ".") for q in paths) and p not in WORDS):
        value = fact_value(pack.facts, leaf)
        if value is None or value == {} or value == []:  # unset, or empty: no fact to rest on
            continue
        if isinstance(value, Mapping) and any(f"{leaf}.{key}" in pack.provenance for key in value):
            leaves += [f"{leaf}.{key}" for key in value]
        else:
            leaves.append(leaf)
    return leaves


def provenance_of(pack: PackFile, path: str) -> Provenance | None:
    """The entry that states where `path` comes from: its own, or an enclosing fact's."""
    parts = path.split(".")
    return next((pack.provenance[p] for n in range(len(parts), 0, -1) if (p := ".".join(parts[:n])) in pack.provenance), None)


def _basis(pack: PackFile, paths: list[str]) -> tuple[Basis, ...]:
    """Per fact a rule rests on and the pack sets: its value, and the document and sentence, or the assumption."""
    basis: list[Basis] = []
    for leaf in dict.fromkeys(leaf for path in paths for leaf in _leaves(pack, path)):
        value = fact_value(pack.facts, leaf)
        value = int(value) if isinstance(value, float) and value.is_integer() else value
        value = value.model_dump(exclude_defaults=True) if isinstance(value, pydantic.BaseModel) else value
        fact, shown_value = shown(leaf), _cut(shown(json.dumps(value, ensure_ascii=False, sort_keys=True)))
        entry = provenance_of(pack, leaf)
        if entry is None:
            basis.append(Unstated(fact=fact, value=shown_value, unstated=UNSTATED))
        elif entry.assumed is not None:
            basis.append(Assumed(fact=fact, value=shown_value, assumed=shown(entry.assumed)))
        else:
            documented, quote = _cite(pack, entry.doc, entry.lines), shown(entry.quote or "")
            basis.append(Documented(fact=fact, value=shown_value, documented=documented, quote=quote))
    return tuple(basis)


def _readings(pack: PackFile, rule_id: str, paths: list[str]) -> tuple[Reading, ...]:
    """The conflicts between documents that touch a fact the rule rests on, with the reading golive takes."""
    return tuple(
        Reading(
            about=shown(conflict.about),
            quotes=tuple(QuoteShown(document=_cite(pack, q.doc), quote=shown(q.quote)) for q in conflict.quotes),
            reading=shown(conflict.reading),
            otherwise=shown(conflict.otherwise),
        )
        for conflict in pack.conflicts
        if (rule_id in conflict.rules if conflict.rules else any(covers(a, b) or covers(b, a) for a in paths for b in conflict.facts))
    )


def _reading_scopes(pack: PackFile, rule_id: str, paths: list[str]) -> tuple[ReadingScope, ...]:
    """Per reading of `_readings` (in its order): the facts it sets, whether the pack names the rule, the values
    disputed — what the engine needs to tell whether a reading decided a failure."""
    return tuple(
        ReadingScope(facts=tuple(c.facts), named=rule_id in c.rules, values=tuple(c.values))
        for c in pack.conflicts
        if (rule_id in c.rules if c.rules else any(covers(a, b) or covers(b, a) for a in paths for b in c.facts))
    )


def _cite(pack: PackFile, name: str | None, lines: str | None = None) -> str:
    """A document as "Title — URL" ("Title, lines 190-203 — URL" where the pack says where in it); a name the pack
    lists under no `documents:` is cited as the pack wrote it."""
    document = pack.documents.get(name or "")
    return shown(document.cite(lines) if document is not None else str(name))


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def doc_error(doc: YamlDocument, path: tuple[str | int, ...], message: str, hint: str = "") -> ConfigError:
    return ConfigError([doc.problem(path, message, hint)])


def _without_what_is_restated(base: dict[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """The base pack less what no longer holds once `child` restates a fact: the base's provenance of that fact
    (and of its parts) and the conflicts about it. A provenance entry the child gives replaces the base's whole
    (documented and assumed exclude each other); a fact it changes without saying where from is `unstated`."""
    changed = _fact_leaves(child.get("facts") or {})
    own = child.get("provenance") or {}
    provenance = {
        path: entry
        for path, entry in (base.get("provenance") or {}).items()
        if path not in own and not any(path == leaf or path.startswith(leaf + ".") for leaf in changed)
    }
    conflicts = [
        c
        for c in base.get("conflicts") or []
        if not any(covers(leaf, fact) or covers(fact, leaf) for leaf in changed for fact in (c.get("facts") or []))
    ]
    return {**base, "provenance": provenance, "conflicts": conflicts}


def _fact_leaves(facts: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths a pack's `facts:` sets ("webhooks.tolerance_s", "magic.busy")."""
    leaves = []
    for key, value in facts.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        leaves += _fact_leaves(value, path) if isinstance(value, Mapping) and value else [path]
    return leaves


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, mappings merged key by key. A null where the base has an entry removes it (the
    field's default applies): how a pack extending mintfax drops `Idempotency-Replayed` from the replay headers."""
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _frozen(params: Mapping[str, Any]) -> Mapping[str, Any]:
    from types import MappingProxyType

    return MappingProxyType(dict(params))
