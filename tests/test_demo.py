"""`golive demo`: the bundled example integrations against the embedded sandbox, as a user runs it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import golive


@pytest.mark.parametrize("provider", ["mintfax"])
def test_the_good_example_is_ready(tmp_path, provider):
    done = golive("demo", "--provider", provider, "--output", "out", cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    statuses = {r["id"]: r["status"] for r in report["results"]}
    assert report["verdict"] == "ready"
    assert not [i for i, s in statuses.items() if s in ("fail", "error")]
    for rule_id in ("IDEM-101", "IDEM-102", "RETRY-102", "RETRY-106", "RATE-101", "ERR-101", "FILE-101"):
        assert statuses[rule_id] == "pass", rule_id


@pytest.mark.parametrize("provider", ["mintfax"])
def test_the_flawed_example_is_not_ready_for_the_right_reasons(tmp_path, provider):
    done = golive("demo", "--flawed", "--provider", provider, "--output", "out", cwd=tmp_path, timeout=240)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    statuses = {r["id"]: r["status"] for r in report["results"]}
    for rule_id in ("IDEM-102", "RETRY-103", "RETRY-105", "RETRY-106", "RETRY-107", "RATE-101", "ERR-101", "FILE-102"):
        assert statuses[rule_id] == "fail", (rule_id, statuses[rule_id])
    assert "Verdict: NOT READY" in done.stdout
