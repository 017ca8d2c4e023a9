"""The provider's create and read endpoints of a pack's sandbox, each a class that reads the facts it needs once, when
the app is built (a facts model records every read: checker/provenance.py; a request path pays for none).

A create (`CreateEndpoint`): the key (`Keys`) and the rate limit, the body in the pack's encoding (`BodyReader`), the
idempotency key (`KeyRule`), then, once per key (`app.idempotent`), validation (`Fields`), magic values (`Magic`) and
the resource, made by a named feature's create or by `MakeResource`; a reused key is answered by `Replay`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from checker import envelope
from checker.packs import size_limit
from checker.provenance import untracked
from checker.sandbox.app import (
    BODY_TIMEOUT_S,
    MAX_JSON_BYTES,
    KeyScope,
    Sandbox,
    body_timeout,
    idempotent,
    json_bytes,
    rate_limited,
    read_body,
    read_json,
)
from checker.sandbox.errors import ApiError
from checker.sandbox.forms import FormError, read_form
from checker.sandbox.store import IdempotencyRecord
from checker.sandbox.validation import Fields, Invalid, KeyRule, Keys, Upload, decoded_form
from checker.sniff import sniff

if TYPE_CHECKING:
    from checker.packs import Facts, ReplayFacts

Create = Callable[[str, dict[str, Any], KeyScope | None], Awaitable[Response]]
DEFAULT_MAX_FILE_BYTES = 10_000_000


def compares_bodies(facts: Facts) -> bool:
    """Whether a reused key's request is compared with the first (a different one is answered as the pack says)."""
    with untracked():
        mismatch = facts.idempotency.on_body_mismatch
    return not isinstance(mismatch, str) or mismatch == "conflict"


class BodyReader:
    """A create's fields in the pack's encoding (`create.encoding`: JSON, form, or multipart with uploads as `Upload`s,
    bounded by `files.max_bytes`), and a digest of the request where reused keys' bodies are compared."""

    def __init__(self, facts: Facts) -> None:
        with untracked():
            self.encoding = facts.create.encoding
            files = facts.files
            self.max_file_bytes = files.max_bytes if files else DEFAULT_MAX_FILE_BYTES
            self.too_large_error = files.too_large_error if files else "file_too_large"
        self.compares, self.invalid = compares_bodies(facts), Invalid.of(facts)

    def digest(self, data: dict[str, Any]) -> str:
        """What a reused key's body is compared by (nothing where the pack compares no bodies)."""
        return hashlib.sha256(json_bytes(data)).hexdigest() if self.compares else ""

    async def read(self, request: Request, *, digest: bool = True) -> tuple[dict[str, Any], str]:
        """The fields, and their digest (with `digest`: else '', for a caller that takes the digest after the key is out)."""
        if self.encoding == "multipart":
            return await self._multipart(request, digest)
        if self.encoding == "json":
            body = await read_json(request)
            if not isinstance(body, dict):
                raise self.invalid.error([("body", "must be a JSON object")])
        else:
            body = decoded_form(await read_body(request, MAX_JSON_BYTES))
        return body, self.digest(body) if digest else ""

    async def _multipart(self, request: Request, digest: bool) -> tuple[dict[str, Any], str]:
        try:
            form = await read_form(request, max_file_bytes=self.max_file_bytes, timeout_s=BODY_TIMEOUT_S)
        except FormError as exc:
            if exc.kind == "timeout":
                raise body_timeout() from None
            if exc.kind == "too_large":
                raise ApiError(
                    422, self.too_large_error, f"Files must be {size_limit(self.max_file_bytes)}.", "Compress or split the document."
                ) from None
            raise ApiError(400, "invalid_request", f"Could not read the multipart body: {exc}", "Send multipart/form-data.") from None
        compares = self.compares and digest
        with form:
            hashed = hashlib.sha256(json_bytes(form.fields) if compares else b"")
            fields: dict[str, Any] = dict(form.fields)
            for name, upload in form.files.items():
                if compares:  # the upload's digest, read in chunks from its spool (never whole in memory)
                    while chunk := upload.file.read(64 * 1024):
                        hashed.update(chunk)
                    upload.file.seek(0)
                fields[name] = Upload(upload.filename, sniff(upload.file), upload.size)
        return fields, hashed.hexdigest() if compares else ""


