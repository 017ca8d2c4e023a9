"""`pip install .` gives a working golive: the wheel carries the package, rules/ and reports/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT

# slow, left out of the fast tier: builds the wheel and runs golive from it
pytestmark = pytest.mark.slow


def test_the_wheel_ships_rules_and_reports_and_runs_from_them(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("golive-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "checker/cli.py",
        "checker/py.typed",
        "checker/rules/catalog.yaml",
        "checker/rules/mintfax.yaml",
        "checker/rules/golive.template.yaml",
        "checker/reports/README.md",
        "checker/examples/mintfax/good/golive.yaml",
        "checker/examples/mintfax/good/send_fax.py",
        "checker/examples/mintfax/flawed/send_fax.py",
        "checker/examples/idunox/good/submit.py",
        "checker/examples/flexforward/good/create_label.py",
    ):
        assert expected in names, f"{expected} is not in the wheel"
    assert not any(n.startswith(("tests/", "bench/", "rules/")) for n in names)
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(unpacked)}  # the unpacked wheel instead of the checkout
    listed = subprocess.run(
        [sys.executable, "-m", "checker", "rules", "--provider", "idunox", "--format", "json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["rules"]) == 59
    located = subprocess.run(
        [sys.executable, "-c", "import checker.packs as p; print(p.data_dir('rules'))"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert located.stdout.strip() == str(unpacked / "checker" / "rules")
