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
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from checker.packs import BUILTIN_PACKS
from checker.provenance import untracked
from checker.sandbox.app import ApiError, Sandbox, SandboxOptions, control_routes, log
from checker.sandbox.clock import SandboxClock, TokenBucket
from checker.sandbox.endpoints import CreateEndpoint, ReadEndpoint
from checker.sandbox.registration import DeliverTo, WebhookEndpoints
from checker.sandbox.store import MEMORY, LostWrite, Store
from checker.sandbox.webhooks import DeliveryWorker, Redelivery
from checker.signing import SigningScheme

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
    golive's own /_sandbox control endpoints are not the provider's and get none. (Added by `Answers`.)"""

    def __init__(self, header: str, key_header: str, missing: str | None) -> None:
        self.header, self.key_header, self.missing = header.lower().encode(), key_header.lower().encode(), missing

    def of(self, scope: Scope) -> bytes | None:
        """The echo this request's answer carries, if any."""
        if scope["method"] != "POST" or scope["path"].startswith("/_sandbox"):
            return None
        key = next((value for name, value in scope["headers"] if name == self.key_header), b"") or None
        return key if key is not None else (self.missing.encode() if self.missing else None)

    def add(self, message: Message, echo: bytes) -> Message:
        headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != self.header]
        return {**message, "headers": [*headers, (self.header, echo)]}


RATE_WINDOWS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}  # a pack's rate_limit.window, in seconds


class Served:
    """The routes, middleware and settings of one pack's sandbox (see `build_app`)."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        with untracked():  # the sandbox's reads are no rule's basis (checker/provenance.py)
            facts = pack.facts
            self.DEFAULT_RATE_LIMIT = facts.rate_limit.requests_per_s if facts.rate_limit else 0.0
            self.RATE_WINDOW_S = RATE_WINDOWS[facts.rate_limit.window] if facts.rate_limit else 1.0
            hooks = facts.webhooks
            # every pack that states its signature delivers (to endpoints registered at `endpoints_path`, where it has one,
            # or with golive's own POST /_sandbox/webhooks: the pytest plugin's `deliver_to`)
            self.WEBHOOK_SCHEME: SigningScheme | None = hooks.signing() if hooks else None
            self.WEBHOOK_FORMAT: dict[str, Any] | None = hooks.serialisation.format() if hooks else None  # a delivery's bytes
            self.REDELIVERY = hooks.redelivery if hooks else None  # the provider's schedule, which the delivery worker follows

    def echo(self, options: SandboxOptions) -> EchoKey | None:
        with untracked():  # the sandbox's reads are no rule's basis (checker/provenance.py)
            idem, replay = self.pack.facts.idempotency, replay_of(self.pack, options)
            if not replay.echo_header or idem.key_in != "header":
                return None
            return EchoKey(replay.echo_header, idem.name, replay.missing_key_echo)

    def configure(self, sandbox: Sandbox) -> None:
        with untracked():  # the sandbox's reads are no rule's basis (checker/provenance.py)
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
        """The provider's endpoints as the pack states them, each an object holding the facts it needs (read once)."""
        from checker.sandbox.features import FEATURES, Feature

        pack, scheme = self.pack, self.WEBHOOK_SCHEME
        with untracked():
            facts = pack.facts
            features: list[Feature] = []
            for name in facts.sandbox.features:  # each sees the others (holds during a lifecycle's create)
                features.append(FEATURES[name](pack, sandbox, features))
            own_create = next((f.create for f in features if f.create is not None), None)
            create = CreateEndpoint.of(sandbox, facts, replay_of(pack, sandbox.options), own_create)
            aliases, get_path, hooks = list(facts.sandbox.path_aliases), facts.get_path, facts.webhooks
            routes = [Route(path, create.handle, methods=["POST"]) for path in (facts.create.path, *aliases)]
            if get_path:
                read = ReadEndpoint(sandbox, facts)
                routes.append(Route(get_path.replace("{id}", "{rid}"), read.handle, methods=["GET"]))
                routes += [Route(alias.rstrip("/") + "/{rid}", read.handle, methods=["GET"]) for alias in aliases]
            if hooks is not None and hooks.endpoints_path and scheme is not None:
                registration = WebhookEndpoints(sandbox, facts, scheme)
                routes.append(Route(hooks.endpoints_path, registration.endpoints, methods=["GET", "POST"]))
                routes.append(Route(hooks.endpoints_path.rstrip("/") + "/{hook_id}", registration.delete, methods=["DELETE"]))
            if scheme is not None:  # for any pack that states how its deliveries are signed
                routes.append(Route("/_sandbox/webhooks", DeliverTo(sandbox, facts, scheme).handle, methods=["POST"]))
            for feature in features:
                routes += feature.routes()
        return routes


# ---------------------------------------------------------------- the app


