"""JUnit XML: one test suite per section, for CI test tabs."""

from __future__ import annotations

from checker.model import RunResult
from checker.report.common import Obj, sections, templates

FILE = "junit.xml"


def render(run: RunResult) -> str:
    data = run.to_json()
    blocking = {"fail", "error"} | ({"manual"} if data["environment"] == "live" else set())
    suites = []
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for name, results in sections(data["results"]):
        counts = {"failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        items = []
        for result in results:
            status = result["status"]
            kind = (
                "error" if status == "error" else "failure" if status in blocking else "skipped" if status in ("skip", "manual") else "pass"
            )
            key = {"failure": "failures", "error": "errors", "skipped": "skipped"}.get(kind)
            if key:
                counts[key] += 1
                totals[key] += 1
            counts["time"] += result["duration_s"]
            items.append(Obj({**result, "kind": kind}))
        suites.append((name, items, Obj(counts)))
    template = templates("xml").get_template("junit.xml")
    return str(template.render(run=Obj(data, tool_version=run.tool_version), suites=suites, totals=Obj(totals)))
