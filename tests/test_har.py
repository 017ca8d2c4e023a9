"""--format har: the client's requests through the fault proxy and golive's webhook deliveries as HAR 1.2
(traffic.har), read back by a HAR library from PyPI (hario-core: pydantic models of the HAR 1.2 spec, whose
`parse.validate` refuses a log missing any field the spec requires), faults marked, secrets masked as in the report."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest
from hario_core.parse import validate

from checker import engine, traffic
from checker.config import load_config
from checker.harness.proxy import RESET, RecordingProxy, Scenario, status
from checker.model import RunResult
from checker.packs import load_pack
from checker.redact import FRAGMENT
from checker.report import FILES, FORMATS, render_json
from checker.report.har import render as render_har
from tests.conftest import ROOT, TEST_KEYS, golive

CLIENT = ROOT / "tests" / "clients" / "faxclient.py"
RECEIVER = ROOT / "tests" / "clients" / "receiver.py"
SECRET = "whsec_0f5a9c2d7e1b8a4c6d3e9f0a1b2c3d4e"
KEY = TEST_KEYS["mintfax"]


def project(tmp_path: Path, command: str) -> Path:
    """A golive.yaml with a client and a receiver (tests/clients), the key and the webhook secret in the config."""
    path = tmp_path / "golive.yaml"
    path.write_text(
        f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{KEY}'}}\n"
        f"client:\n  command: {command}\n"
        f"  env: {{MINTFAX_BASE_URL: '{{base_url}}', MINTFAX_API_KEY: '{{api_key}}', LEAK: '{SECRET}'}}\n  timeout: 30\n"
        "webhook:\n  url: http://127.0.0.1:{port}/hooks\n"
        f"  secret: {SECRET}\n"
        f'  start: "{{python}} {RECEIVER} --port {{port}}"\n'
        '  env: {RECEIVER_SECRET: "{secret}", RECEIVER_DB: "{workdir}/receiver.db"}\n'
        "  start_timeout: 10\n  events: [fax.delivered, fax.failed, balance.low]\n"
    )
    return path


def recorded_run(config_path: Path, *rules: str) -> RunResult:
    config = load_config(config_path, environ={})
    options = engine.RunOptions(select=rules, traffic=True)
    return asyncio.run(engine.run(config, load_pack("mintfax"), options))


def pieces(secret: str) -> set[str]:
    """Every run of the redactor's FRAGMENT characters of a secret's random part: none may be in a report."""
    body = secret.split("_")[-1]
    return {body[i : i + FRAGMENT] for i in range(len(body) - FRAGMENT + 1)}


def test_a_recorded_run_is_har_a_har_library_reads_with_faults_rules_and_deliveries(tmp_path):
    """A correct client (faxclient) against RETRY-103's reset and IDEM-102's injected 500, and the receiver's
    HOOK-201 delivery: every entry is valid HAR 1.2 (hario-core's models), names its rule, and marks the fault."""
    command = f"{sys.executable} {CLIENT} --to {{to}} --file {{file}} --ref {{ref}} --base 0.05"
    run = recorded_run(project(tmp_path, command), "RETRY-103", "IDEM-102", "HOOK-201")
    text = render_har(run)
    har = json.loads(text)
    log = validate(har)  # raises on anything HAR 1.2 requires and the file lacks
    assert log.version == "1.2" and log.creator.name == "golive"
    entries = har["log"]["entries"]
    by_rule = {rule: [e for e in entries if e["_golive"]["rule"] == rule] for rule in ("RETRY-103", "IDEM-102", "HOOK-201")}
    reset_entry = next(e for e in by_rule["RETRY-103"] if e["_golive"]["fault"] == "reset")
    assert reset_entry["response"]["status"] == 0 and "reset" in reset_entry["response"]["_error"]  # as a browser writes a failed request
    assert any(e["_golive"]["fault"] is None and e["response"]["status"] == 201 for e in by_rule["RETRY-103"])  # the retry, forwarded
    injected = next(e for e in by_rule["IDEM-102"] if e["_golive"]["fault"] == "500")
    assert injected["response"]["status"] == 500 and injected["response"]["content"]["text"]  # the error body golive answered
    first = by_rule["RETRY-103"][0]["request"]
    assert first["method"] == "POST" and first["url"].startswith("http://127.0.0.1:") and first["url"].endswith("/v1/fax")
    assert first["postData"]["mimeType"].startswith("multipart/form-data") and "%PDF" in first["postData"]["text"]
    assert "\r\n" in first["postData"]["text"]  # a multipart body keeps its line ends (printable per line)
    delivery = next(e for e in by_rule["HOOK-201"] if e["_golive"]["delivery"] == "valid")
    assert delivery["request"]["url"].endswith("/hooks") and delivery["response"]["status"] == 200
    assert any(h["name"].lower() == "x-mintfax-signature" for h in delivery["request"]["headers"])
    assert json.loads(delivery["request"]["postData"]["text"])["type"]  # the event as sent
    assert {page["id"] for page in har["log"]["pages"]} == {e["pageref"] for e in entries}
    auth = {h["value"] for e in entries for h in e["request"]["headers"] if h["name"].lower() == "authorization"}
    assert auth and all(value.startswith("Bearer fx_test_…") for value in auth), auth
    for secret in (KEY, SECRET):
        assert not any(piece in text for piece in pieces(secret)), secret


LEAKY = """
import os, sys, httpx
key, secret = os.environ["MINTFAX_API_KEY"], os.environ["LEAK"]
httpx.post(
    os.environ["MINTFAX_BASE_URL"] + "/v1/fax?api_key=" + key,
    headers={"X-Debug-Key": key, "X-Debug-Secret": secret, "Cookie": "session=" + key},
    json={"to": "+15005550000", "note": "key " + key + " secret " + secret},
    timeout=10,
)
"""


def test_a_client_that_sends_its_secrets_everywhere_shows_none_of_them_in_the_har(tmp_path):
    """The key and the webhook secret in the URL, in headers and in the body: masked in traffic.har as the report
    masks them (the engine's redactor, then printable), whole and in pieces."""
    leaky = tmp_path / "leaky.py"
    leaky.write_text(LEAKY)
    run = recorded_run(project(tmp_path, f"{sys.executable} {leaky}"), "IDEM-101")
    text = render_har(run)
    validate(json.loads(text))
    assert run.traffic, "the leaky client's request was not recorded"
    for secret in (KEY, SECRET):
        assert not any(piece in text for piece in pieces(secret)), secret
    assert not any(piece in render_json(run) for piece in pieces(KEY))  # the report alike


def test_a_body_is_kept_bounded_and_its_size_whole(sandbox):
    """The real proxy in front of the embedded sandbox: a 200 KB upload is recorded as its first BODY_TEXT bytes,
    with its whole size; an injected 503 and a reset are marked by their scenario names."""

    async def go() -> list[dict[str, object]]:
        recording = traffic.Traffic()
        traffic.TAPE.set(recording.tape("FILE-102"))
        server = sandbox("mintfax")
        scenario = Scenario(first=(status(503, "service_unavailable", retry_after=1), RESET))
        async with RecordingProxy(server.url, scenario) as proxy, httpx.AsyncClient(base_url=proxy.url, timeout=10) as client:
            await client.post("/v1/fax", content=b"x" * 200_000, headers={"Authorization": f"Bearer {KEY}"})
            with pytest.raises(httpx.TransportError):
                await client.post("/v1/fax", content=b"{}")
        return recording.entries()

    entries = asyncio.run(go())
    assert [e["golive"]["fault"] for e in entries] == ["503:1", "reset"]
    first = entries[0]["request"]
    assert first["size"] == 200_000 and first["cut"] and len(first["body"]) == traffic.BODY_TEXT
    assert entries[0]["golive"]["rules"] == ["FILE-102"] and entries[1]["status"] is None


def test_without_har_nothing_is_recorded(tmp_path):
    command = f"{sys.executable} {CLIENT} --to {{to}} --file {{file}} --ref {{ref}} --base 0.05"
    config = load_config(project(tmp_path, command), environ={})
    run = asyncio.run(engine.run(config, load_pack("mintfax"), engine.RunOptions(select=("RETRY-103",))))
    assert run.traffic == () and json.loads(render_har(run))["log"]["entries"] == []


# ---------------------------------------------------------------- the command line


def test_har_is_a_report_format_listed_alike_everywhere():
    from checker.commands.params import formats

    assert FILES["har"] == "traffic.har"
    assert formats() == ("text", *FORMATS)  # the command line's list is the registry's, read when --format is converted
    readme = (ROOT / "docs" / "reports.md").read_text()
    assert "`--format text,json,html,md,junit,sarif,gitlab,har`" in readme and "`traffic.har`" in readme


@pytest.mark.slow
def test_traffic_har_is_written_with_the_other_reports_or_none_is(tmp_path):
    """The trial before probing covers traffic.har like every report file: a folder in its place stops the run before
    any probe, and no other report is written."""
    out = tmp_path / "out"
    (out / "traffic.har").mkdir(parents=True)
    done = golive("check", "--provider", "mintfax", "--select", "IDEM-001", "--format", "json,har", "--output", str(out), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "traffic.har is a folder" in done.stderr and "nothing was probed" in done.stderr
    assert not (out / "report.json").exists()


@pytest.mark.slow
def test_a_saved_report_cannot_be_rendered_as_har(tmp_path):
    """report.json does not keep the traffic: `report render` and `report merge` say so instead of writing an empty HAR."""
    saved = tmp_path / "report.json"
    done = golive("check", "--provider", "mintfax", "--select", "IDEM-001", "--format", "json,har", "--output", str(tmp_path), cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    validate(json.loads((tmp_path / "traffic.har").read_text()))  # a contract-only run: no client traffic, still valid HAR
    for command in (["render", str(saved)], ["merge", str(saved)]):
        refused = golive("report", *command, "--format", "har", "--output", str(tmp_path / "again"), cwd=tmp_path)
        assert refused.returncode == 2 and "report.json does not keep the traffic" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
