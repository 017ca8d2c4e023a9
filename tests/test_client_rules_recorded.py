"""Client rules judged from recorded client runs, in-process: the rule's real check function, no client process and
no real waits (the fast tier's pass/fail tests of the rules whose live probes wait out real time).

`checker.probes.client.run` (one client run through the recording proxy) is replaced by a function that returns a
`ClientRun` as the proxy would have recorded it; the timing rules also get the noise recorded with the delays. The
same rules against a real client, real proxy and real waits: tests/test_client_rules.py (marked slow where they wait).

RETRY-106/107 read delays recorded from real retry libraries (tests/data/library_delays.json, recorded by
tests/data/record_library_delays.py: six runs side by side through golive's proxy answering 503, the noise meter
running): tenacity's wait_exponential_jitter(initial=1, jitter=1) is the documented schedule, wait_fixed(1) is not
(what tenacity really does, from its source: tests/test_backoff.py's docstring).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.backoff import Noise
from checker.harness.process import ProcessResult
from checker.harness.proxy import Attempt
from checker.model import Result, Status
from checker.probes import client as client_probes
from checker.probes.client import ClientRun
from tests.conftest import config_for, run_rules

RECORDED = json.loads((Path(__file__).parent / "data" / "library_delays.json").read_text())
UNREACHABLE = "http://127.0.0.1:9"  # nothing is sent: the recorded runs stand in for the client and the proxy
CLIENT = "client:\n  command: /bin/true\n  batch_command: /bin/true --batch\n"


def attempt(n: int, t: float, *, status: int | None = 503, answered: float | None = 0.01, **extra: Any) -> Attempt:
    """One POST as the proxy records it: arrived at `t`, answered `answered` s later (None: not answered)."""
    return Attempt(
        n, t, "POST", "/v1/fax", {}, extra.pop("key", "golive-key-1"), 10, "injected", status=status,
        answered_at=None if answered is None else t + answered, **extra,
    )  # fmt: skip


def retried(delays: list[float], answer_s: float = 0.01, exit_code: int | None = 1) -> ClientRun:
    """A client that got 503 every time and waited `delays` between its attempts, then gave up."""
    attempts, t = [], 0.0
    for n in range(len(delays) + 1):
        attempts.append(attempt(n + 1, t, answered=answer_s))
        if n < len(delays):
            t += answer_s + delays[n]
    return ClientRun(attempts, ProcessResult(exit_code, "", "gave up after 5 attempts", t + 0.1, False))


class RecordedNoise:
    """The noise meter as it was while the delays were recorded."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    async def ready(self) -> None:
        return None

    def noise(self, ends: object = ()) -> Noise:
        runs = len(ends)  # type: ignore[arg-type]
        return Noise(samples=self.record["noise_samples"], local=tuple(tuple(r) for r in self.record["noise_local"][:runs]))


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch) -> Any:
    """replay(runs, noise=None): the client runs the checks get, in the order they ask for them."""

    def install(runs: list[ClientRun], noise: dict[str, Any] | None = None) -> None:
        given: Iterator[ClientRun] = iter(runs)

        async def recorded(ctx: object, scenario: object, **options: object) -> ClientRun:
            return next(given)

        monkeypatch.setattr(client_probes, "run", recorded)
        monkeypatch.setattr(client_probes, "STAGGER_S", 0.0)  # the runs are recorded: nothing to keep apart
        if noise is not None:

            async def meter(self: object) -> RecordedNoise:
                return RecordedNoise(noise)

            monkeypatch.setattr(client_probes.ProbeContext, "noise_meter", meter)

    return install


def judged(rule_id: str, provider: str = "mintfax") -> Result:
    return run_rules(config_for(provider, UNREACHABLE, extra=CLIENT), rule_id)[rule_id]


# ---------------------------------------------------------------- RETRY-106, RETRY-107: backoff and jitter


