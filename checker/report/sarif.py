"""SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from typing import Any

from checker.model import RunResult, Severity, Status
from checker.report.common import basis_text, md_text

FILE = "report.sarif"

SARIF_LEVEL = {Severity.BLOCKER: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def render(run: RunResult) -> str:
    """SARIF 2.1.0 for code scanning: one result per failed (or waived) rule and file location."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for result in run.results:
        rule = result.rule
        source = rule.cite or rule.source or "n/a"
        index[rule.id] = len(rules)
        rules.append(
            {
                "id": rule.id,
                "name": "".join(word.capitalize() for word in rule.title.replace("-", " ").split() if word.isalnum())[:64] or rule.id,
                "shortDescription": {"text": rule.title},
                "fullDescription": {"text": rule.checks},
                "help": {
                    "text": f"{rule.why}\n\nHow to fix: {rule.fix}{basis_text(rule)}",
                    # a pack's words (its document titles, quotes, assumptions) are text, never markup
                    "markdown": f"{rule.why}\n\n**How to fix:** {rule.fix}\n\nSource: {md_text(source)}{basis_text(rule, '- ', md_text)}",
                },
                "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
                "properties": {"section": rule.section, "target": rule.target, "tags": [rule.section, rule.target]},
            }
        )
    results, notifications = [], []
    for result in run.results:
        if result.status is Status.ERROR:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": f"{result.rule.id}: {result.message}"},
                    "associatedRule": {"id": result.rule.id, "index": index[result.rule.id]},
                }
            )
        if result.status not in (Status.FAIL, Status.WAIVED):
            continue
        places: list[tuple[str | None, object]] = [
            (str(e["file"]), e.get("line")) for e in result.evidence if isinstance(e.get("file"), str)
        ]
        if not places:  # a finding about the configuration as a whole: point at the config file
            places = [(run.config_file, None)]
        for file, line in places:
            item: dict[str, Any] = {
                "ruleId": result.rule.id,
                "ruleIndex": index[result.rule.id],
                "level": SARIF_LEVEL[result.severity],
                "message": {"text": result.message},
            }
            if file:
                start = line if isinstance(line, int) and line > 0 else 1
                item["locations"] = [
                    {"physicalLocation": {"artifactLocation": {"uri": file, "uriBaseId": "%SRCROOT%"}, "region": {"startLine": start}}}
                ]
            if result.status is Status.WAIVED:
                item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": result.message}]
            results.append(item)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "golive",
                        "version": run.tool_version,
                        "semanticVersion": run.tool_version,
                        "informationUri": "https://github.com/golive/golive",
                        "rules": rules,
                    }
                },
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
                "results": results,
                "properties": {"provider": run.provider, "environment": run.environment, "verdict": run.verdict},
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
