"""The mintfax sandbox: POST /v1/fax (multipart), fax status, balance holds, webhook endpoints.

Behaviour follows seeds 000-002 as decided in DESIGN section 6 and 7.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from checker.sandbox.app import (
    ApiError,
    KeyScope,
    Sandbox,
    SandboxOptions,
    authenticate,
    check_key_length,
    idempotent,
    loopback_url,
    rate_limited,
    read_json,
    resource_or_404,
    validation_error,
)
from checker.sandbox.forms import Form, FormError, Upload, read_form
from checker.sandbox.store import IdempotencyRecord
from checker.signing import SigningScheme
from checker.sniff import sniff

DEFAULT_RATE_LIMIT = 10.0
WEBHOOK_SCHEME = SigningScheme("mintfax", "X-Mintfax-Signature")  # events are delivered signed (see sandbox.webhooks)
TEST_PREFIXES = ("fx_test_", "mfx_test_")
LIVE_PREFIXES = ("fx_live_", "mfx_live_")
ACCEPTED_TYPES = ("pdf", "docx", "xlsx", "jpg", "png", "tiff", "html", "txt")
MAX_FILE_BYTES = 10_000_000 - 1  # "Files are under 10 MB" (go-live checklist), read strictly: decimal megabytes
PRICE_CENTS = 7  # per fax (the sandbox bills one page)
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EVENTS = ("fax.queued", "fax.delivered", "fax.failed", "balance.low")
LOW_BALANCE_CENTS = 500

DELIVERED, BUSY, FAILED, INVALID, TRANSIENT, RATE_LIMITED, NO_BALANCE = (f"+1500555000{i}" for i in range(7))
# seconds after submission at which a fax reaches its final status, on the sandbox clock
SENDING_AFTER_S, FINAL_AFTER_S, BUSY_FINAL_AFTER_S = 1.0, 4.0, 12.0


@functools.lru_cache(maxsize=64)
def _iso_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


def _iso(ts: float) -> str:
    return _iso_second(int(ts))


MISSING_KEY_ECHO = "not provided; recommended"  # revision 001's X-Idempotency-Key when no key was sent


def revision(replay_headers: Mapping[str, str], missing_key_echo: str | None) -> str:
    """Which revision of the guide a pack's replay facts describe: 000 signals a replay with
    `Idempotency-Replayed: true` and echoes a key only when one was sent; 001 has no replay header and echoes on
    every POST answer, "not provided; recommended" without a key."""
    return "001" if "Idempotency-Replayed" not in replay_headers and missing_key_echo else "000"


class EchoKey:
    """X-Idempotency-Key on every POST answer, errors too (401, 422, 429; webhook registration): revision 000
    "Set when the request supplied Idempotency-Key"; revision 001 "Every POST response includes an
    X-Idempotency-Key header. If you sent a key, the header echoes it back. If you omitted it, the header reads
    not provided; recommended." golive's own /_sandbox control endpoints are not the provider's and get none."""

    def __init__(self, app: ASGIApp, missing: str | None) -> None:
        self.app, self.missing = app, missing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        key = next((value for name, value in scope["headers"] if name == b"idempotency-key"), b"") or None
        echo = key if key is not None else (self.missing.encode() if self.missing else None)

        async def echoed(message: Message) -> None:
            if message["type"] == "http.response.start" and echo is not None:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-idempotency-key"]
                message = {**message, "headers": [*headers, (b"x-idempotency-key", echo)]}
            await send(message)

        await self.app(scope, receive, echoed)


def middleware(options: SandboxOptions) -> list[Middleware]:
    return [Middleware(EchoKey, missing=MISSING_KEY_ECHO if options.replay_style == "001" else None)]


