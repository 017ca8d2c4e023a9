"""The GitHub Action (action.yml): its check step's script run here as the runner runs it, with a fake $GITHUB_OUTPUT
and $GITHUB_STEP_SUMMARY (golive's exit code passed through, outputs written, the summary appended), and action.yml
read to show every input reaches a step and the steps after the check still run when it fails."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, TEST_KEYS, golive
from tests.workflow_commands import parse

SCRIPT = ROOT / "action" / "run.py"
ACTION = ROOT / "action.yml"


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIMITER` blocks."""
    values: dict[str, str] = {}
    lines = iter(path.read_text().split("\n"))
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            body = []
            for part in lines:
                if part == delimiter:
                    break
                body.append(part)
            else:
                raise AssertionError(f"no closing delimiter for {name}")
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def run_step(folder: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
    """The check step as action.yml runs it: inputs as INPUT_* variables, in the workspace, with the runner's files."""
    output, summary = folder / "github_output", folder / "step_summary"
    output.write_text("")
    summary.write_text("earlier step\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    env.update({"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "NO_COLOR": "1"})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(SCRIPT)], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    return done, read_outputs(output), summary.read_text()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "golive.yaml").write_text(f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n")
    return tmp_path


@pytest.mark.slow
def test_a_ready_check_exits_0_with_its_outputs_and_summary(workspace: Path) -> None:
    done, outputs, summary = run_step(workspace, args="--select KEY-001", formats="html, gitlab")
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(p.name for p in (workspace / "golive-report").iterdir())
    assert written == ["gl-code-quality-report.json", "report.html", "report.json", "report.md", "report.sarif"]
    assert outputs == {
        "verdict": "ready",
        "exit-code": "0",
        "report-dir": "golive-report",
        "reports": "\n".join(f"golive-report/{name}" for name in written),
        "sarif": "golive-report/report.sarif",
    }
    assert summary.startswith("earlier step\n## golive: ✅ READY")  # golive's own step summary
    assert parse(done.stdout)[0].properties["title"].startswith("golive: READY")


@pytest.mark.slow
def test_a_failed_check_exits_1_and_annotates(workspace: Path) -> None:
    # KEY-004 (a literal key in golive.yaml) is a warning: --fail-on warning makes it fail the verdict
    done, outputs, summary = run_step(workspace, args="--select KEY-004", **{"fail_on": "warning", "output": "reports dir"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert outputs == {
        "verdict": "not ready",
        "exit-code": "1",
        "report-dir": "reports dir",
        "reports": "reports dir/report.json\nreports dir/report.md\nreports dir/report.sarif",
        "sarif": "reports dir/report.sarif",
    }
    annotations = parse(done.stdout)
    assert [(a.name, a.properties.get("file"), a.properties.get("line")) for a in annotations] == [
        ("error", None, None),
        ("warning", "golive.yaml", "2"),
    ]
    assert "## golive: ❌ NOT READY" in summary


@pytest.mark.slow
def test_a_config_error_exits_2_and_reads_no_earlier_report(workspace: Path) -> None:
    assert run_step(workspace, args="--select KEY-001")[0].returncode == 0  # leaves a report behind
    (workspace / "golive.yaml").write_text("provider: mintfax\nsandbx: {}\n")
    done, outputs, summary = run_step(workspace, args="--select KEY-001")
    assert done.returncode == 2
    assert "golive.yaml:2" in done.stderr and "sandbx" in done.stderr
    assert outputs == {"verdict": "config error", "exit-code": "2", "report-dir": "", "reports": "", "sarif": ""}  # none of this run
    assert summary == "earlier step\n## golive: config error (exit 2)\n\nNothing was probed; the step's log names the problem.\n"


THIS_RUN_WROTE = {  # args -> the folder this run wrote into and the files it wrote there
    "--output elsewhere": ("elsewhere", ["report.json", "report.md", "report.sarif"]),
    "--format text": ("", []),
    "--output=elsewhere --format text,json": ("elsewhere", ["report.json"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("args", THIS_RUN_WROTE)
def test_outputs_describe_this_run_not_an_earlier_report(workspace: Path, args: str) -> None:
    """An earlier run left golive-report/ saying ready; this run, not ready, writes elsewhere or no report at all
    (`args` override the action's --output and --format): the outputs are this run's, or absent, never the old
    report's, and the old SARIF is not offered for upload."""
    assert run_step(workspace, args="--select KEY-001")[1]["verdict"] == "ready"  # leaves a ready report behind
    stale = (workspace / "golive-report" / "report.json").read_text()
    done, outputs, _ = run_step(workspace, args=f"--select KEY-004 {args}", fail_on="warning")
    assert done.returncode == 1, done.stdout + done.stderr
    folder, names = THIS_RUN_WROTE[args]
    assert outputs == {
        "verdict": "not ready",
        "exit-code": "1",
        "report-dir": folder,
        "reports": "\n".join(sorted(f"{folder}/{name}" for name in names)),
        "sarif": f"{folder}/report.sarif" if "report.sarif" in names else "",
    }
    assert (workspace / "golive-report" / "report.json").read_text() == stale  # the earlier run's report is left as it was


@pytest.mark.slow
def test_golive_records_this_run_and_its_client_does_not_see_where(workspace: Path) -> None:
    """GOLIVE_RUN_RECORD, what the step reads its outputs from: golive writes the verdict and this run's report files
    there, and the client it starts does not inherit the variable (it cannot write the record itself)."""
    (workspace / "golive.yaml").write_text(
        f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\nclient: {{command: '{{python}} env.py'}}\n"
    )
    (workspace / "env.py").write_text("import os\nopen('seen.txt', 'w').write(repr(os.environ.get('GOLIVE_RUN_RECORD')))\n")
    record = workspace / "record" / "run.json"
    done = golive(
        "check", "--select", "ERR-101", "--format", "text,json,md", "--output", "out", cwd=workspace, env={"GOLIVE_RUN_RECORD": str(record)}
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert (workspace / "seen.txt").read_text() == "None"
    verdict = json.loads((workspace / "out" / "report.json").read_text())["verdict"]
    assert json.loads(record.read_text()) == {"verdict": verdict, "output": "out", "reports": ["out/report.json", "out/report.md"]}


def test_args_a_shell_cannot_split_are_a_usage_error_not_a_crash(workspace: Path) -> None:
    """An unclosed quote in `args` is the workflow author's typo: exit 2 with an annotation and the outputs written,
    not a Python traceback and exit 1 (which is golive's "not ready")."""
    done, outputs, summary = run_step(workspace, args='--select "KEY-001')
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert [(a.name, a.properties.get("title")) for a in parse(done.stdout)] == [("error", "golive")]
    assert "args" in done.stdout and "No closing quotation" in done.stdout
    assert outputs == {"verdict": "config error", "exit-code": "2", "report-dir": "", "reports": "", "sarif": ""}
    assert summary.startswith("earlier step\n## golive: config error (exit 2)")


def test_an_input_with_a_newline_starts_no_workflow_command_in_the_log(workspace: Path) -> None:
    """The step echoes golive's command line: an input holding a newline, a workflow command and terminal escapes
    (a workflow may pass a pull request's text) stays on that line, escaped, and so does golive's error about it."""
    done, outputs, _ = run_step(workspace, config="x\n::error title=pwned::y \x1b]52;c;cHduZWQ=\x07.yaml")
    assert done.returncode == 2 and outputs["verdict"] == "config error", done.stdout + done.stderr
    assert parse(done.stdout + done.stderr) == []
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", done.stdout + done.stderr)
    assert done.stdout.splitlines()[0].startswith("golive check ") and "\\u000a::error title=pwned" in done.stdout


def test_inputs_become_golive_options_and_values_stay_whole(tmp_path: Path) -> None:
    (tmp_path / "my config.yaml").write_text("provider: mintfax\nsandbox: {url: builtin, api_key: '${NOPE:-fx_test_0123456789abcdef}'}\n")
    done, outputs, _ = run_step(
        tmp_path, config="my config.yaml", provider="mintfax", environment="sandbox", require="client", args="--select 'KEY-001,RETRY-101'"
    )
    first = done.stdout.splitlines()[0]
    assert first == (
        "golive check --format text,json,md,sarif,github --output golive-report --config 'my config.yaml' --provider mintfax"
        " --environment sandbox --require client --select KEY-001,RETRY-101"
    )
    # the client is required (a selected rule probes it: issue 29) and not configured
    assert done.returncode == 1 and outputs["verdict"] == "not ready"


def test_outputs_cannot_be_forged_by_a_value(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("golive_action_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    path = tmp_path / "github_output"
    script.write_outputs(str(path), {"report-dir": "a\nverdict=ready\nEOF", "verdict": "not ready"})
    assert read_outputs(path) == {"report-dir": "a\nverdict=ready\nEOF", "verdict": "not ready"}


# ---------------------------------------------------------------- action.yml


def action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text())  # type: ignore[no-any-return]


def test_every_input_reaches_a_step_and_every_output_comes_from_one() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    steps = spec["runs"]["steps"]
    text = yaml.safe_dump(steps)
    for name in spec["inputs"]:
        assert f"inputs.{name}" in text, f"input {name} is used by no step"
    ids = {s.get("id") for s in steps}
    for name, output in spec["outputs"].items():
        step = re.fullmatch(r"\$\{\{ steps\.(\w+)\.outputs\.([\w-]+) \}\}", output["value"])
        assert step and step.group(1) in ids and step.group(2) == name
    from checker.packs import BUILTIN_PACKS

    assert all(name in spec["inputs"]["provider"]["description"] for name in BUILTIN_PACKS)
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used <= set(spec["inputs"]), f"steps use undeclared inputs {used - set(spec['inputs'])}"
    # every INPUT_* variable the script reads is set by the check step
    check = next(s for s in steps if s.get("id") == "check")
    assert set(re.findall(r"\"(INPUT_\w+)\"", SCRIPT.read_text())) <= set(check["env"])


def test_the_steps_install_check_upload_and_then_gate() -> None:
    steps = action()["runs"]["steps"]
    by_id = {s.get("id") or s.get("name"): s for s in steps}
    assert "action/run.py" in by_id["check"]["run"] and "$GITHUB_ACTION_PATH" in by_id["check"]["run"]
    assert "pip install" in by_id["install"]["run"] and "$GITHUB_ACTION_PATH" in by_id["install"]["run"]
    assert by_id["python"]["with"]["update-environment"] is False  # the job's own python stays first on PATH
    # the check may fail: the uploads still run, and the last step fails the action with golive's code
    assert by_id["check"]["continue-on-error"] is True
    uploads = [s for s in steps if str(s.get("uses", "")).startswith(("github/codeql-action/upload-sarif@", "actions/upload-artifact@"))]
    assert len(uploads) == 2 and all("failure()" not in str(s.get("if", "")) for s in uploads)
    assert steps[-1]["name"] == "Exit with golive's code" and "steps.check.outputs.exit-code" in steps[-1]["env"]["CODE"]
    assert [s["uses"] for s in uploads] == ["github/codeql-action/upload-sarif@v3", "actions/upload-artifact@v4"]
    # no input is pasted into a shell command (script injection): the run blocks read them from the environment
    for step in steps:
        assert "${{" not in step.get("run", ""), step
