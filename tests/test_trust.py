"""Verdicts that depend only on the integration: real clients and receivers (subprocesses on real sockets)
whose verdicts used to depend on golive's other probes, on the machine, or on the wrong reason.

- a receiver with a listen queue of 5 and one worker, verifying correctly, passes every signature rule and
  fails only HOOK-209 (the burst runs alone; the other deliveries are paced);
- a documented client timeout long enough to hold the account past the contract rules' bound does not make
  them error (waiting for a shared account is not counted);
- a client that crashes on an injected error body is reported as crashed, never as a clean refusal;
- a client that cannot start passes no refusal rule;
- a bursty batch client puts no 429 into another probe's evidence (each client probe has its own account);
- a receiver that verifies re-serialised compact JSON is diagnosed: HOOK-201 and HOOK-213 fail naming it;
- a client that sends no key fails the key rules saying so;
- RETRY-101 notices that the retry was answered with a replay of an earlier resource.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from checker.config import load_config, parse_config
from checker.model import Status
from tests.conftest import ROOT, TEST_KEYS, SandboxProcess, run_rules

CLIENTS = ROOT / "tests" / "clients"
SECRET = "whsec_0f5a9c2d7e1b8a4c6d3e9f0a1b2c3d4e"
SIGNATURE_RULES = ("HOOK-201", "HOOK-202", "HOOK-203", "HOOK-204", "HOOK-205", "HOOK-206", "HOOK-210", "HOOK-211", "HOOK-213")


def receiver_config(tmp_path: Path, *flaws: str, provider: str = "mintfax", args: str = "") -> object:
    """The suite's receiver (tests/clients/receiver.py) with its `flaws`, and other `args` for it."""
    flags = " ".join([*(f"--flaw {f}" for f in flaws), args])
    (tmp_path / "golive.yaml").write_text(
        f"provider: {provider}\nsandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n"
        f"webhook:\n  url: http://127.0.0.1:{{port}}/hooks\n  secret: {SECRET}\n"
        f'  start: "{{python}} {CLIENTS / "receiver.py"} --port {{port}} {flags}"\n'
        '  env: {RECEIVER_SECRET: "{secret}", RECEIVER_DB: "{workdir}/receiver.db"}\n  start_timeout: 20\n'
    )
    return load_config(tmp_path / "golive.yaml", environ={})


def client_config(*flags: str, url: str = "builtin", extra: str = "", timeout: float = 30, command: str | None = None) -> object:
    command = (
        command or f"{sys.executable} {CLIENTS / 'faxclient.py'} --to {{to}} --file {{file}} --ref {{ref}} --base 0.05 {' '.join(flags)}"
    )
    return parse_config(
        f"provider: mintfax\nsandbox: {{url: '{url}', api_key: {TEST_KEYS['mintfax']}}}\n"
        f"client:\n  command: '{command}'\n  env: {{MINTFAX_BASE_URL: '{{base_url}}', MINTFAX_API_KEY: '{{api_key}}'}}\n"
        f"  timeout: {timeout}\n{extra}",
        environ={},
    )


@pytest.mark.slow
def test_a_small_listen_queue_fails_only_the_burst(tmp_path: Path) -> None:
    """Python's http.server defaults (one request at a time, a backlog of 5) and 0.3 s of work per delivery:
    it verifies every signature correctly, and only a burst of 20 outruns it."""
    results = run_rules(receiver_config(tmp_path, "small-queue"), *SIGNATURE_RULES, "HOOK-207", "HOOK-209")
    for rule_id in (*SIGNATURE_RULES, "HOOK-207"):
        assert results[rule_id].status is Status.PASS, (rule_id, results[rule_id].message)
    assert results["HOOK-209"].status is Status.FAIL, results["HOOK-209"].message


