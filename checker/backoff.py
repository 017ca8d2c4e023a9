"""Judge a client's retry delays against the documented backoff (pure functions of the recorded delays).

Three schedules are accepted, each as a window per retry n (0-based), d = min(base * 2**n, cap):
  documented    min(base * 2**n + U(0, jitter), cap)   window [d, min(d + jitter, cap)]
  full jitter   U(0, d)                                 window [0, d]
  equal jitter  d/2 + U(0, d/2)                         window [d/2, d]
A small tolerance absorbs scheduling noise. Fixed delays are refused even when they happen to fit
full jitter's wide windows: four equal delays are what a fixed schedule produces, not a random one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EARLY_S = 0.05  # a delay may look this much shorter than planned (timestamps are taken on both sides)
LATE_S = 0.35  # ... or this much longer (a loaded machine, process start-up, connection set-up)
FIXED_SPREAD = 1.15  # max/min of three or more delays under this: a fixed delay


@dataclass(frozen=True)
class Verdict:
    ok: bool
    schedule: str  # documented | full jitter | equal jitter | fixed | none
    message: str


def windows(model: str, n: int, base: float, cap: float, jitter: float) -> tuple[float, float]:
    d = min(base * 2**n, cap)
    if model == "documented":
        return d, min(d + jitter, cap)
    if model == "full jitter":
        return 0.0, d
    return d / 2, d  # equal jitter


def judge_backoff(delays: Sequence[float], *, base: float, cap: float, jitter: float) -> Verdict:
    shown = ", ".join(f"{d:.2f}" for d in delays) + " s"
    if len(delays) < 2:
        return Verdict(False, "none", f"too few retries to judge a schedule ({len(delays)} delay)")
    over = [d for d in delays if d > cap + LATE_S]
    if over:
        return Verdict(False, "none", f"delays {shown} exceed the {cap:g} s cap")
    if len(delays) >= 3 and max(delays) <= FIXED_SPREAD * max(min(delays), 1e-3):
        return Verdict(False, "fixed", f"delays {shown} are fixed, not exponential")
    for model in ("documented", "equal jitter", "full jitter"):
        fits = all(lo - EARLY_S <= d <= hi + LATE_S for n, d in enumerate(delays) for lo, hi in [windows(model, n, base, cap, jitter)])
        if fits:
            return Verdict(True, model, f"delays {shown} fit the {model} schedule (base {base:g} s, cap {cap:g} s)")
    expected = ", ".join(f"{lo:g}-{hi:g}" for lo, hi in (windows("documented", n, base, cap, jitter) for n in range(len(delays))))
    return Verdict(False, "none", f"delays {shown} fit no exponential schedule (documented: {expected} s)")


JITTER_RESOLUTION_S = 0.05  # differences below this are scheduling noise (a loaded machine), not jitter


def judge_jitter(first: Sequence[float], second: Sequence[float], *, resolution: float = JITTER_RESOLUTION_S) -> Verdict:
    """Two runs of the same persistent failure: delays that agree within the resolution mean no jitter.

    Real jitter (say U(0, 1 s)) differs by less than 0.05 s on all of four retries with a
    probability of about 1e-4, so a jittered client is not mistaken for one without."""
    pairs = list(zip(first, second, strict=False))
    if not pairs:
        return Verdict(False, "none", "no retries to compare")
    differences = [abs(a - b) for a, b in pairs]
    if max(differences) < resolution:
        return Verdict(False, "none", f"two runs retried on the same schedule ({', '.join(f'{a:.2f}' for a, _ in pairs)} s): no jitter")
    return Verdict(True, "jitter", f"two runs' delays differ by up to {max(differences):.2f} s: the delays carry jitter")


def delays_of(answered: Sequence[float | None], started: Sequence[float]) -> list[float]:
    """Gap between each attempt's answer (or start, for a reset) and the next attempt's start."""
    gaps = []
    for i in range(len(started) - 1):
        end = answered[i] if answered[i] is not None else started[i]
        gaps.append(max(0.0, started[i + 1] - end))  # type: ignore[operator]
    return gaps
