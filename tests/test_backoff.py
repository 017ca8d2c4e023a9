"""The backoff judgement alone: pure functions of recorded delays, no sockets."""

from __future__ import annotations

import random

import pytest

from checker.backoff import delays_of, judge_backoff, judge_jitter

KW = {"base": 1.0, "cap": 30.0, "jitter": 1.0}


def documented(n: int, rng: random.Random) -> float:
    return min(2**n + rng.uniform(0, 1), 30)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize(
    ("name", "schedule"),
    [
        ("documented", documented),
        ("full jitter", lambda n, rng: rng.uniform(0, min(2**n, 30))),
        ("equal jitter", lambda n, rng: min(2**n, 30) / 2 + rng.uniform(0, min(2**n, 30) / 2)),
    ],
)
def test_accepted_schedules_pass_and_are_named(seed, name, schedule):
    rng = random.Random(seed)
    delays = [schedule(n, rng) for n in range(4)]
    verdict = judge_backoff(delays, **KW)
    assert verdict.ok, verdict.message
    if name == "documented":
        assert verdict.schedule == "documented"


@pytest.mark.parametrize(
    ("delays", "schedule", "says"),
    [
        ([1.0, 1.0, 1.0, 1.0], "fixed", "are fixed"),
        ([0.1, 0.1, 0.1, 0.1], "fixed", "are fixed"),
        ([8.0, 4.0, 2.0, 1.0], "none", "fit no exponential schedule"),
        ([1.0, 2.0, 4.0, 60.0], "none", "exceed the 30 s cap"),
        ([1.0], "none", "too few retries"),
        ([5.0, 5.5, 20.0, 40.0], "none", "exceed"),
    ],
)
def test_wrong_schedules_fail_with_the_reason(delays, schedule, says):
    verdict = judge_backoff(delays, **KW)
    assert not verdict.ok and verdict.schedule == schedule and says in verdict.message


def test_scheduling_noise_is_tolerated():
    assert judge_backoff([1.3, 2.6, 4.9, 9.2], **KW).ok  # documented, each a little late
    assert judge_backoff([0.97, 2.0, 4.0], **KW).ok


def test_jitter_needs_two_different_runs():
    assert not judge_jitter([1.0, 2.0, 4.0], [1.005, 2.01, 4.0]).ok
    assert not judge_jitter([1.0, 1.0, 1.0], [1.04, 0.97, 1.03]).ok  # a loaded machine's noise is not jitter
    assert judge_jitter([1.2, 2.7, 4.1], [1.9, 2.1, 4.8]).ok


def test_delays_are_measured_from_the_answer():
    assert delays_of([0.1, 1.2, None], [0.0, 1.1, 3.2, 7.0]) == pytest.approx([1.0, 2.0, 3.8])
