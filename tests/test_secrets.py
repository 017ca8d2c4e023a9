"""The secrets audit: a full check with known API keys and webhook secrets, against a client and a receiver
that print and echo them every careless way, with keys committed in the repo. None of the secrets, nor any
12-character piece of one, may appear in stdout, stderr, any report format, the step summary or a log."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SandboxProcess, golive

CLIENTS = ROOT / "tests" / "clients"
API_KEY = "fx_test_9d2e4b7a1c6f3e8d0b5a2c7e"
WEBHOOK_SECRET = "whsec_7c1e9a3d5b2f8e0c4a6d1b9e3f7a5c2d"
LIVE_KEY = "fx_live_3b8e1d6a9c2f5e7b0d4a8c1f"  # committed in a tracked file: KEY-002
COMMITTED_SANDBOX_KEY = "fx_test_5e0a7c2d9b4f1e6a3c8d0b7f"  # in a production path: KEY-003
SECRETS = (API_KEY, WEBHOOK_SECRET, LIVE_KEY, COMMITTED_SANDBOX_KEY)
FRAGMENT = 8


def fragments(secret: str) -> set[str]:
    """Every 8-character piece of the secret's random part, lower-cased (its prefix alone is no secret)."""
    body = re.sub(r"^(fx_(test|live)_|whsec_)", "", secret).lower()
    return {body[i : i + FRAGMENT] for i in range(len(body) - FRAGMENT + 1)}


def leaks(text: str) -> list[str]:
    """Secrets shown whole, as a piece in any letter case, or in an encoded form (tests/test_hostile.py: `encodings`)."""
    from tests.test_hostile import encodings

    lowered = text.lower()
    return [
        secret
        for secret in SECRETS
        if secret in text or any(f in lowered for f in fragments(secret)) or any(form in text for form in encodings(secret))
    ]


def leaky_project(folder: Path) -> Path:
    folder.mkdir()
    shutil.copytree(ROOT / "examples" / "mintfax" / "good" / "documents", folder / "documents")
    (folder / "deploy" / "prod").mkdir(parents=True)
    (folder / "deploy" / "prod" / "app.env").write_text(f"MINTFAX_API_KEY={COMMITTED_SANDBOX_KEY}\n")
    (folder / "config").mkdir()
    (folder / "config" / "settings.py").write_text(f'LIVE = "{LIVE_KEY}"  # TODO move to the secret manager\n')
    (folder / "golive.yaml").write_text(
        "provider: mintfax\n"
        "sandbox: {url: builtin, api_key: '${MINTFAX_API_KEY}'}\n"
        "client:\n"
        f'  command: "{{python}} {CLIENTS / "faxclient.py"} --to {{to}} --file {{file}} --ref {{ref}} --flaw leak-secrets --base 0.1"\n'
        '  env: {MINTFAX_BASE_URL: "{base_url}", MINTFAX_API_KEY: "{api_key}"}\n'
        "  timeout: 30\n"
        "webhook:\n"
        "  url: http://127.0.0.1:{port}/hooks\n"
        "  secret: ${MINTFAX_WEBHOOK_SECRET}\n"
        f'  start: "{{python}} {CLIENTS / "receiver.py"} --port {{port}} --flaw leak-secrets"\n'
        '  env: {RECEIVER_SECRET: "{secret}", RECEIVER_DB: "{workdir}/receiver.db"}\n'
        f'  processed_count: "{{python}} {CLIENTS / "receiver.py"} count {{event_id}}"\n'
        "  events: [fax.delivered, fax.failed, balance.low]\n"
        "repo: {paths: ['.'], production_paths: ['deploy/prod/**']}\n"
        "documents: ['documents/*']\n"
    )
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x"]):
        subprocess.run(["git", *command], cwd=folder, check=True)
    return folder


