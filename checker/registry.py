"""The check registry: one decorated async function per rule id; a new kind of check is one registration.

A leaf: every probe module imports it to register its checks; whoever needs the full set imports the probes
(the engine: `checker.engine.registered`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checker.model import Outcome, Rule
    from checker.probes.context import ProbeContext

CheckFn = Callable[["ProbeContext", "Rule"], Awaitable["Outcome"]]


@dataclass(frozen=True, slots=True)
class Check:
    """What golive runs for a rule; what it probes is the catalog's to say (`Rule.target`, `Rule.probes`), not the check's."""

    rule_id: str
    fn: CheckFn
    creates: bool  # sends requests that create resources: refused with a live key


_CHECKS: dict[str, Check] = {}


def check(rule_id: str, *, creates: bool = False) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        known = _CHECKS.get(rule_id)
        # the same function registered again is its module imported again (pytester's in-process runs drop the modules a
        # run imported, this registry stays): the newer one replaces it; another function for the rule is a mistake
        if known is not None and (known.fn.__module__, known.fn.__qualname__) != (fn.__module__, fn.__qualname__):
            raise RuntimeError(f"a check for {rule_id} is already registered ({_CHECKS[rule_id].fn.__qualname__})")
        _CHECKS[rule_id] = Check(rule_id, fn, creates)
        return fn

    return register


def registered() -> dict[str, Check]:
    """The checks registered so far (the built-in ones once `checker.probes` is imported)."""
    return dict(_CHECKS)
