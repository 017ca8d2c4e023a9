"""Named features of the embedded sandbox: behaviours of a provider that no fact can express, which a pack switches
on by name (`facts.sandbox.features`). Each is reusable by any pack whose provider behaves so; the sandbox engine
(checker/sandbox/packed.py) knows none of them by provider.

- courier_retry: a create is handed to an outside party (a courier) that may fail transiently. The resource is kept
  with `status: failed` and the party's error, and answered 502 with that resource (so the client can find it);
  a retry with the same key while the key is live retries the party on the same resource, with the request as
  corrected. The value of `magic.transient_courier` in `sandbox.magic_field` makes the party fail on a key's first
  attempt. Adds GET /tracking/{id}. (Flex Forward's labels, seed 004: "The label is persisted with status: failed
  ... For transient courier issues, retry with the same idempotencyKey".)
- delivery_lifecycle: a created resource is delivered later, on the sandbox clock: queued, then sending (after 1 s),
  then delivered or failed (after 4 s). `magic.failed` in `sandbox.magic_field` fails; `magic.busy` is redialled as
  the request's `retries` field allows (once, then delivered after 12 s; with 0, failed `line_busy`). Emits
  `<noun>.queued`, then `<noun>.delivered` or `<noun>.failed`, with ids derived from what caused them. (mintfax's
  faxes, seeds 000-002.)
- balance_holds: each create holds `params.price_cents` of the account's balance (402 `insufficient_balance` when it
  cannot), captured on delivery and released on failure; `webhooks.balance_event` when the available balance
  falls below `params.low_balance_cents`; GET `balance_path` answers {available, held, currency}. Works with
  delivery_lifecycle. (mintfax's checklist: "poll GET /account/balance", "balance.low".)
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checker import envelope
from checker.envelope import iso
from checker.sandbox.app import ApiError, KeyScope, Sandbox, authenticate, rate_limited

if TYPE_CHECKING:
    from checker.packs import Pack

Create = Callable[[str, dict[str, Any], KeyScope | None], Awaitable[Response]]


class Feature:
    """What a feature may add: routes, a create of its own (then it makes the resource and answers), and steps in
    another feature's create and lifecycle (`held` in the create's transaction, `settled` when a resource ends)."""

    name = ""

    def __init__(self, pack: Pack, sandbox: Sandbox, others: list[Feature]) -> None:
        self.pack, self.sandbox, self.others = pack, sandbox, others
        self.params = pack.facts.sandbox.params

    def routes(self) -> list[Route]:
        return []

    create: Create | None = None

    def held(self, db: sqlite3.Connection, account: str, resource: dict[str, Any], now: float) -> None:
        """Inside the create's transaction, before the resource is stored (may raise an ApiError)."""

    def settled(self, db: sqlite3.Connection, account: str, resource: dict[str, Any], failed: bool, now: float) -> None:
        """Inside the lifecycle's transaction, when a resource reaches its final status."""


def add_event(sandbox: Sandbox, pack: Pack, db: sqlite3.Connection, account: str, type_: str, origin: str, data: Any, now: float) -> None:
    """Record an event once, in the pack's envelope: its id derives from what caused it, so emitting it again changes
    nothing."""
    hooks = pack.facts.webhooks
    event_id = "evt_" + hashlib.blake2b(origin.encode(), digest_size=12).hexdigest()
    shape = hooks.envelope.model_dump() if hooks else {}
    # stored as the provider writes it (webhooks.serialisation): the bytes the delivery carries and its signature covers
    text = envelope.serialise(envelope.event(shape, event_id, type_, now, data), hooks.serialisation.format() if hooks else None)
    sandbox.store.add_event(db, event_id, account, type_, text.decode(), now)


