"""The sandbox's shared machinery: auth, the error envelope, idempotency, rate limiting, bounded bodies, control
endpoints. It imports nothing else of the sandbox; `packed.py` builds the app from a pack."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checker.envelope import error_answer
from checker.sandbox.clock import SandboxClock, TokenBucket
from checker.sandbox.store import IdempotencyRecord, Store

if TYPE_CHECKING:
    pass

log = logging.getLogger("golive.sandbox")
MAX_KEY_LENGTH = 255
TTL_S = 24 * 3600
ENV = "test"  # the sandbox is the test environment; live keys are refused


MAX_JSON_BYTES = 1024 * 1024  # a JSON request body (a submission, a label, a webhook registration)
MAX_JSON_DEPTH = 32  # nesting of a JSON body: far beyond any real request, far below a recursion limit
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


class ApiError(Exception):
    """A non-2xx answer in the provider's error envelope."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        action: str = "",
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.action = status, error, message, action
        self.errors, self.headers = errors, headers or {}
        self.extra = extra or {}  # values at dotted paths of a pack's envelope (a replay's existing resource id)

    def response(self, envelope: dict[str, Any] | None = None) -> Response:
        """The error in `envelope`'s shape (a pack's facts.errors), or golive's default (mintfax's) without one."""
        if not envelope:
            body: dict[str, Any] = {"error": self.error, "message": self.message, "action": self.action}
            if self.errors:
                body["context"] = {"errors": self.errors}
            return JSONResponse(body, status_code=self.status, headers=self.headers)
        fields = [(e["field"], e["message"]) for e in self.errors or ()]
        payload, headers = error_answer(envelope, self.status, self.error, self.message, self.action, fields, self.extra)
        return Response(payload, status_code=self.status, headers={**headers, **self.headers}, media_type="application/json")


def validation_error(field_name: str, message: str, status: int = 422, code: str = "validation_failed") -> ApiError:
    return ApiError(
        status,
        code,
        f"{field_name}: {message}",
        "Fix the invalid fields and send the request again.",
        errors=[{"field": field_name, "message": message}],
    )


def account_of(key: str) -> str:
    """The account a key stands for, as stored: a digest, so the state file never holds a key."""
    return "acct_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def authenticate(
    request: Request,
    live_prefixes: tuple[str, ...] = (),
    test_prefixes: tuple[str, ...] = (),
    key_header: str | None = None,
    schemes: tuple[str, ...] = ("bearer",),
) -> str:
    """The account a request belongs to (see `account_of`): one per key, sent in Authorization in each style the
    provider documents (`schemes`: a bearer key; HTTP Basic with the key as the user name, as Stripe's API reference
    shows with curl -u sk_test_…:) or, where the provider takes it in a header of its own (`key_header`: Adyen's
    X-API-Key), there only."""
    if key_header:
        key = request.headers.get(key_header, "").strip()
        if not key:
            raise ApiError(401, "unauthorized", f"Missing {key_header} header.", f"Send {key_header}: <sandbox key>.")
    else:
        key = _authorization_key(request.headers.get("authorization", ""), schemes)
        if not key:
            styles = " or ".join(AUTH_STYLES[s] for s in schemes)
            raise ApiError(401, "unauthorized", "Missing or malformed Authorization header.", f"Send {styles}.")
    if key.startswith(live_prefixes) or "_live_" in key:
        raise ApiError(401, "live_key_in_sandbox", "A live key cannot be used with the sandbox.", "Use your sandbox (test) key.")
    if test_prefixes and not key.startswith(test_prefixes):
        raise ApiError(
            401, "invalid_api_key", "The API key is not a sandbox key.", f"Sandbox keys start with {' or '.join(test_prefixes)}."
        )
    return account_of(key)


AUTH_STYLES = {"bearer": "Authorization: Bearer <sandbox key>", "basic": "HTTP Basic with the sandbox key as the user name"}


