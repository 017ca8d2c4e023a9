"""A fault-injecting recording proxy: one per client probe, on its own loopback port.

Each incoming request gets the scenario's next action — inject a status in the provider's error
envelope, answer 429 with Retry-After, reset the connection after reading the request, hang
(bounded), or forward to the upstream sandbox — and is recorded with the kernel's arrival time and, when
the client's pid is known, how long the client had waited for a CPU (harness/runqueue.py).
HTTP parsing is h11's; forwarding goes through checker.http (bounded, no redirects); the socket is ours, so a reset is a real RST.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import h11

from checker import http, traffic
from checker.envelope import error_answer, form_decode
from checker.errors import ProbeError
from checker.harness import runqueue
from checker.harness.runqueue import Snapshot
from checker.redact import mask

MAX_HEAD_WAIT_S = 30.0
KEY_BODY_LIMIT = 1024 * 1024  # a body key is looked for in bodies up to this size (JSON requests are small)
MAX_BODY = 64 * 1024 * 1024  # a request larger than this is cut off (the probe's uploads are one byte over the pack's limit)
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade", "te", "trailer", "proxy-connection"}
FORWARD_DROPPED = HOP | {"accept-encoding"}
SECRET_HEADERS = {"authorization", "x-api-key", "cookie"}
REFUSALS = (400, 401, 415, 422)  # a forwarded request refused as unauthorised or invalid: recorded with what was said
REFUSAL_TEXT = 400


@dataclass(frozen=True)
class Action:
    """What the proxy does with one request."""

    kind: str  # forward | status | reset | hang
    status: int = 0
    error: str = ""
    retry_after: float | None = None
    hang_s: float = 0.0
    field_errors: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        if self.kind == "status":
            extra = f" Retry-After: {self.retry_after:g}" if self.retry_after is not None else ""
            return f"injected {self.status} {self.error}{extra}"
        return {"forward": "forwarded", "reset": "connection reset", "hang": f"no answer for {self.hang_s:g} s"}[self.kind]

    def name(self) -> str | None:
        """The injected fault by the name a scenario gives it ("503", "429:2" with Retry-After: 2, "reset", "hang"); None
        for a forwarded request."""
        if self.kind == "status":
            return f"{self.status}" + (f":{self.retry_after:g}" if self.retry_after is not None else "")
        return None if self.kind == "forward" else self.kind


FORWARD = Action("forward")
RESET = Action("reset")


def status(code: int, error: str, *, retry_after: float | None = None, field_errors: tuple[tuple[str, str], ...] = ()) -> Action:
    return Action("status", status=code, error=error, retry_after=retry_after, field_errors=field_errors)


def hang(seconds: float) -> Action:
    return Action("hang", hang_s=seconds)


@dataclass(frozen=True)
class Scenario:
    """The actions for the 1st, 2nd, ... request; `then` for every request after those."""

    first: tuple[Action, ...] = ()
    then: Action = FORWARD

    def action(self, n: int) -> Action:
        return self.first[n - 1] if n <= len(self.first) else self.then


@dataclass
class Attempt:
    n: int
    t: float  # seconds since the proxy started (monotonic), when the request head arrived
    method: str
    path: str
    headers: dict[str, str]  # secrets masked
    key: str | None
    body_bytes: int
    action: str
    status: int | None = None  # what the client got (None: reset or hang)
    correlation_id: str | None = None
    answered_at: float | None = None
    replayed: bool = False  # the sandbox's answer carried the provider's replay signal
    abandoned_at: float | None = None  # a hung request: when the client closed its connection (gave up on it)
    # a forwarded request the sandbox refused (REFUSALS): what it said, cut to REFUSAL_TEXT characters
    refusal: str | None = None
    read_at: float | None = None  # when golive's event loop read the request head (`t` is the kernel's arrival)
    # the client's run-queue waits (harness/runqueue.py) when its request was read and right before it was answered
    queued_read: Snapshot | None = field(default=None, repr=False)
    queued_answer: Snapshot | None = field(default=None, repr=False)

    def evidence(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": "attempt",
            "n": self.n,
            "t": round(self.t, 3),
            "method": self.method,
            "path": self.path,
            "idempotency_key": self.key,
            "status": self.status,
            "proxy": self.action,
        }
        if self.answered_at is not None:
            item["answered_t"] = round(self.answered_at, 3)
        if self.correlation_id is not None:
            item["correlation_id"] = self.correlation_id
        if self.replayed:
            item["replayed"] = True
        if self.abandoned_at is not None:
            item["abandoned_t"] = round(self.abandoned_at, 3)
        if self.refusal is not None:
            item["content_type"] = self.headers.get("content-type")
            item["sandbox_said"] = self.refusal
        return item


@dataclass
class RecordingProxy:
    upstream: str
    scenario: Scenario
    key_in: str = "header"  # header | body
    key_name: str = "Idempotency-Key"
    correlation_header: str | None = None
    upstream_timeout_s: float = 30.0  # the whole upstream answer (sandbox.timeout)
    replay_signal: dict[str, str] = field(default_factory=dict)  # headers the provider marks a replayed answer with
    errors: dict[str, Any] = field(default_factory=dict)  # the provider's error envelope (a pack's facts.errors): injected faults wear it
    attempts: list[Attempt] = field(default_factory=list)
    client: int | None = None  # the client's pid once it runs: its waits for a CPU are read around each answer

    def __post_init__(self) -> None:
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._client = http.new_client(self.upstream, timeout_s=self.upstream_timeout_s)
        self._started, self._wall = time.monotonic(), time.time()
        self._tape = traffic.TAPE.get()  # the run keeps the traffic (--format har): what this proxy saw goes there
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = asyncio.Event()
        self.port = 0

    @property
    def started(self) -> float:
        """The monotonic time the attempts' `t` count from."""
        return self._started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> RecordingProxy:
        sock = stamped_listener(128)
        self.port = sock.getsockname()[1]
        self._listener = sock
        self._accepting = asyncio.ensure_future(self._accept(sock))
        self._started, self._wall = time.monotonic(), time.time()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(BaseException):
                await self._accepting
        if self._listener is not None:
            self._listener.close()
        self._closing.set()  # ends every hang; connection handlers then finish on their own
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=2)
            for task in pending:
                task.cancel()
        await self._client.aclose()

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, _ = await loop.sock_accept(listener)
            except OSError:  # out of descriptors, a connection reset before it was accepted: wait for the next
                await asyncio.sleep(0.05)
                continue
            task = asyncio.ensure_future(self._serve(Connection(sock)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- one connection

    async def _serve(self, connection: Connection) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        try:
            while True:
                connection.mark()
                request = await self._next(conn, connection)
                if not isinstance(request, h11.Request):
                    break
                # when the request reached this machine, not when the event loop got round to reading it: a delay
                # is the client's, however busy golive was meanwhile (other probes starting, the sandbox working)
                queued = self._queued()
                read_at = time.monotonic() - self._started
                t = connection.arrived - self._started if connection.arrived is not None else read_at
                body, size = await self._body(conn, connection)
                attempt = self._record(request, body, size, t)
                attempt.read_at, attempt.queued_read = read_at, queued
                action = self.scenario.action(attempt.n)
                attempt.action = action.describe()
                taped = self._taped(request, body, size, t, attempt.n, action)
                if action.kind == "reset":
                    if taped is not None:
                        taped.unanswered("connection reset (injected by golive)", time.monotonic() - self._started - t)
                    connection.reset()
                    return
                if action.kind == "hang":
                    if await self._hang(connection, action.hang_s):
                        attempt.abandoned_at = time.monotonic() - self._started
                    if taped is not None:
                        gave_up = "the client gave up" if attempt.abandoned_at is not None else "golive then reset the connection"
                        taped.unanswered(f"no answer (a hang injected by golive; {gave_up})", time.monotonic() - self._started - t)
                    connection.reset()
                    return
                code, headers, payload = await self._answer(action, request, body, size)
                given = {k.lower(): v for k, v in headers}
                attempt.replayed = bool(self.replay_signal) and all(
                    given.get(name.lower(), "").lower() == value.lower() for name, value in self.replay_signal.items()
                )
                head = conn.send(h11.Response(status_code=code, headers=[*headers, ("content-length", str(len(payload)))]))
                answer = head + conn.send(h11.Data(data=payload)) + conn.send(h11.EndOfMessage())
                # stamped right before the send, which writes at once (sock_sendall tries the socket first)
                attempt.queued_answer = self._queued()
                attempt.status, attempt.answered_at = code, time.monotonic() - self._started
                if taped is not None:
                    taped.answered(code, [*headers, ("content-length", str(len(payload)))], payload, attempt.answered_at - t)
                if action.kind == "forward" and code in REFUSALS:  # the sandbox's own refusal, not a fault golive injected
                    attempt.refusal = payload[:REFUSAL_TEXT].decode("utf-8", "replace")
                await connection.send(answer)
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError, TimeoutError, OSError):
            pass
        except asyncio.CancelledError:  # the proxy is shutting down
            return
        finally:
            connection.close()

    def watch(self, pid: int) -> None:
        """The client runs as `pid`: from now on each attempt records its waits for a CPU."""
        self.client = pid

    def _queued(self) -> Snapshot | None:
        return runqueue.snapshot(self.client) if self.client is not None else None

    async def _hang(self, reader: Connection, seconds: float) -> bool:
        """Answer nothing for `seconds` (or until the proxy closes). True when the client gave up first: it
        closed or reset its connection (the moment RETRY-104 measures), False otherwise."""
        gave_up = asyncio.ensure_future(_until_closed(reader))
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait({gave_up, closing}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            return gave_up.done() and not gave_up.cancelled() and gave_up.result()
        finally:
            for task in (gave_up, closing):
                task.cancel()
            # the read is off the socket before it is reset (a reader left on a closed descriptor could be another's)
            await asyncio.gather(gave_up, closing, return_exceptions=True)

    async def _next(self, conn: h11.Connection, reader: Connection) -> Any:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await asyncio.wait_for(reader.read(65536), MAX_HEAD_WAIT_S)
            conn.receive_data(data)
            if not data:
                return None

    async def _body(self, conn: h11.Connection, reader: Connection) -> tuple[list[bytes], int]:
        """The whole body (it may be forwarded) as the chunks it came in, bounded by MAX_BODY. Kept as
        chunks, an 11 MB upload is held once, not copied into one buffer and again into bytes."""
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await self._next(conn, reader)
            if isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
                size += len(event.data)
                if size > MAX_BODY:
                    raise ConnectionError("request body over the proxy's bound")
            elif isinstance(event, h11.EndOfMessage) or event is None:
                return chunks, size

    def _record(self, request: h11.Request, body: list[bytes], size: int, t: float) -> Attempt:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers}
        key: str | None = None
        if self.key_in == "header":
            key = headers.get(self.key_name.lower())
        else:
            with contextlib.suppress(ValueError, AttributeError, RecursionError, UnicodeDecodeError):
                raw = b"".join(body) if size <= KEY_BODY_LIMIT else b""
                if "x-www-form-urlencoded" in headers.get("content-type", ""):
                    value = form_decode(raw.decode()).get(self.key_name)
                else:
                    value = json.loads(raw).get(self.key_name) if raw else None
                key = value if isinstance(value, str) else None
        shown = {k: (mask(v.split(" ", 1)[-1]) if k in SECRET_HEADERS else v) for k, v in headers.items()}
        attempt = Attempt(
            n=len(self.attempts) + 1,
            t=t,
            method=request.method.decode(),
            path=request.target.decode("latin-1"),
            headers=shown,
            key=key,
            body_bytes=size,
            action="",
            correlation_id=headers.get(self.correlation_header.lower()) if self.correlation_header else None,
        )
        self.attempts.append(attempt)
        return attempt

    def _taped(self, request: h11.Request, body: list[bytes], size: int, t: float, n: int, action: Action) -> traffic.Recorded | None:
        """The request on the run's tape (--format har), with the fault golive injected into it; None when the run
        keeps no traffic."""
        if self._tape is None:
            return None
        kept, length = [], 0
        for chunk in body:  # the first BODY_TEXT bytes only: an 11 MB upload is not copied again
            if length >= traffic.BODY_TEXT:
                break
            kept.append(chunk[: traffic.BODY_TEXT - length])
            length += len(kept[-1])
        target = request.target.decode("latin-1")
        recorded = traffic.Recorded(
            probe="client",
            started=self._wall + t,
            method=request.method.decode("latin-1"),
            url=self.url + target if target.startswith("/") else target,  # absolute-form: as the client wrote it
            request_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers],
            request_body=b"".join(kept),
            request_size=size,
            http_version=f"HTTP/{request.http_version.decode('latin-1')}",
            golive={"attempt": n, "fault": action.name(), "proxy": action.describe()},
        )
        self._tape.record(recorded)
        return recorded

    async def _answer(self, action: Action, request: h11.Request, body: list[bytes], size: int) -> tuple[int, list[tuple[str, str]], bytes]:
        if action.kind == "status":
            payload, extra = error_answer(
                self.errors,
                action.status,
                action.error,
                f"golive injected {action.status} {action.error}",
                "This is a golive probe.",
                action.field_errors,
            )
            headers = [(k.lower(), v) for k, v in extra.items()]
            if action.retry_after is not None:
                headers.append(("retry-after", f"{action.retry_after:g}"))
            return action.status, headers, payload
        target = request.target.decode("latin-1")
        if not target.startswith("/") or target.startswith("//"):
            # absolute-form (`GET http://other-host/x`) or `*`: the proxy forwards to the configured sandbox only,
            # never where a request names (the client's Authorization would go with it)
            message = f"golive's proxy forwards only to the sandbox; it refused the request target {target[:80]!r}"
            payload, extra = error_answer(self.errors, 400, "invalid_request", message)
            return 400, [(k.lower(), v) for k, v in extra.items()], payload
        forwarded = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers if k.decode("latin-1").lower() not in FORWARD_DROPPED
        }
        forwarded["content-length"] = str(size)  # the chunks go on as they came, under their total length
        forwarded["accept-encoding"] = "gzip, deflate"  # what checker.http decodes (under its cap) before answering the client

        async def chunks() -> AsyncIterator[bytes]:
            for chunk in body:
                yield chunk

        try:
            response = await http.send(
                self._client,
                request.method.decode(),
                target,
                started=self._started,
                deadline_s=self.upstream_timeout_s,
                headers=forwarded,
                content=chunks(),
            )
            if response.truncated:
                raise ProbeError(f"the sandbox's answer is over {http.MAX_BODY // 1024} KB")
        except ProbeError as exc:
            message = f"golive's proxy could not use the sandbox: {exc}"
            payload, extra = error_answer(self.errors, 502, "upstream_unavailable", message)
            return 502, [(k.lower(), v) for k, v in extra.items()], payload
        headers = [(k, v) for k, v in response.headers.items() if k not in HOP and k != "content-encoding"]
        return response.status, headers, response.body


