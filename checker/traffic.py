"""What golive's fault proxy and webhook sender exchanged during a run, kept for `--format har` (report/har.py).

Nothing is kept unless the engine records the run (`RunOptions.traffic`): it gives each rule's task a `Tape`
(`TAPE`, a context variable, as `provenance.READING` is), and the proxy and the sender add what they exchanged to
the tape of the task they run in. A shared probe (`ProbeContext.shared`) records on a tape of its own whose
exchanges belong to every rule that awaits it. Bodies are kept up to `BODY_TEXT` bytes and a run up to
`MAX_EXCHANGES` exchanges; the engine passes what is kept through its redactor and `printable` before any
renderer sees it, as it does every message. A leaf: the standard library and `redact.mask`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from checker.redact import mask

BODY_TEXT = 16 * 1024  # bytes of a request's or an answer's body kept as text; the size is recorded whole
MAX_EXCHANGES = 5000  # per run: a run of pathological clients does not grow without bound
SECRET_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"}


@dataclass
class Recorded:
    """One request golive saw (the client's, through the proxy) or sent (a delivery), and the answer to it.
    Filled in as the exchange goes on: `status` stays None for a request never answered (a reset, a hang)."""

    probe: str  # client | webhook
    started: float  # wall-clock seconds (epoch) when the request arrived, or was sent
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    request_size: int
    http_version: str = "HTTP/1.1"
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    response_size: int = 0
    wait_s: float = 0.0  # from the request's arrival to the answer (or to the reset, or to the end of a hang)
    error: str | None = None  # why there is no answer: "connection reset (injected)", "no answer (injected hang)"…
    golive: dict[str, Any] = field(default_factory=dict)  # what golive did: the fault it injected, the delivery it crafted

    def answered(self, status: int, headers: list[tuple[str, str]], body: bytes, wait_s: float) -> None:
        self.status, self.response_headers, self.wait_s = status, headers, wait_s
        self.response_body, self.response_size = body[:BODY_TEXT], len(body)

    def unanswered(self, error: str, wait_s: float) -> None:
        self.error, self.wait_s = error, max(0.0, wait_s)

    def to_json(self, rules: list[str]) -> dict[str, Any]:
        """As plain data for the run result: headers with their credentials masked, bodies as text (cut)."""
        return {
            "probe": self.probe,
            "started": self.started,
            "method": self.method,
            "url": self.url,
            "http_version": self.http_version,
            "request": {"headers": _shown(self.request_headers), **_body(self.request_body, self.request_size)},
            "status": self.status,
            "response": {"headers": _shown(self.response_headers), **_body(self.response_body, self.response_size)},
            "wait_s": round(self.wait_s, 6),
            "error": self.error,
            "golive": {**self.golive, "rules": rules},
        }


def _shown(headers: list[tuple[str, str]]) -> list[list[str]]:
    """Headers as pairs; a credential header masked as the proxy masks it in the evidence (`Bearer fx_test_…3456`:
    `redact.mask`), also where the redactor would not know its value (a key the client brought itself)."""
    shown = []
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} {mask(rest)}" if rest and scheme.isalpha() else mask(value)
        shown.append([name, value])
    return shown


def _body(body: bytes, size: int) -> dict[str, Any]:
    text = body[:BODY_TEXT].decode("utf-8", "replace")
    return {"body": text, "size": size, "cut": size > len(body[:BODY_TEXT])}


def cleaned(entry: dict[str, Any], redact: Callable[[Any], Any], show: Callable[[Any], Any]) -> dict[str, Any]:
    """`entry` (from `Recorded.to_json`) through the engine's seam: `redact` then `show` (printable) over every string,
    except that a body keeps its CRLF line ends (multipart and form bodies are written with them), each line
    made printable on its own once the whole body is redacted."""
    parts = {}
    for name in ("request", "response"):
        part = dict(entry[name])
        body = str(redact(part.pop("body")))
        parts[name] = {**show(redact(part)), "body": "\r\n".join(show(line) for line in body.split("\r\n"))}
    rest = {key: value for key, value in entry.items() if key not in parts}
    return {**show(redact(rest)), **parts}


class Traffic:
    """Every exchange of one run, in the order they began, up to MAX_EXCHANGES."""

    def __init__(self) -> None:
        self.kept: list[tuple[Recorded, Tape]] = []
        self.dropped = 0

    def tape(self, rule: str | None) -> Tape:
        return Tape(self, rule)

    def entries(self) -> list[dict[str, Any]]:
        entries = [recorded.to_json(tape.rules()) for recorded, tape in self.kept]
        return sorted(entries, key=lambda entry: entry["started"])


@dataclass(eq=False)
class Tape:
    """Where one rule's check (or one shared probe) records; a shared probe's tape has no rule of its own and is
    owned by every tape that awaited it."""

    traffic: Traffic
    rule: str | None
    owners: list[Tape] = field(default_factory=list)

    def record(self, recorded: Recorded) -> None:
        if len(self.traffic.kept) >= MAX_EXCHANGES:
            self.traffic.dropped += 1
            return
        self.traffic.kept.append((recorded, self))

    def rules(self) -> list[str]:
        """The rules this tape's exchanges belong to: its own, and those of every tape that awaited it."""
        found: list[str] = []
        seen: set[int] = set()
        pending: list[Tape] = [self]
        while pending:
            tape = pending.pop(0)
            if id(tape) in seen:
                continue
            seen.add(id(tape))
            if tape.rule is not None and tape.rule not in found:
                found.append(tape.rule)
            pending.extend(tape.owners)
        return found


TAPE: ContextVar[Tape | None] = ContextVar("golive_traffic", default=None)


def record(recorded: Recorded) -> Recorded:
    """`recorded` on the current task's tape (nothing when the run keeps no traffic); returned to be filled in."""
    tape = TAPE.get()
    if tape is not None:
        tape.record(recorded)
    return recorded


def shared_tape() -> Tape | None:
    """A tape for a shared probe about to start from the current task, or None when the run keeps no traffic."""
    tape = TAPE.get()
    return tape.traffic.tape(None) if tape is not None else None


def awaited(shared: Tape | None) -> None:
    """The current task awaits the shared probe that records on `shared`: its exchanges are this task's rule's too."""
    mine = TAPE.get()
    if shared is not None and mine is not None and mine is not shared and mine not in shared.owners:
        shared.owners.append(mine)
