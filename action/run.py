"""The check step of golive's GitHub Action (action.yml): run `golive check` with the action's inputs, write the
step's outputs (verdict, exit-code, report-dir, reports, sarif) to $GITHUB_OUTPUT, and exit with golive's own code.
The outputs describe this run only: golive records its verdict and the report files it wrote in a file made new for
the run ($GOLIVE_RUN_RECORD); report files found in a folder are never read.

Standard library only. action.yml runs it with the Python golive was installed into; tests/test_action.py runs it
with a fake $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. golive itself prints the checklist and the `github`
annotations to the step's log and appends report.md to $GITHUB_STEP_SUMMARY; this script adds a line there only
when golive stopped before writing a report (exit 2 or 3)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ALWAYS = ("text", "json", "md", "sarif", "github")  # what the action's own steps need: the log, outputs, summary, SARIF
OPTIONS = (  # input (as the environment variable action.yml sets) -> golive check's option
    ("INPUT_CONFIG", "--config"),
    ("INPUT_PROVIDER", "--provider"),
    ("INPUT_ENVIRONMENT", "--environment"),
    ("INPUT_REQUIRE", "--require"),
    ("INPUT_FAIL_ON", "--fail-on"),
)
STOPPED = {2: "config error", 3: "internal error"}  # exit codes with no report: golive's message is in the log
EXIT_VERDICTS = {0: "ready", 1: "not ready"}  # what golive's exit code says, when it recorded no verdict
RUN_RECORD = "GOLIVE_RUN_RECORD"  # where golive records this run's verdict and the reports it wrote (checker/commands/check.py)
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")  # as checker/printable.py


def command_line(env: Mapping[str, str]) -> list[str]:
    """`golive check`'s arguments from the inputs: the formats the action needs plus the ones asked for."""
    asked = [f.strip() for f in env.get("INPUT_FORMATS", "").split(",") if f.strip()]
    formats = ",".join(dict.fromkeys([*ALWAYS, *asked]))
    args = ["check", "--format", formats, "--output", output_dir(env)]
    for name, option in OPTIONS:
        value = env.get(name, "").strip()
        if value:
            args += [option, value]
    return args + shlex.split(env.get("INPUT_ARGS", ""))


def output_dir(env: Mapping[str, str]) -> str:
    return env.get("INPUT_OUTPUT", "").strip() or "golive-report"


def outputs(code: int, record: Mapping[str, Any] | None) -> dict[str, str]:
    """The step's outputs, from what golive recorded of this run (its verdict and the report files it wrote) and its
    exit code; never from files found in a folder, which may be an earlier run's (`args` may move the reports with
    --output, or write none with --format text). Without a record (golive stopped before its verdict) the verdict is
    the exit code's, and no report is this run's."""
    verdict = STOPPED.get(code) or EXIT_VERDICTS.get(code, "")
    reports: list[str] = []
    folder = ""
    if record is not None:
        reports = sorted(str(path) for path in record.get("reports") or [])
        folder = str(record.get("output") or "") if reports else ""
        if code not in STOPPED:
            verdict = str(record.get("verdict") or verdict)
    sarif = [path for path in reports if Path(path).name == "report.sarif"]
    return {
        "verdict": verdict,
        "exit-code": str(code),
        "report-dir": folder,
        "reports": "\n".join(reports),
        "sarif": sarif[0] if sarif and code not in STOPPED else "",
    }


def run_golive(args: list[str], env: Mapping[str, str]) -> tuple[int, dict[str, Any] | None]:
    """`golive` with `args`: its exit code (128 + the signal that killed it, as a shell says) and what it recorded of this
    run ($GOLIVE_RUN_RECORD, a file in a folder made for this run: nothing an earlier run left is read), or None."""
    with tempfile.TemporaryDirectory(prefix="golive-action-", dir=env.get("RUNNER_TEMP") or None) as folder:
        place = Path(folder) / "run.json"
        code = subprocess.run([sys.executable, "-m", "checker", *args], check=False, env={**env, RUN_RECORD: str(place)}).returncode
        record: dict[str, Any] | None = None
        with contextlib.suppress(OSError, ValueError):  # not written: golive stopped before its verdict
            found = json.loads(place.read_text(encoding="utf-8"))
            if isinstance(found, dict) and isinstance(found.get("reports", []), list):
                record = found
    return (128 - code if code < 0 else code), record


def shown(text: str) -> str:
    """`text` on one line of the step's log, control characters as escapes: an input with a newline cannot start a
    line the runner reads as a workflow command, nor send a terminal escape."""
    return UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_outputs(path: str, values: Mapping[str, str]) -> None:
    """$GITHUB_OUTPUT in its multi-line form (name<<DELIMITER), so that no value can end early or add an output."""
    with open(path, "a", encoding="utf-8", errors="surrogateescape") as handle:  # a path's bytes as golive got them
        for name, value in values.items():
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def main() -> int:
    env = os.environ
    record = None
    try:
        args = command_line(env)
    except ValueError as exc:  # `args` a shell cannot split (an unclosed quote): the workflow's usage error, exit 2
        said = f"the action's input args cannot be split into words as a shell would: {exc}"
        print("::error title=golive::" + said.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"), flush=True)
        code = 2
    else:
        print("golive " + shown(shlex.join(args)), flush=True)
        code, record = run_golive(args, env)
    values = outputs(code, record)
    if env.get("GITHUB_OUTPUT"):
        write_outputs(env["GITHUB_OUTPUT"], values)
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary and code in STOPPED:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(f"## golive: {STOPPED[code]} (exit {code})\n\nNothing was probed; the step's log names the problem.\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
