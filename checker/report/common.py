"""What every renderer shares: the Jinja2 environments, text made safe for each format, counts and sections."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from checker.model import Assumed, Documented, Result, Rule, RunResult
from checker.printable import printable

STATUS_ORDER = ("fail", "error", "manual", "waived", "pass", "attested", "skip")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#!])")
ICONS = {"pass": "✅", "fail": "❌", "error": "⚠️", "skip": "➖", "waived": "🟪", "manual": "✋", "attested": "☑️"}


def basis_lines(rule: Rule) -> list[str]:
    """What a rule's verdict rests on, one line per fact and per reading (SARIF's help, Markdown's notes); a fact the
    pack does not say where from is left out (`golive explain` names it)."""
    lines = []
    for item in rule.basis:
        if isinstance(item, Documented):
            lines.append(f'documented: {item.fact} = {item.value} ({item.documented} says "{item.quote}")')
        elif isinstance(item, Assumed):
            lines.append(f"assumed: {item.fact} = {item.value} ({item.assumed})")
    for reading in rule.readings:
        lines.append(f"the documents disagree on {reading.about}; golive's reading: {reading.reading}")
    return lines


def basis_text(rule: Rule, bullet: str = "", escape: Callable[[str], str] = printable) -> str:
    lines = basis_lines(rule)
    return "\n\nWhat the verdict rests on:\n" + "\n".join(bullet + escape(line) for line in lines) if lines else ""


@cache
def templates(kind: str) -> Any:
    """The Jinja2 environment for one kind of template. Every `{{ value }}` passes through `finalize` for
    that kind, so no field of any template (a pack's name, a section, a target's message) can carry markup
    or characters its format cannot hold, whoever wrote the template: HTML and XML are autoescaped, XML
    also loses what XML 1.0 forbids, Markdown is escaped and kept on one line, and control characters are
    shown as escapes everywhere."""
    import jinja2
    from markupsafe import Markup

    from checker.packs import data_dir

    def finalize(value: Any) -> Any:
        if isinstance(value, Markup):  # golive's own CSS, script and SVG
            return value
        if kind == "md":
            return md_text(value)
        if not isinstance(value, str):
            return value
        text = printable(value)
        return _XML_INVALID.sub("?", text) if kind == "xml" else text

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("reports"))),
        autoescape=kind in ("html", "xml"),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
    )
    return env


def md_text(value: object, cut: int | None = 500) -> str:
    """Text from anywhere, safe in a Markdown table cell: one line, markup characters escaped; at most `cut` long."""
    text = re.sub(r"\s+", " ", printable(str(value)))  # one line; a template's own " · " keeps its spaces
    text = _MD_SPECIAL.sub(lambda m: "&lt;" if m.group(1) == "<" else "&gt;" if m.group(1) == ">" else "\\" + m.group(1), text)
    return text if cut is None or len(text) <= cut else text[:cut] + "…"


def counts(run: RunResult) -> list[tuple[str, int]]:
    summary = run.summary()
    return [(status, summary[status]) for status in STATUS_ORDER if summary.get(status, 0)]


def sections(results: Iterable[Result]) -> list[tuple[str, list[Result]]]:
    sections: dict[str, list[Result]] = {}
    for result in results:
        sections.setdefault(result.rule.section, []).append(result)
    return list(sections.items())


class Obj(dict):  # type: ignore[type-arg]
    """A view model (a row, a group, a card) whose keys Python can also read as attributes; the run itself reaches the
    templates typed (model.RunResult)."""

    def __init__(self, data: dict[str, Any], **extra: Any) -> None:
        super().__init__(data, **extra)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def safe(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)  # golive's own CSS/JS, never a target's text


# what a reviewer reads under "Not covered, and why": each kind of gap, in this order, with what it means
NOT_COVERED = (
    ("documents", "The provider documents none", "the provider's documents (as the pack keeps them) state nothing to judge"),
    ("not configured", "Not configured", "golive.yaml leaves out the target or setting the rule needs"),
    ("deselected", "Deselected", "left out of this run by --select, --ignore or rules: in golive.yaml"),
    ("waived", "Waived", "failed, and a waiver in golive.yaml covers the failure until it expires"),
    ("not implemented", "Not implemented", "this version of golive has no check for the rule"),
    ("skipped", "Skipped", "a report from before golive recorded why: the reason is the rule's message"),
)


def not_covered(run: RunResult) -> list[Obj]:
    """What the run did not cover, grouped by why (NOT_COVERED), each rule with its reason: skips by their recorded kind
    (`not_covered` in report.json), waived failures with their waiver, and the pack's rules the run left out."""
    groups: dict[str, list[Obj]] = {kind: [] for kind, _, _ in NOT_COVERED}
    for result in run.results:
        if result.status.value == "waived" and result.waiver:
            waiver = result.waiver
            reason = f"{waiver.get('reason')} — by {waiver.get('by')}, until {waiver.get('expires')}"
            groups["waived"].append(Obj({"id": result.rule.id, "title": result.rule.title, "reason": reason}))
        elif result.status.value == "skip":
            kind = result.uncovered if result.uncovered in groups else "skipped"
            groups[kind].append(Obj({"id": result.rule.id, "title": result.rule.title, "reason": result.message}))
    from checker.packs import filled, load_catalog

    titles = {rule.id: filled(rule.title, None) for rule in load_catalog()[0].rules}
    for rule_id in run.coverage.deselected if run.coverage else ():
        groups["deselected"].append(Obj({"id": str(rule_id), "title": titles.get(str(rule_id), ""), "reason": ""}))
    return [
        Obj({"kind": kind, "label": label, "meaning": meaning, "rules": groups[kind]})
        for kind, label, meaning in NOT_COVERED
        if groups[kind]
    ]


def sign_off(run: RunResult) -> Obj | None:
    """The reviewer's sign-off recorded in a saved report (`golive report sign`), with whether the report is still what
    was signed."""
    return Obj(dict(run.signature)) if run.signature else None