class CourierRetry(Feature):
    name = "courier_retry"

    def __init__(self, pack: Pack, sandbox: Sandbox, others: list[Feature]) -> None:
        super().__init__(pack, sandbox, others)
        self.create = self._create
        self.field = pack.facts.sandbox.magic_field or "courier"
        self.failing = pack.facts.magic.get("transient_courier")
        self.kind = pack.facts.create.noun
        self.created_status = pack.facts.create.created_status

    async def _create(self, account: str, data: dict[str, Any], scope: KeyScope | None) -> Response:
        store, now = self.sandbox.store, self.sandbox.clock.now(account)
        courier = data.get(self.field)
        key = scope.key if scope else None
        # the retry, corrected or not, goes on the label a courier error left failed under this key while the key
        # is live; after that the key names a new label
        label = store.failed_by_key(account, self.kind, key, now - self.sandbox.ttl_s) if key else None
        number = f"FF{secrets.randbelow(10**10):010d}"
        with store.transaction() as db:
            if label is None:
                label = {
                    "id": str(uuid.uuid4()),
                    "status": "created",
                    "courier": courier,
                    "courierOrderNumber": number,
                    "courierTrackingNumber": number + "CN",
                    "error": None,
                }
                if self.failing is not None and courier == self.failing:  # the courier fails the first time
                    label.update(
                        status="failed",
                        courierOrderNumber=None,
                        courierTrackingNumber=None,
                        error={"code": "courier_unavailable", "message": "The courier service returned an error."},
                    )
                text = json.dumps(label)  # stored and answered alike
                store.insert_resource(db, label["id"], account, self.kind, key, label["status"], text, now)
            else:
                label.update(status="created", courier=courier, courierOrderNumber=number, courierTrackingNumber=number + "CN", error=None)
                store.update_resource(db, label["id"], "created", label)
                text = json.dumps(label)
            payload = text.encode()
            if label["status"] == "created" and scope is not None:
                scope.save(self.created_status, payload)
        status = 502 if label["status"] == "failed" else self.created_status
        return Response(payload, status_code=status, media_type="application/json")

    def routes(self) -> list[Route]:
        store, facts = self.sandbox.store, self.pack.facts
        live, test = tuple(facts.keys.live_prefixes), tuple(facts.keys.test_prefixes)

        async def tracking(request: Request) -> Response:
            account = authenticate(request, live, test, self.sandbox.key_header, self.sandbox.key_schemes)
            label = store.get_resource(account, self.kind, request.path_params["label_id"])
            if label is None or label["status"] != "created":
                raise ApiError(404, "not_found", f"No tracking for this {self.kind}.", "Check the id.")
            return JSONResponse(
                {
                    "labelId": label["id"],
                    "courierTrackingNumber": label["courierTrackingNumber"],
                    "status": "label_created",
                    "events": [{"status": "label_created"}],
                }
            )

        return [Route("/tracking/{label_id}", tracking, methods=["GET"])]


