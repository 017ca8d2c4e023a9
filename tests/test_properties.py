"""Property-based tests (hypothesis) over what golive reads from outside: config files, pack files,
signature headers, recorded transcripts and saved reports. Each input either loads into a valid
result or raises ConfigError whose every problem names the file and a line; nothing else escapes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker import engine
from checker.backoff import Noise, accepted_schedules, delays_of, judge_backoff, judge_jitter
from checker.config import parse_config
from checker.errors import ConfigError
from checker.model import Result, Rule, RunContext, RunResult, Severity, Status
from checker.packs import load_pack
from checker.printable import printable_deep
from checker.probes.client import busiest_second
from checker.report import RENDERERS, load_report, render_html, render_json, render_junit, render_markdown, render_sarif
from checker.signing import SecretError, SigningScheme, standard_key
from tests import workflow_commands
from tests.conftest import sarif_schema

# slow, left out of the fast tier: hypothesis property runs with many examples
pytestmark = pytest.mark.slow

# CI runs the same examples every time (a red main must be reproducible); a developer's runs explore anew.
# GOLIVE_EXAMPLES=5000 for a longer hunt.
EXAMPLES = int(os.environ.get("GOLIVE_EXAMPLES", "100"))
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# ---------------------------------------------------------------- YAML documents made of golive's own words

CONFIG_WORDS = [
    *("provider", "environment", "sandbox", "url", "api_key", "timeout", "client", "command", "env", "cwd", "batch_command"),
    *("webhook", "secret", "start", "start_timeout", "events", "processed_count", "repo", "paths", "production_paths"),
    *("documents", "balance", "poll", "rules", "select", "ignore", "severity", "waivers", "rule", "reason", "expires", "by"),
    *("attestations", "date", "evidence", "mintfax", "idunox", "flexforward", "live", "builtin", "IDEM-001", "HOOK", "LIVE-004"),
]
scalars = st.one_of(
    st.sampled_from(CONFIG_WORDS),
    st.text(max_size=20),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.dates().map(str),
    st.sampled_from(["${HOME}", "${UNSET_VAR}", "${UNSET_VAR:-x}", "$$", "{port}", "fx_live_0123456789abcdef0123"]),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(CONFIG_WORDS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


def config_documents() -> st.SearchStrategy[str]:
    """Mostly well-shaped configs with some wrong keys, types and values; some raw text."""
    base = st.fixed_dictionaries(
        {"provider": st.sampled_from(["mintfax", "idunox", "flexforward"]) | scalars},
        optional={word: values for word in CONFIG_WORDS[1:26]},
    )
    dumped = base.map(lambda d: yaml.safe_dump(d, allow_unicode=True, sort_keys=False))
    return st.one_of(dumped, dumped, dumped, st.text(max_size=200))


def assert_located(exc: ConfigError, name: str) -> None:
    assert exc.problems
    for problem in exc.problems:
        assert str(problem).startswith(name), str(problem)
        assert problem.line is not None and problem.line >= 1, str(problem)
        assert problem.message


@given(config_documents())
def test_any_config_loads_or_names_file_and_line(text: str) -> None:
    try:
        config = parse_config(text, name="golive.yaml", environ={"HOME": "/home/x"})
    except ConfigError as exc:
        assert_located(exc, "golive.yaml")
        return
    try:  # the rest of what `check` validates before probing: the pack and the rule ids
        pack = load_pack(config.file.provider, relative_to=Path("/nonexistent"), named_in=(config.path, config.line_of("provider")))
        engine.select_rules(pack, config, engine.RunOptions())
    except ConfigError as exc:
        assert_located(exc, "golive.yaml")


PACK_WORDS = ["extends", "name", "rules", "facts", "severity", "source", "skip", "params", "create", "path", "idempotency"]
PACK_WORDS += ["key_in", "name", "retry", "retryable", "base_s", "cap_s", "webhooks", "scheme", "tolerance_s", "IDEM-001", "RETRY-106"]


@given(
    st.fixed_dictionaries(
        {"extends": st.sampled_from(["mintfax", "idunox", "flexforward"]) | scalars},
        optional={
            "name": scalars,
            "rules": st.dictionaries(st.sampled_from(["IDEM-001", "RETRY-106", "HOOK-201", "NOPE-1"]), values, max_size=3),
            "facts": st.dictionaries(st.sampled_from(PACK_WORDS), values, max_size=4),
        },
    )
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_any_pack_loads_or_names_file_and_line(tmp_path: Path, pack: dict[str, object]) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(pack, allow_unicode=True))
    try:
        loaded = load_pack(str(path))
    except ConfigError as exc:
        assert_located(exc, str(path))
        return
    assert loaded.rules and all(rule.id for rule in loaded.rules)


# ---------------------------------------------------------------- signature headers


def stripe_verifies(body: bytes, header: str, secret: str, timestamp: int) -> bool:
    """Stripe's verifier (mintfax's scheme is Stripe's), pinned to the signing time."""
    import stripe

    try:
        stripe.WebhookSignature.verify_header(body.decode("utf-8"), header, secret, tolerance=None)
    except stripe.SignatureVerificationError:
        return False
    return True


