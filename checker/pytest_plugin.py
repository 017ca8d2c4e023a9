"""golive's pytest plugin, registered by entry point (pyproject.toml, `pytest11`): `pip install golive` is enough.

Fixtures (docs/pytest.md, "Use golive from your tests"):
- `golive_sandbox("stripe")`: the embedded sandbox of a built-in provider or a pack path, for this test;
  `.url`, `.api_key`, `.advance(seconds)`, `.resources()`, `.deliver_to(url, secret)`.
- `golive_faults(upstream_url, ["503", "reset", "429:2", "hang"])`: a proxy answering the first requests with those
  faults in order, then forwarding; `.url`, `.requests`.
- `golive_check("golive.yaml", select=["RETRY"])`: a `golive check` run; `.ready`, `.status(id)`, `.results`.

Whatever a test started is stopped when it ends, failed or not. This module imports nothing heavy: pytest loads it in
every project where golive is installed, and the fixtures import what they need when a test asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from checker.testing import CheckRun, Faults, Sandbox

_RUNS = pytest.StashKey[list["CheckRun"]]()


@pytest.fixture
def golive_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """A factory: `golive_sandbox("stripe")` starts that provider's embedded sandbox on 127.0.0.1 for this test."""
    from checker.testing import Sandbox, Started

    started = Started()

    def start(provider: str = "mintfax", **kwargs: Any) -> Sandbox:
        return started.add(Sandbox(provider, **kwargs))

    try:
        yield start
    finally:
        started.stop_all()


@pytest.fixture
def golive_faults() -> Iterator[Callable[..., Faults]]:
    """A factory: `golive_faults(upstream_url, ["503", "reset", "429:2", "hang"])` starts a fault-injecting proxy."""
    from checker.testing import Faults, Started

    started = Started()

    def start(upstream: str, faults: list[str] | tuple[str, ...] = (), **kwargs: Any) -> Faults:
        return started.add(Faults(upstream, faults, **kwargs))

    try:
        yield start
    finally:
        started.stop_all()


@pytest.fixture
def golive_check(request: pytest.FixtureRequest) -> Callable[..., CheckRun]:
    """A function: `golive_check("golive.yaml", select=["RETRY"])` runs a check and returns the run. When the test
    fails, the triage of each run it made (what to fix first, the verdict) is added to the failure's report."""
    from checker.testing import check

    runs = request.node.stash.setdefault(_RUNS, [])

    def run(config: str = "golive.yaml", **kwargs: Any) -> CheckRun:
        made = check(config, **kwargs)
        runs.append(made)
        return made

    return run


@pytest.hookimpl(hookwrapper=True)  # the old style: pytest 7 has no `wrapper=True`
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    runs = item.stash.get(_RUNS, [])
    if runs and report.when == "call" and report.failed:
        for n, made in enumerate(runs, 1):
            title = f"golive check{f' ({n} of {len(runs)})' if len(runs) > 1 else ''}: {made.run.verdict_label()}"
            report.sections.append((title, made.triage()))


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object, right: object) -> list[str] | None:
    """`assert run.status("RETRY-101") == "pass"` failing: the rule's message, fix and evidence under the comparison."""
    from checker.testing import RuleStatus

    for side in (left, right):
        if isinstance(side, RuleStatus):
            return [f"{str(left)!r} {op} {str(right)!r}", "", *side.explain()]
    return None
