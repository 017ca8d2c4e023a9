"""JUnit XML: one test suite per section, for CI test tabs."""

from __future__ import annotations

from checker.model import Result, RunResult
from checker.report.common import Obj, sections, templates

FILE = "junit.xml"


def render(run: RunResult) -> str:
    blocking = {"fail", "error"} | ({"manual"} if run.environment == "live" else set())
    suites = []
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for name, results in sections(run.results):
        counts = {"failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        cases = []
        for result in results:
            status = result.status
            kind = (
                "error" if status == "error" else "failure" if status in blocking else "skipped" if status in ("skip", "manual") else "pass"
            )
            key = {"failure": "failures", "error": "errors", "skipped": "skipped"}.get(kind)
            if key:
                counts[key] += 1
                totals[key] += 1
            cases.append((result, kind))
        counts["time"] = elapsed(results, run.duration_s)
        suites.append((name, cases, Obj(counts)))
    template = templates("xml").get_template("junit.xml")
    return str(template.render(run=run, suites=suites, totals=Obj(totals)))


def elapsed(results: list[Result], run_s: float) -> float:
    """A section's real time: how long any of its rules was running (the union of their spans), not the sum of their
    durations, which counts concurrent probes over and over. A report from before rules recorded when they started
    gives no spans: then the sum, at most the run's own duration."""
    timed = [(float(r.started_s), float(r.duration_s)) for r in results if r.started_s is not None]
    spans = sorted((start, start + took) for start, took in timed)
    if not spans:
        return min(float(sum(r.duration_s for r in results)), run_s)
    total, (start, end) = 0.0, spans[0]
    for begin, finish in spans[1:]:
        if begin > end:
            total, start, end = total + (end - start), begin, finish
        else:
            end = max(end, finish)
    return total + (end - start)
