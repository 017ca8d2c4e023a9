"""Webhook endpoints of a pack's sandbox, each a class that reads the facts it needs once: the provider's own
registration (`WebhookEndpoints`: `webhooks.endpoints_path`, `webhooks.registration`) and golive's (`DeliverTo`: POST
/_sandbox/webhooks, the pytest plugin's `deliver_to`). Deliveries themselves are checker/sandbox/webhooks.py's."""

from __future__ import annotations

import dataclasses
import secrets
from typing import TYPE_CHECKING, Any, TypeGuard

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from checker import envelope
from checker.envelope import form_decode
from checker.provenance import untracked
from checker.sandbox.app import Sandbox, loopback_url, rate_limited, read_body, read_json, refuse_cross_origin
from checker.sandbox.errors import ApiError, validation_error
from checker.sandbox.validation import Invalid, Keys
from checker.signing import SecretError, SigningScheme, fresh_secret

if TYPE_CHECKING:
    from checker.packs import Facts, WebhookFacts

MAX_REGISTRATION_BYTES = 64 * 1024
LOOPBACK_ONLY = "must be on this machine (127.0.0.1, ::1 or localhost)"


@dataclasses.dataclass(frozen=True)
class Registration:
    """A pack's `webhooks.registration` and where its events write `created` (`webhooks.envelope`), read once."""

    url_field: str
    events_field: str
    all_events: str | None
    secret_field: str
    list_field: str
    created_status: int
    deleted_status: int
    created: str
    created_format: str

    @classmethod
    def of(cls, hooks: WebhookFacts) -> Registration:
        with untracked():
            r, shape = hooks.registration, hooks.envelope
            return cls(
                r.url_field,
                r.events_field,
                r.all_events,
                r.secret_field,
                r.list_field,
                r.created_status,
                r.deleted_status,
                shape.created,
                shape.created_format,
            )


def http_url(url: Any) -> TypeGuard[str]:
    return isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) <= 2048


class WebhookEndpoints:
    """GET and POST `webhooks.endpoints_path` (list, register) and DELETE `<endpoints_path>/{hook_id}`, with the
    provider's field names (`webhooks.registration`); an endpoint's secret is made in the form the scheme's provider
    hands out (`signing.fresh_secret`)."""

    def __init__(self, sandbox: Sandbox, facts: Facts, scheme: SigningScheme) -> None:
        self.sandbox, self.scheme, self.keys = sandbox, scheme, Keys.of(facts)
        with untracked():
            hooks = facts.webhooks
            assert hooks is not None and hooks.endpoints_path
            self.path, self.registration = hooks.endpoints_path, Registration.of(hooks)
            self.known = list(hooks.event_types)
            self.form = facts.create.encoding == "form"
        self.invalid_answer = Invalid.of(facts)

    def shown(self, endpoint: dict[str, Any]) -> dict[str, Any]:
        """An endpoint as the provider lists it: its field names, `created` as its events write it."""
        registration = self.registration
        events = [registration.all_events if e == "*" and registration.all_events else e for e in endpoint["events"]]
        stamp = envelope.stamp(registration.created_format, endpoint["created_at"])
        created = {registration.created: stamp} if "." not in registration.created else {}
        return {"id": endpoint["id"], registration.url_field: endpoint["url"], registration.events_field: events, **created}

    async def endpoints(self, request: Request) -> Response:
        account = self.keys.account(request.headers)
        headers = rate_limited(self.sandbox, account)
        if request.method == "GET":
            listed: dict[str, Any] = {}
            envelope.put(listed, self.registration.list_field, [self.shown(e) for e in self.sandbox.store.webhooks(account)])
            return JSONResponse(listed, headers=headers)
        url, events = self.requested(await self.body(request))
        hook_id = "we_" + secrets.token_hex(8)
        secret = fresh_secret(self.scheme.name)
        now = self.sandbox.clock.now(account)
        self.sandbox.store.add_webhook(hook_id, account, url, events, secret, now)
        answer = self.shown({"id": hook_id, "url": url, "events": events, "created_at": now})
        answer[self.registration.secret_field] = secret
        return JSONResponse(answer, status_code=self.registration.created_status, headers=headers)

    async def body(self, request: Request) -> Any:
        if not self.form:
            return await read_json(request, MAX_REGISTRATION_BYTES)
        try:
            return form_decode((await read_body(request, MAX_REGISTRATION_BYTES)).decode("utf-8", "replace"))
        except ValueError:
            raise ApiError(400, "invalid_request", "The body is not a usable form.", "Send application/x-www-form-urlencoded.") from None

    def invalid(self, field: str, message: str) -> ApiError:
        return self.invalid_answer.error([(field, message)])

    def requested(self, body: Any) -> tuple[str, list[str]]:
        """The URL and the event types a registration asks for (the wildcard stored as '*'), or the pack's 4xx."""
        registration, known = self.registration, self.known
        if not isinstance(body, dict):
            raise self.invalid(registration.url_field, "is required")
        url = body.get(registration.url_field)
        events = body.get(registration.events_field, list(known) if known else None)
        if isinstance(events, dict):  # a form's enabled_events[0]=…: a mapping of indexes
            events = list(events.values())
        if not http_url(url):
            raise self.invalid(registration.url_field, "must be an http(s) URL")
        if not self.sandbox.options.allow_remote_webhooks and not loopback_url(url):
            raise self.invalid(registration.url_field, LOOPBACK_ONLY + "; start golive sandbox with --allow-remote-webhooks for others")
        allowed = [*known, *([registration.all_events] if registration.all_events else [])]
        if not isinstance(events, list) or not events or not all(isinstance(e, str) and (not known or e in allowed) for e in events):
            listed_types = f" of: {', '.join(allowed)}" if known else " of event types"
            raise self.invalid(registration.events_field, f"must be a non-empty list{listed_types}")
        if registration.all_events is not None:  # stored as the delivery planner's wildcard
            events = ["*" if e == registration.all_events else e for e in events]
        return url, events

    async def delete(self, request: Request) -> Response:
        account = self.keys.account(request.headers)
        headers = rate_limited(self.sandbox, account)
        hook_id = request.path_params["hook_id"]
        if not self.sandbox.store.delete_webhook(account, hook_id):
            raise ApiError(404, "not_found", "No such webhook endpoint.", f"List endpoints with GET {self.path}.")
        if self.registration.deleted_status == 204:
            return Response(status_code=204, headers=headers)
        return JSONResponse({"id": hook_id, "deleted": True}, status_code=self.registration.deleted_status, headers=headers)


