"""--progress: a CI log that moves. Where stderr is no terminal, `golive check` writes a line per finished rule as it
finishes (stderr, so stdout stays the checklist's and the printed formats'); on a terminal the live status line."""

from __future__ import annotations

import io
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from checker.model import Result, Rule, Severity, Status
from checker.terminal import NoProgress, ProgressLine, ProgressLines, progress_for
from tests.conftest import TEST_KEYS, golive

KEY = TEST_KEYS["mintfax"]
# a client that waits until the test lets it go (bounded), then says its key on stderr and fails before any request:
# its rule cannot finish before the test has read the other rules' lines, whatever the machine's speed
WAITING = """
import os, sys, time
release = sys.argv[1]
for _ in range(1200):
    if os.path.exists(release):
        break
    time.sleep(0.05)
print("client: cannot send with " + os.environ["MINTFAX_API_KEY"] + "\\n::error::forged", file=sys.stderr)
sys.exit(1)
"""


def waiting_project(tmp_path: Path) -> tuple[Path, Path]:
    client = tmp_path / "waiting.py"
    client.write_text(WAITING)
    release = tmp_path / "release"
    (tmp_path / "golive.yaml").write_text(
        f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{KEY}'}}\n"
        f"client:\n  command: {sys.executable} {client} {release}\n"
        "  env: {MINTFAX_BASE_URL: '{base_url}', MINTFAX_API_KEY: '{api_key}'}\n  timeout: 90\n"
    )
    return tmp_path, release


def _lines(stream: io.TextIOBase, into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


@pytest.mark.slow
def test_in_ci_a_line_per_rule_appears_as_it_finishes_on_stderr_and_stdout_stays_clean(tmp_path):
    """A real `golive check` with stderr a pipe (as in CI, the default --progress auto): the sandbox contract rule's line
    is read while the client rule is still held (the process cannot have ended), then the client rule's line
    follows in completion order; each line is printable, masked and no workflow command; stdout carries none of them
    and report.json parses."""
    folder, release = waiting_project(tmp_path)
    seen: list[str] = []
    got: queue.Queue[str | None] = queue.Queue()
    with subprocess.Popen(
        [sys.executable, "-m", "checker", "check", "--select", "IDEM-001,IDEM-101", "--format", "text,json", "--output", "out"],
        cwd=folder,
        env={**os.environ, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        reader = threading.Thread(target=_lines, args=(process.stderr, got), daemon=True)
        reader.start()
        try:
            while not any("IDEM-001" in line for line in seen):
                line = got.get(timeout=120)
                assert line is not None, f"stderr ended before IDEM-001's line: {seen}"
                seen.append(line)
            assert process.poll() is None  # the line came while the run was still going (its client is held)
            assert not any("IDEM-101" in line for line in seen)
            release.touch()
            process.wait(timeout=120)  # its stdout (the checklist) is far below a pipe's buffer; its stderr is the reader's
            assert process.stdout is not None
            stdout = process.stdout.read()
        finally:
            release.touch()
            if process.poll() is None:
                process.kill()
                process.wait()
        reader.join(timeout=10)
    while (line := got.get_nowait()) is not None:
        seen.append(line)
    assert process.returncode == 1, stdout
    progress = [line for line in seen if line.startswith("golive: [")]
    assert [line.split()[4] for line in progress] == ["IDEM-001", "IDEM-101"], seen  # completion order
    assert progress[0].startswith("golive: [1/2] ") and " IDEM-001 pass (" in progress[0]
    assert " IDEM-101 error (" in progress[1] and "client: cannot send with fx_test_…" in progress[1]  # masked as in the report
    assert KEY not in "".join(seen) and KEY[8:16] not in "".join(seen)
    assert all(not line.lstrip().startswith(("::", "##[")) and "\x1b" not in line for line in seen)  # no workflow command
    assert sum(line.count("\n") for line in progress) == len(progress)  # one line each: the stderr's newline shown as ⏎
    assert "golive: [" not in stdout and "IDEM-001" in stdout  # the checklist on stdout, the progress on stderr only
    report = json.loads((folder / "out" / "report.json").read_text())
    assert [r["id"] for r in report["results"]] == ["IDEM-001", "IDEM-101"]


@pytest.mark.slow
def test_progress_none_prints_no_line_and_lines_prints_one_per_rule(tmp_path):
    args = ("check", "--provider", "mintfax", "--select", "IDEM-001,IDEM-002", "--format", "json,github", "--output", "out")
    quiet = golive(*args, "--progress", "none", cwd=tmp_path)
    assert quiet.returncode in (0, 1), quiet.stderr
    assert "golive: [" not in quiet.stderr and "rules to check" not in quiet.stderr
    lines = golive(*args, "--progress", "lines", cwd=tmp_path)
    assert [line.split()[4] for line in lines.stderr.splitlines() if line.startswith("golive: [")].count("IDEM-002") == 1
    assert "golive: [" not in lines.stdout  # stdout: the verdict and the annotations only
    assert all(line.startswith("::") for line in lines.stdout.splitlines() if line and not line.startswith(("Verdict", "  ", "Report")))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_the_live_line_on_a_terminal_and_lines_elsewhere():
    assert isinstance(progress_for("auto", 3, Terminal()), ProgressLine)
    assert isinstance(progress_for("auto", 3, io.StringIO()), ProgressLines)
    assert isinstance(progress_for("lines", 3, Terminal()), ProgressLines)
    assert isinstance(progress_for("none", 3, io.StringIO()), NoProgress)


def test_a_line_shows_pack_and_target_text_printable_and_never_as_a_workflow_command():
    """A pack's title and a target's message are untrusted: escapes, bidi overrides and newlines stay on the line as
    escapes, so nothing they hold starts a line of the log (checker/printable.py)."""
    rule = Rule("IDEM-001", "Replay \u202eevil\x1b[31m", "Idempotency", "sandbox", Severity.BLOCKER, "", "", "", "")
    result = Result(rule, Status.FAIL, Severity.BLOCKER, "boom\n::add-mask::x\r##[error]y", duration_s=1.25)
    out = io.StringIO()
    ticks = iter([10.0, 12.5])
    lines = ProgressLines(1, out, clock=lambda: next(ticks))
    lines("start", rule, None)
    lines("done", rule, result)
    written = out.getvalue().splitlines()
    assert len(written) == 2 and written[1].startswith("golive: [1/1] 2.5 s  IDEM-001 fail (1.2 s)  Replay \\u202eevil\\x1b[31m: boom")
    assert not any(line.lstrip().startswith(("::", "##[")) for line in written)


def test_a_closed_stderr_does_not_stop_the_run():
    out = io.StringIO()
    lines = ProgressLines(1, out)
    out.close()
    rule = Rule("IDEM-001", "t", "s", "sandbox", Severity.BLOCKER, "", "", "", "")
    lines("done", rule, Result(rule, Status.PASS, Severity.BLOCKER, ""))  # no exception: the log stops, the run goes on


def test_demo_takes_progress_too():
    done = golive("demo", "--help")
    assert "--progress [auto|lines|none]" in done.stdout
