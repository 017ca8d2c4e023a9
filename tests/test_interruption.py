"""Ctrl-C and SIGTERM during a real check: every process group golive started is stopped, ports are released,
the requested reports are still written (marked interrupted, with what was gathered), and a second signal
exits at once."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, wait_for

# slow, left out of the fast tier: signals sent to real check runs (golive subprocesses), waiting for them to stop
pytestmark = pytest.mark.slow

FORMATS = {"json": "report.json", "html": "report.html", "md": "report.md", "junit": "junit.xml", "sarif": "report.sarif"}


def processes_under(folder: Path) -> dict[int, str]:
    """Live (not zombie) processes working in `folder` or naming a file in it."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if (str(folder) in cmdline or cwd.startswith(str(folder))) and state != "Z" and int(entry.name) != os.getpid():
            found[int(entry.name)] = cmdline
    return found


def processed_events(project: Path) -> int:
    """Deliveries the example receiver has processed so far (its SQLite file in the check's run folder)."""
    import sqlite3

    total = 0
    for db in temp_of(project).glob("golive-run-*/mintfax-events.db"):
        try:
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
                total += conn.execute("SELECT COUNT(*) FROM processed").fetchone()[0]
        except sqlite3.Error:
            continue
    return total


def port_is_free(port: int) -> bool:
    """Nobody listens on the port. SO_REUSEADDR, as any server restarting on it would: connections the receiver
    closed first linger in TIME_WAIT for a minute, which is not a process holding the port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def temp_of(project: Path) -> Path:
    """The TMPDIR the check runs with: where its run folder (sample documents, the sandbox's state) lives."""
    folder = project.parent / "tmp"
    folder.mkdir(exist_ok=True)
    return folder


def start_check(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "checker", "check", "-c", str(project / "golive.yaml"), "--output", str(project / "out"), *args],
        cwd=project,
        env={**os.environ, "NO_COLOR": "1", "MINTFAX_WEBHOOK_SECRET": "whsec_" + "ab" * 24, "TMPDIR": str(temp_of(project))},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The good mintfax example, copied so that its processes are recognisable by path."""
    folder = tmp_path / "integration"
    shutil.copytree(ROOT / "examples" / "mintfax" / "good", folder)
    yield folder
    for pid in processes_under(folder):  # only reached when the test has failed
        os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_everything_and_still_writes_every_report(project: Path, signum: int) -> None:
    check = start_check(project, "--format", "text," + ",".join(FORMATS))

    # interrupt once the receiver and some clients are running (the clients then sit in their backoff)
    def receiver_and_client() -> dict[int, str]:
        found = processes_under(project)
        lines = " | ".join(found.values())
        return found if "receiver.py --port" in lines and "send_fax" in lines else {}

    running = wait_for(receiver_and_client, 60, "the receiver and a client to start")
    receiver_port = next(int(c.split("--port")[1].split()[0]) for c in running.values() if "receiver.py --port" in c)
    # and once some rules have finished: the receiver has processed deliveries (not after a fixed sleep, which a
    # loaded machine outruns)
    wait_for(lambda: processed_events(project) >= 2, 60, "the receiver to process deliveries")
    check.send_signal(signum)
    stdout, stderr = check.communicate(timeout=30)

    assert check.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and "never retrieved" not in stderr, stderr
    assert "interrupted: stopping the probes and writing the report" in stderr
    assert "Verdict: NOT READY (interrupted)" in stdout
    for name in FORMATS.values():
        assert (project / "out" / name).stat().st_size > 0, name
    report = json.loads((project / "out" / "report.json").read_text())
    assert report["interrupted"] is True
    assert report["verdict"] == "not ready"
    statuses = {r["id"]: (r["status"], r["message"]) for r in report["results"]}
    assert any(status == "pass" for status, _ in statuses.values()), "nothing gathered before the signal"
    unfinished = [i for i, (status, message) in statuses.items() if message == "not finished: the check was interrupted"]
    assert unfinished and all(statuses[i][0] == "error" for i in unfinished)
    assert "interrupted" in (project / "out" / "report.html").read_text()
    # nothing golive started is left, and the receiver's port is free again
    wait_for(lambda: not processes_under(project), 5, f"no process left: {processes_under(project)}")
    assert port_is_free(receiver_port)
    assert not list(temp_of(project).glob("golive-*")), "a temporary folder was left behind"


SLOW_TO_STOP = """
import os, subprocess, sys, http.server
# a receiver whose daemonised helper keeps the output pipe open: golive waits its bounded grace for it
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
open("helper.pid", "w").write(str(helper.pid))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(200); self.end_headers()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


@pytest.mark.slow
def test_a_second_signal_exits_at_once(project: Path) -> None:
    (project / "slow_receiver.py").write_text(SLOW_TO_STOP)
    config = (project / "golive.yaml").read_text()
    (project / "golive.yaml").write_text(config.replace("receiver.py --port {port}", "slow_receiver.py {port}"))
    check = start_check(project, "--format", "json")
    try:
        wait_for(lambda: any("send_fax" in c for c in processes_under(project).values()), 60, "a client to start")
        check.send_signal(signal.SIGINT)
        wait_for(lambda: (project / "helper.pid").exists(), 5, "the helper")
        time.sleep(0.3)  # the first stop is now waiting on the helper's pipe
        check.send_signal(signal.SIGINT)
        _, stderr = check.communicate(timeout=30)
    finally:
        helper = int((project / "helper.pid").read_text())
        os.kill(helper, signal.SIGKILL)
    assert check.returncode == 130
    assert "interrupted again: exiting now" in stderr
    # it left before the first stop's bounded wait on the helper ended, so before any report was written
    assert not (project / "out" / "report.json").exists()
    # the clients' process groups were killed on the way out, and the run's folder (with the sandbox's state) removed
    wait_for(lambda: not [c for c in processes_under(project).values() if "send_fax" in c], 5, "the clients to be gone")
    assert not list(temp_of(project).glob("golive-*")), "a temporary folder was left behind"