@pytest.mark.slow
def test_a_receiver_verifying_reserialised_compact_json_is_diagnosed(tmp_path: Path) -> None:
    # a provider that pretty-prints its deliveries (mintfax sends compact JSON, which this receiver re-makes byte for
    # byte from an ASCII event and so accepts: issue 26)
    pack = tmp_path / "pretty.yaml"
    pack.write_text(
        "schema: golive-pack/1\nname: pretty\nextends: mintfax\nfacts: {webhooks: {serialisation: {indent: 2, separators: null}}}\n"
    )
    config = receiver_config(tmp_path, "reserialize-compact", provider=str(pack))
    results = run_rules(config, *SIGNATURE_RULES, "HOOK-207", "HOOK-209", jobs=16)
    # the duplicate and the burst use the serialisation it accepts, settled before they start, whatever the
    # order the rules run in (with 16 at once they used to start before the diagnosis and fail for its reason)
    for rule_id in ("HOOK-207", "HOOK-209"):
        assert results[rule_id].status is Status.PASS, (rule_id, results[rule_id].message)
    for rule_id in ("HOOK-201", "HOOK-213"):
        assert results[rule_id].status is Status.FAIL, (rule_id, results[rule_id].message)
        assert "sent as compact JSON was accepted" in results[rule_id].message
        assert "verifies JSON it re-serialised, not the raw body" in results[rule_id].message
    # the rejections are judged on the serialisation it does accept: they are real rejections
    for rule_id in ("HOOK-202", "HOOK-203", "HOOK-204", "HOOK-205", "HOOK-206"):
        assert results[rule_id].status is Status.PASS, (rule_id, results[rule_id].message)


@pytest.mark.slow
def test_waiting_for_the_account_does_not_count_against_a_rule(tmp_path: Path) -> None:
    """A real sandbox (one account shared by the clients and the contract checks) and a documented request
    timeout that keeps RETRY-104's client on the account for 8 + 5 s, longer than the contract rules' own bound
    of 6 s: they wait for the account, then do their 1 s of work, and pass."""
    server = SandboxProcess("mintfax", tmp_path / "state.db")
    try:
        pack = tmp_path / "slowfax.yaml"
        bound = "{timeout_s: 6}"
        pack.write_text(
            "schema: golive-pack/1\nname: slowfax\nextends: mintfax\nfacts: {retry: {request_timeout_s: 8}}\n"
            "rules:\n  RETRY-104: {source: 000_aa85249851aa0a9c.txt}\n"
            + "".join(f"  {r}: {{source: 000_aa85249851aa0a9c.txt, params: {bound}}}\n" for r in ("IDEM-001", "IDEM-002", "IDEM-004"))
        )
        config = client_config("--timeout 8", url=server.url, timeout=60)
        config = type(config)(
            **{**{f: getattr(config, f) for f in config.__slots__}, "file": config.file.model_copy(update={"provider": str(pack)})}
        )
        results = run_rules(config, "RETRY-104", "IDEM-001", "IDEM-002", "IDEM-004")
    finally:
        server.stop()
    for rule_id in ("IDEM-001", "IDEM-002", "IDEM-004"):
        assert results[rule_id].status is Status.PASS, (rule_id, results[rule_id].message)
    assert results["RETRY-104"].status in (Status.PASS, Status.FAIL)  # judged, not starved


@pytest.mark.slow
def test_a_client_that_crashes_on_an_error_body_is_reported_as_crashed(sandbox) -> None:
    results = run_rules(
        client_config("--flaw crash-on-error", url=sandbox("mintfax").url), "RETRY-102", "RETRY-105", "RETRY-108", "ERR-101"
    )
    crash = "TypeError: string indices must be integers"
    assert results["RETRY-105"].status is Status.ERROR and "crashed on the 400 answer" in results["RETRY-105"].message
    assert results["RETRY-108"].status is Status.ERROR and "crashed on the 500 answer" in results["RETRY-108"].message
    assert results["RETRY-102"].status is Status.FAIL and f"crashed ({crash}" in results["RETRY-102"].message
    assert results["ERR-101"].status is Status.FAIL and "crashed on the 400 answer" in results["ERR-101"].message
    process = next(e for e in results["ERR-101"].evidence if e["kind"] == "process")
    assert process["crash"].startswith("TypeError")


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        "{python} /nonexistent/send_fax.py --to {to} --file {file}",  # python starts, the script is missing
        "{python} " + str(CLIENTS / "faxclient.py") + " --to {to} --file {filename} --ref {ref}",  # a wrong placeholder
    ],
    ids=["missing-script", "wrong-placeholder"],
)
def test_a_client_that_cannot_send_passes_no_refusal_rule(command: str) -> None:
    results = run_rules(client_config(command=command), "FILE-101", "FILE-102", "RETRY-105")
    for rule_id, result in results.items():
        assert result.status is Status.ERROR, (rule_id, result.status, result.message)


