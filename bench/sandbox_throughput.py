"""Sandbox throughput: keyed creates and replays, as a ratio to a bare Starlette/uvicorn handler.

Goal (docs/design.md §9): keyed creates >= 0.5 x the bare handler's rate, replays >= 0.7 x, for the sandbox as
`golive sandbox` and `check` run it (state in memory); with a state file (`--db`, every answer waiting for its
changes to be committed to disk) the creates are shown too, for information.

Each server runs alone in its own process with the same uvicorn settings (rate limit off in
the sandbox); one load generator in this process drives it over keep-alive loopback
connections with pre-built raw HTTP/1.1 requests, so the client costs the same for both.
Each golive workload runs on a fresh server (a second's warm-up, then the timed load) and is measured
between two loads of one bare server, just before and just after it: its ratio is its rate over the mean of
those two (a machine shared with others drifts by tens of percent within a minute, and both sides of a ratio
must see the same machine). The median of the rounds' ratios is compared with the goal, the range shown beside.

    python bench/sandbox_throughput.py [--rounds 5] [--seconds 2] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import socket
import statistics
import subprocess
import sys
import tempfile
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


def start(which: str, state: str | None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "serve.py"), which, str(port), *([state] if state else [])], cwd=ROOT)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, port
        except OSError:
            time.sleep(0.025)
    process.kill()
    raise SystemExit(f"{which} server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every golive workload, each between two bare measurements")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    host = "127.0.0.1"

    def unique(prefix: str):
        """A key function that never repeats a key (warm-up and timed phases included)."""
        numbers = itertools.count()
        return lambda w, i: f"{prefix}-{next(numbers):010d}"

    fax, label = unique("f"), unique("l")
    mintfax_create = lambda w, i: multipart_request("/v1/fax", fax(w, i), host)  # noqa: E731
    flexforward_create = lambda w, i: json_request("/labels", label(w, i), host)  # noqa: E731
    mintfax_replay = lambda w, i: multipart_request("/v1/fax", "replayed-key", host)  # noqa: E731
    flexforward_replay = lambda w, i: json_request("/labels", "replayed-key", host)  # noqa: E731
    peers = {"bare multipart": mintfax_create, "bare JSON": flexforward_create}
    # (name, server, state file?, request, expected statuses, peer, goal: None for information)
    workloads = [
        ("mintfax keyed create (multipart)", "mintfax", False, mintfax_create, {201}, "bare multipart", 0.5),
        ("mintfax replay (multipart)", "mintfax", False, mintfax_replay, {201}, "bare multipart", 0.7),
        ("  with a state file (--db)", "mintfax", True, mintfax_create, {201}, "bare multipart", None),
        ("flexforward keyed create (JSON)", "flexforward", False, flexforward_create, {201}, "bare JSON", 0.5),
        ("flexforward replay (JSON)", "flexforward", False, flexforward_replay, {200}, "bare JSON", 0.7),
        ("  with a state file (--db) ", "flexforward", True, flexforward_create, {201}, "bare JSON", None),
    ]
    rates: dict[str, list[float]] = {w[0]: [] for w in workloads} | {peer: [] for peer in peers}
    ratios: dict[str, list[float]] = {w[0]: [] for w in workloads}
    with tempfile.TemporaryDirectory(prefix="golive-bench-") as folder:
        bare, bare_port = start("bare", None)  # stateless: one for the whole run
        try:
            for make in peers.values():
                asyncio.run(load(bare_port, make, 1.0, args.connections, {201}))
            for round_ in range(args.rounds):
                for n, (name, which, kept, make, expect, peer, _goal) in enumerate(workloads):
                    before = asyncio.run(load(bare_port, peers[peer], args.seconds, args.connections, {201}))
                    state = str(Path(folder) / f"{round_}-{n}.db") if kept else None
                    rate = measure(which, state, make, args.seconds, args.connections, expect)
                    after = asyncio.run(load(bare_port, peers[peer], args.seconds, args.connections, {201}))
                    rates[name].append(rate)
                    rates[peer] += [before, after]
                    ratios[name].append(rate / ((before + after) / 2))
        finally:
            bare.terminate()
            bare.wait(timeout=10)
    print(
        f"sandbox throughput: {args.connections} keep-alive connections, {args.rounds} rounds of {args.seconds:g} s per measurement, "
        "same uvicorn settings;\nratio: the median over the rounds of a workload's rate to the bare handler's, measured just before "
        "and just after it"
    )
    print(f"{'workload':<36}{'golive req/s':>14}{'bare req/s':>12}{'ratio':>8}{'range':>13}{'goal':>9}")
    missed = 0
    for name, _which, _kept, _make, _expect, peer, goal in workloads:
        ratio, low, high = statistics.median(ratios[name]), min(ratios[name]), max(ratios[name])
        verdict = "" if goal is None else ("  ok" if ratio >= goal else "  MISSED")
        missed += goal is not None and ratio < goal
        shown_goal = "-" if goal is None else f">= {goal}"
        print(
            f"{name:<36}{statistics.median(rates[name]):>14.0f}{statistics.median(rates[peer]):>12.0f}{ratio:>8.2f}"
            f"{f'{low:.2f}-{high:.2f}':>13}{shown_goal:>9}{verdict}"
        )
    sys.exit(1 if missed else 0)


def measure(which: str, state: str | None, make_request, seconds: float, connections: int, expect: set[int]) -> float:
    """The rate of a fresh server of `which` (its state in memory, or in `state`), after a second's warm-up."""
    process, port = start(which, state)
    try:
        asyncio.run(load(port, make_request, 1.0, connections, expect | {200, 201, 409}))  # 409: the first replay key in flight
        return asyncio.run(load(port, make_request, seconds, connections, expect))
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
