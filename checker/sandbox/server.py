"""Serve a sandbox app with uvicorn: in a background thread for `check` and tests, or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from checker.sandbox.app import SandboxOptions, build_app


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
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2)
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
    """The embedded sandbox of one provider, served in a background thread."""

    def __init__(
        self, provider: str, *, db: str | Path | None = None, options: SandboxOptions | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(build_app(provider, db=db, options=options), host=host, port=port, name=f"sandbox-{provider}")


def serve(provider: str, *, host: str, port: int, db: str | None, options: SandboxOptions) -> None:
    """`golive sandbox`: serve in the foreground until Ctrl-C, with an access log."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-9s %(message)s"))  # aligned like uvicorn's lines
    sandbox_log = logging.getLogger("golive.sandbox")
    sandbox_log.addHandler(handler)
    sandbox_log.setLevel(logging.INFO)
    app = build_app(provider, db=db, options=options)
    sock = bind(host, port)
    config = uvicorn.Config(app, log_level="info", access_log=True, lifespan="on", timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])