@pytest.mark.parametrize(
    ("library", "rule_id", "status", "says"),
    [
        ("tenacity", "RETRY-106", Status.PASS, "fit the documented schedule (base 1 s + U(0, 1), cap 30 s)"),
        ("tenacity-fixed", "RETRY-106", Status.FAIL, "delays do not grow: fixed 1."),
        ("tenacity", "RETRY-107", Status.PASS, "the delays carry jitter"),
        ("tenacity-fixed", "RETRY-107", Status.FAIL, "no jitter"),
    ],
    ids=["106-documented-schedule", "106-fixed-delay", "107-jittered", "107-no-jitter"],
)
def test_backoff_rules_on_a_real_librarys_recorded_delays(replay: Any, library: str, rule_id: str, status: Status, says: str) -> None:
    record = RECORDED[library]
    replay([retried(delays) for delays in record["delays"]], noise=record)
    result = judged(rule_id)
    assert result.status is status, result.message
    assert says in result.message
    assert any(e.get("kind") == "attempt" for e in result.evidence)


# ---------------------------------------------------------------- RETRY-104: a hung request


def hung(gave_up_after: float | None, retry_after: float | None) -> ClientRun:
    """The first request hangs (golive never answers it); the client closes it after `gave_up_after` s (None: never)
    and retries `retry_after` s later (None: no retry)."""
    first = attempt(1, 0.0, status=None, answered=None, read_at=0.0, abandoned_at=gave_up_after)
    attempts = [first]
    if gave_up_after is not None and retry_after is not None:
        attempts.append(attempt(2, gave_up_after + retry_after, status=201))
    timed_out = gave_up_after is None
    return ClientRun(attempts, ProcessResult(None if timed_out else 0, "", "", 40.0, timed_out))


@pytest.mark.parametrize(
    ("run", "status", "says"),
    [
        (hung(10.0, 1.0), Status.PASS, "gave up on the hung request after 10.0 s (bound 30 s"),
        (hung(None, None), Status.FAIL, "it has no request timeout, or a longer one"),
        (hung(45.0, 1.0), Status.FAIL, "the client waited 45.0 s on a request that never answered"),
        (hung(10.0, None), Status.FAIL, "gave up on the hung request after 10.0 s, then exited 0 without retrying"),
    ],
    ids=["gives-up-and-retries", "never-gives-up", "gives-up-too-late", "gives-up-and-stops"],
)
def test_retry_104_on_a_recorded_hung_request(replay: Any, run: ClientRun, status: Status, says: str) -> None:
    replay([run])
    result = judged("RETRY-104")
    assert result.status is status, result.message
    assert says in result.message


# ---------------------------------------------------------------- OBS-101: the correlation header


def correlated(*ids: str | None) -> ClientRun:
    attempts = [attempt(n, n * 1.0, status=500 if n == 1 else 202, correlation_id=cid) for n, cid in enumerate(ids, 1)]
    return ClientRun(attempts, ProcessResult(0, "", "", 2.0, False))


@pytest.mark.parametrize(
    ("run", "status", "says"),
    [
        (correlated("req-1", "req-1"), Status.PASS, "every request carries x-correlation-id (2 requests, retries included)"),
        (correlated("req-1", None), Status.FAIL, "1 of 2 requests carry no x-correlation-id"),
    ],
    ids=["on-every-request", "missing-on-the-retry"],
)
def test_obs_101_on_a_recorded_run(replay: Any, run: ClientRun, status: Status, says: str) -> None:
    replay([run])
    result = judged("OBS-101", provider="idunox")  # idunox documents x-correlation-id (seed 003)
    assert result.status is status, result.message
    assert says in result.message


# ---------------------------------------------------------------- RATE-102: a bulk send


def bulk(count: int, spacing_s: float) -> ClientRun:
    attempts = [attempt(n, n * spacing_s, status=202) for n in range(1, count + 1)]
    return ClientRun(attempts, ProcessResult(0, "", "", count * spacing_s, False))


@pytest.mark.parametrize(
    ("run", "status", "says"),
    [
        (bulk(30, 0.25), Status.PASS, "the bulk send stays under the rate limit: 30 requests, at most 4 in one second"),
        (bulk(30, 0.01), Status.FAIL, "the bulk send bursts: 30 requests, at most 30 in one second"),
    ],
    ids=["paced", "burst"],
)
def test_rate_102_on_a_recorded_bulk_send(replay: Any, run: ClientRun, status: Status, says: str) -> None:
    replay([run])
    result = judged("RATE-102")
    assert result.status is status, result.message
    assert says in result.message