async def _until_closed(reader: Connection, limit: int = 1024 * 1024) -> bool:
    """Read (and drop) what the client sends until it closes the connection: True. False when it sends more than
    `limit` bytes instead (a hung request is not a place to stream into)."""
    seen = 0
    try:
        while seen <= limit:
            data = await reader.read(65536)
            if not data:
                return True
            seen += len(data)
    except (ConnectionError, OSError):
        return True
    return False


SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python's socket module does not name it
_STAMP_SPACE = socket.CMSG_SPACE(16)


def stamped_listener(backlog: int) -> socket.socket:
    """A non-blocking listening socket on a free loopback port whose accepted connections the kernel stamps
    (they inherit the option). Set on the listening socket, not the accepted one: a request sent before golive
    accepted its connection is stamped too."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


class Connection:
    """One accepted connection on a non-blocking socket, read with recvmsg so that the kernel's arrival time of
    the data comes with it (SO_TIMESTAMPNS, see `stamped_listener`). Where the kernel gives none, `arrived` is when
    golive read it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.setblocking(False)
        # monotonic time the data of the first read since `mark()` reached this machine: the kernel stamps the last
        # segment a read returns, so a request written in pieces is stamped with its latest piece read at once
        self.arrived: float | None = None
        self._marked = False

    def mark(self) -> None:
        """Note the arrival of the next data read (the next request's first bytes)."""
        self.arrived, self._marked = None, True

    async def read(self, size: int = 65536) -> bytes:
        loop = asyncio.get_running_loop()
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(size, _STAMP_SPACE)
            except (BlockingIOError, InterruptedError):
                await _readable(loop, self.sock)
                continue
            if self._marked and data:
                self.arrived, self._marked = _arrival(ancillary), False
            return data

    async def send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    def reset(self) -> None:
        """Close with RST (SO_LINGER 0), as a dropped connection looks to the client."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()
    fd = sock.fileno()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


def _arrival(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The kernel's receive time (CLOCK_REALTIME) in monotonic time; now when the kernel gave none."""
    now, wall = time.monotonic(), time.time()
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            arrived: float = now - max(0.0, wall - (seconds + nanoseconds / 1e9))
            return arrived
    return now
