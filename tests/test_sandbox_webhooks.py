"""The embedded sandbox delivers events to registered endpoints: signed, at least once, redelivered
with backoff when the endpoint answers an error or too slowly. Real sockets on both sides."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from checker.harness.receiver import free_port
from tests.conftest import TEST_KEYS, client_for
from tests.test_signing import rfc2104_hmac_sha256

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Endpoint:
    """A webhook endpoint that records deliveries; `answer(n)` decides the status (and delay) of delivery n."""

    def __init__(self, answer: Callable[[int], tuple[int, float]] = lambda n: (200, 0.0)) -> None:
        self.deliveries: list[tuple[float, dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.deliveries.append((time.time(), {k.lower(): v for k, v in self.headers.items()}, body))
                status, delay = answer(len(endpoint.deliveries))
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def events(self) -> list[dict]:
        return [json.loads(body) for _, _, body in self.deliveries]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.deliveries) >= count, f"{len(self.deliveries)} deliveries, expected {count}: {self.events()}"


@pytest.fixture
def endpoints() -> Iterator[list[Endpoint]]:
    made: list[Endpoint] = []
    yield made
    for endpoint in made:
        endpoint.server.shutdown()
        endpoint.server.server_close()


def register(api, url: str, events: list[str]) -> str:  # type: ignore[no-untyped-def]
    response = api.post("/v1/account/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return response.json()["secret"]


def send_fax(api, to: str = "+15005550000") -> str:  # type: ignore[no-untyped-def]
    response = api.post("/v1/fax", data={"to": to}, files={"file": ("a.pdf", PDF, "application/pdf")})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def verify(secret: str, headers: dict[str, str], body: bytes) -> None:
    match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", headers["x-mintfax-signature"])
    assert match, headers["x-mintfax-signature"]
    assert abs(time.time() - int(match.group(1))) < 30
    assert match.group(2) == rfc2104_hmac_sha256(secret.encode(), match.group(1).encode() + b"." + body).hex()


def test_events_are_delivered_signed_and_created_in_order(sandbox, endpoints) -> None:  # type: ignore[no-untyped-def]
    served = sandbox("mintfax")
    api = client_for(served.url, "mintfax")
    endpoint = Endpoint()
    endpoints.append(endpoint)
    secret = register(api, endpoint.url, ["fax.queued", "fax.delivered", "fax.failed"])
    delivered, failed = send_fax(api), send_fax(api, "+15005550002")
    api.post("/_sandbox/clock", json={"advance_s": 30})
    endpoint.wait_for(4)
    for _, headers, body in endpoint.deliveries:
        verify(secret, headers, body)
    events = endpoint.events()
    assert {(e["type"], e["data"]["id"]) for e in events} == {
        ("fax.queued", delivered),
        ("fax.queued", failed),
        ("fax.delivered", delivered),
        ("fax.failed", failed),
    }
    assert all(set(e) == {"event_id", "type", "created_at", "data"} for e in events)
    # created in order; delivered concurrently, so they may arrive in either order (no provider document here
    # promises delivery order, and a receiver must not rely on it: under load the two raced in this test)
    types = [e["type"] for e in sorted(events, key=lambda e: e["created_at"]) if e["data"]["id"] == delivered]
    assert types == ["fax.queued", "fax.delivered"]
    time.sleep(0.6)
    assert len(endpoint.deliveries) == 4, "a delivered event was sent again"


def test_only_subscribed_events_after_registration_are_delivered(sandbox, endpoints) -> None:  # type: ignore[no-untyped-def]
    served = sandbox("mintfax")
    api = client_for(served.url, "mintfax")
    before = send_fax(api)
    endpoint = Endpoint()
    endpoints.append(endpoint)
    register(api, endpoint.url, ["fax.queued", "fax.delivered"])
    after = send_fax(api, "+15005550002")  # fails: fax.failed is not subscribed
    api.post("/_sandbox/clock", json={"advance_s": 30})
    endpoint.wait_for(2)
    time.sleep(0.6)
    # `before` was queued before the endpoint existed, but delivered after: only that event reaches it
    assert sorted((e["type"], e["data"]["id"]) for e in endpoint.events()) == [("fax.delivered", before), ("fax.queued", after)]


def test_an_error_answer_is_redelivered_with_backoff(sandbox, endpoints) -> None:  # type: ignore[no-untyped-def]
    # the clock moves only when the test moves it: "the second backoff is not yet due" must not depend on how much
    # wall time a loaded machine lets pass (it once had: 3 deliveries where 2 were due)
    served = sandbox("mintfax", frozen_clock=True)
    api = client_for(served.url, "mintfax")
    endpoint = Endpoint(lambda n: (500 if n <= 2 else 200, 0.0))
    endpoints.append(endpoint)
    register(api, endpoint.url, ["fax.queued"])
    send_fax(api)
    endpoint.wait_for(1)
    time.sleep(0.5)
    assert len(endpoint.deliveries) == 1, "redelivered before the backoff"
    api.post("/_sandbox/clock", json={"advance_s": 1.5})  # first backoff: 1 s
    endpoint.wait_for(2)
    api.post("/_sandbox/clock", json={"advance_s": 1.5})  # second backoff: 2 s, not yet due
    time.sleep(0.5)
    assert len(endpoint.deliveries) == 2
    api.post("/_sandbox/clock", json={"advance_s": 1.0})
    endpoint.wait_for(3)
    ids = {e["event_id"] for e in endpoint.events()}
    assert len(ids) == 1, "a redelivery carries the same event_id"
    # the endpoint has answered; the sandbox records the answer a moment later (on a loaded machine, later still)
    deadline = time.monotonic() + 10
    while (state := api.get("/_sandbox/events").json()["deliveries"])[0]["state"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state[0]["state"] == "delivered" and state[0]["attempts"] == 3


def test_a_slow_answer_counts_as_a_failure_and_is_redelivered(sandbox, endpoints) -> None:  # type: ignore[no-untyped-def]
    served = sandbox("mintfax", webhook_timeout_s=0.3)  # the 5 s deadline, scaled down
    api = client_for(served.url, "mintfax")
    endpoint = Endpoint(lambda n: (200, 1.0 if n == 1 else 0.0))
    endpoints.append(endpoint)
    register(api, endpoint.url, ["fax.queued"])
    send_fax(api)
    endpoint.wait_for(1)
    time.sleep(0.5)
    api.post("/_sandbox/clock", json={"advance_s": 2})
    endpoint.wait_for(2)
    first, second = endpoint.events()
    assert first == second  # the same event, delivered again: receivers must deduplicate


def test_low_balance_is_delivered(sandbox, endpoints) -> None:  # type: ignore[no-untyped-def]
    served = sandbox("mintfax", opening_balance=505)
    api = client_for(served.url, "mintfax")
    endpoint = Endpoint()
    endpoints.append(endpoint)
    register(api, endpoint.url, ["balance.low"])
    send_fax(api)
    endpoint.wait_for(1)
    (event,) = endpoint.events()
    assert event["type"] == "balance.low" and event["data"]["available"] == pytest.approx(4.98)


def test_golive_sandbox_logs_each_delivery(endpoints) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    endpoint = Endpoint(lambda n: (503 if n == 1 else 200, 0.0))
    endpoints.append(endpoint)
    process = subprocess.Popen(
        [sys.executable, "-m", "checker", "sandbox", "--provider", "mintfax", "--port", str(port), "--rate-limit", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        api = client_for(f"http://127.0.0.1:{port}", "mintfax", TEST_KEYS["mintfax"])
        deadline = time.monotonic() + 15
        while True:
            try:
                register(api, endpoint.url, ["fax.queued"])
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        send_fax(api)
        endpoint.wait_for(1)
        api.post("/_sandbox/clock", json={"advance_s": 2})
        endpoint.wait_for(2)
        time.sleep(0.3)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert re.search(
        r"webhook evt_\w+ fax\.queued -> http://127\.0\.0\.1:\d+/hooks: answered 503 \(attempt 1\); redelivering in 1 s", stderr
    ), stderr
    assert re.search(r"webhook evt_\w+ fax\.queued -> \S+: 200 in \d+ ms \(attempt 2\)", stderr), stderr
