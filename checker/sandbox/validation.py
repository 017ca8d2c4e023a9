"""What the embedded sandbox refuses in a request, as plain classes built once from a pack's facts: the key and how it
is sent (`Keys`: auth schemes, live and test prefixes), the idempotency key (`KeyRule`: where, required, how long),
the body's encodings (`parsed_json`, `decoded_form`) and the create's fields (`Fields`: required, JSON types, patterns,
the upload's kind). None touches HTTP: each takes headers (any case-insensitive mapping) or decoded data, and answers
or raises the `ApiError` the sandbox sends; tests/test_sandbox_validation.py calls them directly.

Each class reads the pack's facts once, in `of` (and untracked: checker/provenance.py records every read of a facts
model, which a request path should not pay for and which is no rule's basis)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from checker.envelope import dig, form_decode
from checker.linear_regex import LinearPattern
from checker.provenance import untracked
from checker.sandbox.errors import ApiError

if TYPE_CHECKING:
    from checker.packs import Facts

MAX_KEY_LENGTH = 255
MAX_JSON_DEPTH = 32  # nesting of a JSON body: far beyond any real request, far below a recursion limit
AUTH_STYLES = {"bearer": "Authorization: Bearer <sandbox key>", "basic": "HTTP Basic with the sandbox key as the user name"}
# a pack's sandbox.required_types: the Python types a JSON value of each kind decodes to, and the kind in words
JSON_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "string": ((str,), "a string"),
    "integer": ((int,), "an integer"),
    "number": ((int, float), "a number"),
    "boolean": ((bool,), "true or false"),
    "object": ((dict,), "an object"),
    "array": ((list,), "an array"),
    "any": ((object,), "a value"),
}
_SURROGATE = re.compile("[\ud800-\udfff]")


# ---------------------------------------------------------------- the API key


@functools.lru_cache(maxsize=4096)
def account_of(key: str) -> str:
    """The account a key stands for, as stored: a digest, so the state file never holds a key."""
    return "acct_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def authorization_key(header: str, schemes: tuple[str, ...]) -> str:
    """The key an Authorization header carries in one of `schemes`, else ''."""
    scheme, _, credentials = header.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer" and "bearer" in schemes:
        return credentials
    if scheme == "basic" and "basic" in schemes:
        try:
            user = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return user.strip()
    return ""


@dataclasses.dataclass(frozen=True)
class Keys:
    """Which keys the sandbox takes and how: in Authorization in each style the provider documents (`schemes`: a bearer
    key; HTTP Basic with the key as the user name, as Stripe's API reference shows with curl -u sk_test_…:) or, where
    the provider takes it in a header of its own (`header`: Adyen's X-API-Key), there only. Live keys are refused, and
    keys without a sandbox prefix where the pack names any."""

    live_prefixes: tuple[str, ...] = ()
    test_prefixes: tuple[str, ...] = ()
    header: str | None = None
    schemes: tuple[str, ...] = ("bearer",)

    @classmethod
    def of(cls, facts: Facts) -> Keys:
        with untracked():
            keys = facts.keys
            return cls(tuple(keys.live_prefixes), tuple(keys.test_prefixes), facts.api_key_header, tuple(keys.schemes))

    def account(self, headers: Mapping[str, str]) -> str:
        """The account the request's key stands for (`account_of`), or the 401 the provider answers."""
        if self.header:
            key = headers.get(self.header, "").strip()
            if not key:
                raise ApiError(401, "unauthorized", f"Missing {self.header} header.", f"Send {self.header}: <sandbox key>.")
        else:
            key = authorization_key(headers.get("authorization", ""), self.schemes)
            if not key:
                styles = " or ".join(AUTH_STYLES[s] for s in self.schemes)
                raise ApiError(401, "unauthorized", "Missing or malformed Authorization header.", f"Send {styles}.")
        if key.startswith(self.live_prefixes) or "_live_" in key:
            raise ApiError(401, "live_key_in_sandbox", "A live key cannot be used with the sandbox.", "Use your sandbox (test) key.")
        if self.test_prefixes and not key.startswith(self.test_prefixes):
            raise ApiError(
                401, "invalid_api_key", "The API key is not a sandbox key.", f"Sandbox keys start with {' or '.join(self.test_prefixes)}."
            )
        return account_of(key)


# ---------------------------------------------------------------- the pack's validation error


@dataclasses.dataclass(frozen=True)
class Invalid:
    """The pack's answer to an invalid request (`sandbox.invalid_status`, `sandbox.invalid_code`): every invalid field
    named, in the message and in the envelope's list of errors."""

    status: int = 400
    code: str = "validation_failed"

    @classmethod
    def of(cls, facts: Facts) -> Invalid:
        with untracked():
            return cls(facts.sandbox.invalid_status, facts.sandbox.invalid_code)

    def error(self, problems: list[tuple[str, str]], action: str = "Fix the invalid fields and send the request again.") -> ApiError:
        return ApiError(
            self.status,
            self.code,
            "; ".join(f"{name}: {message}" for name, message in problems),
            action,
            errors=[{"field": name, "message": message} for name, message in problems],
        )


# ---------------------------------------------------------------- the idempotency key


def check_key_length(key: str, limit: int = MAX_KEY_LENGTH) -> None:
    if len(key) > limit:
        raise ApiError(
            400,
            "idempotency_key_too_long",
            f"Idempotency keys are at most {limit} characters (got {len(key)}).",
            "Use a UUID or a hash as the key.",
        )


@dataclasses.dataclass(frozen=True)
class KeyRule:
    """Where a create carries its idempotency key (`idempotency.key_in`, `name`), whether it must (`required`) and how
    long it may be (`max_length`; 255 unstated). A key missing from a body is the pack's validation error."""

    in_header: bool
    name: str
    required: bool = False
    max_length: int = MAX_KEY_LENGTH
    invalid: Invalid = Invalid()

    @classmethod
    def of(cls, facts: Facts) -> KeyRule:
        with untracked():
            idem = facts.idempotency
            return cls(idem.key_in == "header", idem.name, idem.required, idem.max_length or MAX_KEY_LENGTH, Invalid.of(facts))

    def in_headers(self, headers: Mapping[str, str]) -> str | None:
        return headers.get(self.name) or None if self.in_header else None

    def key(self, headers: Mapping[str, str], data: dict[str, Any]) -> str | None:
        """The request's key: its header's, or its body's field (taken out of `data`: the key is not the request)."""
        if self.in_header:
            return headers.get(self.name) or None
        value = data.pop(self.name, None)
        return value if isinstance(value, str) and value else None

    def check(self, key: str | None) -> None:
        if key is None and self.required and not self.in_header:  # a missing field: the pack's validation error
            raise self.invalid.error(
                [(self.name, "is required in every request")], "Send a unique key per operation; the same key can be reused for a retry."
            )
        if key is None and self.required:
            raise ApiError(
                400, "idempotency_key_required", f"Every request needs the {self.name} header.", "Send a unique key per operation."
            )
        if key is not None:
            check_key_length(key, self.max_length)


# ---------------------------------------------------------------- bodies


def parsed_json(body: bytes) -> Any:
    """A body read whole as JSON, within MAX_JSON_DEPTH levels, whose strings are text; else 400."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "The body is not valid JSON.", "Send a JSON object.") from None
    problem = None if _plainly_usable(body) else json_problem(data)
    if problem:
        raise ApiError(400, "invalid_json", f"The body is not usable JSON: {problem}.", "Send a plain JSON object.")
    return data


def _plainly_usable(body: bytes) -> bool:
    """Whether a body `json.loads` decoded cannot hold what `json_problem` looks for, seen from its bytes alone (the walk
    is most of a small body's cost): ASCII without NUL (so read as UTF-8, where a lone surrogate can come only from a
    \\u escape), no \\u escape, and fewer brackets than MAX_JSON_DEPTH (a value inside k containers is at depth k + 1)."""
    return body.isascii() and b"\\u" not in body and b"\x00" not in body and body.count(b"{") + body.count(b"[") < MAX_JSON_DEPTH


def json_problem(data: Any) -> str | None:
    """Why a decoded JSON value is not usable (nested too deep, a lone surrogate in a string or a name), or None."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(value, str) and _SURROGATE.search(value):
            return "a string holds a lone surrogate (\\ud800-\\udfff)"
        if isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def decoded_form(raw: bytes) -> dict[str, Any]:
    """An application/x-www-form-urlencoded create body (a[b]=c nests), or 400."""
    try:
        return form_decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_request", "The body is not a form.", "Send application/x-www-form-urlencoded.") from None


# ---------------------------------------------------------------- a create's fields


@dataclasses.dataclass(frozen=True)
class Upload:
    """A document a multipart create carried: its name, its kind by content (checker/sniff.py), its size."""

    filename: str
    kind: str
    size: int


def is_json_type(value: Any, kind: str) -> bool:
    """Whether a decoded JSON value is of `kind` (true and false are not numbers, though Python's bool is an int)."""
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, JSON_TYPES[kind][0])


@dataclasses.dataclass(frozen=True)
class FileRule:
    """What a create's upload may be (`files.types`, by content) and the pack's code for another kind."""

    field: str | None
    types: tuple[str, ...] | None = None  # None: the pack states no accepted kinds
    unsupported_error: str = "unsupported_file_type"


@dataclasses.dataclass(frozen=True)
class Fields:
    """`sandbox.required`: a non-empty string (the file field: an uploaded document); `sandbox.required_types`: a value
    of its JSON type; `sandbox.patterns`: a string matching the pattern whole (RE2: linear time). One answer names every
    invalid field, with the pack's `invalid_status` and `invalid_code`; an upload of a kind the pack does not accept is
    422 with `files.unsupported_error` first."""

    required: tuple[str, ...] = ()
    typed: Mapping[str, str] = dataclasses.field(default_factory=dict)
    patterns: Mapping[str, LinearPattern] = dataclasses.field(default_factory=dict)
    file: FileRule = FileRule(None)
    invalid: Invalid = Invalid()

    @classmethod
    def of(cls, facts: Facts) -> Fields:
        with untracked():
            emulation, files = facts.sandbox, facts.files
            file = FileRule(
                facts.create.file.field if facts.create.file else None,
                tuple(files.types) if files is not None else None,
                files.unsupported_error if files is not None else "unsupported_file_type",
            )
            patterns = {name: LinearPattern(pattern) for name, pattern in emulation.patterns.items()}
            return cls(tuple(emulation.required), dict(emulation.required_types), patterns, file, Invalid.of(facts))

    def check(self, data: dict[str, Any]) -> None:
        problems = self.problems(data)
        upload = data.get(self.file.field) if self.file.field else None
        if isinstance(upload, Upload) and self.file.types is not None and upload.kind not in self.file.types:
            raise ApiError(
                422,
                self.file.unsupported_error,
                f"The file's content is {upload.kind}, which is not accepted.",
                f"Send one of: {', '.join(t.upper() for t in self.file.types)}.",
                errors=[{"field": self.file.field or "file", "message": f"unsupported type {upload.kind}"}],
            )
        if problems:
            raise self.invalid.error(problems)

    def problems(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        """(field, what is wrong with it), in the order required, typed, patterns."""
        problems = []
        for name in self.required:
            value = dig(data, name)
            if name == self.file.field:
                if not isinstance(value, Upload):
                    problems.append((name, "is required (a document upload)"))
            elif name in self.typed:
                continue  # checked below, for its own JSON type
            elif not isinstance(value, str) or not value:
                problems.append((name, "is required (a string)" if value in (None, "") else "must be a string"))
        for name, kind in self.typed.items():
            value = dig(data, name)
            if value is None:
                problems.append((name, f"is required ({JSON_TYPES[kind][1]})"))
            elif not is_json_type(value, kind):
                problems.append((name, f"must be {JSON_TYPES[kind][1]}"))
        for name, pattern in self.patterns.items():
            value = dig(data, name)
            if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
                problems.append((name, f"is not valid (expected {pattern.pattern})"))
        return problems
