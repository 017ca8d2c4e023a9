"""The flexforward sandbox: POST /labels with `idempotencyKey` in the JSON body (seed 004)."""

from __future__ import annotations

import json
import secrets
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checker.sandbox.app import TTL_S, ApiError, KeyScope, Sandbox, authenticate, check_key_length, idempotent, read_json, resource_or_404
from checker.sandbox.store import IdempotencyRecord

DEFAULT_RATE_LIMIT = 0.0  # flexforward documents no rate limit
TRANSIENT_COURIER = "sandbox-transient"  # answers 502 on the first attempt for a label


def _invalid(field_name: str, message: str) -> ApiError:
    return ApiError(
        400,
        "validation_failed",
        f"{field_name}: {message}",
        "Fix the request; the same idempotencyKey can be reused.",
        errors=[{"field": field_name, "message": message}],
    )


def routes(sandbox: Sandbox) -> list[Route]:
    store, clock = sandbox.store, sandbox.clock

    async def create(request: Request) -> Response:
        account = authenticate(request)
        body = await read_json(request)
        if not isinstance(body, dict):
            raise _invalid("body", "must be a JSON object")
        key = body.get("idempotencyKey")
        if not isinstance(key, str) or not key:
            raise _invalid("idempotencyKey", "is required in every request")
        check_key_length(key)

        async def submit(scope: KeyScope) -> Response:
            courier = body.get("courier")
            if not isinstance(courier, str) or not courier:
                raise _invalid("courier", "is required")
            now = clock.now(account)
            # seed 004, "HTTP 502 Bad Gateway (courier error)": "The label is persisted with status: failed ... For
            # transient courier issues, retry with the same idempotencyKey": the retry, corrected or not, goes on the
            # same label while the key is live (24 h, as for every key here: flexforward documents no window, the
            # reading is golive's); after that the key names a new label
            label = store.failed_label_by_key(account, key, now - TTL_S)
            with store.transaction() as db:
                if label is None:
                    number = f"FF{secrets.randbelow(10**10):010d}"
                    label = {
                        "id": str(uuid.uuid4()),
                        "status": "created",
                        "courier": courier,
                        "courierOrderNumber": number,
                        "courierTrackingNumber": number + "CN",
                        "error": None,
                    }
                    if courier == TRANSIENT_COURIER:
                        # the courier fails the first time; the label is kept with status failed
                        label.update(
                            status="failed",
                            courierOrderNumber=None,
                            courierTrackingNumber=None,
                            error={"code": "courier_unavailable", "message": "The courier service returned an error."},
                        )
                    store.insert_resource(db, label["id"], account, "label", key, label["status"], label, now)
                else:  # a retry with the same key retries the courier on the same label, with the request as corrected
                    number = f"FF{secrets.randbelow(10**10):010d}"
                    label.update(
                        status="created", courier=courier, courierOrderNumber=number, courierTrackingNumber=number + "CN", error=None
                    )
                    store.update_resource(db, label["id"], "created", label)
                payload = json.dumps(label).encode()
                if label["status"] == "created":
                    scope.save(201, payload)
            if label["status"] == "failed":
                # the failed label itself, so the client can find it (its id) and see why (its error)
                return Response(payload, status_code=502, media_type="application/json")
            return Response(payload, status_code=201, media_type="application/json")

        def replay(record: IdempotencyRecord) -> Response:
            return Response(record.body, status_code=200, headers=record.headers)

        return await idempotent(sandbox, account, key, "", submit, replay)

    async def get_label(request: Request) -> Response:
        return resource_or_404(sandbox, authenticate(request), "label", request.path_params["label_id"], "Check the label id.")

    async def tracking(request: Request) -> Response:
        account = authenticate(request)
        label = store.get_resource(account, "label", request.path_params["label_id"])
        if label is None or label["status"] != "created":
            raise ApiError(404, "not_found", "No tracking for this label.", "Check the label id.")
        return JSONResponse(
            {
                "labelId": label["id"],
                "courierTrackingNumber": label["courierTrackingNumber"],
                "status": "label_created",
                "events": [{"status": "label_created"}],
            }
        )

    return [
        Route("/labels", create, methods=["POST"]),
        Route("/labels/{label_id}", get_label, methods=["GET"]),
        Route("/tracking/{label_id}", tracking, methods=["GET"]),
    ]
