"""The idunox sandbox: POST /v1/submissions (JSON) with a required Idempotency-Key (seed 003)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checker.sandbox.app import (
    ApiError,
    KeyScope,
    Sandbox,
    authenticate,
    check_key_length,
    idempotent,
    json_bytes,
    read_json,
    resource_or_404,
)
from checker.sandbox.store import IdempotencyRecord

DEFAULT_RATE_LIMIT = 0.0  # idunox documents no rate limit


def routes(sandbox: Sandbox) -> list[Route]:
    store, clock = sandbox.store, sandbox.clock

    async def create(request: Request) -> Response:
        account = authenticate(request)
        correlation = {"x-correlation-id": cid} if (cid := request.headers.get("x-correlation-id")) else {}
        key = request.headers.get("idempotency-key")
        if not key:
            raise ApiError(
                400,
                "idempotency_key_required",
                "Every POST needs an Idempotency-Key header.",
                "Send a unique key (a UUID v4) per submission.",
                headers=correlation,
            )
        check_key_length(key)
        body = await read_json(request)
        body_hash = hashlib.sha256(json_bytes(body)).hexdigest()

        async def submit(scope: KeyScope) -> Response:
            if not isinstance(body, dict) or not isinstance(body.get("reference"), str) or not body["reference"]:
                raise ApiError(
                    400,
                    "validation_failed",
                    "reference: is required",
                    "Fix the request body.",
                    errors=[{"field": "reference", "message": "is required (a string)"}],
                )
            now = clock.now(account)
            sid = "sub_" + secrets.token_hex(12)
            created = dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            submission = {"submissionId": sid, "status": "accepted", "reference": body["reference"], "createdAt": created}
            payload = json.dumps({"submissionId": sid}).encode()
            with store.transaction() as db:
                store.insert_resource(db, sid, account, "submission", key, "accepted", submission, now)
                scope.save(202, payload)
            return Response(payload, status_code=202, media_type="application/json")

        def replay(record: IdempotencyRecord) -> Response:
            if record.request_hash != body_hash:
                raise ApiError(
                    409, "conflict", "This Idempotency-Key was used with a different body.", "Use a new key for a different submission."
                )
            return Response(record.body, status_code=record.status or 202, headers=record.headers)

        try:
            response = await idempotent(sandbox, account, key, body_hash, submit, replay, in_flight_waits=True)
        except ApiError as exc:
            exc.headers.update(correlation)
            raise
        response.headers.update(correlation)
        return response

    async def get(request: Request) -> Response:
        return resource_or_404(sandbox, authenticate(request), "submission", request.path_params["sid"], "Check the submissionId.")

    return [
        Route("/v1/submissions", create, methods=["POST"]),
        Route("/v1/submissions/{sid}", get, methods=["GET"]),
    ]