@pytest.mark.slow
def test_a_bursty_batch_client_puts_no_429_into_other_rules(tmp_path: Path) -> None:
    burst = tmp_path / "burst.py"
    burst.write_text(  # thirty sends at once, one key each: over mintfax's 10 requests/s, answered 429
        "import os, sys, httpx, concurrent.futures as cf\n"
        "base, key, path = os.environ['MINTFAX_BASE_URL'], os.environ['MINTFAX_API_KEY'], sys.argv[1]\n"
        "def send(n):\n"
        "    with open(path, 'rb') as f:\n"
        "        return httpx.post(base + '/v1/fax', data={'to': '+15005550000'}, files={'file': ('a.pdf', f.read())},\n"
        "                          headers={'Authorization': 'Bearer ' + key, 'Idempotency-Key': f'burst-{n}'}, timeout=10).status_code\n"
        "with cf.ThreadPoolExecutor(30) as pool:\n"
        "    print(list(pool.map(send, range(30))))\n"
    )
    # the run's embedded sandbox, with mintfax's rate limit of 10 requests/s per account
    config = client_config(url="builtin", extra=f"  batch_command: {sys.executable} {burst} {{file}}\n")
    results = run_rules(config, "RATE-102", "IDEM-101", "IDEM-102", "RETRY-102", "RETRY-103")
    assert results["RATE-102"].status is Status.FAIL
    for rule_id in ("IDEM-101", "IDEM-102", "RETRY-102", "RETRY-103"):
        leaked = [e for e in results[rule_id].evidence if e.get("status") == 429 and e.get("proxy") == "forwarded"]
        assert not leaked, (rule_id, leaked)
        assert results[rule_id].status is Status.PASS, (rule_id, results[rule_id].message)


@pytest.mark.slow
def test_no_key_fails_the_key_rules_saying_so(sandbox) -> None:
    results = run_rules(
        client_config("--flaw no-key", url=sandbox("mintfax").url), "IDEM-102", "IDEM-103", "IDEM-104", "IDEM-105", "RETRY-103"
    )
    for rule_id, result in results.items():
        assert result.status is Status.FAIL, (rule_id, result.message)
        assert "no idempotency key was sent" in result.message or "without a key" in result.message, (rule_id, result.message)
        assert "None -> None" not in result.message


@pytest.mark.slow
def test_retry_105_is_about_retrying_not_the_exit_status(sandbox, tmp_path: Path) -> None:
    """The provider's own sample (a shell loop that sends once and exits 0 whatever the answer) does not retry:
    RETRY-105 passes; that it exits 0 is ERR-101's business."""
    once = tmp_path / "once.py"
    once.write_text(
        "import os, sys, httpx\n"
        "with open(sys.argv[1], 'rb') as f:\n"
        "    r = httpx.post(os.environ['MINTFAX_BASE_URL'] + '/v1/fax', data={'to': '+15005550000'}, files={'file': ('a.pdf', f.read())},\n"
        "                   headers={'Authorization': 'Bearer ' + os.environ['MINTFAX_API_KEY'], 'Idempotency-Key': 'k'}, timeout=10)\n"
        "print(r.status_code, r.text)\n"
    )
    results = run_rules(client_config(command=f"{sys.executable} {once} {{file}}", url=sandbox("mintfax").url), "RETRY-105", "ERR-101")
    assert results["RETRY-105"].status is Status.PASS, results["RETRY-105"].message
    assert results["ERR-101"].status is Status.FAIL and "exited 0" in results["ERR-101"].message


@pytest.mark.slow
def test_retry_101_notices_a_replay_of_an_earlier_resource(tmp_path: Path) -> None:
    """On a real sandbox (one account), a client that uses one key for every operation first creates a fax,
    then 'recovers' from the transient magic number with a replay of that fax."""
    server = SandboxProcess("mintfax", tmp_path / "state.db")
    try:
        config = client_config("--flaw constant-key", url=server.url)
        assert run_rules(config, "IDEM-101")["IDEM-101"].status is Status.PASS  # the first fax, key 'fax-key'
        result = run_rules(config, "RETRY-101")["RETRY-101"]
    finally:
        server.stop()
    assert result.status is Status.FAIL, result.message
    assert "replay of an earlier resource" in result.message
    assert json.dumps(result.evidence).count('"replayed": true') >= 1


