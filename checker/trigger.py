"""`golive trigger`: one delivery to a receiver under development, as the provider sends it — its envelope, its
serialisation and its signature, built by the same `Signer` the webhook probes send with (checker/probes/webhook.py) —
and what the receiver answered. `--twice` sends the same event again (a duplicate, as a redelivery is), `--stale`
signs it with a timestamp beyond the provider's tolerance (as HOOK-204 does).

Everything the receiver says is cut (`SHOWN` characters), made printable and has the secret masked before it is
printed; every request is bounded (`http.send`: connect, the whole answer, its size) and follows no redirect.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checker.errors import ProbeError
from checker.packs import Pack, WebhookFacts
from checker.printable import no_command, printable
from checker.redact import Redactor, remember

SHOWN = 2000  # characters of the receiver's answer printed
MAX_ANSWER = 64 * 1024  # bytes of it read


class TriggerError(ValueError):
    """What was asked cannot be sent (an unknown event, --data that is not a JSON object, a secret the scheme cannot
    use): the command's usage error, exit 2."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One delivery and what the receiver made of it."""

    label: str
    event_id: str
    status: int | None  # None: no answer (`error` says why)
    elapsed_s: float
    body: str = ""  # printable, the secret masked, cut at SHOWN characters
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def webhook_facts(pack: Pack) -> WebhookFacts:
    facts = pack.facts.webhooks
    if facts is None:
        raise TriggerError(f"the {pack.name} pack states no webhooks (facts.webhooks): there is no delivery to send")
    return facts


def check_event(facts: WebhookFacts, pack: Pack, event_type: str) -> str | None:
    """Refuse an event the pack does not list (its `event_types`); where it lists none, a note that the name is sent as
    given (the provider's real list is longer than any pack's)."""
    if facts.event_types:
        if event_type not in facts.event_types:
            raise TriggerError(
                f"unknown event {event_type!r} for the {pack.name} pack; its event types are: {', '.join(facts.event_types)}"
            )
        return None
    named = [*facts.required_events, *([facts.created_event] if facts.created_event else [])]
    if event_type in named:
        return None
    listed = f" (it names {', '.join(dict.fromkeys(named))})" if named else ""
    return f"the {pack.name} pack lists no event types{listed}: {event_type!r} is sent as given"


def parsed_data(text: str | None) -> dict[str, Any] | None:
    """--data as the event's data object, or a TriggerError saying where the JSON goes wrong."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines() or [""]
        line = lines[min(exc.lineno, len(lines)) - 1]
        start = max(0, exc.colno - 1 - 30)  # the 30 characters before where it goes wrong, and 40 after
        shown = printable(line[start : exc.colno + 40], one_line=True)
        caret = " " * (2 + exc.colno - 1 - start) + "^"
        raise TriggerError(
            f"--data is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno} (character {exc.pos + 1})\n  {shown}\n{caret}"
        ) from None
    except RecursionError:
        raise TriggerError("--data is not usable JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise TriggerError(f"--data must be a JSON object (the event's data), not {type(data).__name__ if data is not None else 'null'}")
    return data


async def deliver(
    facts: WebhookFacts,
    event_type: str,
    url: str,
    secret: str,
    *,
    data: Mapping[str, Any] | None = None,
    twice: bool = False,
    stale: bool = False,
) -> list[Answer]:
    """Send the event once (twice with `twice`) to `url`, signed with `secret`; what each delivery got."""
    from checker.http import new_client
    from checker.probes.webhook import Signer, beyond_tolerance_s
    from checker.signing import SecretError

    try:
        signer = Signer(facts, secret, url)
    except SecretError as exc:
        raise TriggerError(f"--secret: {exc}") from None
    if stale and not signer.scheme.has_timestamp:
        raise TriggerError(f"--stale: the {signer.scheme.name} signature scheme signs no timestamp, so no delivery of it is stale")
    event = signer.seal(signer.event(event_type, dict(data) if data is not None else None))
    event_id = signer.id_of(event)
    body = signer.body(event)
    remember([secret])
    redactor = Redactor([secret])
    deadline_s = max(10.0, 2 * facts.deadline_s)
    labels = ["delivery", "the same event again"] if twice else ["delivery"]
    answers: list[Answer] = []
    async with new_client(url, {"User-Agent": "golive-trigger"}) as client:
        for label in labels:
            # each delivery signed when it is sent (a redelivery carries a fresh timestamp), or beyond the tolerance
            timestamp = int(time.time()) - (beyond_tolerance_s(facts) if stale else 0)
            headers = signer.headers(body, event_id, timestamp=timestamp)
            answers.append(await _post(client, url, label, event_id, body, headers, deadline_s, redactor))
    return answers


async def _post(
    client: Any, url: str, label: str, event_id: str, body: bytes, headers: dict[str, str], deadline_s: float, redactor: Redactor
) -> Answer:
    from checker.http import send

    started = time.monotonic()
    try:
        exchange = await send(
            client, "POST", url, started=started, content=body, headers=headers, max_body=MAX_ANSWER, deadline_s=deadline_s
        )
    except ProbeError as exc:
        return Answer(label, event_id, None, time.monotonic() - started, error=redactor.text(str(exc)))
    text = exchange.body.decode("utf-8", "replace")
    cut = len(text) > SHOWN or exchange.truncated
    text = text[:SHOWN] + (f" … (cut: {len(exchange.body)} bytes{' or more' if exchange.truncated else ''})" if cut else "")
    return Answer(label, event_id, exchange.status, exchange.elapsed_s, no_command(printable(redactor.text(text))))


def describe(answer: Answer, url: str) -> list[str]:
    """The lines printed for one delivery: what was sent where, its status and time, the body the receiver answered."""
    head = f"{answer.label}: POST {printable(url, one_line=True)} (event {answer.event_id})"
    if answer.status is None:
        return [head, f"  no answer: {printable(answer.error or 'unknown', one_line=True)}"]
    lines = [head, f"  {answer.status} in {answer.elapsed_s:.3f} s"]
    lines += [f"  │ {line}" for line in (answer.body.splitlines() or ["(empty body)"])]
    return lines