class DeliveryLifecycle(Feature):
    name = "delivery_lifecycle"
    SENDING_AFTER_S, FINAL_AFTER_S, BUSY_FINAL_AFTER_S = 1.0, 4.0, 12.0

    def __init__(self, pack: Pack, sandbox: Sandbox, others: list[Feature]) -> None:
        super().__init__(pack, sandbox, others)
        self.create = self._create
        facts = pack.facts
        self.kind = facts.create.noun
        self.field = facts.sandbox.magic_field or "to"
        self.busy, self.failing = facts.magic.get("busy"), facts.magic.get("failed")
        self.file_field = facts.create.file.field if facts.create.file else None
        self.id_prefix, self.initial_status = facts.sandbox.id_prefix, facts.sandbox.initial_status
        self.created_status = facts.create.created_status
        sandbox.settle = self.settle

    async def _create(self, account: str, data: dict[str, Any], scope: KeyScope | None) -> Response:
        store, now = self.sandbox.store, self.sandbox.clock.now(account)
        upload = data.get(self.file_field) if self.file_field else None
        resource: dict[str, Any] = {
            "id": self.id_prefix + secrets.token_hex(12),
            "status": self.initial_status,
            self.field: data.get(self.field),
            "pages": 1,
            "retries": int(data.get("retries", 3)),
            "attempts": 0,
            "file_name": getattr(upload, "filename", "") or "",
            "created_at": iso(now),
        }
        with store.transaction() as db:
            for feature in self.others:
                feature.held(db, account, resource, now)
            text = json.dumps(resource)
            store.insert_resource(db, resource["id"], account, self.kind, scope.key if scope else None, resource["status"], text, now)
            if scope is not None:
                scope.save(self.created_status, text.encode())
        return Response(text, status_code=self.created_status, media_type="application/json")

    def settle(self, account: str) -> None:
        """Move resources along queued -> sending -> delivered|failed on the sandbox clock and emit their events, in one
        transaction. Events derive from the lifecycle here rather than in the create request, which stays short; the
        lifecycle runs on every read of the account (and, for webhook delivery, on a timer)."""
        store, now, kind = self.sandbox.store, self.sandbox.clock.now(account), self.kind
        due = store.open_resources(account, kind)
        if not due:
            return
        with store.transaction() as db:
            for rid, created, item, emitted in due:
                age = now - created
                if emitted == 0:
                    queued = {**item, "status": "queued", "attempts": 0}
                    add_event(self.sandbox, self.pack, db, account, f"{kind}.queued", f"{rid}:queued", queued, created)
                # the busy value is redialled as `retries` allows (seed 000: "The `retries` field controls how many
                # attempts it makes"): once, then delivered; with retries 0 never, so it fails busy on the first attempt
                redialled = item.get(self.field) == self.busy and item.get("retries", 3) > 0
                final_after = self.BUSY_FINAL_AFTER_S if redialled else self.FINAL_AFTER_S
                if age < self.SENDING_AFTER_S:
                    store.update_resource(db, rid, "queued", item, emitted=1)
                elif age < final_after:
                    item.update(status="sending", attempts=1)
                    store.update_resource(db, rid, "sending", item, emitted=1)
                else:
                    failed = item.get(self.field) == self.failing or (item.get(self.field) == self.busy and not redialled)
                    item.update(
                        status="failed" if failed else "delivered", attempts=2 if redialled else 1, completed_at=iso(created + final_after)
                    )
                    if item.get(self.field) == self.failing:
                        item["error"] = {"error": "no_answer", "message": "The receiving machine did not answer."}
                    elif failed:  # the code is golive's: mintfax's documents name no carrier error codes
                        item["error"] = {"error": "line_busy", "message": "The line was busy and retries is 0: no redial."}
                    store.update_resource(db, rid, item["status"], item, emitted=2, settled=True)
                    for feature in self.others:
                        feature.settled(db, account, item, failed, created + final_after)
                    final = f"{kind}.failed" if failed else f"{kind}.delivered"
                    add_event(self.sandbox, self.pack, db, account, final, f"{rid}:final", item, created + final_after)


class BalanceHolds(Feature):
    name = "balance_holds"

    def __init__(self, pack: Pack, sandbox: Sandbox, others: list[Feature]) -> None:
        super().__init__(pack, sandbox, others)
        self.price = int(self.params.get("price_cents", 7))
        self.low = int(self.params.get("low_balance_cents", 500))
        hooks = pack.facts.webhooks
        self.low_event = hooks.balance_event if hooks else None

    def held(self, db: sqlite3.Connection, account: str, resource: dict[str, Any], now: float) -> None:
        store = self.sandbox.store
        resource["cost_cents"] = self.price
        left = store.hold(db, account, self.price, self.sandbox.options.opening_balance)
        if left is None:
            raise ApiError(402, "insufficient_balance", "The available balance cannot cover this request.", "Top up your balance.")
        if self.low_event and left < self.low <= left + self.price:
            add_event(
                self.sandbox, self.pack, db, account, self.low_event, f"{self.low_event}:{resource['id']}", {"available": left / 100}, now
            )

    def settled(self, db: sqlite3.Connection, account: str, resource: dict[str, Any], failed: bool, now: float) -> None:
        self.sandbox.store.move_balance(db, account, self.price if failed else 0, -self.price)

    def routes(self) -> list[Route]:
        path = self.pack.facts.balance_path
        if not path:
            return []
        facts, sandbox = self.pack.facts, self.sandbox
        live, test = tuple(facts.keys.live_prefixes), tuple(facts.keys.test_prefixes)

        async def balance(request: Request) -> Response:
            account = authenticate(request, live, test, self.sandbox.key_header, self.sandbox.key_schemes)
            headers = rate_limited(sandbox, account)
            sandbox.settle(account)
            with sandbox.store.transaction() as db:
                available, held = sandbox.store.balance(db, account, sandbox.options.opening_balance)
            return JSONResponse({"available": available / 100, "held": held / 100, "currency": "USD"}, headers=headers)

        return [Route(path, balance, methods=["GET"])]


FEATURES: dict[str, type[Feature]] = {f.name: f for f in (CourierRetry, DeliveryLifecycle, BalanceHolds)}