@pytest.mark.slow
def test_no_secret_reaches_any_output(tmp_path: Path) -> None:
    project = leaky_project(tmp_path / "project")
    summary = tmp_path / "step-summary.md"
    done = golive(
        *("check", "-c", "golive.yaml", "-v", "--format", "text,json,html,md,junit,sarif", "--output", "out"),
        cwd=project,
        env={"MINTFAX_API_KEY": API_KEY, "MINTFAX_WEBHOOK_SECRET": WEBHOOK_SECRET, "GITHUB_STEP_SUMMARY": str(summary)},
        timeout=300,
    )
    assert done.returncode == 1, done.stderr  # KEY-002/003 fail: the committed keys
    outputs = {"stdout": done.stdout, "stderr": done.stderr, "step summary": summary.read_text()}
    outputs |= {path.name: path.read_text() for path in (project / "out").iterdir()}
    assert set(outputs) >= {"report.json", "report.html", "report.md", "junit.xml", "report.sarif"}
    for name, text in outputs.items():
        assert not leaks(text), f"{name} leaks {leaks(text)}"
    # the audit is not vacuous: the leaked values reached the report, masked
    report = outputs["report.json"]
    assert "fx_test_…" in report and "whsec_…" in report and "fx_live_…" in report
    assert '"stderr_tail": "…' in report  # a tail cut inside a key: the piece left is masked too