class Magic:
    """Magic values in `sandbox.magic_field` (the pack's `magic`: value -> behaviour): `transient` is 503 and
    `rate_limited` 429 with Retry-After on a key's first attempt (without a key, every other request); `invalid` the
    pack's validation error; `insufficient_balance` or `insufficient_funds` 402."""

    def __init__(self, sandbox: Sandbox, facts: Facts) -> None:
        self.store = sandbox.store
        with untracked():
            self.field = facts.sandbox.magic_field
            self.behaviours = {value: name for name, value in facts.magic.items()}
        self.invalid = Invalid.of(facts)

    def first_attempt(self, account: str, key: str | None, what: str) -> bool:
        if key is not None:
            return self.store.next_attempt(account, f"{what}:{key}") == 1
        return self.store.next_attempt(account, what) % 2 == 1

    def apply(self, account: str, key: str | None, data: dict[str, Any]) -> None:
        value = envelope.dig(data, self.field) if self.field else None
        name = self.behaviours.get(value) if isinstance(value, str) else None
        if name == "transient" and self.first_attempt(account, key, "transient"):
            raise ApiError(503, "service_unavailable", "Temporary failure; retry with the same idempotency key.", "Retry with backoff.")
        if name == "rate_limited" and self.first_attempt(account, key, "rate"):
            raise ApiError(429, "rate_limited", "Too many requests.", "Wait 2 s (Retry-After).", headers={"Retry-After": "2"})
        if name == "invalid":
            raise self.invalid.error([(self.field or "body", "is invalid")], "Fix the request.")
        if name in ("insufficient_balance", "insufficient_funds"):
            raise ApiError(402, name, "The balance cannot cover this request.", "Top up your balance.")


class Replay:
    """The answer to a key used before (`idempotency.replay`): the stored answer with the replay's status and headers,
    or the error naming what the key made (`existing_id_at`: GoCardless's 409); a different body as
    `on_body_mismatch` says (an error of the pack's, or 409 `conflict`)."""

    def __init__(self, facts: Facts, replay: ReplayFacts) -> None:
        with untracked():
            mismatch = facts.idempotency.on_body_mismatch
            self.mismatch_error = None if isinstance(mismatch, str) else (mismatch.status, mismatch.code)
            self.conflict = mismatch == "conflict"
            self.created_status, self.id_field = facts.create.created_status, facts.create.id_field
            self.status, self.code, self.headers = replay.status, replay.code, dict(replay.headers)
            self.existing_id_at = replay.existing_id_at

    def answer(self, record: IdempotencyRecord, digest: str) -> Response:
        if record.request_hash != digest and self.mismatch_error is not None:
            raise ApiError(
                *self.mismatch_error,
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                "Use a new key for a different request.",
            )
        if record.request_hash != digest and self.conflict:
            raise ApiError(
                409, "conflict", "This idempotency key was used with a different body.", "Use a new key for a different request."
            )
        if self.existing_id_at is not None:  # an error naming what the key made (GoCardless's 409)
            try:
                existing = envelope.dig(json.loads(record.body), self.id_field)
            except ValueError:
                existing = None
            raise ApiError(
                int(self.status),
                self.code or "conflict",
                "A resource has already been created with this idempotency key",
                "Fetch the existing resource by its id instead of creating it again.",
                extra={self.existing_id_at: existing},
            )
        status = record.status or self.created_status
        if self.status != "same":
            status = int(self.status)
        return Response(record.body, status_code=status, headers={**record.headers, **self.headers})


class MakeResource:
    """The resource a create makes where no named feature makes it: the request's fields, `sandbox.resource_fields`,
    its id (`id_prefix` + random, at `create.id_field`) and `initial_status`; answered with `response_fields` (all
    without), stored with its idempotency record and the `webhooks.created_event` in one transaction."""

    def __init__(self, sandbox: Sandbox, facts: Facts) -> None:
        self.store, self.clock = sandbox.store, sandbox.clock
        with untracked():
            create, emulation, hooks = facts.create, facts.sandbox, facts.webhooks
            self.id_field, self.status_field, self.noun, self.created_status = (
                create.id_field,
                create.status_field,
                create.noun,
                create.created_status,
            )
            self.id_prefix, self.initial_status = emulation.id_prefix, emulation.initial_status
            self.resource_fields, self.response_fields = emulation.resource_fields, emulation.response_fields
            self.created_event = hooks.created_event if hooks is not None else None
            self.event_shape = hooks.envelope if hooks is not None else None  # dumped per event: put() nests into it
            self.event_format = hooks.serialisation.format() if hooks is not None else None

    async def __call__(self, account: str, data: dict[str, Any], scope: KeyScope | None) -> Response:
        now = self.clock.now(account)
        rid = self.id_prefix + secrets.token_hex(12)
        shown_data = {k: (dataclasses.asdict(v) if isinstance(v, Upload) else v) for k, v in data.items()}
        resource = {**shown_data, **self.resource_fields, "created": int(now)}
        envelope.put(resource, self.id_field, rid)  # a dotted id_field nests it: Square's {"payment": {"id": …}}
        if self.status_field:
            envelope.put(resource, self.status_field, self.initial_status)
        shown = resource if self.response_fields is None else {k: resource[k] for k in self.response_fields if k in resource}
        payload = json.dumps(shown).encode()
        with self.store.transaction() as db:
            self.store.insert_resource(db, rid, account, self.noun, scope.key if scope else None, self.initial_status, resource, now)
            if self.created_event and self.event_shape is not None:
                event_id = "evt_" + hashlib.blake2b(f"{rid}:created".encode(), digest_size=12).hexdigest()
                event = envelope.event(self.event_shape.model_dump(), event_id, self.created_event, now, resource)
                text = envelope.serialise(event, self.event_format).decode()  # as the provider writes it
                self.store.add_event(db, event_id, account, self.created_event, text, now)
            if scope is not None:
                scope.save(self.created_status, payload)
        return Response(payload, status_code=self.created_status, media_type="application/json")


