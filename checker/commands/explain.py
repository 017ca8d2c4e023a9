"""`golive rules` and `golive explain`: a rule as the catalog states it, and with --provider as a pack states it
(its numbers and words, source or skip, parameters) with what its verdict rests on."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from checker.model import Rule


def say(text: str = "") -> None:
    """A line of `rules` or `explain`: a pack's words in it come printable from its loading (packs.shown); none of its
    lines is a workflow command to a CI runner, wherever the wrapping puts a pack's `::`."""
    from checker.printable import no_command

    click.echo(no_command(text))


def rules(provider: str | None, fmt: str) -> int:
    """Every rule on a line (or as JSON): id, section, target, severity, title; with --provider whether it applies."""
    from checker.packs import filled, load_catalog, load_pack

    assumes: dict[str, list[str]] = {}  # per rule that applies, the facts golive assumes
    if provider:
        pack = load_pack(provider, relative_to=Path.cwd())
        assumes = {r.id: [b.fact for b in r.assumptions] for r in pack.rules if r.skip is None}
        items: list[dict[str, Any]] = [
            {
                "id": r.id,
                "section": r.section,
                "target": r.target,
                "severity": r.severity.value,
                "title": r.title,
                "applies": r.skip is None,
                "skip_reason": r.skip,
                "source": r.source,
                "cite": r.cite,
                "basis": [item.to_json() for item in r.basis],
                "readings": [item.to_json() for item in r.readings],
            }
            for r in pack.rules
        ]
    else:
        catalog, _ = load_catalog()
        items = [
            {"id": r.id, "section": r.section, "target": r.target, "severity": r.severity.value, "title": filled(r.title, None)}
            for r in catalog.rules
        ]
    if fmt == "json":
        click.echo(json.dumps({"provider": provider, "rules": items}, indent=2, ensure_ascii=False))  # cites read "Title — URL"
        return 0
    for item in items:
        note = "" if item.get("applies", True) else f"  (skip: {item['skip_reason']})"
        assumed = assumes.get(item["id"], [])
        note += f"  (assumes: {', '.join(assumed)})" if assumed else ""
        say(f"{item['id']:<10} {item['section']:<15} {item['target']:<8} {item['severity']:<8} {item['title']}{note}")
    return 0


def explain(rule_id: str, provider: str | None) -> int:
    """The rule's words (in the pack's numbers with --provider, else each fact's placeholder), then its sources: every
    built-in pack's, or the one pack's with the basis of its verdict."""
    import difflib

    from checker.packs import BUILTIN_PACKS, TEXTS, filled, load_catalog, load_pack

    catalog, _ = load_catalog()
    known = {r.id: r for r in catalog.rules}
    rule = known.get(rule_id.upper())
    if rule is None:
        close = difflib.get_close_matches(rule_id.upper(), known, n=1)
        raise click.UsageError(f"unknown rule {rule_id!r}" + (f"; did you mean {close[0]}?" if close else "; see `golive rules`"))
    # in the pack's numbers and words with --provider; else each fact's placeholder (<retry.max_attempts>)
    words = (
        load_pack(provider, relative_to=Path.cwd()).rule(rule.id)
        if provider
        else rule.model_copy(update={n: filled(getattr(rule, n), None) for n in TEXTS})
    )
    say(f"{rule.id}  {words.title}")
    say(f"section: {rule.section} · target: {rule.target} · default severity: {rule.severity.value}")
    for label, text in (
        ("What it checks", words.checks),
        ("Why", words.why),
        ("How golive probes it", words.probe),
        ("How to fix", words.fix),
    ):
        say(f"\n{label}:")
        say(textwrap.fill(text, width=92, initial_indent="  ", subsequent_indent="  "))
    say("\nSources:")
    for name in [provider] if provider else list(BUILTIN_PACKS):
        pack = load_pack(name, relative_to=Path.cwd())
        pack_rule = pack.rule(rule.id)
        where = pack_rule.cite or pack_rule.source if pack_rule.source or pack_rule.cite else f"skip: {pack_rule.skip}"
        params = f"  params: {dict(pack_rule.params)}" if pack_rule.params else ""  # a dict's repr: every string escaped
        say(f"  {pack.name}: {where}{params}")
        if provider and not pack_rule.skip:
            explain_basis(pack_rule)
    if not provider:
        say("\n(--provider NAME also shows each fact the verdict rests on: documented, with its sentence, or assumed)")
    return 0


def explain_basis(rule: Rule) -> None:
    """Per fact the rule rests on: documented (the document and its sentence) or assumed (why); then the
    conflicts between the provider's documents and the reading golive takes."""
    from checker.model import Assumed, Documented

    def wrapped(text: str, indent: str) -> None:
        say(textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False))

    if rule.basis:
        say("\nWhat the verdict rests on:")
    for item in rule.basis:
        if isinstance(item, Documented):
            wrapped(f"documented: {item.fact} = {item.value}", "  ")
            wrapped(f'{item.documented} says "{item.quote}"', "      ")
        elif isinstance(item, Assumed):
            wrapped(f"assumed: {item.fact} = {item.value}", "  ")
            wrapped(item.assumed, "      ")
        else:
            wrapped(f"unstated: {item.fact} = {item.value} ({item.unstated})", "  ")
    for reading in rule.readings:
        say(f"\nWhere the documents disagree: {reading.about}")
        for quote in reading.quotes:
            wrapped(f'{quote.document} says "{quote.quote}"', "  ")
        wrapped(f"reading: {reading.reading}", "  ")
        wrapped(f"otherwise: {reading.otherwise}", "  ")