def build_app(provider: str | Pack, *, db: str | Path | None = None, options: SandboxOptions | None = None) -> Answers:
    """The embedded sandbox of a pack (or a built-in provider's, by name): every provider is served from its facts."""
    from checker.packs import load_pack

    if isinstance(provider, str):
        if provider not in BUILTIN_PACKS:
            raise ValueError(f"no embedded sandbox for {provider!r} (have: {', '.join(BUILTIN_PACKS)})")
        provider = load_pack(provider)
    served = Served(provider)
    options = options or SandboxOptions()
    # without a state file, the state lives in memory: a temporary file would be gone at shutdown too, and after a
    # crash no later sandbox would open it, so keeping it on disk would cost every write and save nothing
    sandbox = Sandbox(provider.name, Store(MEMORY if db is None else db), options, clock=SandboxClock(frozen=options.frozen_clock))
    sandbox.limiter = TokenBucket(served.DEFAULT_RATE_LIMIT if options.rate_limit is None else options.rate_limit, served.RATE_WINDOW_S)
    served.configure(sandbox)
    app = Starlette(
        routes=[*served.routes(sandbox), *control_routes(sandbox)],
        lifespan=Lifespan(served, sandbox),
        exception_handlers=error_handlers(sandbox),
    )
    app.state.sandbox = sandbox
    return Answers(app, sandbox, served.echo(options))


class Lifespan:
    """While the app is served: the delivery worker (where the pack states how deliveries are signed); after, the store
    committed and closed."""

    def __init__(self, served: Served, sandbox: Sandbox) -> None:
        self.served, self.sandbox = served, sandbox

    @contextlib.asynccontextmanager
    async def __call__(self, app: Starlette) -> AsyncIterator[None]:
        served, options = self.served, self.sandbox.options
        worker: asyncio.Task[None] | None = None
        if served.WEBHOOK_SCHEME is not None:
            redelivery = Redelivery.of(served.REDELIVERY)
            delivery = DeliveryWorker(self.sandbox, served.WEBHOOK_SCHEME, options.webhook_timeout_s, served.WEBHOOK_FORMAT, redelivery)
            worker = asyncio.ensure_future(delivery.run())
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            self.sandbox.store.close()


Handler = Callable[[Request, Exception], Awaitable[Response]]


def error_handlers(sandbox: Sandbox) -> dict[Any, Handler]:
    """Every answer that is not a route's own, in the provider's error envelope: an `ApiError` (the correlation id
    echoed), no such route or method, state the store could not save (a full disk: 500, `lost_state`), and an
    unexpected exception (500; `Answers` keeps it from the server)."""

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

    async def lost(request: Request, exc: Exception) -> Response:
        log.error("%s %s: the sandbox could not save its state (%s); answered 500 internal_error", request.method, request.url.path, exc)
        return lost_state().response(sandbox.errors)

    async def crashed(request: Request, exc: Exception) -> Response:
        return ApiError(
            500, "internal_error", "The sandbox could not handle this request.", "This is a golive bug; please report it."
        ).response(sandbox.errors)

    return {ApiError: api_error, LostWrite: lost, sqlite3.Error: lost, 404: not_found, 405: not_found, Exception: crashed}


def lost_state() -> ApiError:
    """The answer to a request whose changes, or changes it would have reported, the store lost (a commit that failed)."""
    return ApiError(
        500,
        "internal_error",
        "The sandbox could not save its state, and this answer would have reported changes that are gone.",
        "Retry the request (with the same idempotency key).",
    )


class Answers:
    """What every answer of the sandbox passes through on its way out.

    No exception escapes to the server: Starlette answers an unexpected one with the error envelope (`crashed` above)
    and then re-raises it, which would print a traceback per request; here it ends as one log line naming the request.
    No answer leaves before the changes it reports are committed: the store commits the changes of one turn of the
    event loop together (checker/sandbox/store.py), so an answer that starts while changes are pending is held here,
    after the app has returned, until that commit (`Store.durable`); an answer whose changes were lost (the commit
    failed: a full disk) is replaced by a 500 in the provider's envelope. And the key echoed (`EchoKey`)."""

    def __init__(self, app: Starlette, sandbox: Sandbox, echo: EchoKey | None = None) -> None:
        self.app, self.sandbox, self.echo = app, sandbox, echo
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        store, held, batch = self.sandbox.store, [], 0
        echo = self.echo.of(scope) if self.echo is not None else None

        async def answer(message: Message) -> None:
            nonlocal batch
            if message["type"] == "http.response.start":
                if echo is not None and self.echo is not None:
                    message = self.echo.add(message, echo)
                if store.batch:  # what it reports may be among the pending changes
                    batch = store.batch
                    held.append(message)
                    return
            elif held:
                held.append(message)
                return
            await send(message)

        try:
            await self.app(scope, receive, answer)
        except Exception as exc:
            log.error(
                "%s %s failed inside the sandbox (%s); answered 500 internal_error",
                scope.get("method"),
                scope.get("path"),
                type(exc).__name__,
            )
        if held:
            await self.committed(held, batch, send, echo)

    async def committed(self, held: list[Message], batch: int, send: Send, echo: bytes | None) -> None:
        """Send the held answer once its changes are committed (the others of this turn of the event loop written too)."""
        try:
            await self.sandbox.store.durable(batch)
        except LostWrite:
            response = lost_state().response(self.sandbox.errors)
            held = [{"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}]
            held += [{"type": "http.response.body", "body": response.body}]
            if echo is not None and self.echo is not None:
                held[0] = self.echo.add(held[0], echo)
        for message in held:
            await send(message)
