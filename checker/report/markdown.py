"""Markdown for a pull request comment or a CI step summary."""

from __future__ import annotations

from checker.model import RunResult
from checker.report.common import ICONS, STATUS_ORDER, Obj, counts, not_covered, sign_off, templates

FILE = "report.md"


def render(run: RunResult) -> str:
    data = run.to_json()
    results = [Obj(r) for r in data["results"]]
    attention = [r for r in results if r["status"] in ("fail", "error", "waived", "manual")]
    attention.sort(key=lambda r: STATUS_ORDER.index(r["status"]))
    # the failures that rest on golive's assumptions rather than the provider's documents, and what is assumed
    assumed = [(r["id"], [b for b in r.get("basis") or [] if "assumed" in b]) for r in attention if r["status"] == "fail"]
    assumed = [(rule_id, [Obj(b) for b in items]) for rule_id, items in assumed if items]
    expired = [Obj(w) for w in data.get("waivers", []) if w["state"] == "expired"]
    template = templates("md").get_template("report.md")
    return str(
        template.render(
            run=Obj({**data, "results": results}, tool_version=run.tool_version),
            verdict=run.verdict_label(),
            coverage=run.coverage_line(),
            counts=counts(data),
            attention=attention,
            assumed=assumed,
            expired=expired,
            icons=ICONS,
            uncovered=not_covered(run),
            signed=sign_off(run),
        )
    )
