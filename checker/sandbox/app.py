"""The sandbox's shared machinery: auth, the error envelope, idempotency, rate limiting, bounded bodies, control
endpoints. Of the sandbox it imports only its leaves (clock, store, errors, validation); `packed.py` builds the app from a
pack, with the endpoints of `endpoints.py` and `registration.py`."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checker.sandbox.clock import SandboxClock, TokenBucket
from checker.sandbox.deadline import within
from checker.sandbox.errors import ApiError as ApiError  # imported from here by the features
from checker.sandbox.errors import validation_error
from checker.sandbox.store import IdempotencyRecord, Store
from checker.sandbox.validation import Keys, parsed_json

log = logging.getLogger("golive.sandbox")
TTL_S = 24 * 3600
ENV = "test"  # the sandbox is the test environment; live keys are refused


MAX_JSON_BYTES = 1024 * 1024  # a JSON request body (a submission, a label, a webhook registration)
BODY_TIMEOUT_S = 30.0  # a request body that trickles in slower than this is cut off (408)
CLOCK_LIMIT_S = 10 * 365 * 24 * 3600.0  # how far POST /_sandbox/clock may move the clock in one step
CONTROL_TOKEN_HEADER = "X-Golive-Control-Token"


@dataclass
class SandboxOptions:
    rate_limit: float | None = None  # requests/s per account; None = the provider's default, 0 = off
    replay_style: str = "000"  # mintfax: "000" (Idempotency-Replayed) or "001" (X-Idempotency-Key always)
    processing_delay_s: float = 0.0  # hold each create this long (tests use it to widen the in-flight window)
    opening_balance: int = 10_000_000  # cents
    webhook_timeout_s: float = 5.0  # a slower answer from an endpoint counts as a failure and is redelivered
    # webhooks go to loopback endpoints only (127.0.0.0/8, ::1, localhost) unless this is set: a sandbox
    # anyone on the machine can reach must not become a way to make requests into the network
    allow_remote_webhooks: bool = False
    # the clock moves only when POST /_sandbox/clock moves it, not with wall time (tests that count redeliveries
    # must not depend on how fast the machine is)
    frozen_clock: bool = False
    # what moves every account's clock at once (POST /_sandbox/clock with scope "sandbox", in CONTROL_TOKEN_HEADER):
    # `golive sandbox` prints it at start; any key is an account of its own here, so a key alone moves only its account
    control_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))


@dataclass
class Sandbox:
    provider: str
    store: Store
    options: SandboxOptions
    clock: SandboxClock = field(default_factory=SandboxClock)
    limiter: TokenBucket = field(default_factory=lambda: TokenBucket(0))
    in_flight: dict[tuple[str, str, str], asyncio.Event] = field(default_factory=dict)  # set when the first request ends
    # the provider's lifecycle step for one account (moves resources along, emits their events)
    settle: Callable[[str], None] = lambda account: None
    ttl_s: float = TTL_S  # how long a key is honoured
    errors: dict[str, Any] = field(default_factory=dict)  # the provider's error envelope (a pack's facts.errors); {}: golive's
    correlation_header: str | None = None  # echoed on every error and every create answer (a pack's correlation_header)
    rate_headers: tuple[str, str, str] = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")  # a pack's names
    key_header: str | None = None  # where a key goes when not in Authorization (a pack's api_key_header)
    key_schemes: tuple[str, ...] = ("bearer",)  # how a key may be sent in Authorization (a pack's keys.schemes)


def authenticate(
    request: Request,
    live_prefixes: tuple[str, ...] = (),
    test_prefixes: tuple[str, ...] = (),
    key_header: str | None = None,
    schemes: tuple[str, ...] = ("bearer",),
) -> str:
    """The account a request belongs to: `Keys.account` (checker/sandbox/validation.py) of its headers."""
    return Keys(live_prefixes, test_prefixes, key_header, schemes).account(request.headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read while it arrives and refused as soon as it passes `limit` bytes (413) or
    trickles in for longer than BODY_TIMEOUT_S (408): never more than `limit` bytes held."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size, receive = 0, request.receive  # the messages themselves: Starlette's stream() is an async generator around them
    try:
        with within(BODY_TIMEOUT_S):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise body_timeout() from None


def body_timeout() -> ApiError:
    return ApiError(408, "request_timeout", f"The body did not arrive within {BODY_TIMEOUT_S:g} s.", "Send the whole request at once.")


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The body is over {limit // 1024} KB.", "Send a smaller request.")


async def read_json(request: Request, limit: int = MAX_JSON_BYTES) -> Any:
    """A JSON body within `limit` bytes and MAX_JSON_DEPTH levels, whose strings are text; else 400/413."""
    return parsed_json(await read_body(request, limit))


def loopback_url(url: str) -> bool:
    """Whether an http(s) URL names this machine (127.0.0.0/8, ::1 or localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class KeyScope:
    """The key a create runs under. `save` stores the creating response in the caller's transaction,
    so the resource and its idempotency record are committed together (a crash cannot split them)."""

    store: Store
    account: str
    key: str
    request_hash: str
    now: float
    saved: bool = False
    ttl_s: float = TTL_S

    def save(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.store.save(self.account, ENV, self.key, self.request_hash, status, {"content-type": content_type}, body, self.now, self.ttl_s)
        self.saved = True


async def idempotent(
    sandbox: Sandbox,
    account: str,
    key: str,
    request_hash: str,
    create: Callable[[KeyScope], Awaitable[Response]],
    replay: Callable[[IdempotencyRecord], Response],
    *,
    in_flight_waits: bool = False,
    in_flight_status: int = 409,
) -> Response:
    """Run `create` once per (account, environment, key); replay the stored response afterwards.

    Only responses that created something (2xx) are stored: an error leaves the key usable. A request
    arriving while the first one with its key is still being processed gets 409 (`in_flight_status`: Checkout.com
    documents 429 "Too many requests"), or, with `in_flight_waits`,
    waits for the first to end and is answered as a retry after it (idunox's document: "Retry with same key
    and same body: 202 Accepted — original submissionId returned"; it names no in-flight conflict). What is
    in flight lives in memory (a restart ends every request in flight); the check-and-mark below has no
    await between, so on the event loop it is atomic.
    """
    store = sandbox.store
    in_flight = (account, ENV, key)
    while (first := sandbox.in_flight.get(in_flight)) is not None:
        if not in_flight_waits:
            raise ApiError(
                in_flight_status,
                "idempotency_key_in_use" if in_flight_status == 409 else "too_many_requests",
                "A request with this idempotency key is still being processed.",
                "Wait for the first request to finish, then retry with the same key.",
            )
        await first.wait()  # then as a retry: the stored answer, or (the first failed) a key still usable
    record = store.lookup(account, ENV, key, sandbox.clock.now(account))
    if record is not None:
        return replay(record)
    done = sandbox.in_flight[in_flight] = asyncio.Event()
    try:
        if sandbox.options.processing_delay_s:
            await asyncio.sleep(sandbox.options.processing_delay_s)
        scope = KeyScope(store, account, key, request_hash, sandbox.clock.now(account), ttl_s=sandbox.ttl_s)
        response = await create(scope)
        if 200 <= response.status_code < 300 and not scope.saved:
            scope.save(response.status_code, bytes(response.body), response.headers.get("content-type", "application/json"))
    finally:
        del sandbox.in_flight[in_flight]
        done.set()
    return response


def resource_or_404(
    sandbox: Sandbox, account: str, kind: str, resource_id: str, hint: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """GET one resource of the account, or the envelope's 404."""
    resource = sandbox.store.get_resource(account, kind, resource_id)
    if resource is None:
        raise ApiError(404, "not_found", f"No such {kind}.", hint, headers=headers)
    return JSONResponse(resource, headers=headers)


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def rate_limited(sandbox: Sandbox, account: str) -> dict[str, str]:
    """Take a token for `account`; the X-RateLimit-* headers, or raise 429. Each header is a whole number, as
    providers send them and SDKs parse them (gocardless-pro 3.22.0, rate_limit.py:33-35: `int(limit)`): the
    limit is the requests one window allows (the pack's `rate_limit.window`), the reset the seconds until the window
    is whole again."""
    allowed, left, wait = sandbox.limiter.take(account)
    if sandbox.limiter.rate <= 0:
        return {}
    limit = str(max(1, math.floor(sandbox.limiter.capacity + 0.01)))  # 16.6667/s over a minute: 1000, not 1000.002
    limit_name, remaining_name, reset_name = sandbox.rate_headers
    if not allowed:
        retry_after = max(1, math.ceil(wait))
        headers = {"Retry-After": str(retry_after), limit_name: limit, remaining_name: "0", reset_name: str(retry_after)}
        raise ApiError(429, "rate_limited", "Too many requests.", f"Wait {retry_after} s (Retry-After) before retrying.", headers=headers)
    whole_again = max(1, math.ceil((sandbox.limiter.capacity - left) / sandbox.limiter.rate))
    return {limit_name: limit, remaining_name: str(int(left)), reset_name: str(whole_again)}


# ---------------------------------------------------------------- control endpoints (embedded sandbox only)


def control_routes(sandbox: Sandbox) -> list[Route]:
    """golive's own endpoints, beside the provider's (`Control`)."""
    control = Control(sandbox)
    return [
        Route("/_sandbox/stats", control.stats, methods=["GET"]),
        Route("/_sandbox/resources", control.resources, methods=["GET"]),
        Route("/_sandbox/clock", control.clock, methods=["POST"]),
        Route("/_sandbox/events", control.events, methods=["GET"]),
    ]


class Control:
    """golive's own endpoints, beside the provider's. Each takes the account's key and moves or shows that account
    only; moving every account's clock takes the control token `golive sandbox` printed. None takes a request a web
    page of another origin can make (`refuse_cross_origin`), nor a clock move that is not JSON: a page can send a
    `text/plain` or form POST to 127.0.0.1 without asking, but no key, no token and no JSON without the browser asking
    first (CORS), which this sandbox never grants."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def account(self, request: Request) -> str:
        refuse_cross_origin(request)
        return authenticate(request, key_header=self.sandbox.key_header, schemes=self.sandbox.key_schemes)

    async def stats(self, request: Request) -> Response:
        sandbox, account = self.sandbox, self.account(request)
        return JSONResponse(
            {"provider": sandbox.provider, "resources": sandbox.store.count_resources(account), "clock_offset_s": sandbox.clock.offset_s}
        )

    async def clock(self, request: Request) -> Response:
        refuse_cross_origin(request)
        raw = await read_body(request, 4096)  # first: a body over its limit is refused while it arrives, whatever its type
        if request.headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
            raise ApiError(415, "unsupported_media_type", "POST /_sandbox/clock takes a JSON body.", "Send Content-Type: application/json.")
        seconds, scope = clock_move(parsed_json(raw))
        clock = self.sandbox.clock
        if scope == "account":  # only the caller's account: its keys age, its resources settle, no other account's do
            account = authenticate(request, key_header=self.sandbox.key_header, schemes=self.sandbox.key_schemes)
            clock.advance(seconds, account)
            return JSONResponse({"clock_offset_s": clock.offset_s + clock.accounts[account]})
        if not holds_control_token(request, self.sandbox):
            raise ApiError(
                403,
                "control_token_required",
                "Moving every account's clock takes golive sandbox's control token.",
                f"Send {CONTROL_TOKEN_HEADER} with the token golive sandbox printed at start, or move your own account's clock "
                "with your key (scope 'account').",
            )
        clock.advance(seconds)
        return JSONResponse({"clock_offset_s": clock.offset_s})

    async def events(self, request: Request) -> Response:
        sandbox, account = self.sandbox, self.account(request)
        sandbox.settle(account)
        return JSONResponse({"data": sandbox.store.events(account), "deliveries": sandbox.store.deliveries(account)})

    async def resources(self, request: Request) -> Response:
        """What the sandbox created: the account's resources (a key), or every account's (the control token)."""
        refuse_cross_origin(request)
        sandbox = self.sandbox
        if holds_control_token(request, sandbox):
            for account in sandbox.store.accounts():  # each lifecycle moved along on its clock first, as a GET of one is
                sandbox.settle(account)
            return JSONResponse({"data": sandbox.store.resources()})
        account = self.account(request)
        sandbox.settle(account)
        return JSONResponse({"data": sandbox.store.resources(account)})


def clock_move(body: Any) -> tuple[float, str]:
    """(seconds, scope) of a POST /_sandbox/clock body: a finite `advance_s` within CLOCK_LIMIT_S either way, and the
    scope `account` (the default) or `sandbox`; else 400."""
    if not isinstance(body, dict):
        raise validation_error("advance_s", "a number of seconds is required", 400)
    try:
        seconds = float(body["advance_s"])
    except (ValueError, KeyError, TypeError):
        raise validation_error("advance_s", "a number of seconds is required", 400) from None
    if not math.isfinite(seconds) or abs(seconds) > CLOCK_LIMIT_S:
        raise validation_error("advance_s", f"must be a finite number of seconds, at most {CLOCK_LIMIT_S:g} either way", 400)
    scope = body.get("scope", "account")
    if scope not in ("sandbox", "account"):
        raise validation_error(
            "scope", "must be 'account' (the caller's clock) or 'sandbox' (every account's, with the control token)", 400
        )
    return seconds, scope


def holds_control_token(request: Request, sandbox: Sandbox) -> bool:
    """The request carries the control token `golive sandbox` printed (CONTROL_TOKEN_HEADER)."""
    return hmac.compare_digest(request.headers.get(CONTROL_TOKEN_HEADER, "").encode(), sandbox.options.control_token.encode())


def refuse_cross_origin(request: Request) -> None:
    """403 for a request a browser made on behalf of another site: an `Origin` that is not this sandbox's own (as
    the request's Host names it), or `Sec-Fetch-Site` saying so. curl, SDKs and golive's probes send neither."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    site = request.headers.get("sec-fetch-site", "same-origin").lower()
    if (origin is not None and origin.strip().lower() != own) or site not in ("same-origin", "none"):
        raise ApiError(
            403,
            "cross_origin_refused",
            "golive's control endpoints take no request from a web page of another origin.",
            "Call them from your tests, a script or curl.",
        )