def standard_verifies(body: bytes, headers: dict[str, str], secret: str, timestamp: int) -> bool:
    import standardwebhooks

    wh = standardwebhooks.Webhook(secret)
    try:
        wh.verify(body, {**headers, "webhook-timestamp": headers["webhook-timestamp"]}) if abs(timestamp - _now()) < 300 else None
        # standardwebhooks checks freshness against the clock: verify the MAC itself for other timestamps
        content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        expected = base64.b64encode(hmac.new(standard_key(secret), content, hashlib.sha256).digest()).decode()
        return any(part.split(",", 1) == ["v1", expected] for part in headers["webhook-signature"].split(" "))
    except (standardwebhooks.WebhookVerificationError, ValueError):
        return False


def _now() -> int:
    import time

    return int(time.time())


bodies = st.dictionaries(st.text(max_size=10), st.text(max_size=20) | st.integers(), max_size=4).map(
    lambda d: json.dumps(d, ensure_ascii=False).encode()
)
hex_secrets = st.binary(min_size=8, max_size=32).map(lambda b: "whsec_" + b.hex())
b64_secrets = st.binary(min_size=16, max_size=32).map(lambda b: "whsec_" + base64.b64encode(b).decode())


@given(body=bodies, secrets=st.lists(hex_secrets, min_size=1, max_size=3), timestamp=st.integers(10**9, 2 * 10**9))
def test_mintfax_signatures_verify_with_stripe_and_malformed_ones_never_do(body: bytes, secrets: list[str], timestamp: int) -> None:
    scheme = SigningScheme("mintfax", "X-Mintfax-Signature")
    headers = scheme.sign(secrets, body, timestamp=timestamp, msg_id="evt_1")
    header = headers["X-Mintfax-Signature"]
    assert "\r" not in header and "\n" not in header
    for secret in secrets:  # during a rotation each secret's receiver accepts the delivery
        assert stripe_verifies(body, header, secret, timestamp)
    assert not stripe_verifies(body + b" ", header, secrets[0], timestamp)  # a changed body
    for label, bad in scheme.malformed(headers):
        assert not stripe_verifies(body, bad["X-Mintfax-Signature"], secrets[0], timestamp), label


@given(body=bodies, secrets=st.lists(b64_secrets, min_size=1, max_size=3), timestamp=st.integers(10**9, 2 * 10**9))
def test_standard_signatures_verify_and_malformed_ones_never_do(body: bytes, secrets: list[str], timestamp: int) -> None:
    scheme = SigningScheme("standard", "webhook-signature", "webhook-timestamp", "webhook-id")
    headers = scheme.sign(secrets, body, timestamp=timestamp, msg_id="msg_1")
    for secret in secrets:
        assert standard_verifies(body, headers, secret, timestamp)
    for label, bad in scheme.malformed(headers):
        assert not standard_verifies(body, bad, secrets[0], timestamp), label


@given(body=bodies, secret=hex_secrets)
def test_github_signatures_verify_and_malformed_ones_never_do(body: bytes, secret: str) -> None:
    scheme = SigningScheme("github", "X-Hub-Signature-256")
    headers = scheme.sign([secret], body, timestamp=0, msg_id="")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Hub-Signature-256"], expected)
    for label, bad in scheme.malformed(headers):
        assert bad["X-Hub-Signature-256"] != expected, label


@given(st.text(max_size=80))
def test_any_standard_secret_is_a_key_or_a_clear_error(secret: str) -> None:
    try:
        assert isinstance(standard_key(secret), bytes)
    except SecretError as exc:
        assert "whsec_" in str(exc)


# ---------------------------------------------------------------- recorded transcripts

