"""What changed between two runs."""

from __future__ import annotations

from typing import Any

from checker.model import RunResult
from checker.printable import printable_line
from checker.report.common import md_text

BAD = {"fail", "error"}


def diff_runs(old: RunResult, new: RunResult) -> dict[str, Any]:
    before = {r.rule.id: r for r in old.results}
    after = {r.rule.id: r for r in new.results}
    new_failures, fixed, changed = [], [], []
    for rule_id, result in after.items():
        was = before.get(rule_id)
        was_status = was.status.value if was else None
        now = result.status.value
        entry = {"id": rule_id, "title": result.rule.title, "severity": result.severity.value, "old": was_status, "new": now}
        if now in BAD and was_status not in BAD:
            new_failures.append({**entry, "message": result.full_message})
        elif was_status in BAD and now not in BAD:
            fixed.append(entry)
        elif was_status != now:
            changed.append(entry)
    gone = [{"id": i, "title": r.rule.title, "old": r.status.value, "new": None} for i, r in before.items() if i not in after]
    return {
        "old": {"verdict": old.verdict, "started_at": old.started_at},
        "new": {"verdict": new.verdict, "started_at": new.started_at},
        "new_failures": new_failures,
        "fixed": fixed,
        "changed": changed + gone,
    }


def render_diff(changes: dict[str, Any], *, markdown: bool = False) -> str:
    """The changes as text (or Markdown): one printable line per change, none a CI runner reads as a command, whatever
    the reports' titles, ids and messages hold (a saved report is anyone's file)."""
    lines = [printable_line(f"verdict: {changes['old']['verdict']} -> {changes['new']['verdict']}")]
    for title, key in (("New failures", "new_failures"), ("Fixed", "fixed"), ("Changed", "changed")):
        items = changes[key]
        lines.append(f"\n{'### ' if markdown else ''}{title} ({len(items)})")
        for item in items:
            text = f"{item['id']} {item['title']}: {item['old'] or 'absent'} -> {item['new'] or 'absent'}"
            if item.get("message"):
                text += f" — {item['message']}"
            lines.append(f"- {md_text(text)}" if markdown else printable_line(f"  {text}"))
    return "\n".join(lines)