@dataclasses.dataclass
class CreateParts:
    """What a create is made of, each built once from the pack (`CreateEndpoint.of`)."""

    keys: Keys
    key_rule: KeyRule
    body: BodyReader
    fields: Fields
    magic: Magic
    make: Create
    replay: Replay
    correlation_header: str | None
    in_flight: str  # sandbox.in_flight: conflict (409), too_many (429) or wait


class CreateEndpoint:
    """POST `create.path` (and each of `sandbox.path_aliases`)."""

    def __init__(self, sandbox: Sandbox, parts: CreateParts) -> None:
        self.sandbox, self.parts = sandbox, parts
        # a key in a header, and bodies not compared: a replay never reads the body (the first request alone does)
        self.lazy = parts.key_rule.in_header and not parts.body.compares
        self.in_flight_waits = parts.in_flight == "wait"
        self.in_flight_status = 429 if parts.in_flight == "too_many" else 409

    @classmethod
    def of(cls, sandbox: Sandbox, facts: Facts, replay: ReplayFacts, own_create: Create | None) -> CreateEndpoint:
        with untracked():
            correlation, in_flight = facts.correlation_header, facts.sandbox.in_flight
        parts = CreateParts(
            Keys.of(facts),
            KeyRule.of(facts),
            BodyReader(facts),
            Fields.of(facts),
            Magic(sandbox, facts),
            own_create or MakeResource(sandbox, facts),
            Replay(facts, replay),
            correlation,
            in_flight,
        )
        return cls(sandbox, parts)

    def answer_headers(self, request: Request, key: str | None) -> dict[str, str]:
        """What every answer to a create carries, errors too: the correlation id echoed (the key's echo, on every POST
        answer, is packed.EchoKey's, added by packed.Answers)."""
        name = self.parts.correlation_header
        if name and (cid := request.headers.get(name)):
            return {name: cid}
        return {}

    async def handle(self, request: Request) -> Response:
        parts = self.parts
        account = parts.keys.account(request.headers)
        limit_headers = rate_limited(self.sandbox, account)
        key = parts.key_rule.in_headers(request.headers)
        lazy = self.lazy and key is not None
        try:
            data: dict[str, Any] = {}
            digest = ""
            if not lazy:  # (a key in the body: the digest is of the request without it, taken below)
                data, digest = await parts.body.read(request, digest=parts.key_rule.in_header)
                key = parts.key_rule.key(request.headers, data)
            extra = {**limit_headers, **self.answer_headers(request, key)}
            parts.key_rule.check(key)
            if key is None:
                response = await self.submit(account, data, None)
            else:
                response = await self.once(request, account, key, data, digest if parts.key_rule.in_header else parts.body.digest(data))
        except ApiError as exc:
            exc.headers.update({**limit_headers, **self.answer_headers(request, key)})
            raise
        if extra:
            response.headers.update(extra)
        return response

    async def once(self, request: Request, account: str, key: str, data: dict[str, Any], digest: str) -> Response:
        """The create under its key: made once, replayed after."""

        async def first(scope: KeyScope) -> Response:
            fields = (await self.parts.body.read(request))[0] if self.lazy else data
            return await self.submit(account, fields, scope)

        return await idempotent(
            self.sandbox,
            account,
            key,
            digest,
            first,
            lambda record: self.parts.replay.answer(record, digest),
            in_flight_waits=self.in_flight_waits,
            in_flight_status=self.in_flight_status,
        )

    async def submit(self, account: str, data: dict[str, Any], scope: KeyScope | None) -> Response:
        self.parts.fields.check(data)
        self.parts.magic.apply(account, scope.key if scope else None, data)
        return await self.parts.make(account, data, scope)


class ReadEndpoint:
    """GET `get_path` (and `<alias>/{id}`): one resource of the key's account, its lifecycle moved along first."""

    def __init__(self, sandbox: Sandbox, facts: Facts) -> None:
        self.sandbox, self.keys = sandbox, Keys.of(facts)
        with untracked():
            self.noun = facts.create.noun

    async def handle(self, request: Request) -> Response:
        account = self.keys.account(request.headers)
        headers = rate_limited(self.sandbox, account)
        self.sandbox.settle(account)  # a lifecycle moves it along on the sandbox clock first
        resource = self.sandbox.store.get_resource(account, self.noun, request.path_params["rid"])
        if resource is None:
            raise ApiError(404, "not_found", f"No such {self.noun}.", "Check the id.", headers=headers)
        return JSONResponse(resource, headers=headers)
