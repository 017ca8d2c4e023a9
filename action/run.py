"""The check step of golive's GitHub Action (action.yml): run `golive check` with the action's inputs, write the
step's outputs (verdict, exit-code, report-dir, sarif) to $GITHUB_OUTPUT, and exit with golive's own code.

Standard library only. action.yml runs it with the Python golive was installed into; tests/test_action.py runs it
with a fake $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. golive itself prints the checklist and the `github`
annotations to the step's log and appends report.md to $GITHUB_STEP_SUMMARY; this script adds a line there only
when golive stopped before writing a report (exit 2 or 3)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ALWAYS = ("text", "json", "md", "sarif", "github")  # what the action's own steps need: the log, outputs, summary, SARIF
OPTIONS = (  # input (as the environment variable action.yml sets) -> golive check's option
    ("INPUT_CONFIG", "--config"),
    ("INPUT_PROVIDER", "--provider"),
    ("INPUT_ENVIRONMENT", "--environment"),
    ("INPUT_REQUIRE", "--require"),
    ("INPUT_FAIL_ON", "--fail-on"),
)
STOPPED = {2: "config error", 3: "internal error"}  # exit codes with no report: golive's message is in the log


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


def outputs(code: int, env: Mapping[str, str]) -> dict[str, str]:
    """The step's outputs. A report is read only after a run that wrote one (0, 1, or 128 + a signal): after exit 2
    or 3 a report.json in the folder is an earlier run's."""
    folder = Path(output_dir(env))
    verdict = STOPPED.get(code, "error")
    if code not in STOPPED:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):  # no report: golive's message is in the log
            verdict = str(json.loads((folder / "report.json").read_text(encoding="utf-8"))["verdict"])
    sarif = folder / "report.sarif"
    return {
        "verdict": verdict,
        "exit-code": str(code),
        "report-dir": str(folder) if folder.is_dir() else "",
        "sarif": str(sarif) if code not in STOPPED and sarif.is_file() else "",
    }


def write_outputs(path: str, values: Mapping[str, str]) -> None:
    """$GITHUB_OUTPUT in its multi-line form (name<<DELIMITER), so that no value can end early or add an output."""
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def main() -> int:
    env = os.environ
    try:
        args = command_line(env)
    except ValueError as exc:  # `args` a shell cannot split (an unclosed quote): the workflow's usage error, exit 2
        said = f"the action's input args cannot be split into words as a shell would: {exc}"
        print("::error title=golive::" + said.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"), flush=True)
        code = 2
    else:
        print("golive " + shlex.join(args), flush=True)
        code = subprocess.run([sys.executable, "-m", "checker", *args], check=False).returncode
    if code < 0:  # killed by a signal: report it as a shell would
        code = 128 - code
    values = outputs(code, env)
    if env.get("GITHUB_OUTPUT"):
        write_outputs(env["GITHUB_OUTPUT"], values)
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary and code in STOPPED:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(f"## golive: {STOPPED[code]} (exit {code})\n\nNothing was probed; the step's log names the problem.\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
