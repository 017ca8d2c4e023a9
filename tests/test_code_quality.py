"""The code stays as STYLE.md asks: ruff-clean and formatted, and `mypy --strict` on the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint():
    done = run("ruff", "check", "checker", "tests", "bench")
    assert done.returncode == 0, done.stdout


def test_ruff_format():
    done = run("ruff", "format", "--check", "checker", "tests", "bench")
    assert done.returncode == 0, done.stdout


def test_mypy_strict():
    done = run("mypy")
    assert done.returncode == 0, done.stdout
