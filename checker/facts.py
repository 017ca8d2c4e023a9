"""A provider's facts: the models a pack's `facts:` is validated into (what the checks and the embedded sandbox read),
and paths into them ("retry.base_s"). Each model records the fields a check reads (`FactsModel`, under
`provenance.READING`), at the path it sits at in `Facts`."""

from __future__ import annotations

import re
import string
import typing
from collections.abc import Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pydantic

from checker.envelope import DEFAULT_BODY, DEFAULT_FIELDS_AT
from checker.linear_regex import LinearPattern, PatternError
from checker.provenance import READING
from checker.schema import Strict
from checker.signing import SCHEMES, SigningScheme

# the named features of golive's embedded sandbox a pack may switch on (`sandbox.features`): checker/sandbox/features.py's
# FEATURES implements each, by this name (tests/test_packs.py keeps the two equal). Written here, not there, so that
# loading a pack does not import the sandbox (starlette)
SANDBOX_FEATURES = ("courier_retry", "delivery_lifecycle", "balance_holds")

if TYPE_CHECKING:
    SchemeName = str
    FeatureName = str
else:  # the registries' names as a Literal: the same validation, messages and JSON Schema (an enum) as one written out
    SchemeName = Literal[tuple(SCHEMES)]
    FeatureName = Literal[SANDBOX_FEATURES]


class FactsModel(Strict):
    """A part of a pack's facts, found at its place in `Facts` ("retry", "idempotency.replay"): its fields' reads are
    recorded (checker/provenance.py)."""

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if name[0] != "_":
            reading = READING.get()
            if reading is not None and name in type(self).model_fields and not isinstance(value, FactsModel):
                prefix = places().get(type(self), "")
                reading.add(f"{prefix}.{name}" if prefix else name)
        return value


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
    express (see docs/packs.md, "Writing a rule pack"). No verdict rests on these: they shape the emulation only."""

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
    features: list[FeatureName] = []  # checker/sandbox/features.py
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
    scheme: SchemeName  # a scheme of checker/signing.py's SCHEMES
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


@cache
def places() -> dict[type[FactsModel], str]:
    """The path each facts model sits at in a pack's facts: its reads are recorded under it (checker/provenance.py)."""
    found: dict[type[FactsModel], str] = {}
    for path, kinds in _fields(Facts):
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, FactsModel):
                found[kind] = path
    return found


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
