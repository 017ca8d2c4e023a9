"""A sandbox served from a pack's facts alone: any provider whose API has the usual shape.

What it serves, all read from the pack (docs/packs.md, "Writing a rule pack"): the create endpoint (`create.path`,
JSON, form or multipart as `create.encoding` says) and the read endpoint (`get_path`); keys (`keys.*`: live
keys refused, sandbox prefixes required when the pack names any); the idempotency key where the provider takes
it (`idempotency.key_in`, `name`, `max_length`, `required`), honoured for `ttl_hours` on the movable clock,
replayed as `idempotency.replay` says, a different body answered as `on_body_mismatch` says, a request in flight
as `sandbox.in_flight` says; validation (`sandbox.required`, `sandbox.patterns`); magic values in
`sandbox.magic_field` (`magic.transient`: 503 on a key's first attempt; `magic.rate_limited`: 429 with
Retry-After on the first; `magic.invalid`; `magic.insufficient_balance` or `magic.insufficient_funds`: 402); a
rate limit (`rate_limit.requests_per_s`); every error in the provider's envelope (`errors`); webhook endpoints
(`webhooks.endpoints_path`, `webhooks.registration`) and, per created resource, the event `webhooks.created_event`
in the provider's envelope and signature scheme, redelivered with backoff (checker/sandbox/webhooks.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import secrets
import tempfile
import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from checker import envelope
from checker.envelope import dig, form_decode
from checker.linear_regex import LinearPattern
from checker.packs import BUILTIN_PACKS, size_limit
from checker.sandbox.app import (
    MAX_JSON_BYTES,
    ApiError,
    KeyScope,
    Sandbox,
    SandboxOptions,
    authenticate,
    check_key_length,
    control_routes,
    idempotent,
    json_bytes,
    log,
    loopback_url,
    rate_limited,
    read_body,
    read_json,
    refuse_cross_origin,
    validation_error,
)
from checker.sandbox.clock import SandboxClock, TokenBucket
from checker.sandbox.forms import FormError, read_form
from checker.sandbox.store import IdempotencyRecord, Store
from checker.sandbox.webhooks import DeliveryWorker, Redelivery
from checker.signing import SecretError, SigningScheme, fresh_secret
from checker.sniff import sniff

if TYPE_CHECKING:
    from checker.packs import Pack, ReplayFacts

MISSING_KEY_ECHO = "not provided; recommended"  # --replay-style 001: the echo of a POST without a key (mintfax 001)


def replay_of(pack: Pack, options: SandboxOptions) -> ReplayFacts:
    """The pack's replay facts, or, with `golive sandbox --replay-style 001`, the other revision of a guide that echoes
    the key on every POST answer: no replay header, and MISSING_KEY_ECHO without a key."""
    replay = pack.facts.idempotency.replay
    if options.replay_style == "001" and replay.echo_header:
        return replay.model_copy(update={"headers": {}, "missing_key_echo": replay.missing_key_echo or MISSING_KEY_ECHO})
    return replay


class EchoKey:
    """The idempotency key echoed on every POST answer, errors too (401, 422, 429; webhook registration), where the
    pack names an echo header (`idempotency.replay.echo_header`): the key sent, or `missing_key_echo` without one.
    golive's own /_sandbox control endpoints are not the provider's and get none."""

    def __init__(self, app: ASGIApp, header: str, key_header: str, missing: str | None) -> None:
        self.app, self.header, self.key_header, self.missing = app, header.lower().encode(), key_header.lower().encode(), missing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        key = next((value for name, value in scope["headers"] if name == self.key_header), b"") or None
        echo = key if key is not None else (self.missing.encode() if self.missing else None)

        async def echoed(message: Message) -> None:
            if message["type"] == "http.response.start" and echo is not None:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != self.header]
                message = {**message, "headers": [*headers, (self.header, echo)]}
            await send(message)

        await self.app(scope, receive, echoed)


DEFAULT_MAX_FILE_BYTES = 10_000_000
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


def is_json_type(value: Any, kind: str) -> bool:
    """Whether a decoded JSON value is of `kind` (true and false are not numbers, though Python's bool is an int)."""
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, JSON_TYPES[kind][0])


