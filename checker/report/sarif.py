"""SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from checker.model import RunResult, Severity, Status
from checker.report.common import basis_text, md_text
from checker.report.places import places

FILE = "report.sarif"

SARIF_LEVEL = {Severity.BLOCKER: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT = "goliveFinding/v1"  # a tool-specific partialFingerprints key; v1 names what places.fingerprint hashes
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def render(run: RunResult) -> str:
    """SARIF 2.1.0 for code scanning: one result per failed (or waived) rule and place: the files its evidence names,
    else the golive.yaml line that configures the rule's target; each with a fingerprint that survives re-runs."""
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
                    # a pack's words (the facts its texts are filled with, its document titles, quotes, assumptions) are
                    # text, never markup: no link, image or HTML of a pack's reaches code scanning
                    "markdown": f"{md_text(rule.why, cut=None)}\n\n**How to fix:** {md_text(rule.fix, cut=None)}\n\n"
                    f"Source: {md_text(source)}{basis_text(rule, '- ', md_text)}",
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
                    "message": {"text": f"{result.rule.id}: {result.full_message}"},
                    "associatedRule": {"id": result.rule.id, "index": index[result.rule.id]},
                }
            )
        if result.status not in (Status.FAIL, Status.WAIVED):
            continue
        for place in places(run, result):
            item: dict[str, Any] = {
                "ruleId": result.rule.id,
                "ruleIndex": index[result.rule.id],
                "level": SARIF_LEVEL[result.severity],
                "message": {"text": result.full_message},
                # stable across runs of the same integration (checker/report/places.py says what it hashes)
                "partialFingerprints": {FINGERPRINT: place.fingerprint},
            }
            if place.uri:
                item["locations"] = [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": quote(place.uri), "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": place.line},
                        }
                    }
                ]
            if result.status is Status.WAIVED:
                item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": result.full_message}]
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