@pytest.mark.slow
def test_no_secret_in_a_crash_file(tmp_path: Path) -> None:
    """An internal error's crash file and message are redacted like everything else."""
    (tmp_path / "golive.yaml").write_text("provider: mintfax\nsandbox: {url: builtin, api_key: '${MINTFAX_API_KEY}'}\n")
    crash = (
        "import sys\nfrom checker import cli, engine\n"
        "async def boom(config, *args, **kwargs):\n"
        "    raise RuntimeError(f'bug while holding {config.file.sandbox.api_key}')\n"
        "engine.run = boom\nsys.argv = ['golive', 'check']\ncli.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", crash],
        cwd=tmp_path,
        env={**os.environ, "MINTFAX_API_KEY": API_KEY, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    crash_files = list(tmp_path.glob("golive-crash-*.txt"))
    assert crash_files and "RuntimeError" in crash_files[0].read_text()
    for text in (done.stdout, done.stderr, crash_files[0].read_text()):
        assert not leaks(text)
    assert "fx_test_…" in done.stderr


@pytest.mark.parametrize(
    "form",
    [
        lambda k: k,
        lambda k: "…" + k[9:],  # the start cut off
        lambda k: "x" * 270 + k[5:25] + "y" * 100,  # a piece in the middle of a cut text
        str.upper,
        lambda k: k[:14] + "\n" + k[14:],
        lambda k: json.dumps(k, ensure_ascii=True).replace("/", "\\/"),
        lambda k: "".join(f"\\u{ord(c):04x}" for c in k),
        lambda k: urllib.parse.quote(k, safe=""),
        lambda k: urllib.parse.quote_plus(k),
        lambda k: "Authorization: Basic " + base64.b64encode(f"user:{k}".encode()).decode(),
        lambda k: "token=" + base64.b64encode(k.encode()).decode() + "&next=1",
        lambda k: "x" + base64.urlsafe_b64encode(b"ab:" + k.encode()).decode(),
        lambda k: k.encode().hex(),
        lambda k: k.encode().hex().upper(),
    ],
    ids=[
        "plain",
        "cut",
        "middle",
        "upper",
        "split",
        "json",
        "u-escapes",
        "url",
        "url-plus",
        "basic",
        "base64",
        "base64-glued",
        "hex",
        "HEX",
    ],
)
@pytest.mark.parametrize("secret", [API_KEY, "whsec_" + base64.b64encode(bytes(range(190, 226))).decode()], ids=["key", "base64-secret"])
def test_the_redactor_masks_each_form_a_log_really_prints(form, secret: str) -> None:
    from checker.redact import Redactor

    text = f"before {form(secret)} after"
    masked = Redactor([secret]).text(text)
    assert masked.startswith("before ") and masked.endswith(" after")
    assert not [p for p in fragments(secret) if p in masked.lower()], masked
    assert form(secret) not in masked


@pytest.mark.parametrize(
    "text",
    [
        "golive-sandbox-abcdefgh and /tmp/golive-run-xyz",
        "2026-11-25T10:00:00Z 1234567890",
        "fx_test_ is the prefix",
        "https://api.example.com/v1/fax",
    ],
)
def test_the_redactor_leaves_ordinary_text_alone(text: str) -> None:
    from checker.redact import Redactor

    assert Redactor([API_KEY, WEBHOOK_SECRET, "ff-sandbox-key-0d4f9c2a7d1e"]).text(text) == text


@pytest.mark.slow
def test_the_sandbox_log_holds_no_secret(tmp_path: Path) -> None:
    """`golive sandbox` logs every request and webhook delivery: never the key or an endpoint's secret."""
    log = (tmp_path / "sandbox.log").open("w")
    server = SandboxProcess("mintfax", tmp_path / "s.db", output=log)
    try:
        url = server.url
        headers = {"Authorization": f"Bearer {API_KEY}"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            endpoint = client.post("/v1/account/webhooks", json={"url": f"{url}/nowhere", "events": ["fax.delivered"]}).json()
            pdf = (ROOT / "examples" / "mintfax" / "good" / "documents" / "invoice.pdf").read_bytes()
            sent = client.post("/v1/fax", data={"to": "+15005550000"}, files={"file": ("a.pdf", pdf)}, headers={"Idempotency-Key": "k1"})
            assert sent.status_code == 201
            client.post("/v1/fax", data={"to": "+15005550003"}, files={"file": ("a.pdf", pdf)}, headers={"Idempotency-Key": "k2"})
            client.get("/v1/account/balance", headers={"Authorization": f"Bearer {LIVE_KEY}"})  # refused: a live key
            time.sleep(1.5)  # a delivery attempt or two to the endpoint
    finally:
        server.stop()
        log.close()
    text = (tmp_path / "sandbox.log").read_text()
    assert "POST /v1/fax" in text  # the log is there
    endpoint_secret = endpoint["secret"]
    assert endpoint_secret.startswith("whsec_") and endpoint_secret not in text
    assert not leaks(text), leaks(text)


# ---------------------------------------------------------------- round 2: values the redactor never saw


def test_a_short_secret_is_masked_as_a_word_of_its_own() -> None:
    """A password or query value shorter than 8 characters is masked where it stands alone, not inside golive's words."""
    from checker.redact import Redactor

    redactor = Redactor(["live", "hunter2"])
    assert redactor.text("live: --password hunter2 ?pw=hunter2&x=1") == "…: --password … ?pw=…&x=1"
    assert redactor.text("delivered to fx_live_ keys, hunter22") == "delivered to fx_live_ keys, hunter22"


@pytest.mark.parametrize(
    ("url", "credentials"),
    [
        ("https://app:s3cr%2Fet@api.example.com/v1?token=t0k&sig=a+b&empty=", ["a b", "a+b", "s3cr%2Fet", "s3cr/et", "t0k"]),
        ("https://ghp_T0ken@github.example/x", ["ghp_T0ken"]),  # a token written as the user
        ("http://127.0.0.1:{port}/hooks?secret={secret}", []),  # golive's placeholders are none
        ("http://[::1/x", []),
    ],
)
def test_the_credentials_a_url_carries(url: str, credentials: list[str]) -> None:
    from checker.redact import url_credentials

    assert url_credentials(url) == credentials


def test_a_password_in_any_url_is_masked_known_or_not() -> None:
    from checker.redact import Redactor

    text = "connect to postgres://app:hunter2@db/x and http://u:p@h/ failed; see http://h:80/a:b@c"
    assert Redactor(()).text(text) == "connect to postgres://app:…@db/x and http://u:…@h/ failed; see http://h:80/a:b@c"


def test_another_process_command_line_is_shown_without_its_credentials() -> None:
    from checker.redact import command_line

    words = ["python", "app.py", "--api-key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "--token=abcdef", "-p", "8080", "PASSWORD=hunter2"]
    shown = command_line(words)
    assert shown == "python app.py --api-key sk_live_…p7dc --token=… -p 8080 PASSWORD=…", shown