finite = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(
    runs=st.lists(st.lists(finite, max_size=8), max_size=4),
    base=st.floats(0.01, 10),
    cap=st.floats(0.1, 120),
    jitter=st.floats(0, 5),
    late=st.floats(0, 1),
)
@settings(deadline=None)
def test_any_recorded_delays_get_a_verdict(runs: list[list[float]], base: float, cap: float, jitter: float, late: float) -> None:
    schedules = accepted_schedules(base, cap, jitter)
    noise = Noise(samples=10, local=tuple((late,) * len(run) for run in runs))
    verdict = judge_backoff(runs, schedules, noise)
    assert verdict.schedule in ("documented", "full jitter", "equal jitter", "fixed", "none")
    assert verdict.message and verdict.ok in (True, False, None)
    jitter_verdict = judge_jitter(runs, schedules, noise)
    assert jitter_verdict.message and jitter_verdict.ok in (True, False, None)
    if len(runs) >= 2 and all(run == runs[0] for run in runs) and runs[0]:
        assert jitter_verdict.ok is not True  # identical delays in every run carry no jitter


@given(st.lists(st.tuples(finite, st.none() | finite), max_size=10))
def test_delays_of_any_transcript_are_finite(attempts: list[tuple[float, float | None]]) -> None:
    started = sorted(t for t, _ in attempts)
    answered = [a for _, a in attempts]
    for delay in delays_of(answered, started):
        assert math.isfinite(delay)


@given(st.lists(finite, max_size=40))
def test_busiest_second_is_a_count_of_requests(times: list[float]) -> None:
    most = busiest_second(times)
    assert (most == 0) == (not times)
    assert 0 <= most <= len(times)


# ---------------------------------------------------------------- results into reports, and reports back

any_text = st.text(max_size=60)  # every code point: control characters, markup, escapes, surrogates excluded by JSON
evidence_items = st.dictionaries(
    st.sampled_from(["kind", "n", "t", "method", "path", "status", "body_excerpt", "note", "stdout_tail", "file", "line", "match"]),
    any_text | st.integers(),
    max_size=5,
)


@st.composite
def runs(draw: st.DrawFn) -> RunResult:
    results = []
    for n in range(draw(st.integers(0, 4))):
        rule = Rule(
            id=f"IDEM-00{n}",
            title=draw(any_text),
            section=draw(st.sampled_from(["Idempotency", "Webhooks"])),
            target="sandbox",
            severity=Severity.BLOCKER,
            checks="c",
            why="w",
            probe="p",
            fix=draw(any_text),
            source=draw(st.none() | st.just("002_8baf5029274c2112.txt")),
        )
        results.append(
            Result(
                rule=rule,
                status=draw(st.sampled_from(list(Status))),
                severity=draw(st.sampled_from(list(Severity))),
                message=draw(any_text),
                duration_s=draw(st.floats(0, 100)),
                evidence=tuple(draw(st.lists(evidence_items, max_size=3))),
            )
        )
    return RunResult(
        provider="mintfax",
        environment="sandbox",
        started_at="2026-11-24T10:00:00Z",
        duration_s=1.0,
        verdict=draw(st.sampled_from(["ready", "not ready"])),
        interrupted=draw(st.booleans()),
        results=tuple(results),
        tool_version="0.1.0",
        config_file=draw(st.none() | st.just("golive.yaml")),
        context=RunContext(config=draw(st.none() | any_text)),
        locations=draw(st.dictionaries(st.sampled_from(["sandbox", "client", "webhook", "repo", "config"]), st.integers(-1, 10**6))),
    )


@given(runs())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_any_results_render_in_every_format_and_read_back(tmp_path: Path, run: RunResult) -> None:
    ET.fromstring(render_junit(run).encode())  # well-formed XML whatever the targets said
    jsonschema.validate(json.loads(render_sarif(run)), sarif_schema())
    issues = json.loads(RENDERERS["gitlab"](run))
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    annotations = RENDERERS["github"](run)
    assert all(line.startswith("::") for line in workflow_commands.runner_lines(annotations))
    assert len(workflow_commands.parse(annotations)) == len(issues) + 1  # the verdict, then one per issue
    assert render_html(run).startswith("<!doctype html>") or "<html" in render_html(run)
    render_markdown(run)
    saved = tmp_path / "report.json"
    saved.write_text(render_json(run))
    back = render_json(load_report(saved))
    # a saved report is anyone's file: it reads back printable (ids, titles and messages on one line), as the engine
    # makes what a target said; text that is so already reads back unchanged, and a report read back reads back the same
    data = json.loads(render_json(run))
    printable_already = printable_deep(data) == data and not any("\n" in r["title"] + r["message"] for r in data["results"])
    assert printable_deep(json.loads(back)) == json.loads(back)
    assert (back == render_json(run)) or not printable_already
    saved.write_text(back)
    assert render_json(load_report(saved)) == back