RATE_WINDOWS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}  # a pack's rate_limit.window, in seconds


@dataclasses.dataclass(frozen=True)
class Upload:
    """A document a multipart create carried: its name, its kind by content (checker/sniff.py), its size."""

    filename: str
    kind: str
    size: int


class Served:
    """The routes, middleware and settings of one pack's sandbox (see `build_app`)."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        facts = pack.facts
        self.DEFAULT_RATE_LIMIT = facts.rate_limit.requests_per_s if facts.rate_limit else 0.0
        self.RATE_WINDOW_S = RATE_WINDOWS[facts.rate_limit.window] if facts.rate_limit else 1.0
        hooks = facts.webhooks
        # every pack that states its signature delivers (to endpoints registered at `endpoints_path`, where it has one,
        # or with golive's own POST /_sandbox/webhooks: the pytest plugin's `deliver_to`)
        self.WEBHOOK_SCHEME: SigningScheme | None = hooks.signing() if hooks else None
        self.WEBHOOK_FORMAT: dict[str, Any] | None = hooks.serialisation.format() if hooks else None  # a delivery's bytes
        self.REDELIVERY = hooks.redelivery if hooks else None  # the provider's schedule, which the delivery worker follows

    def middleware(self, options: SandboxOptions) -> list[Middleware]:
        idem, replay = self.pack.facts.idempotency, replay_of(self.pack, options)
        if not replay.echo_header or idem.key_in != "header":
            return []
        return [Middleware(EchoKey, header=replay.echo_header, key_header=idem.name, missing=replay.missing_key_echo)]

    def configure(self, sandbox: Sandbox) -> None:
        facts = self.pack.facts
        sandbox.errors = facts.errors.model_dump()
        sandbox.correlation_header = facts.correlation_header
        sandbox.key_header = facts.api_key_header
        sandbox.key_schemes = tuple(facts.keys.schemes)
        if facts.rate_limit is not None:
            names = facts.rate_limit.headers
            sandbox.rate_headers = (names.limit, names.remaining, names.reset)
        if facts.idempotency.ttl_hours:
            sandbox.ttl_s = facts.idempotency.ttl_hours * 3600

    def routes(self, sandbox: Sandbox) -> list[Route]:
        return _routes(self.pack, sandbox, self.WEBHOOK_SCHEME)


def _plain(model: Any) -> Any:
    """A facts model's fields as plain attributes (nested models stay models)."""
    return types.SimpleNamespace(**{name: getattr(model, name) for name in type(model).model_fields})


