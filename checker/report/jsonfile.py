"""report.json: the run as data (schema golive-report/1)."""

from __future__ import annotations

import json

from checker.model import RunResult

FILE = "report.json"


def render(run: RunResult) -> str:
    return json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n"
