"""Judge a client's retry delays as statistics: each accepted schedule is a hypothesis, tested against the
delays recorded over one or more runs, with an explicit model of scheduling noise. Pure functions.

Schedules (retry n, 0-based; D = min(base * 2**n, cap)):
  documented    min(base * 2**n + U(0, jitter), cap)
  full jitter   U(0, D)
  equal jitter  D/2 + U(0, D/2)
  floored equal jitter  max(base, D/2 + U(0, D/2)): equal jitter never shorter than the base (every official Stripe
                SDK: the first retry waits exactly the base)
  added jitter  D + anything in [0, max(base, D/2)]: a provider documenting exact delays (jitter 0) accepts jitter
                that only adds to them (golive's reading); only its support is tested, as its shape is the client's
  exact         D: an official SDK's schedule without jitter
An official SDK's schedule (a pack's `retry.sdk_schedules`, where the provider documents none) is one of these
models on its own base and cap, named after the SDK, and may start its doubling `shift` retries later or earlier
(D = min(base * 2**(n + shift), cap)): stripe-node counts its retries from 0 where stripe-python counts from 1, so it
waits the base twice before doubling.

Noise. A recorded delay is the client's planned delay plus a latency L >= 0 (waking up, building the
request, connecting), and it may look up to EARLY_S shorter (timestamps on both sides). `Noise.late`
bounds L; it comes from a calibration client golive runs beside the probe (checker/harness/noise.py),
so a loaded machine widens the tolerance instead of failing a correct client. Every test below takes
the noise in the direction that makes a rejection harder: a verdict of `fail` means the delays are
implausible under the schedule whatever the noise did.

Tests, per schedule (the p-value of the schedule is the smallest, times five: Bonferroni):
  support   every delay inside [lo - EARLY, hi + late]           (else p = 0)
  short     all delays implausibly short together (Fisher's method on F(d))
  long      all delays implausibly long together (Fisher's method on 1 - F(d - late))
  fixed     the delays of every run lie in a band too narrow for the schedule's randomness and growth
  growth    the delays grow (log2 against n) more slowly than the schedule makes them grow
  repeat    runs agree at each retry more closely than the schedule's fresh random draws would
            (a deterministic schedule repeats itself, run after run; noise may blur it by `Noise.floor`)
The first two and the last have exact p-values; the last two are simulated (a fixed seed: the same delays always get
the same verdict). A schedule passes at p >= PASS_P on the final judgement (PASS_P_EARLY while more runs can
come), none passing and every one below FAIL_P is a fail, and anything between is inconclusive: the probe
runs the client again (bounded) and judges all runs.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

EARLY_S = 0.02  # a delay may look this much shorter than planned (two timestamps, two processes)
CLIENT_WORK_S = 0.1  # what a retry may add to its delay on top of scheduling latency (building and sending it)
# how much that work may vary between runs of the same client (a garbage collection, five runs waking at once):
# a difference between runs must exceed it, on top of the measured latency, before it counts as jitter
CLIENT_VARIATION_S = 0.1
# a delay this much past its window (beyond the measured noise) may be one stall the meter did not see (a page
# fault, a garbage collection, a burst of other processes): not a misfit on its own, the scenario runs again
STALL_S = 0.4
PASS_P = 0.01  # the best schedule's p-value at or above this: the delays fit it
PASS_P_EARLY = 0.1  # ... while more runs can still come: a weaker fit runs the scenario again
FAIL_P = 0.0001  # every schedule's p-value below this: they fit none (a correct client fails 1 in 10,000 times)
NO_JITTER_P = 0.0001  # every retry, jittered, would agree this closely across the runs with at most this chance
SIMULATIONS = 4000  # simulated runs per schedule for the 'fixed' and 'growth' tests (their p-values: 1/4001 at least)
TESTS = 5  # the Bonferroni factor: short, long, fixed, growth, repeat


@dataclass(frozen=True)
class Noise:
    """How much scheduling noise the recorded delays may carry. Measured on this machine during the probe
    (checker/harness/noise.py): around each delay where a calibration sample was taken then (`local`, per
    run and retry), else for the whole probe; the defaults where nothing was measured."""

    late: float = 0.35  # the largest latency a delay may have gained
    floor: float = 0.05  # differences between runs up to this are noise, not jitter
    samples: int = 0  # calibration samples behind these figures (0: the defaults, nothing measured)
    local: tuple[tuple[float, ...], ...] = ()  # per run, per delay: the latency measured around its end

    def late_at(self, run: int, n: int) -> float:
        """The latency delay n of run `run` may have gained: the client's own work plus the scheduling
        latency measured around it (a retry does more than golive's calibration ping)."""
        if run < len(self.local) and n < len(self.local[run]):
            return min(1.0, CLIENT_WORK_S + 2 * self.local[run][n])
        return self.late

    def floor_at(self, run: int, n: int) -> float:
        """How much delay n of run `run` may differ from the same retry in another run by noise alone (at most)."""
        return min(0.5, CLIENT_VARIATION_S + self.slack_at(run, n))

    def slack_at(self, run: int, n: int) -> float:
        """How much noise typically moves delay n of run `run`: the scheduling latency measured around it."""
        if run < len(self.local) and n < len(self.local[run]):
            return min(0.5, 0.01 + 2 * self.local[run][n])
        return self.floor

    def describe(self) -> str:
        return f"measured noise ({self.samples} samples)" if self.samples else f"assumed noise of {self.floor:.2f} s"


DEFAULT_NOISE = Noise()


@dataclass(frozen=True)
class Schedule:
    """One accepted schedule of retry delays (see the module's docstring)."""

    model: str  # documented | full jitter | equal jitter | floored equal jitter | added jitter | exact
    base: float
    cap: float
    jitter: float = 0.0
    immediate_first: bool = False  # the provider documents a first retry at once, then the schedule (urllib3 2.x's shape)
    shift: int = 0  # retry n doubles from base * 2**(n + shift) (stripe-node: -1, the base twice)
    sdk: str = ""  # the official SDK whose source states this schedule; "": the provider's documents (or golive's reading)

    def window(self, n: int) -> tuple[float, float]:
        if self.immediate_first and n == 0:
            return 0.0, 0.0
        d = min(self.base * 2.0 ** min(n + self.shift, 60), self.cap)
        if self.model == "documented":
            return d, min(d + self.jitter, self.cap)
        if self.model == "exact":
            return d, d
        if self.model == "full jitter":
            return 0.0, d
        if self.model == "added jitter":
            return d, d + max(self.base, d / 2)
        if self.model == "floored equal jitter":  # never under the base, even where the doubling starts below it
            return max(d / 2, self.base), max(d, self.base)
        return d / 2, d

    def cdf(self, n: int, x: float) -> float:
        lo, hi = self.window(n)
        if hi <= lo:
            return 0.0 if x < lo else 1.0
        return min(1.0, max(0.0, (x - lo) / (hi - lo)))

    def is_random(self, n: int) -> bool:
        """Whether the schedule draws retry n from a known distribution (the tests beyond support need one)."""
        lo, hi = self.window(n)
        return hi > lo and self.model != "added jitter"

    def sample(self, n: int, rng: random.Random) -> float:
        lo, hi = self.window(n)
        return lo + (hi - lo) * rng.random()

    def describe(self) -> str:
        first = "; the first retry at once" if self.immediate_first else ""
        if self.sdk:
            shown = ", ".join(f"{lo:g}" if hi <= lo else f"{lo:g}-{hi:g}" for lo, hi in map(self.window, range(3)))
            return f"{self.called} ({self.model}, base {self.base:g} s, cap {self.cap:g} s{first}: {shown} s, …)"
        if self.model == "documented":
            jitter = f" + U(0, {self.jitter:g})" if self.jitter else ""
            return f"the documented schedule (base {self.base:g} s{jitter}, cap {self.cap:g} s{first})"
        if self.model == "added jitter":
            return (
                f"the documented delays with added jitter (base {self.base:g} s, cap {self.cap:g} s; never shorter than documented{first})"
            )
        return f"the {self.model} schedule (base {self.base:g} s, cap {self.cap:g} s{first})"

    @property
    def exact(self) -> bool:
        """A provider's document states these delays exactly (an SDK's exact schedule is its behaviour, not a document's)."""
        return self.model == "documented" and not self.jitter

    @property
    def label(self) -> str:
        """Which accepted schedule fitted, in a verdict and the evidence: its model, or the SDK's ("stripe-node's floored equal jitter")."""
        return f"{self.sdk}'s {self.model}" if self.sdk else self.model

    @property
    def called(self) -> str:
        """How messages name the schedule: the provider's documented one, or an SDK's ("stripe-node's schedule")."""
        return f"{self.sdk}'s schedule" if self.sdk else "the documented schedule"


VARIANTS = ("full jitter", "equal jitter", "floored equal jitter", "added jitter")


def default_variants(jitter: float) -> tuple[str, ...]:
    """The variants a pack accepts beside its documented schedule when it does not say (golive's reading): a
    provider that documents jitter accepts the common jittered forms of the same schedule (AWS's full and equal
    jitter); one that documents exact delays accepts only jitter that never waits less than them."""
    return ("equal jitter", "full jitter") if jitter else ("added jitter",)


def accepted_schedules(
    base: float,
    cap: float,
    jitter: float,
    variants: Sequence[str] | None = None,
    immediate_first: bool = False,
    sdks: Sequence[Schedule] = (),
) -> tuple[Schedule, ...]:
    """What a pack accepts: its documented schedule, and the variants it names on the same base and cap (each with
    the first retry at once, where the provider documents that). Where the pack takes its schedule from the
    provider's official SDKs (`sdks`), no schedule is documented: each SDK's is accepted under its name, with the
    variants the pack names (none unless it says)."""
    if sdks:
        return (*sdks, *(Schedule(model, base, cap, 0.0, immediate_first) for model in variants or ()))
    chosen = default_variants(jitter) if variants is None else variants
    return tuple(Schedule(model, base, cap, jitter if model == "documented" else 0.0, immediate_first) for model in ("documented", *chosen))


@dataclass(frozen=True)
class Verdict:
    ok: bool | None  # None: inconclusive (run the client again, or report error)
    schedule: str  # the best-fitting schedule's model, or: fixed | none
    message: str
    p: float = 0.0  # the best schedule's p-value (for a pass: how well it fits; for a fail: how implausible)


@dataclass(frozen=True)
class _Fit:
    schedule: Schedule
    p: float
    reason: str  # the test that decided, for the message: support | short | long | fixed | growth | ""
    detail: str = ""


def _gamma_tail(x: float, k: int) -> float:
    """P(Gamma(k, 1) >= x): the p-value of Fisher's method for k uniforms whose logs sum to -x. In log space
    (exp(-x) * sum x**i / i!, i < k), so that hundreds of retries neither overflow nor turn into NaN."""
    if x <= 0 or k <= 0:
        return 1.0
    logs = [i * math.log(x) - math.lgamma(i + 1) for i in range(k)]
    top = max(logs)
    return min(1.0, math.exp(-x + top + math.log(sum(math.exp(v - top) for v in logs))))


def _flatten(runs: Sequence[Sequence[float]]) -> list[tuple[int, float]]:
    return [(n, d) for run in runs for n, d in enumerate(run)]


def _lates(runs: Sequence[Sequence[float]], noise: Noise) -> list[float]:
    """The latency bound of each delay, in `_flatten`'s order."""
    return [noise.late_at(r, n) for r, run in enumerate(runs) for n in range(len(run))]


def _slope(points: Sequence[tuple[int, float]]) -> float:
    mean_n = statistics.fmean(n for n, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((n - mean_n) ** 2 for n, _ in points)
    return sum((n - mean_n) * (y - mean_y) for n, y in points) / spread if spread else 0.0


def _log2(x: float) -> float:
    return math.log2(max(x, 0.01))


@lru_cache(maxsize=512)
def _simulated(schedule: Schedule, shape: tuple[int, ...]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Sorted bands (max - min) and sorted log2 slopes of SIMULATIONS runs of `schedule` with `shape`
    (delays per run), from a fixed seed: a pure function of its arguments."""
    rng = random.Random(20261125)
    bands, slopes = [], []
    for _ in range(SIMULATIONS):
        points = [(n, schedule.sample(n, rng)) for length in shape for n in range(length)]
        values = [d for _, d in points]
        bands.append(max(values) - min(values))
        slopes.append(_slope([(n, _log2(d)) for n, d in points]))
    return tuple(sorted(bands)), tuple(sorted(slopes))


def _fit(runs: Sequence[Sequence[float]], schedule: Schedule, noise: Noise, *, support_only: bool = False) -> _Fit:
    """How well the delays fit one schedule. `support_only`: read them as a deterministic schedule (the runs
    show no jitter), which only has to stay inside the schedule's windows; its distribution is not the client's."""
    points = _flatten(runs)
    lates = _lates(runs, noise)
    overrun = ""
    for (n, d), late in zip(points, lates, strict=True):
        lo, hi = schedule.window(n)
        if d < lo - EARLY_S:
            return _Fit(schedule, 0.0, "support", f"retry {n + 1} came after {d:.2f} s; the schedule waits at least {lo:.2f} s")
        if d > hi + late + max(late, STALL_S):
            return _Fit(schedule, 0.0, "support", f"retry {n + 1} came after {d:.2f} s; the schedule waits at most {hi:.2f} s")
        if d > hi + late and not overrun:  # one stall of the machine may explain it: run again to tell
            overrun = f"retry {n + 1} came after {d:.2f} s; the schedule waits at most {hi:.2f} s"
    chosen = [(n, d, late) for (n, d), late in zip(points, lates, strict=True) if schedule.is_random(n) and not support_only]
    p: dict[str, float] = {}
    if chosen:
        short = [max(schedule.cdf(n, d + EARLY_S), 1e-300) for n, d, _ in chosen]
        # a delay past the window by up to twice the noise is flagged above (one stall, maybe), not counted here
        long = [max(1.0 - schedule.cdf(n, d - late), 1e-300) for n, d, late in chosen if d <= schedule.window(n)[1] + late]
        p["short"] = _gamma_tail(-sum(math.log(u) for u in short), len(short))
        if long:
            p["long"] = _gamma_tail(-sum(math.log(u) for u in long), len(long))
        shape = tuple(len(run) for run in runs)
        bands, slopes = _simulated(schedule, shape)
        values = [d for _, d in points]
        band = max(values) - min(values) + max(lates)  # the widest the planned delays can have been
        below = bisect.bisect_right(bands, band)
        # under every simulated band: the simulations cannot resolve it (1/4001 at best); bound it instead
        p["fixed"] = (below + 1) / (SIMULATIONS + 1) if below else min(1 / (SIMULATIONS + 1), _band_bound(points, schedule, band))
        repeats = _repeats(runs, schedule, noise)
        if repeats:
            # every retry repeating (a fixed schedule: Fisher's method is the stronger test) or one retry repeating
            # among random ones (stripe-python's first retry is always 0.5 s: the smallest chance, times the number
            # of retries, is); the better of the two, times two
            fisher = _gamma_tail(-sum(math.log(max(r, 1e-300)) for r in repeats), len(repeats))
            p["repeat"] = min(1.0, 2 * min(fisher, len(repeats) * min(repeats)))
        if len({n for n, _ in points}) >= 3:
            mean_n = statistics.fmean(n for n, _ in points)  # the steepest slope the noise allows
            steepest = [(n, _log2(d + EARLY_S) if n > mean_n else _log2(d - late)) for (n, d), late in zip(points, lates, strict=True)]
            p["growth"] = (bisect.bisect_right(slopes, _slope(steepest)) + 1) / (SIMULATIONS + 1)
    reason = min(p, key=p.__getitem__) if p else ""
    fit = _Fit(schedule, min(1.0, TESTS * p[reason]) if p else 1.0, reason)
    if overrun and fit.p >= FAIL_P:  # neither a fit nor, on this evidence, a misfit
        return _Fit(schedule, FAIL_P, "support", overrun)
    return fit


def _band_bound(points: Sequence[tuple[int, float]], schedule: Schedule, band: float) -> float:
    """An upper bound of P(all delays within `band` of each other) under the schedule: given the first delay,
    each other random delay must fall within `band` of it, which its window allows with chance <= 2 band / width."""
    bound = 1.0
    for n, _ in points[1:]:
        lo, hi = schedule.window(n)
        if schedule.is_random(n):
            bound *= min(1.0, 2 * band / (hi - lo))
    return bound


def _repeats(runs: Sequence[Sequence[float]], schedule: Schedule, noise: Noise) -> list[float]:
    """For each random retry seen in several runs: the chance that the schedule's fresh draws agree as closely
    as the runs did (a deterministic schedule repeats itself; a jittered one does not)."""
    chances = []
    for n, (ds, _) in _by_retry(runs, noise).items():
        lo, hi = schedule.window(n)
        if len(ds) >= 2 and schedule.is_random(n):
            chances.append(_range_at_most(max(ds) - min(ds) + _slack(runs, noise, n), hi - lo, len(ds)))
    return chances


def _by_retry(runs: Sequence[Sequence[float]], noise: Noise) -> dict[int, tuple[list[float], float]]:
    """Retry n -> the delays of every run at that retry, and how far apart noise alone could have put them
    (the largest latency any of them may have gained: a deterministic delay differs by at most that)."""
    found: dict[int, tuple[list[float], float]] = {}
    for r, run in enumerate(runs):
        for n, d in enumerate(run):
            delays, floor = found.get(n, ([], 0.0))
            found[n] = ([*delays, d], max(floor, noise.floor_at(r, n)))
    return found


def _slack(runs: Sequence[Sequence[float]], noise: Noise, n: int) -> float:
    """How much closer than a jittered retry's draws noise typically brings the runs' delays at retry n: the
    median latency measured around them (the largest would let one spike of the machine hide any jitter)."""
    return statistics.median(noise.slack_at(r, n) for r, run in enumerate(runs) if n < len(run))


def judge_backoff(
    runs: Sequence[Sequence[float]], schedules: Sequence[Schedule], noise: Noise = DEFAULT_NOISE, *, final: bool = True
) -> Verdict:
    """The delays of one or more runs of the same persistent failure, against every accepted schedule. Before the
    `final` judgement (more runs can still come) a pass needs p >= PASS_P_EARLY: a fit that is merely not rejected
    on three runs is run again rather than passed (stripe-python's constant first retry only shows over five)."""
    pass_p = PASS_P if final else PASS_P_EARLY
    runs = [list(run) for run in runs]  # in the order of `noise.local`
    shown = "; ".join(", ".join(f"{d:.2f}" for d in run) for run in runs) + " s"
    if not runs or max(len(run) for run in runs) < 2:
        return Verdict(False, "none", f"too few retries to judge a schedule ({max((len(r) for r in runs), default=0)} delay)")
    fits = sorted((_fit(runs, s, noise) for s in schedules), key=lambda f: f.p, reverse=True)
    best = fits[0]
    evidence = f"{len(runs)} run{'s' * (len(runs) > 1)}"
    if not jitter_seen(runs, noise):
        # the runs agree: the delays may be a deterministic schedule, which fits only by staying inside the windows
        # of a schedule that allows it (the documented one, or jitter added to it); that they also fall inside full
        # jitter's wide windows says nothing (a fixed 1 s delay lies inside U(0, 1), U(0, 2), U(0, 4), ...)
        longest = max(len(run) for run in runs)
        steady = [
            _fit(runs, s, noise, support_only=True)
            for s in schedules
            if s.model in ("documented", "added jitter", "exact") or not any(s.is_random(n) for n in range(longest))
        ]
        plain = max(steady, key=lambda f: f.p, default=None)
        if plain is not None and plain.p >= pass_p:
            return Verdict(True, plain.schedule.label, f"delays {shown} fit {plain.schedule.describe()} ({evidence})", plain.p)
        if best.p >= pass_p:
            return Verdict(
                None,
                best.schedule.label,
                f"delays {shown} fall inside {best.schedule.describe()}, but the runs show no jitter, and as a fixed "
                f"schedule they are not {_accepted(schedules)} ({evidence}); {describe_deviation(runs, schedules, fits, noise)}?",
                best.p,
            )
    if best.p >= pass_p:
        return Verdict(True, best.schedule.label, f"delays {shown} fit {best.schedule.describe()} ({evidence}, p = {best.p:.2g})", best.p)
    deviation = describe_deviation(runs, schedules, fits, noise)
    if best.p < FAIL_P:
        return Verdict(False, "fixed" if "do not grow" in deviation else "none", f"delays {shown}: {deviation}", best.p)
    return Verdict(
        None,
        best.schedule.label,
        f"delays {shown} barely fit {best.schedule.describe()} (p = {best.p:.2g} over {evidence}); {deviation}?",
        best.p,
    )


def describe_deviation(runs: Sequence[Sequence[float]], schedules: Sequence[Schedule], fits: Sequence[_Fit], noise: Noise) -> str:
    """The deviation in words a developer can act on: the most specific that is true."""
    points = _flatten(runs)
    values = [d for _, d in points]
    documented = _reference(schedules)
    firsts = [run[0] for run in runs if run]
    later = [d for n, d in points if n > 0]
    spread = max(values) - min(values)
    if max(values) < 0.1:
        return "every retry is immediate (no backoff at all)"
    if documented.exact:
        short = sum(d < documented.window(n)[0] - EARLY_S for n, d in points)
        variants = (Schedule(m, documented.base, documented.cap, 0.0, documented.immediate_first) for m in ("equal jitter", "full jitter"))
        jittered = [v.model for v in variants if _fit(runs, v, noise).p >= FAIL_P]
        if short and jittered:
            return (
                f"{short} of {len(points)} delays are shorter than the documented {_documented_delays(documented, runs)} s: they fit "
                f"{jittered[0]}, but the provider documents exact delays, and jitter may only add to them"
            )
    if max(firsts) < 0.1 and later:
        rest = " and the rest fit no schedule either" if not _fits_shifted(runs, schedules, noise) else ""
        return f"the first retry is immediate ({max(firsts):.2f} s; {documented.called} waits {documented.window(0)[0]:g} s){rest}"
    if spread <= max(0.03, 0.15 * statistics.fmean(values)):
        return f"delays do not grow: fixed {statistics.median(values):.2f} s"
    over = [d for (n, d), late in zip(points, _lates(runs, noise), strict=True) if d > documented.cap + late]
    if over:
        return f"{len(over)} delay{'s' * (len(over) > 1)} exceed the {documented.cap:g} s cap (up to {max(over):.2f} s)"
    linear = _linear_step(runs, noise)
    if linear is not None:
        return f"delays grow linearly (about +{linear:.2f} s a retry), not exponentially"
    base = _estimated_base(points, documented)
    if base is not None and not 0.67 <= base / documented.base <= 1.5:
        whose = f"{documented.sdk}'s" if documented.sdk else "the documented"
        return f"the backoff starts from about {base:.2g} s, {whose} base is {documented.base:g} s"
    reasons = {f.reason for f in fits}
    if "growth" in reasons and len({n for n, _ in points}) >= 3:
        return "delays grow more slowly than any exponential schedule the provider accepts"
    if "short" in reasons:
        return "delays are implausibly short for every accepted schedule"
    sdks = [s for s in schedules if s.sdk]
    if sdks:
        each = "; ".join(f"{s.sdk}: {_documented_delays(s, runs)} s" for s in sdks)
        return f"they fit no official SDK's schedule ({each})"
    return f"they fit no accepted schedule (documented: {_documented_delays(documented, runs)} s)"


def _reference(schedules: Sequence[Schedule]) -> Schedule:
    """The schedule a deviation is told against: the documented one, else the first accepted (an SDK's)."""
    return next((s for s in schedules if s.model == "documented"), schedules[0])


def _accepted(schedules: Sequence[Schedule]) -> str:
    """What the accepted fixed schedules are, in words: "the documented one", "stripe-python's", or "any official
    SDK's (stripe-python, stripe-node)"."""
    sdks = list(dict.fromkeys(s.sdk for s in schedules if s.sdk))
    if not sdks:
        return "the documented one"
    return f"{sdks[0]}'s" if len(sdks) == 1 else f"any official SDK's ({', '.join(sdks)})"


def _documented_delays(documented: Schedule, runs: Sequence[Sequence[float]]) -> str:
    windows = (documented.window(n) for n in range(max(len(r) for r in runs)))
    return ", ".join(f"{lo:g}" if hi <= lo else f"{lo:g}-{hi:g}" for lo, hi in windows)


def _linear_step(runs: Sequence[Sequence[float]], noise: Noise) -> float | None:
    """The step of delays that grow by about the same amount each retry (1, 2, 3, 4 s) rather than doubling,
    over the runs with at least three retries: a straight line fits them better than the best doubling
    (least squares, both with their best scale, the line by a factor of two); None when not, or when they barely grow."""
    late = max(_lates(runs, noise))
    uncapped = [_before_plateau(list(run), late) for run in runs]
    long_runs = [run for run in uncapped if len(run) >= 3]
    if not long_runs:
        return None
    line, doubling, slopes = 0.0, 0.0, []
    for run in long_runs:
        ns = range(len(run))
        slope = _slope(list(zip(ns, run, strict=True)))
        intercept = statistics.fmean(run) - slope * statistics.fmean(ns)
        line += sum((d - intercept - slope * n) ** 2 for n, d in zip(ns, run, strict=True))
        scale = sum(d * 2**n for n, d in zip(ns, run, strict=True)) / sum(4**n for n in ns)
        doubling += sum((d - scale * 2**n) ** 2 for n, d in zip(ns, run, strict=True))
        slopes.append(slope)
    step = statistics.median(slopes)
    return step if step > late and 2 * line < doubling else None


def _before_plateau(run: list[float], late: float) -> list[float]:
    """The delays up to the first of a capped tail (delays within noise of the run's largest: a cap reached)."""
    top = max(run)
    first = next(i for i, d in enumerate(run) if d >= top - late)
    return run[: first + 1] if all(d >= top - late for d in run[first:]) else run


def _fits_shifted(runs: Sequence[Sequence[float]], schedules: Sequence[Schedule], noise: Noise) -> bool:
    """Whether the retries after an immediate first one fit a schedule (urllib3 2.x: 0, then 2, 4, 8 s)."""
    kept = [r for r, run in enumerate(runs) if len(run) > 1]
    rest = [list(runs[r][1:]) for r in kept]
    shifted = dataclasses.replace(noise, local=tuple(noise.local[r][1:] for r in kept if r < len(noise.local)))
    return bool(rest) and max(_fit(rest, s, shifted).p for s in schedules) >= FAIL_P


def _estimated_base(points: Sequence[tuple[int, float]], documented: Schedule) -> float | None:
    """The base a documented-style schedule with these delays would have: the median of (d - jitter / 2) / 2**n
    below the cap (the documented jitter adds half of itself on average: 1 + U(0, 1) is a base of 1, not 1.5)."""
    kept = [(n, d) for n, d in points if base_uncapped(documented, n) and d > 0 and n + documented.shift >= 0]
    if not kept:
        return None
    # the documented jitter is discounted only from delays that can hold it (a 0.5 s delay is no 1 s jitter's)
    half = documented.jitter / 2 if all(d >= documented.jitter for _, d in kept) else 0.0
    return float(statistics.median([(d - half) / 2.0 ** (n + documented.shift) for n, d in kept]))


def base_uncapped(schedule: Schedule, n: int) -> bool:
    return schedule.base * 2.0 ** min(n + schedule.shift, 60) < schedule.cap


def judge_jitter(runs: Sequence[Sequence[float]], schedules: Sequence[Schedule], noise: Noise = DEFAULT_NOISE) -> Verdict:
    """Several runs of the same persistent failure: jitter shows as a difference between runs at the same retry
    that noise cannot explain (a deterministic delay differs between runs by at most the larger latency the two
    gained, plus what the client's own work varies). 'No jitter' needs evidence too: the retries must agree
    across enough runs that retries jittered as the accepted schedules jitter would almost surely have differed;
    between the two, the evidence is inconclusive and the probe runs the client again."""
    compared = {n: pair for n, pair in _by_retry([list(r) for r in runs], noise).items() if len(pair[0]) >= 2}
    if not compared:
        return Verdict(False, "none", "no retries to compare")
    seen = _jitter_at(runs, noise)
    if seen is not None:
        n, ds, floor = seen
        return Verdict(
            True,
            "jitter",
            f"runs differ by {max(ds) - min(ds):.2f} s at retry {n + 1} (by {_robust_range(ds):.2f} s leaving out the latest run), "
            f"more than the {floor:.2f} s noise can explain ({noise.describe()}): the delays carry jitter",
            1.0,
        )
    # per retry, the chance that it jittered as the provider documents (else as the least jittered accepted schedule)
    # and still agreed this closely in every run; a retry seen in fewer than three runs (the client's retry count
    # varies) cannot tell and is left out of the claim while three or more runs reach another retry
    documented = next((s for s in schedules if s.model == "documented"), None)
    chances: dict[int, float] = {}
    for n, (ds, floor) in compared.items():
        windows = [(lo, hi) for lo, hi in (s.window(n) for s in schedules) if hi > lo]
        if windows:
            lo, hi = documented.window(n) if documented is not None else (0.0, 0.0)
            # the null: this retry jittered as the provider documents it (the documented window: a cap narrows
            # it), else as the least jittered accepted schedule
            width = hi - lo if hi > lo else min(b - a for a, b in windows)
            chances[n] = _agreement_chance(ds, _slack(runs, noise, n), width, floor)
    judged = {n: c for n, c in chances.items() if len(compared[n][0]) >= 3} or chances
    # "no jitter" is a claim about every retry (stripe-python's first retry is always 0.5 s, its second random):
    # each retry must reject jitter on its own, so the evidence is the weakest retry's (an intersection-union test,
    # which needs no correction for the number of retries; combining them would let a fixed retry vouch for a random one)
    chance = max(judged.values(), default=1.0)
    first = ", ".join(f"{d:.2f}" for d in runs[0])
    covered = f"retries {min(judged) + 1}-{max(judged) + 1}" if len(judged) > 1 else f"retry {min(judged, default=0) + 1}"
    agree = f"{len(runs)} runs retried on the same schedule ({first} s) within the noise ({noise.describe()}) at {covered}"
    strays = [n for n, (ds, floor) in compared.items() if n in judged and max(ds) - min(ds) > floor]
    stalled = f"; one run stalled at retry {strays[0] + 1} (a stall only lengthens a delay, and the others agree)" if strays else ""
    if chance < NO_JITTER_P:
        return Verdict(False, "none", f"{agree}{stalled}: no jitter", chance)
    return Verdict(None, "none", f"{agree}{stalled}, but a jittered schedule would do so with p = {chance:.2g}", chance)


def _agreement_chance(ds: Sequence[float], slack: float, width: float, floor: float) -> float:
    """The chance that one retry jittered over `width` agrees across the runs as closely as `ds` do. By the range
    of all runs while it is within the noise `floor`; when one run strays beyond it (a stall only ever lengthens a
    delay), by the range without the latest, times two. The statistic depends on the data, so the test's level is
    at most 1.5 times the threshold's (P(full <= a) + P(2 robust <= a)); in exchange one stalled run no longer
    leaves the evidence undecided, nor costs the runs a second statistic would."""
    k = len(ds)
    if k < 3 or max(ds) - min(ds) <= floor:
        return _range_at_most(max(ds) - min(ds) + slack, width, k)
    return min(1.0, 2 * _robust_range_at_most(_robust_range(ds) + slack, width, k))


def _robust_range_at_most(width: float, spread: float, k: int) -> float:
    """P(U(k-1) - U(1) <= width) for k independent U(0, spread): the range of all but the largest, whose law is
    Beta(k - 2, 3) (the spacing of order statistics), so its CDF is a binomial tail."""
    x = min(1.0, width / spread)
    return sum(math.comb(k, j) * x**j * (1 - x) ** (k - j) for j in range(k - 2, k + 1))


def _robust_range(ds: Sequence[float]) -> float:
    """The range of a retry's delays across runs without the latest one: a stall of the machine only ever makes a
    delay longer, so one stalled run cannot pass for jitter (two runs stalled at the same retry are needed)."""
    kept = sorted(ds)[:-1] if len(ds) >= 3 else []
    return max(kept) - min(kept) if kept else 0.0


def _jitter_at(runs: Sequence[Sequence[float]], noise: Noise) -> tuple[int, list[float], float] | None:
    """The retry whose runs differ beyond the noise (leaving out the latest run there), or None."""
    compared = _by_retry([list(r) for r in runs], noise)
    beyond = {n: _robust_range(ds) - floor for n, (ds, floor) in compared.items() if len(ds) >= 3}
    if not beyond:
        return None
    widest = max(beyond, key=beyond.__getitem__)
    return (widest, *compared[widest]) if beyond[widest] > 0 else None


def jitter_seen(runs: Sequence[Sequence[float]], noise: Noise = DEFAULT_NOISE) -> bool:
    return _jitter_at(runs, noise) is not None


def _range_at_most(width: float, spread: float, k: int) -> float:
    """P(max - min <= width) for k independent U(0, spread)."""
    x = min(1.0, width / spread)
    return k * x ** (k - 1) - (k - 1) * x**k


def delays_of(answered: Sequence[float | None], started: Sequence[float], queued: Sequence[float] = ()) -> list[float]:
    """Gap between each attempt's answer (or start, for a reset) and the next attempt's start, less what the
    client spent waiting for a CPU in that gap (`queued[i]`, seconds, when measured: harness/runqueue.py)."""
    gaps = []
    for i in range(len(started) - 1):
        end = answered[i] if answered[i] is not None else started[i]
        lost = queued[i] if i < len(queued) else 0.0
        gaps.append(max(0.0, started[i + 1] - end - lost))  # type: ignore[operator]
    return gaps