def _routes(pack: Pack, sandbox: Sandbox, scheme: SigningScheme | None) -> list[Route]:
    from checker.sandbox.features import FEATURES, Feature

    features: list[Feature] = []
    for name in pack.facts.sandbox.features:  # each sees the others (holds during a lifecycle's create)
        features.append(FEATURES[name](pack, sandbox, features))
    own_create = next((f.create for f in features if f.create is not None), None)
    facts = pack.facts
    # plain snapshots of the facts read on every request: a facts model records each read (checker/provenance.py),
    # which a request path this hot should not pay for
    create_facts, idem, emulation = _plain(facts.create), _plain(facts.idempotency), _plain(facts.sandbox)
    files = _plain(facts.files) if facts.files is not None else None
    correlation_header = facts.correlation_header
    store, clock = sandbox.store, sandbox.clock
    live, test = tuple(facts.keys.live_prefixes), tuple(facts.keys.test_prefixes)
    patterns = {name: LinearPattern(pattern) for name, pattern in emulation.patterns.items()}  # a pack's: linear time
    typed = dict(emulation.required_types)
    magic = {value: name for name, value in facts.magic.items()}
    replay_facts = replay_of(pack, sandbox.options)
    compares_bodies = not isinstance(idem.on_body_mismatch, str) or idem.on_body_mismatch == "conflict"
    hooks = facts.webhooks

    def answer_headers(request: Request, key: str | None) -> dict[str, str]:
        """What every answer to a create carries, errors too: the correlation id echoed (the key's echo, on every
        POST answer, is EchoKey's)."""
        if correlation_header and (cid := request.headers.get(correlation_header)):
            return {correlation_header: cid}
        return {}

    def digest_of(data: dict[str, Any]) -> str:
        """What a reused key's body is compared by (nothing where the pack compares no bodies)."""
        return hashlib.sha256(json_bytes(data)).hexdigest() if compares_bodies else ""

    async def fields_of(request: Request) -> tuple[dict[str, Any], str]:
        """The request's fields (uploads as `Upload`s), and a digest of the whole request where bodies are compared."""
        if create_facts.encoding == "json":
            body = await read_json(request)
            if not isinstance(body, dict):
                raise validation_error("body", "must be a JSON object", emulation.invalid_status, emulation.invalid_code)
            return body, digest_of(body)
        if create_facts.encoding == "form":
            raw = await read_body(request, MAX_JSON_BYTES)
            try:
                data = form_decode(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise ApiError(400, "invalid_request", "The body is not a form.", "Send application/x-www-form-urlencoded.") from None
            return data, digest_of(data)
        limit = files.max_bytes if files else DEFAULT_MAX_FILE_BYTES
        try:
            form = await read_form(request, max_file_bytes=limit)
        except FormError as exc:
            if exc.kind == "too_large":
                code = files.too_large_error if files else "file_too_large"
                raise ApiError(422, code, f"Files must be {size_limit(limit)}.", "Compress or split the document.") from None
            raise ApiError(400, "invalid_request", f"Could not read the multipart body: {exc}", "Send multipart/form-data.") from None
        with form:
            digest = hashlib.sha256(json_bytes(form.fields) if compares_bodies else b"")
            fields: dict[str, Any] = dict(form.fields)
            for name, upload in form.files.items():
                if compares_bodies:  # the upload's digest, read in chunks from its spool (never whole in memory)
                    while chunk := upload.file.read(64 * 1024):
                        digest.update(chunk)
                    upload.file.seek(0)
                fields[name] = Upload(upload.filename, sniff(upload.file), upload.size)
        return fields, digest.hexdigest() if compares_bodies else ""

    def key_of(request: Request, data: dict[str, Any]) -> str | None:
        if idem.key_in == "header":
            return request.headers.get(idem.name) or None
        value = data.pop(idem.name, None)
        return value if isinstance(value, str) and value else None

    def validate(data: dict[str, Any]) -> None:
        """`sandbox.required`: a non-empty string (the file field: an uploaded document); `sandbox.patterns`: a string
        matching the pattern whole."""
        problems = []
        file_field = create_facts.file.field if create_facts.file else None
        for name in emulation.required:
            value = dig(data, name)
            if name == file_field:
                if not isinstance(value, Upload):
                    problems.append((name, "is required (a document upload)"))
            elif name in typed:
                continue  # checked below, for its own JSON type
            elif not isinstance(value, str) or not value:
                problems.append((name, "is required (a string)" if value in (None, "") else "must be a string"))
        for name, kind in typed.items():
            value = dig(data, name)
            if value is None:
                problems.append((name, f"is required ({JSON_TYPES[kind][1]})"))
            elif not is_json_type(value, kind):
                problems.append((name, f"must be {JSON_TYPES[kind][1]}"))
        for name, pattern in patterns.items():
            value = dig(data, name)
            if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
                problems.append((name, f"is not valid (expected {pattern.pattern})"))
        upload = data.get(file_field) if file_field else None
        if isinstance(upload, Upload) and files is not None and upload.kind not in files.types:
            raise ApiError(
                422,
                files.unsupported_error,
                f"The file's content is {upload.kind}, which is not accepted.",
                f"Send one of: {', '.join(t.upper() for t in files.types)}.",
                errors=[{"field": file_field or "file", "message": f"unsupported type {upload.kind}"}],
            )
        if problems:
            raise ApiError(
                emulation.invalid_status,
                emulation.invalid_code,
                "; ".join(f"{name}: {message}" for name, message in problems),
                "Fix the invalid fields and send the request again.",
                errors=[{"field": name, "message": message} for name, message in problems],
            )

    def first_attempt(account: str, key: str | None, what: str) -> bool:
        """A magic value fails the first attempt of each key; without a key, every other request."""
        if key is not None:
            return store.next_attempt(account, f"{what}:{key}") == 1
        return store.next_attempt(account, what) % 2 == 1

    def magic_behaviour(account: str, key: str | None, data: dict[str, Any]) -> None:
        value = dig(data, emulation.magic_field) if emulation.magic_field else None
        name = magic.get(value) if isinstance(value, str) else None
        if name == "transient" and first_attempt(account, key, "transient"):
            raise ApiError(503, "service_unavailable", "Temporary failure; retry with the same idempotency key.", "Retry with backoff.")
        if name == "rate_limited" and first_attempt(account, key, "rate"):
            raise ApiError(429, "rate_limited", "Too many requests.", "Wait 2 s (Retry-After).", headers={"Retry-After": "2"})
        if name == "invalid":
            field = emulation.magic_field or "body"
            raise ApiError(
                emulation.invalid_status,
                emulation.invalid_code,
                f"{field}: is invalid",
                "Fix the request.",
                errors=[{"field": field, "message": "is invalid"}],
            )
        if name in ("insufficient_balance", "insufficient_funds"):
            raise ApiError(402, name, "The balance cannot cover this request.", "Top up your balance.")

    async def create(request: Request) -> Response:
        account = authenticate(request, live, test, sandbox.key_header, sandbox.key_schemes)
        limit_headers = rate_limited(sandbox, account)
        key = request.headers.get(idem.name) or None if idem.key_in == "header" else None
        # a key in a header, and bodies not compared: a replay never reads the body (the first request alone does)
        lazy = idem.key_in == "header" and not compares_bodies and key is not None
        try:
            data, digest = ({}, "") if lazy else await fields_of(request)
            key = key if lazy else key_of(request, data)
            extra = {**limit_headers, **answer_headers(request, key)}
            if key is None and idem.required and idem.key_in == "body":  # a missing field: the pack's validation error
                raise ApiError(
                    emulation.invalid_status,
                    emulation.invalid_code,
                    f"{idem.name}: is required in every request",
                    "Send a unique key per operation; the same key can be reused for a retry.",
                    errors=[{"field": idem.name, "message": "is required in every request"}],
                )
            if key is None and idem.required:
                raise ApiError(
                    400, "idempotency_key_required", f"Every request needs the {idem.name} header.", "Send a unique key per operation."
                )
            if key is not None:
                check_key_length(key, idem.max_length or 255)
                if idem.key_in == "body":  # the digest is of the request without its key
                    digest = digest_of(data)

                async def first(scope: KeyScope) -> Response:
                    fields = (await fields_of(request))[0] if lazy else data
                    return await submit(account, fields, scope)

                response = await idempotent(
                    sandbox,
                    account,
                    key,
                    digest,
                    first,
                    replay(digest),
                    in_flight_waits=emulation.in_flight == "wait",
                    in_flight_status=429 if emulation.in_flight == "too_many" else 409,
                )
            else:
                response = await submit(account, data, None)
        except ApiError as exc:
            exc.headers.update({**limit_headers, **answer_headers(request, key)})
            raise
        response.headers.update(extra)
        return response

    async def submit(account: str, data: dict[str, Any], scope: KeyScope | None) -> Response:
        validate(data)
        magic_behaviour(account, scope.key if scope else None, data)
        if own_create is not None:  # a named feature makes the resource (checker/sandbox/features.py)
            return await own_create(account, data, scope)
        now = clock.now(account)
        rid = emulation.id_prefix + secrets.token_hex(12)
        shown_data = {k: (dataclasses.asdict(v) if isinstance(v, Upload) else v) for k, v in data.items()}
        resource = {**shown_data, **emulation.resource_fields, "created": int(now)}
        envelope.put(resource, create_facts.id_field, rid)  # a dotted id_field nests it: Square's {"payment": {"id": …}}
        if create_facts.status_field:
            envelope.put(resource, create_facts.status_field, emulation.initial_status)
        shown = {k: resource[k] for k in emulation.response_fields if k in resource} if emulation.response_fields is not None else resource
        payload = json.dumps(shown).encode()
        with store.transaction() as db:
            store.insert_resource(
                db, rid, account, create_facts.noun, scope.key if scope else None, emulation.initial_status, resource, now
            )
            if hooks is not None and hooks.created_event:
                event_id = "evt_" + hashlib.blake2b(f"{rid}:created".encode(), digest_size=12).hexdigest()
                event = envelope.event(hooks.envelope.model_dump(), event_id, hooks.created_event, now, resource)
                text = envelope.serialise(event, hooks.serialisation.format()).decode()  # as the provider writes it
                store.add_event(db, event_id, account, hooks.created_event, text, now)
            if scope is not None:
                scope.save(create_facts.created_status, payload)
        return Response(payload, status_code=create_facts.created_status, media_type="application/json")

    def replay(digest: str) -> Any:
        def replayed(record: IdempotencyRecord) -> Response:
            mismatch = idem.on_body_mismatch
            if record.request_hash != digest and not isinstance(mismatch, str):
                raise ApiError(
                    mismatch.status,
                    mismatch.code,
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                    "Use a new key for a different request.",
                )
            if record.request_hash != digest and mismatch == "conflict":
                raise ApiError(
                    409, "conflict", "This idempotency key was used with a different body.", "Use a new key for a different request."
                )
            if replay_facts.existing_id_at is not None:  # an error naming what the key made (GoCardless's 409)
                try:
                    existing = envelope.dig(json.loads(record.body), create_facts.id_field)
                except ValueError:
                    existing = None
                raise ApiError(
                    int(replay_facts.status),
                    replay_facts.code or "conflict",
                    "A resource has already been created with this idempotency key",
                    "Fetch the existing resource by its id instead of creating it again.",
                    extra={replay_facts.existing_id_at: existing},
                )
            status = record.status or create_facts.created_status
            if replay_facts.status != "same":
                status = int(replay_facts.status)
            return Response(record.body, status_code=status, headers={**record.headers, **replay_facts.headers})

        return replayed

    async def get(request: Request) -> Response:
        account = authenticate(request, live, test, sandbox.key_header, sandbox.key_schemes)
        headers = rate_limited(sandbox, account)
        sandbox.settle(account)  # a lifecycle moves it along on the sandbox clock first
        resource = store.get_resource(account, create_facts.noun, request.path_params["rid"])
        if resource is None:
            raise ApiError(404, "not_found", f"No such {create_facts.noun}.", "Check the id.", headers=headers)
        return JSONResponse(resource, headers=headers)

    routes = [Route(path, create, methods=["POST"]) for path in (create_facts.path, *emulation.path_aliases)]
    if facts.get_path:
        routes.append(Route(facts.get_path.replace("{id}", "{rid}"), get, methods=["GET"]))
        routes += [Route(alias.rstrip("/") + "/{rid}", get, methods=["GET"]) for alias in emulation.path_aliases]
    if hooks is not None and hooks.endpoints_path and scheme is not None:
        routes += _webhook_routes(pack, sandbox, scheme)
    if scheme is not None:
        routes += _delivery_control(pack, sandbox, scheme)
    for feature in features:
        routes += feature.routes()
    return routes


def _webhook_routes(pack: Pack, sandbox: Sandbox, scheme: SigningScheme) -> list[Route]:
    facts = pack.facts
    hooks = facts.webhooks
    assert hooks is not None and hooks.endpoints_path
    registration, shape, emulation = hooks.registration, hooks.envelope, facts.sandbox
    known = hooks.event_types
    store, clock = sandbox.store, sandbox.clock
    live, test = tuple(facts.keys.live_prefixes), tuple(facts.keys.test_prefixes)

    def shown(endpoint: dict[str, Any]) -> dict[str, Any]:
        """An endpoint as the provider lists it: its field names, `created` as its events write it."""
        events = [registration.all_events if e == "*" and registration.all_events else e for e in endpoint["events"]]
        created = {shape.created: envelope.stamp(shape.created_format, endpoint["created_at"])} if "." not in shape.created else {}
        return {"id": endpoint["id"], registration.url_field: endpoint["url"], registration.events_field: events, **created}

    async def endpoints(request: Request) -> Response:
        account = authenticate(request, live, test, sandbox.key_header, sandbox.key_schemes)
        headers = rate_limited(sandbox, account)
        if request.method == "GET":
            listed: dict[str, Any] = {}
            envelope.put(listed, registration.list_field, [shown(e) for e in store.webhooks(account)])
            return JSONResponse(listed, headers=headers)
        if facts.create.encoding == "form":
            try:
                body: Any = form_decode((await read_body(request, 64 * 1024)).decode("utf-8", "replace"))
            except ValueError:
                raise ApiError(
                    400, "invalid_request", "The body is not a usable form.", "Send application/x-www-form-urlencoded."
                ) from None
        else:
            body = await read_json(request, 64 * 1024)

        def invalid(field: str, message: str) -> ApiError:
            return validation_error(field, message, emulation.invalid_status, emulation.invalid_code)

        if not isinstance(body, dict):
            raise invalid(registration.url_field, "is required")
        url = body.get(registration.url_field)
        events = body.get(registration.events_field, list(known) if known else None)
        if isinstance(events, dict):  # a form's enabled_events[0]=…: a mapping of indexes
            events = list(events.values())
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2048:
            raise invalid(registration.url_field, "must be an http(s) URL")
        if not sandbox.options.allow_remote_webhooks and not loopback_url(url):
            raise invalid(
                registration.url_field,
                "must be on this machine (127.0.0.1, ::1 or localhost); start golive sandbox with --allow-remote-webhooks for others",
            )
        allowed = [*known, *([registration.all_events] if registration.all_events else [])]
        if not isinstance(events, list) or not events or not all(isinstance(e, str) and (not known or e in allowed) for e in events):
            listed_types = f" of: {', '.join(allowed)}" if known else " of event types"
            raise invalid(registration.events_field, f"must be a non-empty list{listed_types}")
        if registration.all_events is not None:  # stored as the delivery planner's wildcard
            events = ["*" if e == registration.all_events else e for e in events]
        hook_id = "we_" + secrets.token_hex(8)
        secret = fresh_secret(scheme.name)
        now = clock.now(account)
        store.add_webhook(hook_id, account, url, events, secret, now)
        answer = shown({"id": hook_id, "url": url, "events": events, "created_at": now})
        answer[registration.secret_field] = secret
        return JSONResponse(answer, status_code=registration.created_status, headers=headers)

    async def delete(request: Request) -> Response:
        account = authenticate(request, live, test, sandbox.key_header, sandbox.key_schemes)
        headers = rate_limited(sandbox, account)
        hook_id = request.path_params["hook_id"]
        if not store.delete_webhook(account, hook_id):
            raise ApiError(404, "not_found", "No such webhook endpoint.", f"List endpoints with GET {hooks.endpoints_path}.")
        if registration.deleted_status == 204:
            return Response(status_code=204, headers=headers)
        return JSONResponse({"id": hook_id, "deleted": True}, status_code=registration.deleted_status, headers=headers)

    return [
        Route(hooks.endpoints_path, endpoints, methods=["GET", "POST"]),
        Route(hooks.endpoints_path.rstrip("/") + "/{hook_id}", delete, methods=["DELETE"]),
    ]


def _delivery_control(pack: Pack, sandbox: Sandbox, scheme: SigningScheme) -> list[Route]:
    """POST /_sandbox/webhooks, for any pack that states how its deliveries are signed (with or without a documented
    registration endpoint of its own)."""
    facts = pack.facts
    known = facts.webhooks.event_types if facts.webhooks else []
    store, clock = sandbox.store, sandbox.clock
    live, test = tuple(facts.keys.live_prefixes), tuple(facts.keys.test_prefixes)

    async def deliver_to(request: Request) -> Response:
        """golive's own registration (the pytest plugin's `deliver_to`): an endpoint of the key's account whose events are
        signed with the secret the caller's receiver already has, rather than one the sandbox makes; JSON only, as the
        clock takes it (see `control_routes`)."""
        refuse_cross_origin(request)
        account = authenticate(request, live, test, sandbox.key_header, sandbox.key_schemes)
        if request.headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
            raise ApiError(
                415, "unsupported_media_type", "POST /_sandbox/webhooks takes a JSON body.", "Send Content-Type: application/json."
            )
        body = await read_json(request, 64 * 1024)
        url, secret, events = (body.get(name) for name in ("url", "secret", "events")) if isinstance(body, dict) else (None, None, None)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2048:
            raise validation_error("url", "must be an http(s) URL", 400)
        if not sandbox.options.allow_remote_webhooks and not loopback_url(url):
            raise validation_error("url", "must be on this machine (127.0.0.1, ::1 or localhost)", 400)
        if not isinstance(secret, str) or not secret:
            raise validation_error("secret", "the receiver's signing secret is required", 400)
        try:
            scheme.sign([secret], b"", timestamp=0, msg_id="x")
        except SecretError as exc:
            raise validation_error("secret", str(exc), 400) from None
        events = ["*"] if events is None else events
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) and (e == "*" or not known or e in known) for e in events)
        ):
            raise validation_error("events", f"must be a non-empty list of: {', '.join(['*', *known])}" if known else "must be a list", 400)
        hook_id = "we_" + secrets.token_hex(8)
        store.add_webhook(hook_id, account, url, events, secret, clock.now(account))
        return JSONResponse({"id": hook_id, "url": url, "events": events}, status_code=201)

    return [Route("/_sandbox/webhooks", deliver_to, methods=["POST"])]