@pytest.mark.slow
def test_every_check_awaiting_a_shared_probe_is_credited_its_waits() -> None:
    """A probe shared by two checks waits 2 s for the account (held by a contract check), then works 0.2 s: both
    checks, with a bound of 1 s, get its result; before, only the check that started it had the wait credited,
    and which check ended in 'did not finish' depended on which started first (review of issue 13)."""
    import asyncio

    from checker.budget import within
    from checker.probes.context import ProbeContext

    async def main() -> list[object]:
        ctx = ProbeContext(None, None, "sandbox")  # type: ignore[arg-type]

        async def contract_check() -> None:
            async with ctx.account.exclusive():
                await asyncio.sleep(2.0)

        async def client_run() -> str:
            async with ctx.account.shared():
                await asyncio.sleep(0.2)
            return "ran"

        async def starter() -> str:
            return await ctx.shared("always-503:1", client_run)

        async def joiner() -> str:
            await asyncio.sleep(0.05)
            return await ctx.shared("always-503:1", client_run)

        holder = asyncio.create_task(contract_check())
        await asyncio.sleep(0.01)
        results = await asyncio.gather(within(starter(), 1.0), within(joiner(), 1.0), return_exceptions=True)
        await holder
        return results

    assert asyncio.run(main()) == ["ran", "ran"]


@pytest.mark.parametrize(
    ("exit_code", "stderr", "crash"),
    [
        # what real clients print; a crash is a programming error or a signal, not a deliberate failure
        (
            1,
            "Traceback (most recent call last):\n  File \"c.py\", line 3\nAttributeError: 'str' object has no attribute 'get'\n",
            "AttributeError: 'str' object has no attribute 'get'",
        ),
        # requests' raise_for_status() left uncaught, tenacity's reraise at give-up: the client's way to fail
        (
            1,
            'Traceback (most recent call last):\n  File "c.py", line 9, in <module>\nrequests.exceptions.HTTPError: 400 Client Error\n',
            None,
        ),
        (1, 'Traceback (most recent call last):\n  File "c.py", line 9, in <module>\ntenacity.RetryError: RetryError[<Future>]\n', None),
        # logging.exception then sys.exit(1) on a parse error is still a client that could not read the answer
        (
            1,
            'ERROR boom\nTraceback (most recent call last):\n  File "c.py", line 3\njson.decoder.JSONDecodeError: Expecting value\nmore\n',
            "json.decoder.JSONDecodeError: Expecting value",
        ),
        # Node 20 ends its crash report with its version
        (
            1,
            "/app/c.js:3\nTypeError: Cannot read properties of undefined (reading 'code')\n    at main (c.js:3:20)\n\nNode.js v20.11.1\n",
            "TypeError: Cannot read properties of undefined (reading 'code')",
        ),
        (139, "", "killed by SIGSEGV (exit 139)"),
        (-9, "", "killed by SIGKILL"),
        (2, "usage: c.py [-h]\n", None),
    ],
    ids=["attribute-error", "http-error", "retry-error", "logged-decode-error", "node-20", "shell-segv", "sigkill", "usage"],
)
def test_a_crash_is_a_programming_error_or_a_signal(exit_code: int, stderr: str, crash: str | None) -> None:
    from checker.harness.process import crash_of

    assert crash_of(exit_code, stderr) == crash


def test_a_receiver_that_rejects_only_its_first_delivery_is_not_called_a_reserialiser(tmp_path: Path) -> None:
    """The diagnosis has a control: after another serialisation is accepted, golive's usual one is sent again.
    A receiver that turned away only its first delivery (a cold start) fails HOOK-201 for that, and HOOK-213
    judges its raw-body verification, which is correct (the review of issue 13: it was called a re-serialiser)."""
    results = run_rules(receiver_config(tmp_path, "reject-first"), "HOOK-201", "HOOK-213", "HOOK-202")
    assert results["HOOK-201"].status is Status.FAIL
    assert "the receiver rejected the first one only" in results["HOOK-201"].message
    assert "re-serialised" not in results["HOOK-201"].message
    assert results["HOOK-213"].status is Status.PASS, results["HOOK-213"].message
    assert results["HOOK-202"].status is Status.PASS, results["HOOK-202"].message


STAMPED_CLIENT = r"""
import json, socket, sys, time
port, sends = int(sys.argv[1]), []
for n in range(3):
    sock = socket.create_connection(("127.0.0.1", port))
    body = b'{"to": "+15005550000"}'
    request = (b"POST /v1/fax HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
    before = time.monotonic()
    sock.sendall(request)
    after = time.monotonic()
    sends.append((before, after))
    while sock.recv(65536):
        pass
    sock.close()
    time.sleep(0.2)
print(json.dumps(sends))
"""