class DeliverTo:
    """POST /_sandbox/webhooks, for any pack that states how its deliveries are signed (with or without a documented
    registration endpoint of its own): golive's own registration (the pytest plugin's `deliver_to`), an endpoint of the
    key's account whose events are signed with the secret the caller's receiver already has, rather than one the
    sandbox makes; JSON only, as the clock takes it (see `app.control_routes`)."""

    def __init__(self, sandbox: Sandbox, facts: Facts, scheme: SigningScheme) -> None:
        self.sandbox, self.scheme, self.keys = sandbox, scheme, Keys.of(facts)
        with untracked():
            self.known = list(facts.webhooks.event_types) if facts.webhooks else []

    async def handle(self, request: Request) -> Response:
        refuse_cross_origin(request)
        account = self.keys.account(request.headers)
        if request.headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
            raise ApiError(
                415, "unsupported_media_type", "POST /_sandbox/webhooks takes a JSON body.", "Send Content-Type: application/json."
            )
        body = await read_json(request, MAX_REGISTRATION_BYTES)
        url, secret, events = (body.get(name) for name in ("url", "secret", "events")) if isinstance(body, dict) else (None, None, None)
        if not http_url(url):
            raise validation_error("url", "must be an http(s) URL", 400)
        if not self.sandbox.options.allow_remote_webhooks and not loopback_url(url):
            raise validation_error("url", LOOPBACK_ONLY, 400)
        secret = self.usable_secret(secret)
        events = ["*"] if events is None else events
        known = self.known
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) and (e == "*" or not known or e in known) for e in events)
        ):
            raise validation_error("events", f"must be a non-empty list of: {', '.join(['*', *known])}" if known else "must be a list", 400)
        hook_id = "we_" + secrets.token_hex(8)
        self.sandbox.store.add_webhook(hook_id, account, url, events, secret, self.sandbox.clock.now(account))
        return JSONResponse({"id": hook_id, "url": url, "events": events}, status_code=201)

    def usable_secret(self, secret: Any) -> str:
        """`secret`, where the scheme can sign with it (an Adyen HMAC key is hex); else 400."""
        if not isinstance(secret, str) or not secret:
            raise validation_error("secret", "the receiver's signing secret is required", 400)
        try:
            self.scheme.sign([secret], b"", timestamp=0, msg_id="x")
        except SecretError as exc:
            raise validation_error("secret", str(exc), 400) from None
        return secret
