"""Markdown for a pull request comment or a CI step summary."""

from __future__ import annotations

from checker.model import RunResult, Status
from checker.report.common import ICONS, STATUS_ORDER, counts, not_covered, sign_off, templates

FILE = "report.md"


def render(run: RunResult) -> str:
    attention = [r for r in run.results if r.status in ("fail", "error", "waived", "manual")]
    attention.sort(key=lambda r: STATUS_ORDER.index(r.status))
    # the failures that rest on golive's assumptions rather than the provider's documents, and what is assumed
    assumed = [(r.rule.id, r.rule.assumptions) for r in attention if r.status is Status.FAIL]
    expired = [w for w in run.waivers if w["state"] == "expired"]
    template = templates("md").get_template("report.md")
    return str(
        template.render(
            run=run,
            verdict=run.verdict_label(),
            coverage=run.coverage_line(),
            counts=counts(run),
            attention=attention,
            assumed=[(rule_id, items) for rule_id, items in assumed if items],
            expired=expired,
            icons=ICONS,
            uncovered=not_covered(run),
            signed=sign_off(run),
        )
    )