# ---------------------------------------------------------------- the app


def build_app(provider: str | Pack, *, db: str | Path | None = None, options: SandboxOptions | None = None) -> Contained:
    """The embedded sandbox of a pack (or a built-in provider's, by name): every provider is served from its facts."""
    from checker.packs import load_pack

    if isinstance(provider, str):
        if provider not in BUILTIN_PACKS:
            raise ValueError(f"no embedded sandbox for {provider!r} (have: {', '.join(BUILTIN_PACKS)})")
        provider = load_pack(provider)
    served = Served(provider)
    options = options or SandboxOptions()
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="golive-sandbox-")
        db = Path(tmp.name) / "sandbox.db"
    sandbox = Sandbox(provider.name, Store(db), options, clock=SandboxClock(frozen=options.frozen_clock))
    sandbox.limiter = TokenBucket(served.DEFAULT_RATE_LIMIT if options.rate_limit is None else options.rate_limit, served.RATE_WINDOW_S)
    served.configure(sandbox)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker: asyncio.Task[None] | None = None
        if served.WEBHOOK_SCHEME is not None:
            worker = asyncio.ensure_future(
                DeliveryWorker(
                    sandbox, served.WEBHOOK_SCHEME, options.webhook_timeout_s, served.WEBHOOK_FORMAT, Redelivery.of(served.REDELIVERY)
                ).run()
            )
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            sandbox.store.close()
            if tmp is not None:
                tmp.cleanup()

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        response = exc.response(sandbox.errors)
        cid = request.headers.get(sandbox.correlation_header) if sandbox.correlation_header else None
        if cid:
            response.headers[sandbox.correlation_header or ""] = cid
        return response

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        return ApiError(
            status, "not_found" if status == 404 else "method_not_allowed", f"No route for {request.method} {request.url.path}."
        ).response(sandbox.errors)

    async def crashed(request: Request, exc: Exception) -> Response:
        return ApiError(
            500, "internal_error", "The sandbox could not handle this request.", "This is a golive bug; please report it."
        ).response(sandbox.errors)

    app = Starlette(
        routes=[*served.routes(sandbox), *control_routes(sandbox)],
        middleware=served.middleware(options),
        lifespan=lifespan,
        exception_handlers={ApiError: api_error, 404: not_found, 405: not_found, Exception: crashed},
    )
    app.state.sandbox = sandbox
    return Contained(app)


class Contained:
    """The app, with no exception escaping to the server: Starlette answers an unexpected one with the
    error envelope (`crashed` above) and then re-raises it, which would print a traceback per request.
    Here it ends as one log line naming the request."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope["type"] != "http":
                raise
            log.error(
                "%s %s failed inside the sandbox (%s); answered 500 internal_error",
                scope.get("method"),
                scope.get("path"),
                type(exc).__name__,
            )