def routes(sandbox: Sandbox) -> list[Route]:
    store, clock, options = sandbox.store, sandbox.clock, sandbox.options

    def account_of(request: Request) -> tuple[str, dict[str, str]]:
        account = authenticate(request, LIVE_PREFIXES, TEST_PREFIXES)
        return account, rate_limited(sandbox, account)

    def first_attempt(account: str, key: str | None, magic: str) -> bool:
        """The magic numbers fail the first attempt of each key; without a key, every other request."""
        if key is not None:
            return store.next_attempt(account, f"{magic}:{key}") == 1
        return store.next_attempt(account, magic) % 2 == 1

    def too_large() -> ApiError:
        return ApiError(422, "file_too_large", "Files must be under 10 MB (10,000,000 bytes).", "Compress or split the document.")

    def check_length(request: Request) -> None:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_FILE_BYTES + 64 * 1024:
            raise too_large()

    async def validate_form(form: Form) -> tuple[str, Upload, int]:
        to = form.fields.get("to")
        upload = form.files.get("file")
        if not to:
            raise validation_error("to", "is required (E.164, e.g. +12015550100)")
        if upload is None:
            raise validation_error("file", "is required (a document upload)")
        retries_raw = form.fields.get("retries", "3")
        if not retries_raw.isdigit() or not 0 <= int(retries_raw) <= 10:
            raise validation_error("retries", "must be a whole number from 0 to 10")
        if to == INVALID or not E164.match(to):
            raise validation_error("to", "is not a valid E.164 fax number")
        kind = sniff(upload.file)
        if kind not in ACCEPTED_TYPES:
            raise ApiError(
                422,
                "unsupported_file_type",
                f"The file's content is {kind}, which cannot be faxed.",
                f"Send one of: {', '.join(t.upper() for t in ACCEPTED_TYPES)}.",
                errors=[{"field": "file", "message": f"unsupported type {kind}"}],
            )
        return to, upload, int(retries_raw)

    async def create_fax(request: Request) -> Response:
        account, limit_headers = account_of(request)
        key = request.headers.get("idempotency-key") or None
        extra = dict(limit_headers)  # the key's echo is EchoKey's, on every POST answer
        try:
            if key is not None:
                check_key_length(key)
                response = await idempotent(sandbox, account, key, "", lambda scope: submit(request, account, scope), replay)
            else:
                response = await submit(request, account, None)
        except ApiError as exc:
            exc.headers.update(extra)
            raise
        response.headers.update(extra)
        return response

    async def submit(request: Request, account: str, scope: KeyScope | None) -> Response:
        check_length(request)
        try:
            form = await read_form(request, max_file_bytes=MAX_FILE_BYTES)
        except FormError as exc:
            if exc.kind == "too_large":
                raise too_large() from None
            raise ApiError(
                400, "invalid_request", f"Could not read the multipart body: {exc}", "Send multipart/form-data with 'to' and 'file'."
            ) from None
        with form:
            to, upload, retries = await validate_form(form)
            return await accept(account, scope, to, upload.filename or "", retries)

    async def accept(account: str, scope: KeyScope | None, to: str, file_name: str, retries: int) -> Response:
        key = scope.key if scope else None
        if to == TRANSIENT and first_attempt(account, key, "transient"):
            raise ApiError(503, "service_unavailable", "Temporary failure; retry with the same Idempotency-Key.", "Retry with backoff.")
        if to == RATE_LIMITED and first_attempt(account, key, "rate"):
            raise ApiError(
                429, "rate_limited", "Too many requests.", "Wait 2 s (Retry-After) before retrying.", headers={"Retry-After": "2"}
            )
        if to == NO_BALANCE:
            raise ApiError(402, "insufficient_balance", "The available balance cannot cover this fax.", "Top up your balance.")
        now = clock.now(account)
        fax_id = "fax_" + secrets.token_hex(12)
        fax = {
            "id": fax_id,
            "status": "queued",
            "to": to,
            "pages": 1,
            "retries": retries,
            "attempts": 0,
            "file_name": file_name,
            "cost_cents": PRICE_CENTS,
            "created_at": _iso(now),
        }
        text = json.dumps(fax)
        with store.transaction() as db:
            left = store.hold(db, account, PRICE_CENTS, options.opening_balance)
            if left is None:
                raise ApiError(402, "insufficient_balance", "The available balance cannot cover this fax.", "Top up your balance.")
            store.insert_resource(db, fax_id, account, "fax", key, "queued", text, now)
            if left < LOW_BALANCE_CENTS <= left + PRICE_CENTS:
                _event(db, account, "balance.low", f"balance.low:{fax_id}", json.dumps({"available": left / 100}), now)
            if scope is not None:
                scope.save(201, text.encode())
        return Response(text, status_code=201, media_type="application/json")

    def replay(record: IdempotencyRecord) -> Response:
        headers = dict(record.headers)
        if options.replay_style == "000":
            headers["Idempotency-Replayed"] = "true"
        return Response(record.body, status_code=record.status or 200, headers=headers)

    def _event(db: Any, account: str, type_: str, origin: str, data_json: str, now: float) -> None:
        """Record an event once: its id derives from what caused it, so emitting it again changes nothing."""
        event_id = "evt_" + hashlib.blake2b(origin.encode(), digest_size=12).hexdigest()
        envelope = json.dumps({"event_id": event_id, "type": type_, "created_at": _iso(now)})
        store.add_event(db, event_id, account, type_, f'{envelope[:-1]}, "data": {data_json}}}', now)

    def settle(account: str) -> None:
        """Move faxes along queued -> sending -> delivered|failed on the sandbox clock, capture or release
        their holds, and emit their events (fax.queued, then fax.delivered or fax.failed), in one transaction.

        Events derive from the lifecycle here rather than in the create request, which stays short; the
        lifecycle runs on every read of the account (and, for webhook delivery, on a timer)."""
        now = clock.now(account)
        due = store.open_resources(account, "fax")
        if not due:
            return
        with store.transaction() as db:
            for fax_id, created, fax, emitted in due:
                age = now - created
                if emitted == 0:
                    queued = {**fax, "status": "queued", "attempts": 0}
                    _event(db, account, "fax.queued", f"{fax_id}:queued", json.dumps(queued), created)
                # the busy number is redialled as `retries` allows (seed 000: "The `retries` field controls how many
                # attempts it makes"): once, then delivered; with retries 0 never, so it fails busy on the first attempt
                redialled = fax["to"] == BUSY and fax.get("retries", 3) > 0
                final_after = BUSY_FINAL_AFTER_S if redialled else FINAL_AFTER_S
                if age < SENDING_AFTER_S:
                    store.update_resource(db, fax_id, "queued", fax, emitted=1)
                elif age < final_after:
                    fax.update(status="sending", attempts=1)
                    store.update_resource(db, fax_id, "sending", fax, emitted=1)
                else:
                    failed = fax["to"] == FAILED or (fax["to"] == BUSY and not redialled)
                    fax.update(
                        status="failed" if failed else "delivered",
                        attempts=2 if redialled else 1,
                        completed_at=_iso(created + final_after),
                    )
                    if fax["to"] == FAILED:
                        fax["error"] = {"error": "no_answer", "message": "The receiving machine did not answer."}
                    elif failed:  # the code is golive's: mintfax's documents name no carrier error codes
                        fax["error"] = {"error": "line_busy", "message": "The line was busy and retries is 0: no redial."}
                    store.update_resource(db, fax_id, fax["status"], fax, emitted=2, settled=True)
                    store.move_balance(db, account, PRICE_CENTS if failed else 0, -PRICE_CENTS)
                    _event(
                        db, account, "fax.failed" if failed else "fax.delivered", f"{fax_id}:final", json.dumps(fax), created + final_after
                    )

    sandbox.settle = settle

    async def get_fax(request: Request) -> Response:
        account, headers = account_of(request)
        settle(account)
        return resource_or_404(sandbox, account, "fax", request.path_params["fax_id"], "Check the fax id.", headers)

    async def balance(request: Request) -> Response:
        account, headers = account_of(request)
        settle(account)
        with store.transaction() as db:
            available, held = store.balance(db, account, options.opening_balance)
        return JSONResponse({"available": available / 100, "held": held / 100, "currency": "USD"}, headers=headers)

    async def webhooks(request: Request) -> Response:
        account, headers = account_of(request)
        if request.method == "GET":
            return JSONResponse({"data": store.webhooks(account)}, headers=headers)
        body = await read_json(request, 64 * 1024)
        url = body.get("url") if isinstance(body, dict) else None
        events = body.get("events", list(EVENTS)) if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2048:
            raise validation_error("url", "must be an http(s) URL")
        if not options.allow_remote_webhooks and not loopback_url(url):
            raise validation_error(
                "url", "must be on this machine (127.0.0.1, ::1 or localhost); start golive sandbox with --allow-remote-webhooks for others"
            )
        if not isinstance(events, list) or not events or any(e not in EVENTS for e in events):
            raise validation_error("events", f"must be a non-empty list of: {', '.join(EVENTS)}")
        hook_id = "we_" + secrets.token_hex(8)
        secret = "whsec_" + secrets.token_hex(24)
        now = clock.now(account)
        store.add_webhook(hook_id, account, url, events, secret, now)
        return JSONResponse(
            {"id": hook_id, "url": url, "events": events, "secret": secret, "created_at": _iso(now)}, status_code=201, headers=headers
        )

    async def delete_webhook(request: Request) -> Response:
        account, headers = account_of(request)
        if not store.delete_webhook(account, request.path_params["hook_id"]):
            raise ApiError(404, "not_found", "No such webhook endpoint.", "List endpoints with GET /v1/account/webhooks.")
        return Response(status_code=204, headers=headers)

    return [
        Route("/v1/fax", create_fax, methods=["POST"]),
        Route("/v1/faxes", create_fax, methods=["POST"]),
        Route("/v1/fax/{fax_id}", get_fax, methods=["GET"]),
        Route("/v1/faxes/{fax_id}", get_fax, methods=["GET"]),
        Route("/v1/account/balance", balance, methods=["GET"]),
        Route("/v1/account/webhooks", webhooks, methods=["GET", "POST"]),
        Route("/v1/account/webhooks/{hook_id}", delete_webhook, methods=["DELETE"]),
    ]