@pytest.mark.slow
def test_a_busy_event_loop_does_not_lengthen_a_clients_delays() -> None:
    """golive's own load is not the client's: while golive's event loop is blocked (here 0.2 s at a time, as
    starting twenty probes or loading a CA bundle blocks it), a request's arrival is the kernel's receive time,
    not when the loop got round to reading it. CLOCK_MONOTONIC is the machine's, so the client's own clock
    brackets each arrival: after its `send` began, before it returned (loopback delivers within the call)."""
    import asyncio
    import time

    from checker.harness.proxy import RecordingProxy, Scenario, status

    async def main() -> tuple[list[float], list[list[float]]]:
        failing = status(503, "service_unavailable")
        async with RecordingProxy("http://127.0.0.1:9", Scenario((failing, failing, failing))) as proxy:
            client = await asyncio.create_subprocess_exec(
                sys.executable, "-c", STAMPED_CLIENT, str(proxy.port), stdout=asyncio.subprocess.PIPE
            )
            done = asyncio.ensure_future(client.communicate())
            while not done.done():
                time.sleep(0.2)  # the loop, blocked
                await asyncio.sleep(0)
            out, _ = await asyncio.wait_for(done, 60)
            return [proxy.started + a.t for a in proxy.attempts], json.loads(out)

    arrivals, sends = asyncio.run(main())
    assert len(arrivals) == len(sends) == 3
    late = [arrival - after for arrival, (_, after) in zip(arrivals, sends, strict=True)]
    for arrival, (before, after) in zip(arrivals, sends, strict=True):
        # with the loop's read time instead, an arrival is up to the 0.2 s block later than the send returned
        assert before <= arrival <= after + 0.05, (late, sends)


# four failing POSTs to golive's proxy, a sleep of argv[2] seconds after each answer but the last
_REQUESTS = r"""
def requests(port, sleep_s, read):
    for n in range(4):
        sock = socket.create_connection(("127.0.0.1", port))
        body = b'{"to": "+15005550000"}'
        sock.sendall(b"POST /v1/fax HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        read(sock)
        sock.close()
        if n < 3:
            time.sleep(sleep_s)
"""

SHARING_CLIENT = (
    "import os, socket, subprocess, sys, time\n"
    + _REQUESTS
    + r"""
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one CPU, shared with two busy children (they inherit it)
hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
time.sleep(0.3)  # the hogs are running
def until_closed(sock):
    while sock.recv(65536):
        pass
requests(int(sys.argv[1]), float(sys.argv[2]), until_closed)
for hog in hogs:
    hog.kill()
"""
)

LONE_CLIENT = (
    "import os, socket, sys, time\n"
    + _REQUESTS
    + r"""
os.sched_setaffinity(0, {int(sys.argv[3])})
os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # it runs only when the busy process lets it: it waits
# the whole answer comes in one piece: one blocking read, then the sleep
requests(int(sys.argv[1]), float(sys.argv[2]), lambda sock: sock.recv(65536))
"""
)


def _timed_run(script: str, sleep_s: float, cpu: int | None = None) -> object:
    """A client `script` through a failing proxy, its pid watched (harness/runqueue.py); pinned to `cpu` if given."""
    import asyncio

    from checker.harness.process import run_client
    from checker.harness.proxy import RecordingProxy, Scenario, status
    from checker.probes.client import ClientRun

    async def main() -> ClientRun:
        async with RecordingProxy("http://127.0.0.1:9", Scenario(then=status(503, "service_unavailable"))) as proxy:
            values = {"python": sys.executable, "script": script, "port": str(proxy.port), "sleep": str(sleep_s)}
            command = "{python} -c {script} {port} {sleep}" + ("" if cpu is None else f" {cpu}")
            result = await run_client(command, values, env={}, cwd=ROOT, timeout_s=60, on_start=proxy.watch)
        return ClientRun(list(proxy.attempts), result, proxy.started)

    return asyncio.run(main())


