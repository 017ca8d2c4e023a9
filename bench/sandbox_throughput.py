"""Sandbox throughput: keyed creates and replays, as a ratio to a bare Starlette/uvicorn handler.

Goal (docs/design.md §9): keyed creates >= 0.5 x the bare handler's rate, replays >= 0.7 x.

Each server runs alone in its own process with the same uvicorn settings (rate limit off in
the sandbox); one load generator in this process drives it over keep-alive loopback
connections with pre-built raw HTTP/1.1 requests, so the client costs the same for both.

    python bench/sandbox_throughput.py [--seconds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def multipart_request(path: str, key: str | None, host: str) -> bytes:
    from checker.samples import MINIMAL_PDF

    boundary = "golivebenchboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+15005550000\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + MINIMAL_PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer fx_test_bench0123456789\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n"
    )
    if key is not None:
        head += f"Idempotency-Key: {key}\r\n"
    return head.encode() + b"\r\n" + body


def json_request(path: str, key: str, host: str) -> bytes:
    body = f'{{"idempotencyKey":"{key}","courier":"yunexpress","reference":"bench"}}'.encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer ff-bench-0123456789\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def load(port: int, make_request, seconds: float, connections: int, expect: set[int]) -> float:
    counter = {"n": 0, "bad": 0}
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds

    async def worker(worker_id: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = 0
        while time.monotonic() < deadline:
            writer.write(make_request(worker_id, i))
            status = await read_response(reader)
            counter["n"] += 1
            counter["bad"] += status not in expect
            statuses[status] = statuses.get(status, 0) + 1
            i += 1
        writer.close()

    start = time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(connections)))
    elapsed = time.monotonic() - start
    if counter["bad"]:
        raise SystemExit(f"port {port}: {counter['bad']} unexpected statuses out of {counter['n']}: {statuses}")
    return counter["n"] / elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(which: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "serve.py"), which, str(port)], cwd=ROOT)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, port
        except OSError:
            time.sleep(0.025)
    process.kill()
    raise SystemExit(f"{which} server did not start")


def measure(which: str, make_request, seconds: float, connections: int, expect: set[int], warmup: float = 1.0) -> float:
    process, port = start(which)
    try:
        asyncio.run(load(port, make_request, warmup, connections, expect | {200, 201, 409}))  # 409: the first replay key in flight
        return asyncio.run(load(port, make_request, seconds, connections, expect))
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="golive and bare alternate this many times; medians are compared")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    host = "127.0.0.1"

    def unique(prefix: str):
        """A key function that never repeats a key (warm-up and timed phases included)."""
        numbers = itertools.count()
        return lambda w, i: f"{prefix}-{next(numbers):010d}"

    fax, label = unique("f"), unique("l")
    workloads = {
        "bare multipart": ("bare", lambda w, i: multipart_request("/v1/fax", fax(w, i), host), {201}),
        "mintfax keyed create (multipart)": ("mintfax", lambda w, i: multipart_request("/v1/fax", fax(w, i), host), {201}),
        "mintfax replay (multipart)": ("mintfax", lambda w, i: multipart_request("/v1/fax", "replayed-key", host), {201}),
        "bare JSON": ("bare", lambda w, i: json_request("/labels", label(w, i), host), {201}),
        "flexforward keyed create (JSON)": ("flexforward", lambda w, i: json_request("/labels", label(w, i), host), {201}),
        "flexforward replay (JSON)": ("flexforward", lambda w, i: json_request("/labels", "replayed-key", host), {200}),
    }
    rates: dict[str, list[float]] = {name: [] for name in workloads}
    for _ in range(args.rounds):
        for name, (which, make, expect) in workloads.items():
            rates[name].append(measure(which, make, args.seconds, args.connections, expect))
    median = {name: statistics.median(values) for name, values in rates.items()}
    rows = [
        ("mintfax keyed create (multipart)", "bare multipart", 0.5),
        ("mintfax replay (multipart)", "bare multipart", 0.7),
        ("flexforward keyed create (JSON)", "bare JSON", 0.5),
        ("flexforward replay (JSON)", "bare JSON", 0.7),
    ]
    print(
        f"sandbox throughput: {args.connections} keep-alive connections, {args.rounds} alternating rounds of {args.seconds:g} s, "
        "medians; same uvicorn settings"
    )
    print(f"{'workload':<36}{'golive req/s':>14}{'bare req/s':>12}{'ratio':>8}{'goal':>9}")
    missed = 0
    for name, peer, goal in rows:
        ratio = median[name] / median[peer]
        missed += ratio < goal
        verdict = "ok" if ratio >= goal else "MISSED"
        print(f"{name:<36}{median[name]:>14.0f}{median[peer]:>12.0f}{ratio:>8.2f}{'>= ' + str(goal):>9}  {verdict}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
