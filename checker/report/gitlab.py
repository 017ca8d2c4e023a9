"""GitLab Code Quality (a Code Climate subset): one issue per finding and place, shown in the merge request's widget;
the same places and fingerprints as SARIF."""

from __future__ import annotations

import json
from typing import Any

from checker.model import RunResult, Severity
from checker.report.places import places, reported, what_happened

FILE = "gl-code-quality-report.json"

# GitLab's scale is info | minor | major | critical | blocker: a go-live blocker is its blocker, a warning (which
# `--fail-on warning` makes blocking) major
SEVERITY = {Severity.BLOCKER: "blocker", Severity.WARNING: "major", Severity.INFO: "info"}


def render(run: RunResult) -> str:
    issues: list[dict[str, Any]] = []
    for result in reported(run):
        rule = result.rule
        for place in places(run, result):
            issues.append(
                {
                    "type": "issue",
                    "check_name": rule.id,
                    "description": f"{rule.id} {rule.title}: {what_happened(result)}",
                    "fingerprint": place.fingerprint,
                    "severity": SEVERITY[result.severity],
                    # a run without a config file has no file to name: "." is the project itself
                    "location": {"path": place.uri or ".", "lines": {"begin": place.line}},
                }
            )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