@given(st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=4), max_leaves=20))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_json_file_is_a_report_or_a_clear_error(tmp_path: Path, data: object) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(data))
    try:
        load_report(path)
    except ConfigError as exc:
        assert all(str(p).startswith(str(path)) for p in exc.problems)


@pytest.mark.parametrize("text", ["[" * 100_000, "{" * 5000, "\x00", "", '{"schema": "golive-report/1"}'])
def test_hostile_report_files_are_clear_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "report.json"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_report(path)


# ---------------------------------------------------------------- the same, as a user meets it


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x1f", "golive.yaml:1: invalid YAML: character U+001F is not allowed"),
        (b"provider: mintfax\nsandbox: " + b"[" * 20000, "golive.yaml:1: invalid YAML: nested too deeply"),
        (b"provider: ~0\n", "golive.yaml:1: provider: unknown provider: '~0'"),
        (b"provider: acme.yaml\n", "golive.yaml:1: provider: no such pack file: 'acme.yaml'"),
        (b"\xff\xfe not utf-8", "golive.yaml:1: cannot read config file: not UTF-8 text (byte 0xff)"),
        (b"", "golive.yaml:1: the file is empty"),
        (b"- a list\n", "golive.yaml:1: expected a mapping of keys at the top"),
        (b"provider: mintfax\nsandbox: {api_key: 12345678901234567890123, timeout: -1}\n", "golive.yaml:2: sandbox.timeout:"),
    ],
)
def test_bad_config_files_exit_2_naming_file_and_line(tmp_path: Path, content: bytes, expected: str) -> None:
    from tests.conftest import golive

    (tmp_path / "golive.yaml").write_bytes(content)
    done = golive("check", cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------- what a client sends the recording proxy

tokens = st.sampled_from([b"POST", b"GET", b"PUT", b"P\x00ST", b""])
targets = st.sampled_from([b"/v1/fax", b"/", b"*", b"http://elsewhere.example/x", b"/%00", b"/\xff"]) | st.binary(max_size=20)
header_lines = st.lists(
    st.tuples(
        st.sampled_from([b"Idempotency-Key", b"Content-Length", b"Transfer-Encoding", b"Authorization", b"X-Y"]) | st.binary(max_size=10),
        st.binary(max_size=40) | st.sampled_from([b"5", b"-1", b"chunked", b"Bearer fx_test_abcdefabcdefabcdef", b"99999999999"]),
    ),
    max_size=5,
)
raw_requests = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda method, target, headers, body: (
            method + b" " + target + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n" + body
        ),
        tokens,
        targets,
        header_lines,
        st.binary(max_size=60),
    ),
)


@given(st.lists(raw_requests, min_size=1, max_size=3))
def test_the_proxy_records_whatever_a_client_sends_and_keeps_serving(requests: list[bytes]) -> None:
    """Malformed request lines, headers and bodies: each connection ends in bounded time, the recording
    stays well-formed, and the proxy still serves a proper request afterwards."""
    import asyncio

    from checker.harness.proxy import RecordingProxy, Scenario, status

    async def exchange(port: int, raw: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(raw)
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        try:
            return await asyncio.wait_for(reader.read(), 5)
        finally:
            writer.close()

    async def scenario() -> None:
        # every request is answered by an injected 503: no upstream is needed
        async with RecordingProxy("http://127.0.0.1:9", Scenario(then=status(503, "service_unavailable"))) as proxy:
            for raw in requests:
                await exchange(proxy.port, raw)
            answer = await exchange(proxy.port, b"POST /v1/fax HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\r\nContent-Length: 2\r\n\r\nhi")
            assert answer.startswith(b"HTTP/1.1 503"), answer[:80]
            attempts = [a.evidence() for a in proxy.attempts]
            assert [a["n"] for a in attempts] == list(range(1, len(attempts) + 1))
            json.dumps(attempts)  # the recording is data a report can hold
            assert attempts[-1]["idempotency_key"] == "k"

    asyncio.run(scenario())
