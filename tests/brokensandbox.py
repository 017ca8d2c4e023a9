"""Deliberately broken sandboxes: the real embedded sandbox behind a proxy that breaks one promise.

Each flaw is what a careless provider (or a hand-rolled stub) really does; the contract rules
must fail against it. The proxy forwards over real sockets with httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FLAWS = (
    "ignores_keys",  # every repeat of a key is processed as new
    "hides_replay",  # replays look like first responses
    "body_keyed",  # the body is part of the key: a different body makes a new resource
    "racy",  # no lock: requests that overlap in flight are all processed
    "truncates_keys",  # keys cut to 255 characters instead of rejected
    "burns_keys",  # a rejected request's error is replayed for its key forever
    "accepts_any_file",  # no content check on uploads
    "never_expires",  # keys live forever: the clock golive moves (POST /_sandbox/clock) does not age them
    "no_control",  # not a flaw: a provider's own sandbox, which has none of golive's /_sandbox endpoints
)
HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "content-encoding"}


def broken_sandbox(upstream: str, flaw: str, key_in: str = "header", key_name: str = "Idempotency-Key") -> Starlette:
    assert flaw in FLAWS, flaw
    seen: set[str] = set()
    in_flight: set[str] = set()
    burned: dict[str, tuple[int, bytes]] = {}
    client = httpx.AsyncClient(base_url=upstream, timeout=30)

    def get_key(headers: dict[str, str], body: bytes) -> str | None:
        if key_in == "header":
            return headers.get(key_name.lower())
        try:
            value = json.loads(body).get(key_name)
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None

    def set_key(headers: dict[str, str], body: bytes, key: str) -> bytes:
        if key_in == "header":
            headers[key_name.lower()] = key
            return body
        data = json.loads(body)
        data[key_name] = key
        return json.dumps(data).encode()

    def logical_body(headers: dict[str, str], body: bytes) -> bytes:
        match = re.search(r"boundary=([^;]+)", headers.get("content-type", ""))
        return body.replace(match.group(1).encode(), b"") if match else body

    async def forward(request: Request) -> Response:
        body = await request.body()
        if flaw == "no_control" and request.url.path.startswith("/_sandbox/"):
            return JSONResponse({"error": "not_found"}, status_code=404)
        if flaw == "never_expires" and request.url.path == "/_sandbox/clock":
            return JSONResponse({"clock_offset_s": 0.0})  # the clock "moves", and nothing ages
        headers = {k: v for k, v in request.headers.items() if k not in HOP_HEADERS and k != "host"}
        key = get_key(headers, body) if request.method == "POST" else None
        replay = False
        if key is not None:
            if flaw == "burns_keys" and key in burned:
                status, content = burned[key]
                return Response(content, status_code=status, media_type="application/json")
            if flaw == "ignores_keys" and key in seen:
                body = set_key(headers, body, f"{key}-{secrets.token_hex(4)}")
            if flaw == "body_keyed":
                digest = hashlib.sha256(logical_body(headers, body)).hexdigest()[:12]
                body = set_key(headers, body, f"{key}-{digest}")
            if flaw == "racy":
                await asyncio.sleep(0.05)  # widen the window a check-then-insert leaves open
                if key in in_flight:
                    body = set_key(headers, body, f"{key}-{secrets.token_hex(4)}")
                in_flight.add(key)
            if flaw == "truncates_keys" and len(key) > 255:
                body = set_key(headers, body, key[:255])
            replay = key in seen
            seen.add(key)
        try:
            upstream_response = await client.request(
                request.method, request.url.path, params=request.query_params, headers=headers, content=body
            )
        finally:
            if key is not None:
                in_flight.discard(key)
        status = upstream_response.status_code
        out_headers = {k: v for k, v in upstream_response.headers.items() if k.lower() not in HOP_HEADERS}
        content = upstream_response.content
        if key is not None and flaw == "burns_keys" and 400 <= status < 500:
            burned[key] = (status, content)
        if flaw == "hides_replay" and replay and 200 <= status < 300:
            out_headers.pop("idempotency-replayed", None)
            status = {200: 201, 201: 201, 202: 200}[status]
        if flaw == "accepts_any_file" and status == 422 and b"unsupported_file_type" in content:
            return JSONResponse({"id": "fax_" + secrets.token_hex(12), "status": "queued"}, status_code=201)
        return Response(content, status_code=status, headers=out_headers)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "DELETE", "PUT"])], lifespan=lifespan)
