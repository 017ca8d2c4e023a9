"""The code stays as docs/conventions.md asks: ruff-clean and formatted, and `mypy --strict` on the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# slow, left out of the fast tier: mypy --strict and ruff over the whole code base
pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint():
    done = run("ruff", "check", "checker", "tests", "bench", "action")
    assert done.returncode == 0, done.stdout


def test_ruff_format():
    done = run("ruff", "format", "--check", "checker", "tests", "bench", "action")
    assert done.returncode == 0, done.stdout


def test_mypy_strict():
    done = run("mypy")
    assert done.returncode == 0, done.stdout


# ---------------------------------------------------------------- the troubleshooting table is complete

RAISERS = {"ProbeError": 0, "TargetUnreachable": 0, "UsageError": 0, "NotARepository": 0, "single": 1, "problem": 1, "doc_error": 2}


def _leading_text(node: object) -> str:
    """The literal start of a message: a string, or an f-string up to its first placeholder."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        text = ""
        for part in node.values:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                break
            text += part.value
        return text
    if isinstance(node, ast.BinOp):
        return _leading_text(node.left)
    return ""


def error_messages() -> set[str]:
    """The literal beginnings (at least 12 characters) of every error message the package raises."""
    import ast

    found = set()
    for path in (ROOT / "checker").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            index = RAISERS.get(name)
            if index is None or len(node.args) <= index:
                continue
            text = _leading_text(node.args[index]).strip()
            if len(text) >= 12:
                found.add(text[:40])
    return found


def test_every_error_message_is_in_the_troubleshooting_table():
    table = (ROOT / "docs" / "troubleshooting.md").read_text()  # the README's Troubleshooting section, moved
    messages = error_messages()
    assert len(messages) > 40  # the scan finds them
    missing = sorted(m for m in messages if m not in table)
    assert not missing, "add these to docs/troubleshooting.md:\n" + "\n".join(missing)
