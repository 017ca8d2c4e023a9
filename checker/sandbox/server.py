"""Serve a sandbox app with uvicorn: in a background thread for `check` and tests, or in the foreground."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from checker.printable import printable
from checker.redact import Redactor, mask_key_like
from checker.sandbox.app import SandboxOptions
from checker.sandbox.packed import build_app

if TYPE_CHECKING:
    from checker.packs import Pack

HEAD_TIMEOUT_S = 10.0  # a connection that has not sent a whole request head by then is closed (slowloris)


class BoundedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's head: uvicorn has none, so a client
    that connects and sends nothing, or a header byte now and then, would hold a connection forever."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_timed_out)

    def _head_timed_out(self) -> None:
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def bind(host: str, port: int) -> socket.socket:
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets of that proto,
    # and without it every response pays a 40 ms Nagle / delayed-ACK stall
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class ServedApp:
    """`with ServedApp(app) as served: served.url` — an ASGI app on 127.0.0.1, a free port, its own thread."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, name: str = "asgi", start_timeout_s: float = 10.0) -> None:
        self.app = app
        self.sock = bind(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2, http=BoundedH11Protocol
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, name=name, daemon=True)
        self.start_timeout_s = start_timeout_s

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the embedded sandbox did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class EmbeddedSandbox(ServedApp):
    """The embedded sandbox of one provider (a built-in's name, or any pack), served in a background thread."""

    def __init__(
        self,
        provider: str | Pack,
        *,
        db: str | Path | None = None,
        options: SandboxOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        name = provider if isinstance(provider, str) else provider.name
        super().__init__(build_app(provider, db=db, options=options), host=host, port=port, name=f"sandbox-{name}")


def serve(provider: str | Pack, *, host: str, port: int, db: str | None, options: SandboxOptions) -> None:
    """`golive sandbox`: serve in the foreground until Ctrl-C, with an access log."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-9s %(message)s"))  # aligned like uvicorn's lines
    sandbox_log = logging.getLogger("golive.sandbox")
    sandbox_log.addHandler(handler)
    sandbox_log.setLevel(logging.INFO)
    app = build_app(provider, db=db, options=options)
    sock = bind(host, port)
    config = uvicorn.Config(app, log_level="info", access_log=True, lifespan="on", timeout_graceful_shutdown=2, http=BoundedH11Protocol)
    for name in ("uvicorn.access", "uvicorn.error", "golive.sandbox"):  # after uvicorn has configured its loggers
        logging.getLogger(name).addFilter(ScrubbedLog())
    uvicorn.Server(config).run(sockets=[sock])


# a name runs from the last '?' or '&' before its '=' (a name that could hold '?' was scanned again from each '?' in it:
# quadratic in a target's path); an empty name's value is masked too
_QUERY_VALUE = re.compile(r"([?&][^=&?\s#\"']*)=([^&\s#\"']*)")


def scrub(text: str) -> str:
    """A log line without secrets: query values (`?api_key=…`), passwords in URLs (`user:…@`), anything shaped
    like a key or a webhook secret, and bearer credentials (the Redactor masks the last three); printable, on one
    line (a pack's event type, a client's webhook URL are in it)."""
    text = _QUERY_VALUE.sub(lambda m: f"{m.group(1)}=…" if m.group(2) else m.group(0), text)
    return printable(Redactor(()).text(mask_key_like(text)), one_line=True)


class ScrubbedLog(logging.Filter):
    """Every record of the sandbox's loggers scrubbed before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            # uvicorn's access formatter reads its five arguments: scrub the request line's path among them
            args = list(record.args)
            args[2] = scrub(str(args[2]))
            record.args = tuple(args)
        else:
            record.msg, record.args = scrub(record.getMessage()), None
        return True
