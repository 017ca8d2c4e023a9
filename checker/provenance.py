"""Where each provider fact comes from, and which facts a verdict read.

A pack states, per fact, either the document and the sentence it rests on (documented) or golive's reading
and why (assumed); `checker/basis.py` joins that with the facts each catalog rule declares it rests on
(`facts:` in rules/catalog.yaml) into the rule's basis, which `explain`, `rules` and every report show.

Declarations can drift from the code, so the code is watched too: every facts model (checker/facts.py's
`FactsModel`) records the fields a check reads while `READING` holds a set (the engine gives each rule its own; a
shared probe gets one of its own, merged into every rule that awaits it: checker/probes/context.py). The test suite compares what each
rule read with what it declares (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

READING: ContextVar[set[str] | None] = ContextVar("golive_facts_read", default=None)


def covers(declared: str, read: str) -> bool:
    """A rule that declares `declared` may read `read` (the fact itself, or a part of it)."""
    return read == declared or read.startswith(declared + ".")


@contextmanager
def untracked() -> Iterator[None]:
    """Reads that shape no verdict (the live-key guard, which recipient a client is given, what the proxy records
    for the evidence) are not a rule's basis."""
    token = READING.set(None)
    try:
        yield
    finally:
        READING.reset(token)
