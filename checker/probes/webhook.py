"""Webhook checks: golive signs crafted deliveries, sends them to the team's receiver, and judges the
status codes and latencies. HOOK-212 and BAL-001 read the integration's settings (and, against a
real sandbox, its registered endpoints).

Every delivery is bounded (connect, answer and body), follows no redirect, and keeps at most
`MAX_ANSWER` bytes of what the receiver says. A rejection is only judged once the same receiver
has accepted a valid delivery: a receiver that answers 400 to everything rejects nothing.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import re
import secrets
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from checker import envelope, traffic
from checker.envelope import dig
from checker.errors import ProbeError
from checker.model import Outcome, Rule
from checker.packs import WebhookFacts
from checker.probes.context import ProbeContext
from checker.redact import mask_key_like
from checker.registry import check
from checker.signing import SecretError, SigningScheme, fresh_secret
from checker.targets import RECEIVER

MAX_ANSWER = 64 * 1024  # bytes of a receiver's answer that golive reads
SHOWN = 300  # characters of it kept in the evidence
BURST = 20
DRAIN_S = 60.0  # after a burst some deliveries of which went unanswered: how long golive waits for the receiver to answer again
COUNT_WAIT_S = 10.0
COUNT = re.compile(r"[0-9]{1,9}")
REGISTER_S = 20.0  # webhook.register's bound
# what webhook.processed_count and webhook.register (and webhook.env for them) are filled with, by `_processed_count` and
# `_register` ({port} with processed_count where webhook.url has it): checker/preflight.py checks against these
COUNT_PLACEHOLDERS = (*RECEIVER, "event_id")
REGISTER_PLACEHOLDERS = ("python", "workdir", "secret", "url", "base_url", "api_key")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery golive sent and what the receiver made of it."""

    label: str
    event_id: str
    t: float  # seconds since the probe began
    status: int | None  # None: no answer (see `error`)
    latency_s: float
    error: str | None = None
    answer: str = ""
    location: str | None = None
    unreachable: bool = False
    receiver_stderr: str | None = None  # for a 5xx or no answer: what the receiver golive started wrote to stderr meanwhile

    @property
    def broken(self) -> bool:
        """A 5xx, a reset or no answer: the receiver failed, and its stderr may say why."""
        return self.status is None or self.status >= 500

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def rejected(self) -> bool:
        return self.status is not None and 400 <= self.status < 500

    def describe(self) -> str:
        if self.status is None:
            return self.error or "no answer"
        if 300 <= self.status < 400:
            return f"{self.status} redirect to {self.location or '?'} (golive follows no redirect)"
        return f"{self.status} in {self.latency_s:.2f} s"

    def evidence(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": "delivery",
            "label": self.label,
            "event_id": self.event_id,
            "t": round(self.t, 3),
            "status": self.status,
            "latency_s": round(self.latency_s, 3),
        }
        if self.error:
            item["error"] = self.error
        if self.location:
            item["location"] = self.location
        if self.answer:
            item["answer"] = self.answer
        return item