@pytest.mark.slow
def test_a_clients_waits_for_a_cpu_are_never_subtracted_from_inside_its_sleep() -> None:
    """The machine's share of a delay is not the client's (harness/runqueue.py), but the correction must never make
    a delay shorter than the client's own sleep. Here the client shares its one CPU with two busy children: they
    wait for the CPU far longer than the client (about half of every second each), and counting them — or any
    thread but the one that slept — would make a 0.5 s sleep look shorter. Several threads ran, so which one
    slept is unknown: nothing is subtracted, and the delays stay as recorded."""
    import itertools

    from checker.probes.client import _delays

    sleep_s = 0.5
    run = _timed_run(SHARING_CLIENT, sleep_s)
    posts = run.posts  # type: ignore[attr-defined]
    assert len(posts) == 4 and run.process.exit_code == 0, run.evidence()  # type: ignore[attr-defined]
    raw = [later.t - (earlier.answered_at or 0.0) for earlier, later in itertools.pairwise(posts)]
    corrected = _delays(run)  # type: ignore[arg-type]
    for gap, delay in zip(raw, corrected, strict=True):
        assert sleep_s - 0.002 <= delay <= gap, (raw, corrected)  # 2 ms: the clocks' and the kernel's rounding
    # the test can tell: the busy children were in every snapshot and lost more than the sleeper's whole margin
    for earlier, later in itertools.pairwise(posts):
        before, after = earlier.queued_answer, later.queued_read
        assert before is not None and after is not None and len(before) >= 3
        naive = max(after[tid].waited_ns - before[tid].waited_ns for tid in after if tid in before) / 1e9
        gap = later.t - (earlier.answered_at or 0.0)
        assert gap - naive < sleep_s, "the busy children lost too little to tell a sleeper-only correction from a naive one"


@pytest.mark.slow
def test_a_lone_clients_waits_for_a_cpu_are_subtracted() -> None:
    """A single-threaded client that blocks once for its answer and once for its sleep, on a CPU a busy process
    (not its own) keeps loaded, scheduled last (SCHED_IDLE: Linux otherwise runs a waking sleeper at once, and it
    waits for nothing): what it lost waiting to run after the answer and after the sleep is counted, and the delay
    is still never shorter than its sleep."""
    import itertools
    import os
    import subprocess

    from checker.harness.runqueue import waited
    from checker.probes.client import _delays, _queued

    cpu = min(os.sched_getaffinity(0))
    hog = subprocess.Popen([sys.executable, "-c", f"import os\nos.sched_setaffinity(0, {{{cpu}}})\nwhile True: pass"])
    try:
        sleep_s = 0.3
        run = _timed_run(LONE_CLIENT, sleep_s, cpu)
    finally:
        hog.kill()
        hog.wait()
    posts = run.posts  # type: ignore[attr-defined]
    assert len(posts) == 4 and run.process.exit_code == 0, run.evidence()  # type: ignore[attr-defined]
    raw = [later.t - (earlier.answered_at or 0.0) for earlier, later in itertools.pairwise(posts)]
    lost = [_queued(a, b) for a, b in itertools.pairwise(posts)]
    for gap, delay in zip(raw, _delays(run), strict=True):  # type: ignore[arg-type]
        assert sleep_s - 0.002 <= delay <= gap, (raw, lost)
    # it is the lone sleeper the correction looks for (one thread ran, blocked at the answer, blocked twice), and
    # sharing its CPU it waited to run: before the slack golive's own late reads cost (which a busy machine can
    # make larger than these waits), the correction counts them
    counted = [waited(a.queued_answer, b.queued_read) for a, b in itertools.pairwise(posts)]
    assert any(w > 0 for w in counted), (raw, counted, lost)


@pytest.mark.parametrize(
    ("after", "lost"),
    [
        ({1: (5, 10, 12, True)}, 0.004),  # it ran, blocked twice (the sleep, the next read): 5 ms lost, 1 ms slack
        ({1: (5, 10, 13, True)}, 0.0),  # it blocked a third time: woken inside its sleep, maybe
        ({1: (5, 10, 12, True), 2: (0, 4, 0, True)}, 0.0),  # another thread ran too: which one slept is unknown
        ({1: (5, 10, 12, True), 3: (0, 1, 0, True)}, 0.0),  # a new thread (or process) ran
    ],
)
def test_only_the_lone_sleepers_waits_are_subtracted(after: dict[int, tuple[int, int, int, bool]], lost: float) -> None:
    from checker.harness.runqueue import Thread, waited

    ms = 1_000_000
    before = {1: Thread(0, 1 * ms, 10, True), 2: Thread(0, 3 * ms, 0, True)}
    now = {tid: Thread(w * ms, r * ms, b, blocked) for tid, (w, r, b, blocked) in after.items()}
    now.setdefault(2, before[2])
    assert waited(before, now, slack=0.001) == pytest.approx(lost)
    busy = {**before, 1: Thread(0, 1 * ms, 10, False)}  # runnable when golive answered: not the one waiting for it
    assert waited(busy, now, slack=0.001) == 0.0
