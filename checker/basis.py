"""Each rule's basis: the facts its verdict rests on (the catalog's `facts:`) joined with where the pack says each comes
from (`provenance:`: a document and its sentence, or golive's assumption), and the readings golive takes where the
pack's documents disagree (`conflicts:`). Every output shows them; the engine tags a failure that rests on an
assumed or contested fact."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

import pydantic

from checker.catalog import WORDS, load_catalog, shown
from checker.errors import Problem
from checker.facts import fact_paths, fact_value, is_fact_path
from checker.model import UNSTATED, Assumed, Basis, Documented, Reading, ReadingScope, Unstated
from checker.model import Quote as QuoteShown
from checker.packfile import PackFile, Provenance
from checker.provenance import covers
from checker.yamlfile import YamlDocument


def _provenance_problems(pack: PackFile, doc: YamlDocument) -> list[Problem]:
    known = {rule.id for rule in load_catalog()[0].rules}
    problems = []
    for path, entry in pack.provenance.items():
        if not is_fact_path(path):
            close = difflib.get_close_matches(path, fact_paths(), n=1)
            problems.append(doc.problem(("provenance", path), "no such fact", f"did you mean '{close[0]}'?" if close else ""))
        if entry.doc is not None and entry.doc not in pack.documents:
            problems.append(doc.problem(("provenance", path, "doc"), f"unknown document {entry.doc!r}", "name it under 'documents:'"))
    for index, conflict in enumerate(pack.conflicts):
        for path in conflict.facts:
            if not is_fact_path(path):
                problems.append(doc.problem(("conflicts", index, "facts"), f"no such fact: {path!r}"))
        for rule_id in conflict.rules:
            if rule_id not in known:
                problems.append(doc.problem(("conflicts", index, "rules"), f"unknown rule id {rule_id!r}"))
        for n, quote in enumerate(conflict.quotes):
            if quote.doc not in pack.documents:
                problems.append(doc.problem(("conflicts", index, "quotes", n, "doc"), f"unknown document {quote.doc!r}"))
    return problems


def _leaves(pack: PackFile, path: str) -> list[str]:
    """The facts a declared path stands for, as the pack sets them: a section's fields, a mapping's keys when the
    pack states their provenance one by one ("magic.busy"), else the fact itself; unset ones are left out."""
    paths = fact_paths()
    below = [p for p in paths if p == path or p.startswith(path + ".")] or [path]
    leaves = []
    for leaf in (p for p in below if not any(q.startswith(p + ".") for q in paths) and p not in WORDS):
        value = fact_value(pack.facts, leaf)
        if value is None or value == {} or value == []:  # unset, or empty: no fact to rest on
            continue
        if isinstance(value, Mapping) and any(f"{leaf}.{key}" in pack.provenance for key in value):
            leaves += [f"{leaf}.{key}" for key in value]
        else:
            leaves.append(leaf)
    return leaves


def provenance_of(pack: PackFile, path: str) -> Provenance | None:
    """The entry that states where `path` comes from: its own, or an enclosing fact's."""
    parts = path.split(".")
    return next((pack.provenance[p] for n in range(len(parts), 0, -1) if (p := ".".join(parts[:n])) in pack.provenance), None)


def _basis(pack: PackFile, paths: list[str]) -> tuple[Basis, ...]:
    """Per fact a rule rests on and the pack sets: its value, and the document and sentence, or the assumption."""
    basis: list[Basis] = []
    for leaf in dict.fromkeys(leaf for path in paths for leaf in _leaves(pack, path)):
        value = fact_value(pack.facts, leaf)
        value = int(value) if isinstance(value, float) and value.is_integer() else value
        value = value.model_dump(exclude_defaults=True) if isinstance(value, pydantic.BaseModel) else value
        fact, shown_value = shown(leaf), _cut(shown(json.dumps(value, ensure_ascii=False, sort_keys=True)))
        entry = provenance_of(pack, leaf)
        if entry is None:
            basis.append(Unstated(fact=fact, value=shown_value, unstated=UNSTATED))
        elif entry.assumed is not None:
            basis.append(Assumed(fact=fact, value=shown_value, assumed=shown(entry.assumed)))
        else:
            documented, quote = _cite(pack, entry.doc, entry.lines), shown(entry.quote or "")
            basis.append(Documented(fact=fact, value=shown_value, documented=documented, quote=quote))
    return tuple(basis)


def _readings(pack: PackFile, rule_id: str, paths: list[str]) -> tuple[Reading, ...]:
    """The conflicts between documents that touch a fact the rule rests on, with the reading golive takes."""
    return tuple(
        Reading(
            about=shown(conflict.about),
            quotes=tuple(QuoteShown(document=_cite(pack, q.doc), quote=shown(q.quote)) for q in conflict.quotes),
            reading=shown(conflict.reading),
            otherwise=shown(conflict.otherwise),
        )
        for conflict in pack.conflicts
        if (rule_id in conflict.rules if conflict.rules else any(covers(a, b) or covers(b, a) for a in paths for b in conflict.facts))
    )


def _reading_scopes(pack: PackFile, rule_id: str, paths: list[str]) -> tuple[ReadingScope, ...]:
    """Per reading of `_readings` (in its order): the facts it sets, whether the pack names the rule, the values
    disputed — what the engine needs to tell whether a reading decided a failure."""
    return tuple(
        ReadingScope(facts=tuple(c.facts), named=rule_id in c.rules, values=tuple(c.values))
        for c in pack.conflicts
        if (rule_id in c.rules if c.rules else any(covers(a, b) or covers(b, a) for a in paths for b in c.facts))
    )


def _cite(pack: PackFile, name: str | None, lines: str | None = None) -> str:
    """A document as "Title — URL" ("Title, lines 190-203 — URL" where the pack says where in it); a name the pack
    lists under no `documents:` is cited as the pack wrote it."""
    document = pack.documents.get(name or "")
    return shown(document.cite(lines) if document is not None else str(name))


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frozen(params: Mapping[str, Any]) -> Mapping[str, Any]:
    from types import MappingProxyType

    return MappingProxyType(dict(params))
