"""The embedded sandbox as a real `golive sandbox --db FILE` process under load and faults: kill -9 in the
middle of a load and a restart lose and duplicate nothing; a sustained keep-alive load on loopback (wrk's
way: fixed connections, each sending as fast as answered) for 30 s gets no error and no wrong answer."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from checker.samples import MINIMAL_PDF
from tests.conftest import TEST_KEYS, SandboxProcess

# slow, left out of the fast tier: load tests of the embedded sandbox (sustained load, kill -9 mid-load)
pytestmark = pytest.mark.slow

LOAD_S = float(os.environ.get("GOLIVE_LOAD_S", "15"))
CONNECTIONS = 16
ID_FIELD = {"mintfax": "id", "idunox": "submissionId", "flexforward": "id"}
KIND = {"mintfax": "fax", "idunox": "submission", "flexforward": "label"}
CREATED = {"mintfax": (201, 201), "idunox": (202, 202), "flexforward": (201, 200)}  # first answer, replay
GET_PATH = {"mintfax": "/v1/fax/{}", "idunox": "/v1/submissions/{}", "flexforward": "/labels/{}"}


def create(client: httpx.AsyncClient, provider: str, key: str) -> Awaitable[httpx.Response]:
    if provider == "mintfax":
        files = {"file": ("doc.pdf", MINIMAL_PDF)}
        return client.post("/v1/fax", data={"to": "+15005550000"}, files=files, headers={"Idempotency-Key": key})
    if provider == "idunox":
        return client.post("/v1/submissions", json={"reference": key}, headers={"Idempotency-Key": key})
    return client.post("/labels", json={"idempotencyKey": key, "courier": "dhl"})


@pytest.fixture
def sandboxes() -> Iterator[Callable[[str, Path], SandboxProcess]]:
    started: list[SandboxProcess] = []

    def start(provider: str, db: Path) -> SandboxProcess:
        started.append(SandboxProcess(provider, db))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def async_client(url: str, provider: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {TEST_KEYS[provider]}"},
        timeout=15,
        limits=httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS),
    )


def resources(url: str, provider: str) -> int:
    counts = httpx.get(url + "/_sandbox/stats", headers={"Authorization": f"Bearer {TEST_KEYS[provider]}"}, timeout=10).json()
    return int(counts["resources"].get(KIND[provider], 0))


@pytest.mark.parametrize("provider", ["mintfax", "idunox", "flexforward"])
def test_kill_9_mid_load_then_restart_loses_and_duplicates_nothing(sandboxes, tmp_path, provider):
    db = tmp_path / "state.db"
    first = sandboxes(provider, db)
    acknowledged: dict[str, str] = {}  # key -> the resource id the client was told
    unanswered: set[str] = set()  # in flight when the server died: the client does not know the outcome

    async def load() -> None:
        async with async_client(first.url, provider) as client:

            async def worker(n: int) -> None:
                for i in itertools.count():
                    key = f"kill9-{n}-{i}"
                    try:
                        answer = await create(client, provider, key)
                    except httpx.TransportError:
                        unanswered.add(key)
                        return
                    assert answer.status_code == CREATED[provider][0], answer.text
                    acknowledged[key] = answer.json()[ID_FIELD[provider]]

            workers = [asyncio.create_task(worker(n)) for n in range(CONNECTIONS)]
            while len(acknowledged) < 300:
                await asyncio.sleep(0.01)
            os.kill(first.process.pid, signal.SIGKILL)  # mid-load: every worker has a request in flight
            await asyncio.wait_for(asyncio.gather(*workers), 30)

    asyncio.run(load())
    first.process.wait(timeout=10)
    assert first.process.returncode == -signal.SIGKILL
    assert unanswered, "the kill should have caught requests in flight"

    second = sandboxes(provider, db)

    async def replay() -> None:
        async with async_client(second.url, provider) as client:
            for key, original in acknowledged.items():
                answer = await create(client, provider, key)
                assert answer.status_code == CREATED[provider][1], (key, answer.text)
                assert answer.json()[ID_FIELD[provider]] == original, key
            for key in unanswered:  # the client's retry: a replay or a first create, never a second resource
                answer = await create(client, provider, key)
                assert answer.status_code in CREATED[provider], (key, answer.text)

    asyncio.run(replay())
    assert resources(second.url, provider) == len(acknowledged) + len(unanswered)


def test_sustained_load_on_loopback_gets_no_error(sandboxes, tmp_path):
    """16 keep-alive connections for GOLIVE_LOAD_S (15) s: creates, replays, reads; every answer checked."""
    server = sandboxes("mintfax", tmp_path / "state.db")
    created: dict[str, str] = {}
    counts = {"create": 0, "replay": 0, "get": 0, "balance": 0}
    problems: list[str] = []

    async def load() -> None:
        async with async_client(server.url, "mintfax") as client:
            deadline = time.monotonic() + LOAD_S

            async def worker(n: int) -> None:
                rng = random.Random(n)
                for i in itertools.count():
                    if time.monotonic() > deadline:
                        return
                    roll = rng.random()
                    try:
                        if roll < 0.4 or not created:
                            key = f"load-{n}-{i}"
                            answer = await create(client, "mintfax", key)
                            if answer.status_code != 201 or "idempotency-replayed" in answer.headers:
                                problems.append(f"create {key}: {answer.status_code} {answer.text[:200]}")
                                continue
                            created[key] = answer.json()["id"]
                            counts["create"] += 1
                        elif roll < 0.7:
                            key, original = rng.choice(list(created.items()))
                            answer = await create(client, "mintfax", key)
                            if answer.headers.get("idempotency-replayed") != "true" or answer.json().get("id") != original:
                                problems.append(f"replay {key}: {answer.status_code} {answer.text[:200]}")
                            counts["replay"] += 1
                        elif roll < 0.9:
                            fax_id = rng.choice(list(created.values()))
                            answer = await client.get(GET_PATH["mintfax"].format(fax_id))
                            if answer.status_code != 200 or answer.json().get("id") != fax_id:
                                problems.append(f"get {fax_id}: {answer.status_code} {answer.text[:200]}")
                            counts["get"] += 1
                        else:
                            answer = await client.get("/v1/account/balance")
                            if answer.status_code != 200:
                                problems.append(f"balance: {answer.status_code} {answer.text[:200]}")
                            counts["balance"] += 1
                    except httpx.HTTPError as exc:
                        problems.append(f"{type(exc).__name__}: {exc}")

            await asyncio.gather(*(worker(n) for n in range(CONNECTIONS)))

    asyncio.run(load())
    total = sum(counts.values())
    print(f"{total} requests in {LOAD_S:g} s ({total / LOAD_S:.0f}/s): {counts}")
    assert not problems, problems[:10]
    assert counts["create"] and counts["replay"] and counts["get"] and counts["balance"]
    assert resources(server.url, "mintfax") == len(created)
    assert server.process.poll() is None, "the sandbox died under load"