class Signer:
    """Deliveries built and signed as the provider sends them: its envelope (webhooks.envelope), its serialisation
    (webhooks.serialisation) and its signature scheme, for the receiver at `url` (Square signs the URL) with `secret`.
    What the webhook probes send, and `golive trigger`."""

    def __init__(self, facts: WebhookFacts, secret: str, url: str, serialisation: str = "") -> None:
        self.facts: WebhookFacts = facts
        # the provider's own format (webhooks.serialisation), or another one (`OTHER_FORMATS`) the receiver was found to verify
        self.serialisation: str = serialisation or PROVIDER
        self.provider_format: dict[str, Any] = facts.serialisation.format()
        self.scheme: SigningScheme = facts.signing()
        self.url = url
        self.secret = secret
        self.scheme.sign([self.secret], b"", timestamp=0, msg_id="x")  # SecretError: a secret the scheme cannot use

    # ---------------------------------------------------------------- what is sent

    def event(self, type_: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """A realistic event in the provider's envelope (webhooks.envelope) with a fresh id; `data` as its data object."""
        events = self.facts.required_events or [self.facts.created_event or "test.event"]
        data = data if data is not None else dict(self.facts.event_data) or {"id": "obj_golive", "status": "delivered"}
        return envelope.event(
            self.facts.envelope.model_dump(), "evt_golive_" + secrets.token_hex(10), type_ or events[0], time.time(), data
        )

    def id_of(self, event: dict[str, Any]) -> str:
        return str(dig(event, envelope.field_path(self.facts.envelope.model_dump(), "id")))

    def changed(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event with one field of its data changed (a body altered after signing); for a signature inside the
        body, one of the fields it signs (Adyen's amount.value)."""
        if self.scheme.in_body:
            return self.scheme.tampered(event)
        event = copy.deepcopy(event)
        data = dig(event, envelope.field_path(self.facts.envelope.model_dump(), "data"))
        if isinstance(data, dict):
            data["status"] = "failed" if data.get("status") != "failed" else "delivered"
        return event

    def body(self, event: dict[str, Any], serialisation: str | None = None) -> bytes:
        """The event's bytes: as the provider writes them, or in `serialisation` (one of `OTHER_FORMATS`)."""
        name = serialisation or self.serialisation
        return envelope.serialise(event, self.provider_format if name == PROVIDER else OTHER_FORMATS[name])

    def provider_words(self) -> str:
        """How the provider writes its deliveries, in words ("compact JSON")."""
        return envelope.describe_format(self.provider_format)

    def other_secret(self) -> str:
        return fresh_secret(self.scheme.name)

    def seal(self, event: dict[str, Any], keys: list[str] | None = None) -> dict[str, Any]:
        """The event with its in-body signature (schemes that sign in headers leave it as it is)."""
        return self.scheme.seal(event, keys or [self.secret])

    def headers(self, body: bytes, event_id: str, *, keys: list[str] | None = None, timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        signed = self.scheme.sign(keys or [self.secret], body, timestamp=ts, msg_id=event_id, url=self.url or "")
        return {"Content-Type": "application/json", **signed}


class Sender(Signer):
    """Signs and sends deliveries to the configured receiver."""

    def __init__(self, ctx: ProbeContext) -> None:
        facts = ctx.pack.facts.webhooks
        webhook = ctx.config.file.webhook
        if ctx.webhook_error:
            raise ProbeError(ctx.webhook_error)
        if facts is None:
            raise ProbeError(f"the {ctx.pack.name} pack declares no webhook facts (facts.webhooks: scheme, signature_header)")
        if webhook is None or not ctx.webhook_url:
            raise ProbeError("no webhook receiver configured (webhook.url)")
        if not webhook.secret:
            raise ProbeError("webhook.secret is not set: golive signs its deliveries with the receiver's secret")
        self.ctx = ctx
        # the provider's format, or the one the receiver was found to verify (see `_diagnosis`), so that its rejections can
        # still be judged
        found = ctx.shared_result("hook:diagnosis")
        try:
            super().__init__(facts, webhook.secret, ctx.webhook_url, found[0] if found else PROVIDER)
        except SecretError as exc:
            raise ProbeError(f"webhook.secret: {exc}") from None
        self.timeout_s = max(10.0, 2 * facts.deadline_s)
        self.started = time.monotonic()
        from checker.http import new_client

        self.client = new_client(self.url, {"User-Agent": "golive-webhook-probe"})

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.client.aclose()

    # ---------------------------------------------------------------- sending

    async def post(
        self, label: str, event_id: str, body: bytes, headers: dict[str, str], *, paced: bool = True, deadline_s: float | None = None
    ) -> Delivery:
        """One delivery; `paced` (all but HOOK-209's burst) waits for a delivery slot first."""
        if paced:
            async with self.ctx.delivery_slot():
                return await self.post(label, event_id, body, headers, paced=False, deadline_s=deadline_s)
        running = self.ctx.receiver_process
        mark = running.mark() if running is not None else 0
        delivery = await self._post(label, event_id, body, headers, deadline_s or self.timeout_s)
        running = self.ctx.receiver_process
        if running is not None and delivery.broken:
            return dataclasses.replace(delivery, receiver_stderr=await running.stderr_since(mark))
        return delivery

    async def _post(self, label: str, event_id: str, body: bytes, headers: dict[str, str], deadline_s: float) -> Delivery:
        from checker.errors import TargetUnreachable
        from checker.http import send

        t0 = time.monotonic()
        t = t0 - self.started
        taped = traffic.record(  # on the run's tape when it keeps the traffic (--format har): what golive crafted, and why
            traffic.Recorded(
                "webhook",
                time.time(),
                "POST",
                self.url,
                self._sent(headers),
                body[: traffic.BODY_TEXT],
                len(body),
                golive={"delivery": label, "event_id": event_id},
            )
        )
        try:
            exchange = await send(
                self.client,
                "POST",
                self.url,
                started=self.started,
                content=body,
                headers=headers,
                max_body=MAX_ANSWER,
                deadline_s=deadline_s,
            )
        except TargetUnreachable as exc:
            taped.unanswered(str(exc), time.monotonic() - t0)
            return Delivery(label, event_id, t, None, time.monotonic() - t0, str(exc), unreachable=True)
        except ProbeError as exc:
            taped.unanswered(str(exc), time.monotonic() - t0)
            return Delivery(label, event_id, t, None, time.monotonic() - t0, str(exc))
        taped.answered(exchange.status, list(exchange.headers.items()), exchange.body, exchange.elapsed_s)
        answer = exchange.body[:SHOWN].decode("utf-8", "replace")
        if exchange.truncated or len(exchange.body) > SHOWN:
            answer += f" … (cut; {exchange.note or f'golive reads at most {MAX_ANSWER // 1024} KB'})" if exchange.truncated else " …"
        location = exchange.headers.get("location")
        location = location[:SHOWN] if location is not None else None
        return Delivery(label, event_id, t, exchange.status, exchange.elapsed_s, None, answer, location)

    def _sent(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        """The headers a delivery goes with: the client's own (User-Agent…) and the delivery's."""
        given = {name.lower() for name in headers}
        return [(k, v) for k, v in self.client.headers.items() if k.lower() not in given] + list(headers.items())

    def signed(self, *, keys: list[str] | None = None, timestamp: int | None = None) -> tuple[dict[str, Any], bytes, dict[str, str]]:
        """A fresh event, its body, and headers signing it (with `keys`, at `timestamp`, when given)."""
        event = self.seal(self.event(), keys)
        body = self.body(event)
        return event, body, self.headers(body, self.id_of(event), keys=keys, timestamp=timestamp)

    async def valid(
        self, label: str, event: dict[str, Any] | None = None, *, paced: bool = True, deadline_s: float | None = None
    ) -> Delivery:
        event = self.seal(event or self.event())
        body = self.body(event)
        return await self.post(label, self.id_of(event), body, self.headers(body, self.id_of(event)), paced=paced, deadline_s=deadline_s)


# ---------------------------------------------------------------- shared deliveries


async def _valid(ctx: ProbeContext) -> Delivery:
    """One valid delivery per run: HOOK-201's probe and the control for every rejection."""

    async def make() -> Delivery:
        async with Sender(ctx) as sender:
            return await sender.valid("valid")

    return await ctx.shared("hook:valid", make)


def _require_reachable(delivery: Delivery, url: str | None) -> None:
    if delivery.unreachable:
        raise ProbeError(f"the webhook receiver at {url} is not reachable: {delivery.error}")


PROVIDER = "the provider's format"  # webhooks.serialisation: the bytes the provider really sends
# other valid formattings of the same event: when the receiver rejects the provider's, the first of these it accepts
# says what it really verifies (JSON it re-serialised, not the raw body)
OTHER_FORMATS: dict[str, dict[str, Any]] = {
    "spaced JSON (json.dumps' defaults)": {"separators": "spaced", "ascii": True},
    "compact JSON": {"separators": "compact", "ascii": True},
    "compact JSON with sorted keys": {"separators": "compact", "ascii": True, "key_order": "sorted"},
    "spaced JSON with sorted keys": {"separators": "spaced", "ascii": True, "key_order": "sorted"},
    "indented JSON": {"indent": 2},
}


async def _diagnosis(ctx: ProbeContext) -> tuple[str, Delivery] | None:
    """When the receiver rejects golive's valid delivery (the provider's format), the same event in other
    formattings: the first one it accepts says what it really verifies (JSON re-serialised, not the raw body). None
    when none is accepted."""

    async def make() -> tuple[str, Delivery] | None:
        async with Sender(ctx) as sender:
            for name in OTHER_FORMATS:
                event = sender.seal(sender.event())
                body = sender.body(event, name)
                if body == sender.body(event, PROVIDER):  # the provider's own bytes: already rejected
                    continue
                delivery = await sender.post(
                    f"the same event as {name}", sender.id_of(event), body, sender.headers(body, sender.id_of(event))
                )
                if delivery.ok:
                    # the control: the provider's format once more. Accepted now, the first rejection was a one-off
                    # (a warm-up, a flaky check), not a receiver that verifies re-serialised JSON
                    again = await sender.valid(f"a second valid delivery, as the provider sends it ({sender.provider_words()})")
                    return (PROVIDER, again) if again.ok else (name, delivery)
        return None

    valid = await _valid(ctx)
    if valid.ok or not valid.rejected:
        return None
    return await ctx.shared("hook:diagnosis", make)


async def _serialisation(ctx: ProbeContext) -> None:
    """Settle which serialisation later deliveries use before they are made (the usual one, or the one the receiver
    was found to verify: `Sender` reads it), so that no rule's verdict depends on whether the diagnosis happened
    to finish before it started."""
    valid = await _valid(ctx)
    if not valid.ok and valid.rejected:
        await _diagnosis(ctx)


def _reserialised(found: tuple[str, Delivery]) -> str:
    if found[0] == PROVIDER:
        return f"a second, identical kind of delivery was accepted ({found[1].describe()}): the receiver rejected the first one only"
    return (
        f"the same event sent as {found[0]} was accepted ({found[1].describe()}): the receiver verifies JSON it re-serialised, "
        "not the raw body it received, and so rejects the provider's real deliveries (see HOOK-213)"
    )


async def _control(ctx: ProbeContext) -> Delivery:
    """An accepted valid delivery, against which a rejection means something."""
    valid = await _valid(ctx)
    _require_reachable(valid, ctx.webhook_url)
    if valid.ok:
        return valid
    found = await _diagnosis(ctx)
    if found is not None:  # judge the rejections on the serialisation it does accept
        return found[1]
    raise ProbeError(f"cannot judge a rejection: the receiver does not accept a valid delivery either ({valid.describe()}; see HOOK-201)")


def _evidence(*deliveries: Delivery) -> list[dict[str, Any]]:
    """Each delivery; after one the receiver failed (5xx, reset, no answer), what it wrote to stderr meanwhile (once
    per distinct text: a burst's timeouts share theirs)."""
    items: list[dict[str, Any]] = []
    shown: set[str] = set()
    for delivery in deliveries:
        items.append(delivery.evidence())
        said = delivery.receiver_stderr
        if said is not None and said not in shown:
            shown.add(said)
            items.append(
                {"kind": "receiver_output", "delivery": delivery.label, "receiver_stderr_tail": said or "(it wrote nothing to stderr)"}
            )
    return items


def _stderr_said(delivery: Delivery) -> str:
    """For the message: the exception the receiver's stderr names last about a failed delivery (`AttributeError: …`),
    or else its last line with words in it (not socketserver's closing row of dashes)."""
    lines = [line.strip() for line in (delivery.receiver_stderr or "").splitlines() if any(c.isalnum() for c in line)]

    def exception(line: str) -> bool:
        name = line.split(":", 1)[0]
        return name.endswith(("Error", "Exception")) and name.replace(".", "").replace("_", "").isalnum()

    said = next((line for line in reversed(lines) if exception(line)), lines[-1] if lines else "")
    return f"; the receiver's stderr says: {said[:200]}" if said else ""


def _judge_rejections(control: Delivery, bad: list[Delivery], what: str, documented: int | None = None) -> Outcome:
    """Pass when every `bad` delivery got a 4xx (and the control a 2xx): the `documented` status where the provider
    states the one a rejection must carry (GoCardless: 498 for an invalid signature), else any 4xx."""
    evidence = _evidence(control, *bad)
    for delivery in bad:
        if delivery.ok:
            return Outcome.failed(f"accepted a delivery with {delivery.label} ({delivery.status}): {what} must be rejected", evidence)
    for delivery in bad:
        if delivery.status is None:
            return Outcome.failed(f"no answer to a delivery with {delivery.label}: {delivery.error}{_stderr_said(delivery)}", evidence)
        if delivery.status >= 500:
            return Outcome.failed(
                f"answered {delivery.status} to a delivery with {delivery.label}: an error, not a rejection "
                f"(a 5xx also asks the provider to deliver it again){_stderr_said(delivery)}",
                evidence,
            )
        if not delivery.rejected:
            return Outcome.failed(f"answered {delivery.describe()} to a delivery with {delivery.label}; expected a 4xx", evidence)
        if documented is not None and delivery.status != documented:
            return Outcome.failed(
                f"answered {delivery.status} to a delivery with {delivery.label}: the provider documents {documented} for a delivery "
                f"the receiver rejects (webhooks.rejection_status), and treats any other answer as a failed delivery",
                evidence,
            )
    codes = ", ".join(str(d.status) for d in bad)
    return Outcome.passed(f"rejected {what} ({codes}); a valid delivery got {control.status}", evidence)


# ---------------------------------------------------------------- signature checks


@check("HOOK-201")
async def accepts_valid(ctx: ProbeContext, rule: Rule) -> Outcome:
    valid = await _valid(ctx)
    _require_reachable(valid, ctx.webhook_url)
    facts = ctx.pack.facts.webhooks
    assert facts is not None  # else the delivery was never made (Sender: "the pack declares no webhook facts")
    sent = f"a correctly signed delivery, formatted as the provider sends it ({envelope.describe_format(facts.serialisation.format())})"
    if valid.ok:
        return Outcome.passed(f"{sent}, was accepted ({valid.describe()})", _evidence(valid))
    found = await _diagnosis(ctx)
    if found is not None:
        return Outcome.failed(f"{sent}, got {valid.describe()}; {_reserialised(found)}", _evidence(valid, found[1]))
    return Outcome.failed(f"{sent}, got {valid.describe()}; expected a 2xx", _evidence(valid))


@check("HOOK-202")
async def rejects_bad_signature(ctx: ProbeContext, rule: Rule) -> Outcome:
    control = await _control(ctx)
    async with Sender(ctx) as sender:
        event, body, good = sender.signed()
        other = [sender.other_secret()]
        variants: list[tuple[str, bytes, dict[str, str]]]
        if sender.scheme.in_body:
            variants = [(label, sender.body(bad), good) for label, bad in sender.scheme.malformed_events(event)]
            # the right format with a wrong value: the other secret's signature over these fields
            variants.append(("a wrong signature value", sender.body(sender.seal(event, other)), good))
        else:
            variants = [(label, body, headers) for label, headers in sender.scheme.malformed(good)]
            # the right format with a wrong value: the other secret's signature over this body
            variants.append(("a wrong signature value", body, sender.headers(body, sender.id_of(event), keys=other)))
        bad = await asyncio.gather(*(sender.post(label, sender.id_of(event), content, headers) for label, content, headers in variants))
    return _judge_rejections(control, list(bad), "malformed and wrong signatures", sender.facts.rejection_status)


@check("HOOK-203")
async def rejects_missing_signature(ctx: ProbeContext, rule: Rule) -> Outcome:
    control = await _control(ctx)
    async with Sender(ctx) as sender:
        event, body, headers = sender.signed()
        if sender.scheme.in_body:
            unsigned = sender.scheme.unsigned_events(event)
            bad = list(await asyncio.gather(*(sender.post(label, sender.id_of(e), sender.body(e), headers) for label, e in unsigned)))
        else:
            headers.pop(sender.scheme.signature_header)
            bad = [await sender.post(f"no {sender.scheme.signature_header} header", sender.id_of(event), body, headers)]
    return _judge_rejections(control, bad, "a delivery without a signature", sender.facts.rejection_status)


def beyond_tolerance_s(facts: WebhookFacts) -> int:
    """How far outside the tolerance the stale and future timestamps are (10 minutes for 300 s)."""
    return int(max(2 * facts.tolerance_s, facts.tolerance_s + 300))


async def _outside_tolerance(ctx: ProbeContext, direction: int) -> Outcome:
    """A validly signed delivery whose timestamp lies beyond the tolerance: in the past (-1) or the future (+1)."""
    facts = ctx.pack.facts.webhooks
    if facts is not None and not facts.signing().has_timestamp:
        return Outcome.skipped(f"the {facts.scheme} signature scheme signs no timestamp")
    control = await _control(ctx)
    async with Sender(ctx) as sender:
        skew = beyond_tolerance_s(sender.facts)
        event, body, headers = sender.signed(timestamp=int(time.time()) + direction * skew)
        label = f"a valid signature {skew} s {'old' if direction < 0 else 'in the future'}"
        bad = await sender.post(label, sender.id_of(event), body, headers)
    tolerance = f"{sender.facts.tolerance_s:g} s tolerance"
    what = f"a delivery older than the {tolerance}" if direction < 0 else f"a timestamp beyond the {tolerance} in the future"
    return _judge_rejections(control, [bad], what, sender.facts.rejection_status)


@check("HOOK-204")
async def rejects_stale(ctx: ProbeContext, rule: Rule) -> Outcome:
    return await _outside_tolerance(ctx, -1)


@check("HOOK-210")
async def rejects_future(ctx: ProbeContext, rule: Rule) -> Outcome:
    return await _outside_tolerance(ctx, +1)


@check("HOOK-205")
async def rejects_tampered(ctx: ProbeContext, rule: Rule) -> Outcome:
    control = await _control(ctx)
    async with Sender(ctx) as sender:
        event, _, headers = sender.signed()  # the signature of the original body
        changed = sender.changed(event)
        bad = await sender.post("a body changed after signing", sender.id_of(event), sender.body(changed), headers)
    return _judge_rejections(control, [bad], "a body changed after signing", sender.facts.rejection_status)


@check("HOOK-206")
async def rejects_other_secret(ctx: ProbeContext, rule: Rule) -> Outcome:
    control = await _control(ctx)
    async with Sender(ctx) as sender:
        event, body, headers = sender.signed(keys=[sender.other_secret()])
        bad = await sender.post("a signature made with another secret", sender.id_of(event), body, headers)
    return _judge_rejections(control, [bad], "a signature made with another secret", sender.facts.rejection_status)


@check("HOOK-211")
async def accepts_rotation(ctx: ProbeContext, rule: Rule) -> Outcome:
    facts = ctx.pack.facts.webhooks
    if facts is not None and not facts.signing().carries_several_signatures:
        return Outcome.skipped(f"the {facts.scheme} signature scheme carries one signature; there is no rotation to check")
    await _control(ctx)
    async with Sender(ctx) as sender:
        old = sender.other_secret()
        runs = []
        for label, keys in (
            ("old and new signatures (valid one second)", [old, sender.secret]),
            ("new and old signatures (valid one first)", [sender.secret, old]),
        ):
            event, body, headers = sender.signed(keys=keys)
            runs.append(sender.post(label, sender.id_of(event), body, headers))
        second, first = await asyncio.gather(*runs)
    evidence = _evidence(second, first)
    if not second.ok and first.ok:
        return Outcome.failed(
            f"rejected a delivery whose valid signature came second ({second.describe()}): it checks only the first signature", evidence
        )
    for delivery in (second, first):
        if not delivery.ok:
            return Outcome.failed(f"rejected a delivery with {delivery.label} ({delivery.describe()})", evidence)
    return Outcome.passed("accepted deliveries carrying two signatures in either order", evidence)


@check("HOOK-213")
async def verifies_raw_body(ctx: ProbeContext, rule: Rule) -> Outcome:
    facts = ctx.pack.facts.webhooks
    if facts is not None and not facts.signing().signs_raw_body:
        return Outcome.skipped(
            f"the {facts.scheme} signature scheme signs fields inside the body, not its bytes: there is no raw body to verify"
        )
    valid = await _valid(ctx)
    _require_reachable(valid, ctx.webhook_url)
    found = await _diagnosis(ctx) if not valid.ok else None
    if found is not None and found[0] != PROVIDER:
        return Outcome.failed(f"golive's valid delivery got {valid.describe()}; {_reserialised(found)}", _evidence(valid, found[1]))
    await _control(ctx)
    async with Sender(ctx) as sender:
        event = sender.event()
        body = unusual_json(event, envelope.field_path(sender.facts.envelope.model_dump(), "data"))
        delivery = await sender.post("unusual JSON formatting", sender.id_of(event), body, sender.headers(body, sender.id_of(event)))
    evidence = [*_evidence(delivery), {"kind": "note", "text": "body sent: " + body.decode()[:SHOWN]}]
    if delivery.ok:
        return Outcome.passed(f"accepted a valid delivery with unusual JSON formatting ({delivery.describe()})", evidence)
    return Outcome.failed(
        f"rejected a validly signed delivery whose JSON is formatted unusually ({delivery.describe()}): "
        "it verifies re-serialised JSON, not the raw body",
        evidence,
    )


def unusual_json(event: dict[str, Any], data_path: str = "data") -> bytes:
    """The same event as valid JSON in a form no serialiser writes by default: keys reversed, odd
    whitespace, CRLF, escaped non-ASCII and an escaped slash. Re-serialising it changes the bytes."""
    event = copy.deepcopy(event)
    data = dig(event, data_path)
    if isinstance(data, dict):
        data["note"] = "caf\u00e9 / \u2713"
    fields = [
        f"{json.dumps(k)} :   {json.dumps(v, indent=chr(9), ensure_ascii=True).replace('/', chr(92) + '/')}" for k, v in event.items()
    ]
    return ("{\r\n  " + " ,\n\t".join(reversed(fields)) + "\n}\n").encode()


# ---------------------------------------------------------------- duplicates and latency


async def _duplicate(ctx: ProbeContext) -> tuple[Delivery, Delivery]:
    """The same event delivered twice (the second with a fresh timestamp, as a redelivery has). A first delivery
    that was not accepted leaves nothing to duplicate: the rules then end before looking at the second."""

    async def make() -> tuple[Delivery, Delivery]:
        valid = await _valid(ctx)
        if valid.status is None:  # the valid delivery got no answer at all: nothing to duplicate, no 10 s wait more
            return valid, valid
        await _serialisation(ctx)
        async with Sender(ctx) as sender:
            event = sender.event()
            first = await sender.valid("first delivery", event)
            if not first.ok:  # a hung or refusing receiver: no second wait of up to 10 s for nothing
                return first, first
            second = await sender.valid("the same event again", event)
            return first, second

    return await ctx.shared("hook:duplicate", make)


@check("HOOK-207")
async def acknowledges_duplicate(ctx: ProbeContext, rule: Rule) -> Outcome:
    first, second = await _duplicate(ctx)
    _require_reachable(first, ctx.webhook_url)
    if not first.ok:
        raise ProbeError(f"the first delivery was not accepted ({first.describe()}; see HOOK-201), so no duplicate could be sent")
    evidence = _evidence(first, second)
    if second.ok:
        return Outcome.passed(f"a second delivery of {first.event_id} was acknowledged ({second.describe()})", evidence)
    # an error to a duplicate fails whichever id the receiver deduplicates by: no reading on that key decided it
    return dataclasses.replace(
        Outcome.failed(
            f"a second delivery of the same event got {second.describe()}; a duplicate must be acknowledged with a 2xx "
            "or the provider keeps redelivering it",
            evidence,
        ),
        readings_decide=False,
    )


@check("HOOK-208")
async def processes_duplicate_once(ctx: ProbeContext, rule: Rule) -> Outcome:
    webhook = ctx.config.file.webhook
    if webhook is None or not webhook.processed_count:
        return Outcome.not_set("webhook.processed_count is not set: golive cannot see how often an event was handled")
    first, second = await _duplicate(ctx)
    _require_reachable(first, ctx.webhook_url)
    if not first.ok:
        raise ProbeError(f"the first delivery was not accepted ({first.describe()}; see HOOK-201)")
    evidence = _evidence(first, second)
    deadline = time.monotonic() + COUNT_WAIT_S
    count = await _processed_count(ctx, first.event_id, evidence)
    while count < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        count = await _processed_count(ctx, first.event_id, evidence)
    if count >= 1:  # let a slow second processing show up before judging
        await asyncio.sleep(1.0)
        count = await _processed_count(ctx, first.event_id, evidence)
    if count == 1:
        return Outcome.passed(f"{first.event_id} was delivered twice and processed once", evidence)
    if count == 0:
        return Outcome.failed(
            f"{first.event_id} was accepted but never processed within {COUNT_WAIT_S:g} s (processed_count printed 0)", evidence
        )
    return Outcome.failed(f"{first.event_id} was delivered twice and processed {count} times: deduplicate on event_id", evidence)


async def _processed_count(ctx: ProbeContext, event_id: str, evidence: list[dict[str, Any]]) -> int:
    from checker.harness.process import run_client

    webhook = ctx.config.file.webhook
    assert webhook is not None and webhook.processed_count
    values = {**ctx.webhook_values, "event_id": event_id}
    result = await run_client(webhook.processed_count, values, env=webhook.env, cwd=ctx.config.resolve(webhook.cwd), timeout_s=15)
    if result.exit_code != 0:
        tail = (result.stderr or result.stdout).strip()[-300:]
        raise ProbeError(f"webhook.processed_count {'timed out' if result.timed_out else f'exited {result.exit_code}'}: {tail}")
    words = result.stdout.split()
    if not words or not COUNT.fullmatch(words[-1]):  # ASCII digits only: '²'.isdigit() is true, int('²') fails
        raise ProbeError(f"webhook.processed_count printed {result.stdout.strip()[-80:]!r}, not a number")
    count = int(words[-1])
    evidence.append({"kind": "note", "text": f"processed_count {event_id} → {count}"})
    return count


async def _drain(sender: Sender, burst: list[Delivery]) -> list[dict[str, Any]]:
    """After a burst golive abandoned deliveries of (no answer within its wait), a receiver that serves one at a time
    still works through them: one more delivery, waited for up to DRAIN_S, is answered once it has. Until then the
    burst's rule keeps the receiver to itself, so the leftovers never make another rule's delivery late. Evidence only:
    the burst's verdict is already in its own deliveries."""
    abandoned = [d for d in burst if d.status is None and not d.unreachable]
    if not abandoned:
        return []
    after = await sender.valid("after the burst (golive waits for the receiver to answer again)", paced=False, deadline_s=DRAIN_S)
    if after.status is None:
        text = (
            f"the receiver did not answer again within {DRAIN_S:g} s of the burst ({after.describe()}): the {len(abandoned)} "
            "deliveries golive abandoned may still hold it, and later rules' deliveries with it"
        )
    else:
        text = (
            f"golive abandoned {len(abandoned)} deliveries of the burst; the receiver answered again {after.latency_s:.1f} s later, "
            "once it had served them: no other rule's delivery was sent meanwhile"
        )
    return [*_evidence(after), {"kind": "note", "text": text}]


def _how_long(ctx: ProbeContext) -> str:
    """How long the provider keeps trying, as its pack states it (webhooks.redelivery): what a receiver that is down
    or too slow loses."""
    hooks = ctx.pack.facts.webhooks
    stated = hooks.redelivery if hooks else None
    return f" ({ctx.pack.name}: {stated.summary()})" if stated else f" (how long {ctx.pack.name} keeps trying is not in its pack)"


@check("HOOK-209")
async def answers_in_time(ctx: ProbeContext, rule: Rule) -> Outcome:
    single = await _valid(ctx)
    _require_reachable(single, ctx.webhook_url)
    deadline = ctx.pack.facts.webhooks.deadline_s if ctx.pack.facts.webhooks else 5.0
    if single.status is None or single.latency_s > deadline:  # already late alone: a burst can add nothing
        return Outcome.failed(f"a single valid delivery was not answered within {deadline:g} s ({single.describe()})", _evidence(single))
    await _serialisation(ctx)
    async with Sender(ctx) as sender, ctx.receiver.exclusive():  # the burst alone: no other rule's delivery meets it
        deadline = sender.facts.deadline_s
        burst = await asyncio.gather(*(sender.valid(f"burst {n}", paced=False) for n in range(1, BURST + 1)))
        drained = await _drain(sender, burst)  # nor what the receiver still does for it
    everything = [single, *burst]
    evidence = [*_evidence(*everything), *drained]
    late = [d for d in everything if d.status is None or d.latency_s > deadline]
    dropped = [d for d in burst if d.status is None and d.error and ("closed the connection" in d.error or "cannot connect" in d.error)]
    if dropped:
        return Outcome.failed(
            f"the receiver dropped {len(dropped)} of {BURST} connections in a burst without an answer ({dropped[0].error}): "
            f"a small listen queue or too few workers? The provider redelivers each{_how_long(ctx)}",
            evidence,
        )
    if late:
        worst = max(late, key=lambda d: d.latency_s)
        return Outcome.failed(
            f"{len(late)} of {len(everything)} deliveries were not answered within {deadline:g} s "
            f"(slowest: {worst.label}, {worst.describe()}); the provider redelivers those{_how_long(ctx)}",
            evidence,
        )
    refused = [d for d in burst if not d.ok]
    if refused:
        return Outcome.failed(f"{len(refused)} of {BURST} deliveries in a burst were not accepted (e.g. {refused[0].describe()})", evidence)
    slowest = max(d.latency_s for d in everything)
    return Outcome.passed(f"every delivery answered within {deadline:g} s, also a burst of {BURST} (slowest {slowest:.2f} s)", evidence)


# ---------------------------------------------------------------- subscriptions (settings, registered endpoints)


def _unverified(ctx: ProbeContext) -> str | None:
    """Why golive cannot read back the endpoints the integration registered (then HOOK-212 and BAL-001 rest on
    golive.yaml's word alone), or None when it can: a real sandbox, or the embedded one with webhook.register;
    a pack naming its endpoint listing; a key."""
    facts = ctx.pack.facts.webhooks
    webhook = ctx.config.file.webhook
    if facts is None or not facts.endpoints_path:
        return f"the {ctx.pack.name} pack names no endpoint listing to compare with (facts.webhooks.endpoints_path in the pack)"
    if ctx.config.file.sandbox.url == "builtin" and (webhook is None or not webhook.registration):
        return (
            "the embedded sandbox holds no endpoint the integration registered (set webhook.register to the command that "
            "registers it, which golive runs against the embedded sandbox, or point sandbox.url at the provider's sandbox)"
        )
    if not ctx.sandbox_url or not ctx.api_key:
        return "no sandbox.url and sandbox.api_key to read the registered endpoints with"
    return None


async def _registered(ctx: ProbeContext) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """The endpoints the sandbox has registered (None when `_unverified` says why not), and the evidence. On the
    embedded sandbox, the endpoints webhook.register registered on an account of its own."""
    facts = ctx.pack.facts.webhooks
    if _unverified(ctx) is not None:
        return None, []

    async def make() -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]]]:
        from checker.probes.sandbox_api import SandboxAPI

        assert facts is not None and facts.endpoints_path and ctx.sandbox_url
        evidence: list[dict[str, Any]] = []
        key = ctx.contract_key or ctx.api_key
        if ctx.config.file.sandbox.url == "builtin":
            key, process = await _register(ctx)
            # not its output: a registration prints the endpoint's new secret, which golive does not know to mask
            evidence.append({"kind": "process", "run": "webhook.register", "exit_code": 0, "duration_s": round(process.duration_s, 3)})
        ctx.refuse_live_key()
        api = SandboxAPI(
            ctx.sandbox_url, key or "", facts=ctx.pack.facts, started=time.monotonic(), timeout_s=ctx.config.file.sandbox.timeout
        )
        async with api:
            exchange = await api.get(facts.endpoints_path, note="registered webhook endpoints")
            listed = dig(exchange.json(), facts.registration.list_field)
            if exchange.status != 200 or not isinstance(listed, list):
                raise ProbeError(
                    f"could not list the webhook endpoints: {exchange.status} from {facts.endpoints_path} "
                    f"(no list at '{facts.registration.list_field}')"
                )
            return [e for e in listed if isinstance(e, dict)], [*evidence, *api.evidence()]

    return await ctx.shared("hook:registered", make)


async def _register(ctx: ProbeContext) -> tuple[str, Any]:
    """Run webhook.register against the embedded sandbox, on an account of its own: the key it was given, and how
    it ended. A registration that fails is the integration's failure to register, named as such."""
    import sys

    from checker.harness.process import fill, run_client
    from checker.harness.receiver import free_port

    webhook = ctx.config.file.webhook
    assert webhook is not None and webhook.registration and ctx.sandbox_url
    # the step must register where golive says: with the embedded sandbox's URL and key, not a production default
    told = webhook.registration + " " + " ".join(webhook.env.values())
    if "{base_url}" not in told or "{api_key}" not in told:
        raise ProbeError(
            "webhook.register must take the sandbox's URL and key from golive ({base_url} and {api_key}, in the command or "
            "webhook.env): golive will not run a registration that might reach the provider's live API"
        )
    ctx.refuse_live_key()
    key = ctx.client_key() or ""
    values = {"python": sys.executable, "workdir": str(ctx.workdir or "."), "secret": webhook.secret or ""}
    url = ctx.webhook_url or fill(webhook.url or "http://127.0.0.1:{port}/webhooks", {"port": str(free_port())})
    values |= {"url": url, "base_url": ctx.sandbox_url, "api_key": key}
    # within the rule's own 30 s bound (config rules), so that a slow step is named as such
    result = await run_client(webhook.registration, values, env=webhook.env, cwd=ctx.config.resolve(webhook.cwd), timeout_s=REGISTER_S)
    if result.exit_code != 0:
        tail = mask_key_like((result.stderr or result.stdout).strip()[-300:])  # it may print the endpoint's new secret
        ended = "timed out" if result.timed_out else f"exited {result.exit_code}"
        raise ProbeError(f"webhook.register {ended} against the embedded sandbox: {tail or '(no output)'}")
    return key, result


DECLARED = "declared, not verified: golive.yaml's"


def _events_of(endpoint: dict[str, Any], facts: WebhookFacts | None) -> list[str]:
    """The events a registered endpoint subscribes to, under the provider's field name (events, enabled_events)."""
    events = endpoint.get(facts.registration.events_field if facts else "events")
    return [e for e in events if isinstance(e, str)] if isinstance(events, list) else []


def _subscribes(endpoint: dict[str, Any], event: str, facts: WebhookFacts | None) -> bool:
    events = _events_of(endpoint, facts)
    return event in events or (facts is not None and facts.registration.all_events in events)


def _subscribed(ctx: ProbeContext) -> set[str]:
    webhook = ctx.config.file.webhook
    return set(webhook.events) if webhook else set()


@check("HOOK-212")
async def subscribes_required(ctx: ProbeContext, rule: Rule) -> Outcome:
    facts = ctx.pack.facts.webhooks
    if facts is None or not facts.required_events:
        return Outcome.skipped(f"the {ctx.pack.name} pack names no required events")
    required = facts.required_events
    missing = [e for e in required if e not in _subscribed(ctx)]
    evidence: list[dict[str, Any]] = [{"kind": "note", "text": f"webhook.events: {sorted(_subscribed(ctx)) or 'not set'}"}]
    if missing:
        return Outcome.failed(f"webhook.events does not include {', '.join(missing)} (required: {', '.join(required)})", evidence)
    endpoints, exchanges = await _registered(ctx)
    if endpoints is None:
        return Outcome.passed(f"subscribes to {', '.join(required)}: {DECLARED} webhook.events; {_unverified(ctx)}", evidence)
    evidence.extend(exchanges)
    if not endpoints:
        return Outcome.failed(f"no webhook endpoint is registered on the sandbox account ({facts.endpoints_path})", evidence)
    registered = {e for endpoint in endpoints for e in _events_of(endpoint, facts)}
    missing = [e for e in required if e not in registered and facts.registration.all_events not in registered]
    if missing:
        return Outcome.failed(f"the registered endpoints are not subscribed to {', '.join(missing)}", evidence)
    return Outcome.passed(f"subscribes to {', '.join(required)}; {len(endpoints)} endpoint(s) registered on the sandbox", evidence)


@check("BAL-001")
async def balance_monitored(ctx: ProbeContext, rule: Rule) -> Outcome:
    facts = ctx.pack.facts.webhooks
    event = facts.balance_event if facts else None
    if ctx.config.file.balance.poll:
        return Outcome.passed(f"the integration polls the balance: {DECLARED} balance.poll: true")
    if event and event in _subscribed(ctx):
        endpoints, exchanges = await _registered(ctx)
        if endpoints is None:
            return Outcome.passed(f"{event} is subscribed: {DECLARED} webhook.events; {_unverified(ctx)}")
        if any(_subscribes(endpoint, event, facts) for endpoint in endpoints):
            return Outcome.passed(f"{event} is subscribed by a registered endpoint", exchanges)
        return Outcome.failed(f"webhook.events names {event}, but no endpoint registered on the sandbox subscribes to it", exchanges)
    watch = f"subscribe to {event} or " if event else ""
    return Outcome.failed(f"nothing watches the balance: {watch}set balance.poll: true and poll the balance on a schedule")