def _authorization_key(header: str, schemes: tuple[str, ...]) -> str:
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


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read while it arrives and refused as soon as it passes `limit` bytes (413) or
    trickles in for longer than BODY_TIMEOUT_S (408): never more than `limit` bytes held."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(
            408, "request_timeout", f"The body did not arrive within {BODY_TIMEOUT_S:g} s.", "Send the whole request at once."
        ) from None
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The body is over {limit // 1024} KB.", "Send a smaller request.")


async def read_json(request: Request, limit: int = MAX_JSON_BYTES) -> Any:
    """A JSON body within `limit` bytes and MAX_JSON_DEPTH levels, whose strings are text; else 400/413."""
    return parsed_json(await read_body(request, limit))


def parsed_json(body: bytes) -> Any:
    """A body read whole (`read_body`) as JSON, within MAX_JSON_DEPTH levels, whose strings are text; else 400."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "The body is not valid JSON.", "Send a JSON object.") from None
    problem = _json_problem(data)
    if problem:
        raise ApiError(400, "invalid_json", f"The body is not usable JSON: {problem}.", "Send a plain JSON object.")
    return data


def _json_problem(data: Any) -> str | None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
            return "a string holds a lone surrogate (\\ud800-\\udfff)"
        if isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def loopback_url(url: str) -> bool:
    """Whether an http(s) URL names this machine (127.0.0.0/8, ::1 or localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_key_length(key: str, limit: int = MAX_KEY_LENGTH) -> None:
    if len(key) > limit:
        raise ApiError(
            400,
            "idempotency_key_too_long",
            f"Idempotency keys are at most {limit} characters (got {len(key)}).",
            "Use a UUID or a hash as the key.",
        )


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
    """golive's own endpoints, beside the provider's. Each takes the account's key and moves or shows that account
    only; moving every account's clock takes the control token `golive sandbox` printed. None takes a request a web
    page of another origin can make (`refuse_cross_origin`), nor a clock move that is not JSON: a page can send a
    `text/plain` or form POST to 127.0.0.1 without asking, but no key, no token and no JSON without the browser asking
    first (CORS), which this sandbox never grants."""

    async def stats(request: Request) -> Response:
        refuse_cross_origin(request)
        account = authenticate(request, key_header=sandbox.key_header, schemes=sandbox.key_schemes)
        return JSONResponse(
            {"provider": sandbox.provider, "resources": sandbox.store.count_resources(account), "clock_offset_s": sandbox.clock.offset_s}
        )

    async def clock(request: Request) -> Response:
        refuse_cross_origin(request)
        raw = await read_body(request, 4096)  # first: a body over its limit is refused while it arrives, whatever its type
        if request.headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
            raise ApiError(415, "unsupported_media_type", "POST /_sandbox/clock takes a JSON body.", "Send Content-Type: application/json.")
        body = parsed_json(raw)
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
        if scope == "account":  # only the caller's account: its keys age, its resources settle, no other account's do
            account = authenticate(request, key_header=sandbox.key_header, schemes=sandbox.key_schemes)
            sandbox.clock.advance(seconds, account)
            return JSONResponse({"clock_offset_s": sandbox.clock.offset_s + sandbox.clock.accounts[account]})
        if not holds_control_token(request, sandbox):
            raise ApiError(
                403,
                "control_token_required",
                "Moving every account's clock takes golive sandbox's control token.",
                f"Send {CONTROL_TOKEN_HEADER} with the token golive sandbox printed at start, or move your own account's clock "
                "with your key (scope 'account').",
            )
        sandbox.clock.advance(seconds)
        return JSONResponse({"clock_offset_s": sandbox.clock.offset_s})

    async def events(request: Request) -> Response:
        refuse_cross_origin(request)
        account = authenticate(request, key_header=sandbox.key_header, schemes=sandbox.key_schemes)
        sandbox.settle(account)
        return JSONResponse({"data": sandbox.store.events(account), "deliveries": sandbox.store.deliveries(account)})

    async def resources(request: Request) -> Response:
        """What the sandbox created: the account's resources (a key), or every account's (the control token)."""
        refuse_cross_origin(request)
        if holds_control_token(request, sandbox):
            for account in sandbox.store.accounts():  # each lifecycle moved along on its clock first, as a GET of one is
                sandbox.settle(account)
            return JSONResponse({"data": sandbox.store.resources()})
        account = authenticate(request, key_header=sandbox.key_header, schemes=sandbox.key_schemes)
        sandbox.settle(account)
        return JSONResponse({"data": sandbox.store.resources(account)})

    return [
        Route("/_sandbox/stats", stats, methods=["GET"]),
        Route("/_sandbox/resources", resources, methods=["GET"]),
        Route("/_sandbox/clock", clock, methods=["POST"]),
        Route("/_sandbox/events", events, methods=["GET"]),
    ]


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
