"""The attack catalog: each way an adversarial review found to hang golive, exhaust it, fool it into a pass or
pull a secret into a report, reproduced as a user meets it (real processes, files, git repositories and
sockets) and kept fixed. Memory is bounded through the child's own limit (RLIMIT_AS), time through the
subprocess's timeout: nothing here measures the machine's speed.

Adding the next attack is one row: `CLI_ATTACKS` for anything a `golive` command line meets (a config, a pack,
a repository, a client, a receiver, a saved report), `SANDBOX_ATTACKS` for a request to `golive sandbox`.
The attacks that need a second process of their own (an impostor on a port, a SIGKILL) follow the tables.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from checker.harness.receiver import free_port
from checker.model import Status
from tests.conftest import ROOT, START_S, SandboxProcess, Witness, golive, listening, wait_for

CLIENTS = ROOT / "tests" / "clients"
PDF = (ROOT / "examples" / "mintfax" / "good" / "documents" / "invoice.pdf").read_bytes()
KEY = "fx_test_9d2e4b7a1c6f3e8d0b5a2c7e"
LIVE_KEY = "fx_live_3b8e1d6a9c2f5e7b0d4a8c1f"
SECRET = "whsec_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTAhQCM+/="  # base64 with '+', '/' and '=': URL and JSON forms differ
GIGABYTE = 1024 * 1024 * 1024


def pieces(secret: str, size: int = 8) -> set[str]:
    """Every run of `size` characters of the secret's random part, lower-cased (its prefix alone is no secret)."""
    body = re.sub(r"^(fx_(test|live)_|whsec_)", "", secret).lower()
    return {body[i : i + size] for i in range(len(body) - size + 1)}


def encodings(secret: str) -> set[str]:
    """The forms of a secret an integration's own logging really produces (README, Security, lists them)."""
    raw = secret.encode()
    return {
        secret.upper(),
        json.dumps(secret).strip('"').replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" for c in secret),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        base64.b64encode(raw).decode(),
        base64.b64encode(b"api:" + raw).decode(),
        raw.hex(),
    }


def leaked(text: str, *secrets: str) -> list[str]:
    lowered = text.lower()
    found = [s for s in secrets if s in text]
    found += [p for s in secrets for p in pieces(s) if p in lowered]  # in any letter case, cut anywhere
    found += [e for s in secrets for e in encodings(s) if e in text]
    return found


# ---------------------------------------------------------------- programs the attacks run

LEAKY_CLIENT = """
import base64, json, os, sys, urllib.parse, urllib.request
key, secret = os.environ["MINTFAX_API_KEY"], os.environ["HOOK_SECRET"]
if "--post" in sys.argv:  # reach the API first, so that the output lands in the rule's evidence
    body = (b'--b\\r\\nContent-Disposition: form-data; name="to"\\r\\n\\r\\n+15005550000\\r\\n'   # a fax the sandbox accepts
            b'--b\\r\\nContent-Disposition: form-data; name="file"; filename="a.pdf"\\r\\nContent-Type: application/pdf\\r\\n\\r\\n'
            b'%PDF-1.4\\n%%EOF\\n\\r\\n--b--\\r\\n')
    request = urllib.request.Request(os.environ["MINTFAX_BASE_URL"] + "/v1/fax", data=body, method="POST",
                                     headers={"Authorization": "Bearer " + key, "Idempotency-Key": "leaky-1",
                                              "Content-Type": "multipart/form-data; boundary=b"})
    try:
        urllib.request.urlopen(request, timeout=10)
    except Exception as exc:
        print("request failed:", exc)
for value in (key, secret):
    print(value[:20] + "\\n" + value[20:])   # split across lines
    print(value.upper(), json.dumps({"k": value}), urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value))
    print("".join("\\\\u%04x" % ord(c) for c in value), value.encode().hex())
    print("Authorization: Basic " + base64.b64encode(b"api:" + value.encode()).decode(), base64.b64encode(value.encode()).decode())
sys.stderr.write(key * 40 + "\\n")         # every cut of the tail falls inside a key
sys.stderr.write("\\x1b]0;pwned\\x07\\r\\x1b[2K Verdict: READY\\n")   # rewrites a terminal line and its title
sys.exit(1)
"""

LEAKY_RECEIVER = """
import http.server, os, sys
secret = os.environ["RECEIVER_SECRET"]
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = ("x" * 270 + secret + "y" * 400).encode()   # the secret in the middle of a cut answer
        self.send_response(400); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

UNICODE_COUNT = "print('\\u00b2')\n"  # a digit to str.isdigit, not to int()


def alias_bomb(levels: int, head: str = "") -> str:
    lines = [head + 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def config(body: str = "", key: str = "${MINTFAX_API_KEY}") -> str:
    return f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{key}'}}\n{body}"


def git_project(files: dict[str, bytes], then: Callable[[Path], None] = lambda root: None) -> Callable[[Path], None]:
    """A setup: a git repository whose first commit holds `files`; then `then` changes the working tree."""

    def setup(root: Path) -> None:
        for name, content in files.items():
            path = root / os.fsdecode(name.encode("utf-8", "surrogateescape"))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x"]):
            subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
        then(root)

    return setup


def symlink_loops(root: Path) -> None:
    (root / "docs" / "a").symlink_to(".")
    (root / "docs" / "b").symlink_to(".")


BASE_REPORT = {
    "schema": "golive-report/1",
    "tool": {"name": "golive", "version": "0.1.0"},
    "provider": "mintfax",
    "environment": "sandbox",
    "started_at": "2026-11-25T10:00:00Z",
    "duration_s": 1.0,
    "verdict": "not ready",
    "interrupted": False,
    "summary": {"fail": 1},
    "waivers": [],
    "results": [
        {
            "id": "RETRY-106",
            "title": "Delays grow exponentially and stay under the cap",
            "section": "Retry logic",
            "target": "client",
            "severity": "warning",
            "status": "fail",
            "duration_s": 1.0,
            "message": "delays do not grow",
            "evidence": [
                {"kind": "attempt", "n": 1, "t": 0.0, "answered_t": 0.01, "method": "POST", "path": "/v1/fax", "status": 503},
                {"kind": "attempt", "n": 2, "t": 1.0, "answered_t": 1.01, "method": "POST", "path": "/v1/fax", "status": 503},
                {"kind": "backoff_windows", "model": "documented", "windows": [[1.0, 2.0]]},
            ],
            "fix": "back off exponentially",
            "source": None,
        }
    ],
}


def report(change: Callable[[dict], None]) -> str:
    data = json.loads(json.dumps(BASE_REPORT))
    change(data)
    return json.dumps(data, indent=2)


def evidence(n: int, **fields: object) -> Callable[[dict], None]:
    return lambda data: data["results"][0]["evidence"][n].update(fields)


@dataclass(frozen=True)
class Attack:
    name: str
    args: tuple[str, ...]
    exit: int
    files: dict[str, str | bytes] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    shows: tuple[str, ...] = ()  # in what golive printed, or in its report.json
    hides: tuple[str, ...] = ()  # secrets: not in anything golive printed or wrote, in any form (see `leaked`)
    results: dict[str, str] = field(default_factory=dict)  # rule -> status in out/report.json
    memory: int = GIGABYTE  # RLIMIT_AS of the golive process
    timeout: float = 120.0


CHECK = ("check", "--format", "text,json,html,md,junit,sarif", "--output", "out")
CLI_ATTACKS = [
    # 1. a documents glob over a symlink loop: bounded, off the event loop, symlinked folders not entered
    Attack(
        "documents-glob-over-a-symlink-loop",
        (*CHECK, "--select", "FILE-001,FILE-002"),
        0,
        files={"golive.yaml": config('documents: ["docs/**/*.pdf"]\n', key=KEY), "docs/invoice.pdf": PDF, "docs/sub/cover.pdf": PDF},
        setup=symlink_loops,
        results={"FILE-001": "pass", "FILE-002": "pass"},
        shows=("2 documents",),
    ),
    # 2. aliases that expand to billions of values, in a config and in a pack: refused at the door
    Attack("alias-bomb-in-the-config", ("check",), 2, files={"golive.yaml": config() + alias_bomb(9)}, shows=("golive.yaml:", "aliases")),
    Attack(
        "alias-bomb-in-a-pack",
        ("check",),
        2,
        files={"golive.yaml": "provider: bomb.yaml\n", "bomb.yaml": alias_bomb(9, "schema: golive-pack/1\nname: bomb\n")},
        shows=("bomb.yaml:", "aliases"),
    ),
    Attack("an-alias-inside-itself", ("check",), 2, files={"golive.yaml": config("x: &x [1, *x]\n")}, shows=("golive.yaml:3",)),
    # 25. files that are not files, or far too large
    Attack("config-is-a-device", ("check", "-c", "/dev/zero"), 2, shows=("/dev/zero: cannot read config file: not a regular file",)),
    Attack(
        "config-is-a-fifo",
        ("check",),
        2,
        setup=lambda root: os.mkfifo(root / "golive.yaml"),
        shows=("golive.yaml: cannot read config file: not a regular file",),
    ),
    Attack("config-of-two-mb", ("check",), 2, files={"golive.yaml": config() + "#" * 2_000_000}, shows=("a golive file is at most",)),
    # 28. a config that is not UTF-8: the line is named
    Attack(
        "config-not-utf-8",
        ("check",),
        2,
        files={"golive.yaml": b"provider: mintfax\n# caf\xe9\n"},
        shows=("golive.yaml:2: cannot read config file: not UTF-8",),
    ),
    # 6. a secret from the environment in the wrong field is shown masked
    Attack(
        "secrets-in-the-wrong-fields",
        ("check",),
        2,
        files={
            "golive.yaml": "provider: mintfax\nsandbox: ${MINTFAX_API_KEY}\n"
            "webhook: {url: 'http://127.0.0.1:9/x', events: '${HOOK_SECRET}'}\nclient: {command: x, env: '${MINTFAX_API_KEY}'}\n"
        },
        env={"MINTFAX_API_KEY": KEY, "HOOK_SECRET": SECRET},
        shows=("sandbox: input should be", "webhook.events:", "client.env:"),
        hides=(KEY, SECRET),
    ),
    # 13. a literal key hidden in a default, or next to `$$`, is a literal
    Attack(
        "literal-keys-in-defaults",
        (*CHECK, "--select", "KEY-004"),
        0,
        files={
            "golive.yaml": config("webhook: {url: 'http://127.0.0.1:9/x', secret: 'whsec_l1t3ral5ecret$$'}\n", key="${NOPE:-" + KEY + "}")
        },
        results={"KEY-004": "fail"},
        hides=(KEY,),
    ),
    # 24. any file named as a pack: refused before a line of it is echoed
    Attack(
        "a-password-file-as-the-pack",
        ("check",),
        2,
        files={"golive.yaml": "provider: passwd\n", "passwd": "root:x:0:0:hunter2s3cr3t:/root:/bin/bash\n"},
        shows=("a rule pack is a YAML file",),
        hides=("hunter2s3cr3t",),
    ),
    Attack(
        "a-yaml-file-that-is-no-pack",
        ("check",),
        2,
        files={"golive.yaml": "provider: users.yaml\n", "users.yaml": "root: hunter2s3cr3t\nadmin: {password: hunter2s3cr3t}\n"},
        shows=("not a golive rule pack",),
        hides=("hunter2s3cr3t",),
    ),
    # 16. markup in a pack's name never reaches a report: the name is a plain word
    Attack(
        "markup-in-a-pack-name",
        ("check",),
        2,
        files={
            "golive.yaml": "provider: acme.yaml\n",
            "acme.yaml": "schema: golive-pack/1\nname: 'acme|<img src=x onerror=alert(1)>'\nextends: mintfax\n",
        },
        shows=("acme.yaml:2: name:",),
    ),
    # 8. a key committed and then deleted, or edited away, in the working tree is still in git
    Attack(
        "a-committed-key-deleted-from-the-working-tree",
        (*CHECK, "--select", "KEY-002"),
        1,
        files={"golive.yaml": config(key=KEY)},
        setup=git_project({".env.production": f"MINTFAX_API_KEY={LIVE_KEY}\n".encode()}, lambda root: (root / ".env.production").unlink()),
        results={"KEY-002": "fail"},
        shows=(".env.production:1", "deleted from the working tree, still in git"),
        hides=(LIVE_KEY,),
    ),
    Attack(
        "a-committed-key-edited-away-without-a-commit",
        (*CHECK, "--select", "KEY-002"),
        1,
        files={"golive.yaml": config(key=KEY)},
        setup=git_project(
            {"config/prod.env": f"KEY={LIVE_KEY}\n".encode()}, lambda root: (root / "config" / "prod.env").write_text("KEY=${FROM_VAULT}\n")
        ),
        results={"KEY-002": "fail"},
        shows=("config/prod.env:1", "in git (the working tree differs)"),
    ),
    # 9. a tracked file whose name is not UTF-8 holds a finding: every report is still written
    Attack(
        "a-finding-in-a-file-named-in-latin-1",
        (*CHECK, "--select", "KEY-002"),
        1,
        files={"golive.yaml": config(key=KEY)},
        setup=git_project({"caf\udce9.env": f"K={LIVE_KEY}\n".encode()}),
        results={"KEY-002": "fail"},
        shows=("caf\\xe9.env:1",),
    ),
    # 3, 7, 10. a client that prints its key and a secret every careless way and terminal escapes, and exits 1:
    # before any request (its output reaches the message), and after one (its output is the rule's evidence)
    *[
        Attack(
            f"a-client-that-leaks-its-key-and-rewrites-the-terminal-{when}",
            (*CHECK, "-v", "--no-color", "--select", "IDEM-101"),
            1 if when == "before-a-request" else 0,
            files={
                "golive.yaml": config(
                    f'client: {{command: "{{python}} leaky.py {flag}", '
                    'env: {MINTFAX_API_KEY: "{api_key}", MINTFAX_BASE_URL: "{base_url}", HOOK_SECRET: "${HOOK_SECRET}"}}\n'
                    "webhook: {url: 'http://127.0.0.1:9/x', secret: '${HOOK_SECRET}'}\n"
                ),
                "leaky.py": LEAKY_CLIENT,
            },
            env={"MINTFAX_API_KEY": KEY, "HOOK_SECRET": SECRET},
            results={"IDEM-101": status},
            shows=(shown,),
            hides=(KEY, SECRET),
        )
        for when, flag, status, shown in [
            ("before-a-request", "", "error", "the client exited 1 before sending any request"),
            ("after-a-request", "--post", "pass", "every POST carries Idempotency-Key"),
        ]
    ],
    # 3. a receiver that puts its secret in the middle of a long rejection
    Attack(
        "a-receiver-that-echoes-its-secret",
        (*CHECK, "--select", "HOOK-201"),
        1,
        files={
            "golive.yaml": config(
                "webhook:\n  url: http://127.0.0.1:{port}/hooks\n  secret: ${HOOK_SECRET}\n"
                '  start: "{python} leaky_receiver.py {port}"\n  env: {RECEIVER_SECRET: "{secret}"}\n',
                key=KEY,
            ),
            "leaky_receiver.py": LEAKY_RECEIVER,
        },
        env={"HOOK_SECRET": SECRET},
        results={"HOOK-201": "fail"},
        hides=(SECRET,),
    ),
    # 4. an answer of 7 KB that decompresses to 3 GiB: golive reads 64 KB of it
    Attack(
        "a-receiver-answering-a-gzip-bomb",
        (*CHECK, "-v", "--select", "HOOK-201"),
        0,
        files={
            "golive.yaml": config(
                f"webhook:\n  url: http://127.0.0.1:{{port}}/hooks\n  secret: {SECRET}\n"
                f'  start: "{{python}} {CLIENTS / "hostile.py"} --port {{port}} --mode gzipbomb"\n  start_timeout: 30\n',
                key=KEY,
            )
        },
        results={"HOOK-201": "pass"},  # a 2xx is what a provider reads: accepted, and the rest of the answer is never decoded
        shows=("decompresses to over 64 KB",),
    ),
    # 28. processed_count printing a Unicode digit
    Attack(
        "processed-count-prints-a-superscript-two",
        (*CHECK, "--select", "HOOK-208"),
        0,  # HOOK-208 is a warning: its error does not block
        files={
            "golive.yaml": config(
                f"webhook:\n  url: http://127.0.0.1:{{port}}/hooks\n  secret: {SECRET}\n"
                f'  start: "{{python}} {CLIENTS / "receiver.py"} --port {{port}}"\n'
                '  env: {RECEIVER_SECRET: "{secret}", RECEIVER_DB: "{workdir}/r.db"}\n'
                '  processed_count: "{python} count.py"\n',
                key=KEY,
            ),
            "count.py": UNICODE_COUNT,
        },
        results={"HOOK-208": "error"},
        shows=("not a number",),
    ),
    # 15. saved reports that the renderers could not draw: exit 2 with file:line, never "this is a bug"
    *[
        Attack(
            f"report-{name}",
            ("report", "render", "report.json", "--format", "html,md,junit,sarif,text"),
            2,
            files={"report.json": text},
            shows=shown,
        )
        for name, text, shown in [
            ("status-abc", report(evidence(0, status="abc")), ("report.json:", "results.0.evidence.0.status")),
            ("answered-t-x", report(evidence(0, answered_t="x")), ("results.0.evidence.0.answered_t",)),
            ("windows-5", report(evidence(2, windows=5)), ("results.0.evidence.2.windows",)),
            ("empty-waiver", report(lambda d: d.update(waivers=[{}])), ("waivers.0.rule",)),
            ("empty-attestation", report(lambda d: d["results"][0].update(attestation={})), ("results.0.attestation.by",)),
            ("nan", report(evidence(0, t=1.5)).replace('"t": 1.5', '"t": NaN'), ("report.json:", "NaN is not a JSON number")),
            ("infinite", report(evidence(0, t=1.5)).replace('"t": 1.5', '"t": 1e999'), ("report.json:", "too large")),
            ("lone-surrogate", report(lambda d: d["results"][0].update(message="x")).replace('"x"', '"\\ud800"'), ("lone surrogate",)),
        ]
    ],
    # 14. huge numbers (a pack's base of 7000 s) still draw a timeline
    Attack(
        "report-with-hours-of-backoff",
        ("report", "render", "report.json", "--format", "html,md,junit,sarif,text"),
        0,
        files={"report.json": report(lambda d: (evidence(1, t=7000.0, answered_t=7000.1)(d), evidence(2, windows=[[7000, 14000]])(d)))},
    ),
    # 26. `golive sandbox --db` with a file that is not its state, or a folder that does not exist
    Attack("sandbox-db-not-a-database", ("sandbox", "--port", "0", "--db", "notes.txt"), 2, files={"notes.txt": "hello"}, shows=("--db:",)),
    Attack("sandbox-db-in-a-missing-folder", ("sandbox", "--port", "0", "--db", "no/such/folder/s.db"), 2, shows=("--db:",)),
]


def _limited(memory: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return apply


@pytest.mark.slow
@pytest.mark.parametrize("attack", CLI_ATTACKS, ids=lambda a: a.name)
def test_an_attack_on_the_command_line_ends_bounded_and_clean(tmp_path: Path, attack: Attack) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name, content in attack.files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    if attack.setup:
        attack.setup(project)
    done = subprocess.run(
        [sys.executable, "-m", "checker", *attack.args],
        cwd=project,
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(tmp_path), **attack.env},
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=attack.timeout,  # the bound under test: every attack ends
        preexec_fn=_limited(attack.memory),
    )
    stdout, stderr = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    printed = stdout + stderr
    assert done.returncode == attack.exit, printed[-3000:]
    for forbidden in ("Traceback", "MemoryError", "This is a bug", "internal error"):
        assert forbidden not in printed, printed[-3000:]
    written = {p.name: p.read_text() for p in (project / "out").glob("*")} if (project / "out").is_dir() else {}
    for text in attack.shows:
        assert text in printed + written.get("report.json", ""), f"{text!r} not in:\n{printed[-3000:]}"
    for name, text in {"stdout": stdout, "stderr": stderr, **written}.items():
        assert not leaked(text, *attack.hides), f"{name} leaks {leaked(text, *attack.hides)}"
        assert "\x1b" not in text and "\x07" not in text, f"{name} carries a terminal escape"
    if attack.results:
        assert {"report.json", "report.html", "report.md", "junit.xml", "report.sarif"} <= set(written)
        results = {r["id"]: r for r in json.loads(written["report.json"])["results"]}
        for rule, status in attack.results.items():
            assert results[rule]["status"] == status, (rule, results[rule]["message"])


def test_the_leak_checks_above_would_see_every_form() -> None:
    """The audit is not vacuous: each form `leaked` looks for is really in the text the leaky programs print."""
    for secret in (KEY, SECRET):
        for form in encodings(secret):
            assert leaked(f"log: {form} end", secret), form
        assert leaked(secret[:20] + "\n" + secret[20:], secret)


# ---------------------------------------------------------------- requests to `golive sandbox`


@dataclass(frozen=True)
class SandboxAttack:
    name: str
    provider: str
    method: str
    path: str
    status: int  # what a well-behaved sandbox answers
    error: str  # the envelope's error code
    body: bytes | Callable[[], object] = b""  # bytes, or a generator streamed chunk by chunk (no Content-Length)
    headers: dict[str, str] = field(default_factory=dict)


def stream(total: int, chunk: bytes = b"[" * 65536) -> Callable[[], object]:
    def chunks() -> object:
        for _ in range(total // len(chunk)):
            yield chunk

    return chunks


JSON = {"Content-Type": "application/json"}
SANDBOX_ATTACKS = [
    # 11. bodies far over the limit, streamed without a Content-Length: refused while reading
    SandboxAttack(
        "idunox-600-mb-body", "idunox", "POST", "/v1/submissions", 413, "payload_too_large", stream(600 << 20), {"Idempotency-Key": "k1"}
    ),
    SandboxAttack("flexforward-600-mb-body", "flexforward", "POST", "/labels", 413, "payload_too_large", stream(600 << 20)),
    SandboxAttack("webhook-registration-600-mb", "mintfax", "POST", "/v1/account/webhooks", 413, "payload_too_large", stream(600 << 20)),
    SandboxAttack("clock-600-mb", "mintfax", "POST", "/_sandbox/clock", 413, "payload_too_large", stream(600 << 20)),
    # 19. a clock moved to nowhere
    *[
        SandboxAttack(
            f"clock-{value}", "mintfax", "POST", "/_sandbox/clock", 400, "validation_failed", f'{{"advance_s": "{value}"}}'.encode(), JSON
        )
        for value in ("nan", "inf", "-inf", "1e308")
    ],
    # 21. bodies that used to end in a bare 500 and a traceback
    SandboxAttack(
        "flexforward-key-with-a-lone-surrogate",
        "flexforward",
        "POST",
        "/labels",
        400,
        "invalid_json",
        b'{"idempotencyKey": "\\ud800", "courier": "dhl"}',
        JSON,
    ),
    SandboxAttack(
        "idunox-json-nested-990-levels",
        "idunox",
        "POST",
        "/v1/submissions",
        400,
        "invalid_json",
        b"[" * 990 + b"]" * 990,
        {**JSON, "Idempotency-Key": "k2"},
    ),
    # 18. a webhook endpoint off this machine (a cloud metadata address)
    SandboxAttack(
        "webhook-to-a-metadata-address",
        "mintfax",
        "POST",
        "/v1/account/webhooks",
        422,
        "validation_failed",
        b'{"url": "http://169.254.169.254/latest/meta-data", "events": ["fax.delivered"]}',
        JSON,
    ),
]


class LimitedSandbox(SandboxProcess):
    """`golive sandbox` with a memory limit, its log kept in `folder`; `stop` returns the log."""

    def __init__(self, provider: str, folder: Path, *extra: str, rate_limit: str = "0", memory: int = GIGABYTE) -> None:
        self.log = folder / f"{provider}-sandbox.log"
        with self.log.open("wb") as log:
            super().__init__(provider, None, log, *extra, rate_limit=rate_limit, memory=memory)

    def stop(self) -> str:  # type: ignore[override]
        super().stop()
        return self.log.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["mintfax", "idunox", "flexforward"])
def test_hostile_requests_get_the_error_envelope_and_leave_the_sandbox_serving(tmp_path: Path, provider: str) -> None:
    server = LimitedSandbox(provider, tmp_path)
    attacks = [a for a in SANDBOX_ATTACKS if a.provider == provider]
    key = {"mintfax": KEY, "idunox": "idx-sandbox-7d1e8b3c6a5f", "flexforward": "ff-sandbox-key-0d4f9c2a7d1e"}[provider]
    answered_in_log = []
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            for attack in attacks:
                content = attack.body() if callable(attack.body) else attack.body
                try:
                    answer = client.request(attack.method, attack.path, content=content, headers=attack.headers)  # type: ignore[arg-type]
                except httpx.TransportError:  # it answered and closed while the body was still on its way: its log says what
                    answered_in_log.append(attack)
                    continue
                assert answer.status_code == attack.status, (attack.name, answer.status_code, answer.text[:300])
                assert answer.json()["error"] == attack.error, (attack.name, answer.text[:300])
            # still serving, and the clock still works
            assert client.post("/_sandbox/clock", json={"advance_s": 1}).status_code == 200
            assert client.get("/_sandbox/stats").status_code == 200
    finally:
        log = server.stop()
    assert "Traceback" not in log and "MemoryError" not in log and "failed inside the sandbox" not in log, log[-3000:]
    for attack in answered_in_log:
        assert f'"{attack.method} {attack.path} HTTP/1.1" {attack.status}' in log, (attack.name, log[-2000:])


@pytest.mark.slow
def test_a_rate_limit_below_one_a_second_still_lets_requests_through(tmp_path: Path) -> None:
    """20. `--rate-limit 0.5`: one request now, then one every two seconds; never 429 forever."""
    server = LimitedSandbox("mintfax", tmp_path, rate_limit="0.5")
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
            assert client.get("/v1/account/balance").status_code == 200
            limited = client.get("/v1/account/balance")
            assert limited.status_code == 429
            time.sleep(float(limited.headers["retry-after"]))  # waiting as long as it says is enough
            assert client.get("/v1/account/balance").status_code == 200
    finally:
        server.stop()


@pytest.mark.slow
def test_a_slowloris_connection_is_closed(tmp_path: Path) -> None:
    """28. A client that opens a connection and sends a header byte now and then is cut off."""
    server = LimitedSandbox("mintfax", tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"POST /v1/fax HTTP/1.1\r\nHost: x\r\n")
            sock.settimeout(1)
            closed = False
            for _ in range(120):  # up to two minutes of a byte a second; the sandbox closes after 10 s
                try:
                    sock.sendall(b"X")
                    if sock.recv(1024) == b"":
                        closed = True
                        break
                except TimeoutError:
                    continue
                except OSError:
                    closed = True
                    break
            assert closed, "the sandbox kept a connection that never finished its request head"
    finally:
        server.stop()


@pytest.mark.slow
def test_the_sandbox_log_masks_query_values_and_url_passwords(tmp_path: Path) -> None:
    """22. `?api_key=` in a request line and `user:pass@` or `?token=` in a webhook URL never reach the log."""
    server = LimitedSandbox("mintfax", tmp_path)
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
            client.get(f"/v1/account/balance?api_key={KEY}")
            hook = f"http://deliver:p4ssw0rdX9@127.0.0.1:{free_port()}/hooks?token=t0k3nS3cr3tV4lue"
            assert client.post("/v1/account/webhooks", json={"url": hook, "events": ["fax.queued"]}).status_code == 201
            sent = client.post("/v1/fax", data={"to": "+15005550000"}, files={"file": ("a.pdf", PDF)}, headers={"Idempotency-Key": "k9"})
            assert sent.status_code == 201
            wait_for(lambda: "webhook" in server.log.read_text(), 20, "a delivery attempt in the log")
    finally:
        log = server.stop()
    assert "GET /v1/account/balance?api_key=…" in log and "127.0.0.1" in log
    for secret in (KEY, "p4ssw0rdX9", "t0k3nS3cr3tV4lue"):
        assert not leaked(log, secret), leaked(log, secret)


@pytest.mark.slow
def test_the_state_file_holds_no_api_key(tmp_path: Path) -> None:
    """27. The sandbox scopes records by account; the account is a digest of the key, never the key."""
    server = LimitedSandbox("mintfax", tmp_path, "--db", str(tmp_path / "state.db"))
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
            sent = client.post("/v1/fax", data={"to": "+15005550000"}, files={"file": ("a.pdf", PDF)}, headers={"Idempotency-Key": "k1"})
            assert sent.status_code == 201
    finally:
        server.stop()
    state = b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))
    assert b"k1" in state  # the records are there
    assert not [p for p in pieces(KEY) if p.encode() in state]


# ---------------------------------------------------------------- attacks with a process of their own


def hostile(mode: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, str(CLIENTS / "hostile.py"), "--port", str(port), "--mode", mode], stdin=subprocess.DEVNULL)
    wait_for(lambda: _listening(port), START_S, f"the {mode} server")
    return process


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def receiver_config(folder: Path, port: int | str, start: str) -> None:
    (folder / "golive.yaml").write_text(
        config(
            f'webhook:\n  url: http://127.0.0.1:{port}/hooks\n  secret: {SECRET}\n  start: "{start}"\n'
            '  env: {RECEIVER_SECRET: "{secret}", RECEIVER_DB: "{workdir}/r.db"}\n  start_timeout: 20\n',
            key=KEY,
        )
    )


@pytest.mark.slow
def test_an_impostor_on_the_receivers_port_is_never_probed(tmp_path: Path) -> None:
    """5. Another server (accepting any signature) already holds the port the receiver is to open: `golive check`'s
    pre-flight refuses the run (exit 2, nothing probed, the holder named); and where pre-flight does not run or the
    impostor comes after it (the engine as a library, a race), golive refuses to start the receiver there and no
    webhook rule passes."""
    import asyncio

    from checker import engine
    from checker.config import load_config
    from checker.packs import load_pack

    port = free_port()
    impostor = hostile("accept", port)
    try:
        receiver_config(tmp_path, port, f"{{python}} {CLIENTS / 'receiver.py'} --port {port}")
        done = golive("check", "--select", "HOOK", "--ignore", "HOOK-212", "--format", "json", "--output", "out", cwd=tmp_path)
        cfg = load_config(tmp_path / "golive.yaml")
        options = engine.RunOptions(select=("HOOK",), ignore=("HOOK-212",))
        run = asyncio.run(engine.run(cfg, load_pack(cfg.file.provider), options))
    finally:
        impostor.kill()
        impostor.wait()
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"webhook.url: port {port} is already in use by pid {impostor.pid}" in done.stderr
    assert not (tmp_path / "out").exists()
    probed = [r for r in run.results if r.rule.target == "webhook" and r.status is not Status.SKIP]
    assert probed and all(r.status is Status.ERROR for r in probed), [(r.rule.id, r.status, r.message) for r in probed]
    assert f"port {port} is already in use by another process" in probed[0].message


@pytest.mark.slow
def test_a_receiver_that_dies_during_the_check_passes_nothing_after(tmp_path: Path) -> None:
    """5. The receiver answers one delivery and exits: whatever was judged after that is an error naming it."""
    receiver_config(tmp_path, "{port}", f"{{python}} {CLIENTS / 'hostile.py'} --port {{port}} --mode once")
    done = golive("check", "--select", "HOOK", "--ignore", "HOOK-212", "--format", "json", "--output", "out", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    results = {r["id"]: r for r in json.loads((tmp_path / "out" / "report.json").read_text())["results"]}
    probed = [r for r in results.values() if r["target"] == "webhook" and r["status"] != "skip"]
    passed = [r["id"] for r in probed if r["status"] == "pass"]
    assert len(passed) <= 1, passed  # at most the one delivery answered before it died
    died = [r for r in probed if "the webhook receiver exited 3 during the check" in r["message"]]
    assert len(died) >= len(probed) - 2, [(r["id"], r["status"], r["message"]) for r in probed]


@pytest.mark.slow
def test_a_sigkilled_golive_leaves_no_receiver_and_no_run_folder(tmp_path: Path) -> None:
    """12, 27. SIGKILL gives golive no chance to clean up: its watchdog kills the receiver's group and removes the
    run's folder (which holds the embedded sandbox's state)."""
    receiver_config(tmp_path, "{port}", f"{{python}} {CLIENTS / 'receiver.py'} --port {{port}}")
    (tmp_path / "golive.yaml").write_text(
        (tmp_path / "golive.yaml").read_text()
        + f'client: {{command: "{{python}} {CLIENTS / "faxclient.py"} --to {{to}} --file {{file}} --ref {{ref}}",'
        ' env: {MINTFAX_BASE_URL: "{base_url}", MINTFAX_API_KEY: "{api_key}"}}\n'
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    check = subprocess.Popen(
        [sys.executable, "-m", "checker", "check", "--format", "json", "--output", "out"],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(temp)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def receiver_pids() -> list[int]:
        # this golive's receiver only (it inherits TMPDIR): another run on the machine may use receiver.py too
        return [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _cmdline(p).count(str(CLIENTS / "receiver.py")) and f"TMPDIR={temp}".encode() in _environ(p)
        ]

    try:
        receivers = wait_for(receiver_pids, 60, "the receiver to start")
        wait_for(lambda: list(temp.glob("golive-run-*")), 30, "the run folder")
        # killed once golive has its receiver (serving on its port), not in the instant between the fork and golive
        # telling its watchdog the new group, which no process can close (found on a loaded machine)
        port = int(_cmdline(Path(f"/proc/{receivers[0]}")).split("--port", 1)[1].split()[0])
        wait_for(lambda: listening(port), 60, "the receiver to listen")
        check.kill()  # SIGKILL: no handler runs
        check.wait()
        wait_for(lambda: not [pid for pid in receivers if _alive(pid)], 10, "the receiver to die with golive")
        wait_for(lambda: not list(temp.glob("golive-run-*")), 10, "the run folder to be removed")
    finally:
        for pid in receiver_pids():
            os.kill(pid, signal.SIGKILL)


def _environ(entry: Path) -> list[bytes]:
    try:
        return (entry / "environ").read_bytes().split(b"\0")
    except OSError:
        return []


def _cmdline(entry: Path) -> str:
    try:
        return (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_a_closed_stdout_still_gets_every_report_written(tmp_path: Path) -> None:
    """23. `golive check | head -1`: the reader goes away before the checklist is printed."""
    (tmp_path / "golive.yaml").write_text(config(key=KEY))
    read, write = os.pipe()
    os.close(read)  # nobody will read: the first write gets EPIPE
    done = subprocess.run(
        # KEY-001 and KEY-004 need no git repository (KEY-002 selected outside one is an error: not probed)
        [sys.executable, "-m", "checker", "check", "--select", "KEY-001,KEY-004", "--format", "text,json,html", "--output", "out"],
        cwd=tmp_path,
        stdout=write,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    os.close(write)
    assert done.returncode == 0, done.stderr  # the verdict: the reader's leaving is no error of the integration
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr
    assert json.loads((tmp_path / "out" / "report.json").read_text())["verdict"] == "ready"
    assert (tmp_path / "out" / "report.html").stat().st_size > 0


def test_the_proxy_forwards_only_to_the_sandbox(witness: Witness) -> None:
    """17. A request in absolute form names another host: the proxy refuses it instead of carrying the client's
    Authorization there."""
    from checker.harness.proxy import RecordingProxy, Scenario

    async def main() -> bytes:
        async with RecordingProxy("http://127.0.0.1:9", Scenario()) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(f"GET {witness.url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\r\n".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            writer.close()
            return head

    head = asyncio.run(main())
    assert head.startswith(b"HTTP/1.1 400"), head
    assert witness.hits == 0


def test_every_template_field_is_escaped() -> None:
    """16. Whatever a field holds (a provider name, a section, a message from a target), Markdown stays one table
    row per rule with no raw HTML, and JUnit stays well-formed XML."""
    import xml.etree.ElementTree as ET

    from markdown_it import MarkdownIt

    from checker.model import Result, Rule, RunResult, Severity, Status
    from checker.report import render_html, render_junit, render_markdown

    evil = "x|**y**<script>alert(1)</script>\n# heading \x1b[2J\x07 [link](http://192.0.2.1)"
    rule = Rule("HOOK-201", evil, evil, "webhook", Severity.BLOCKER, evil, evil, evil, evil, source=evil)
    results = tuple(Result(rule, status, Severity.BLOCKER, evil) for status in (Status.FAIL, Status.PASS))
    run = RunResult(evil, evil, "2026-11-25T10:00:00Z", 1.0, "not ready", False, results, "0.1.0", fail_on="blocker")
    html = MarkdownIt("commonmark").enable("table").render(render_markdown(run))
    assert "<script" not in html and "<h1>" not in html and "<a href" not in html and "<strong>y</strong>" not in html
    assert html.count("<tr>") == 2 + 3  # attention table: header + 1 failure; all rules: header + 2
    junit = render_junit(run)
    ET.fromstring(junit.encode())
    assert "\x1b" not in junit and "\x07" not in junit
    page = render_html(run)
    assert "<script>alert" not in page and "\x1b" not in page


def test_an_interruption_while_the_targets_start_keeps_the_pack_skips() -> None:
    """28. Ctrl-C while the embedded sandbox starts: what the pack skips is still `skip`, not "not finished"."""
    from checker import engine
    from checker.packs import load_pack
    from tests.conftest import config_for

    async def main() -> object:
        task = asyncio.ensure_future(engine.run(config_for("idunox"), load_pack("idunox"), engine.RunOptions()))
        await asyncio.sleep(0)  # it has decided what needs no target and is starting the sandbox
        task.cancel()
        return await task

    run = asyncio.run(main())
    statuses = {r.rule.id: (r.status.value, r.message) for r in run.results}  # type: ignore[attr-defined]
    assert run.interrupted  # type: ignore[attr-defined]
    assert statuses["HOOK-201"][0] == "skip" and "not finished" not in statuses["HOOK-201"][1]
    assert statuses["IDEM-001"] == ("error", "not finished: the check was interrupted")


def test_a_documents_walk_is_bounded(tmp_path: Path) -> None:
    """1. The walk stops past its bounds, and when told to stop (the check was cancelled)."""
    import threading

    from checker.walk import WalkError, WalkLimits, bounded_glob

    for n in range(60):
        (tmp_path / f"d{n % 6}").mkdir(exist_ok=True)
        (tmp_path / f"d{n % 6}" / f"f{n}.pdf").write_bytes(b"%PDF")
    assert len(bounded_glob(str(tmp_path / "**" / "*.pdf"))) == 60
    with pytest.raises(WalkError, match="looks at over 20"):
        bounded_glob(str(tmp_path / "**" / "*.pdf"), WalkLimits(max_entries=20))
    with pytest.raises(WalkError, match="names over 10 files"):
        bounded_glob(str(tmp_path / "**" / "*.pdf"), WalkLimits(max_matches=10))
    stop = threading.Event()
    stop.set()
    for n in range(300):
        (tmp_path / f"g{n}.pdf").write_bytes(b"%PDF")
    with pytest.raises(WalkError, match="stopped"):
        bounded_glob(str(tmp_path / "*.pdf"), stop=stop)


# ---------------------------------------------------------------- round 2: values the redactor never saw

# secrets that reach golive through `${VAR}` in a command or a URL, and credentials written in a URL: each 8-character
# window holds a digit or mixed case, as a generated token does
TOKEN = "tk3Nv8Zp1Wq6Ys5Rb7"
PASSWORD = "pw7Xq2Lm9Rt4Hd8Jc"
URL_PASSWORD = "Lit3ralPassw0rd9Kx"  # written in golive.yaml itself, not in a ${VAR}
URL_KEY = "Lit3ralQuery7xVm2"

ARGV_PRINTER = """
import sys
for word in sys.argv[1:]:  # everything it was given, whole, cut across lines and upper-cased
    print(word, word[:9] + "\\n" + word[9:], word.upper())
    sys.stderr.write(word + "\\n")
sys.exit(int(sys.argv[1]))
"""

REJECTING_RECEIVER = """
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(400); self.send_header("Content-Length", "0"); self.end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

EVERY_FORMAT = ("check", "-v", "--format", "text,json,html,md,junit,sarif,gitlab,github", "--output", "out")
IN_URLS = (TOKEN, PASSWORD, URL_PASSWORD, URL_KEY)


def credentials_config(sandbox_url: str, webhook: str) -> str:
    return (
        f"provider: mintfax\nsandbox: {{url: '{sandbox_url}', api_key: '{KEY}'}}\n"
        "client: {command: '{python} argv.py 1 --token ${TOKEN}'}\n" + webhook
    )


SECRETS_ATTACKS = [
    # 5. `${TOKEN}` in client.command and a URL's query, `user:${PASSWORD}@` in sandbox.url, a literal password and
    # query key in webhook.url: the context ("What was checked"), every message quoting a URL (httpx's errors name
    # it), the client's output and the step summary mask them
    Attack(
        "credentials-in-commands-and-urls-in-every-output",
        (*EVERY_FORMAT, "--select", "IDEM-001,IDEM-101,HOOK-201,HOOK-209"),
        1,
        files={
            "golive.yaml": credentials_config(
                "http://golive:${PASSWORD}@127.0.0.1:9/v1?token=${TOKEN}",
                f"webhook:\n  url: 'http://hook:{URL_PASSWORD}@127.0.0.1:{{port}}/hooks?key={URL_KEY}&t=${{TOKEN}}'\n"
                f"  secret: {SECRET}\n  start: '{{python}} rejecting.py {{port}}'\n",
            ),
            "argv.py": ARGV_PRINTER,
            "rejecting.py": REJECTING_RECEIVER,
        },
        env={"TOKEN": TOKEN, "PASSWORD": PASSWORD, "GITHUB_STEP_SUMMARY": "out/step-summary.md"},
        results={"IDEM-001": "error", "IDEM-101": "error", "HOOK-201": "fail"},
        shows=("sandbox: http://golive:…@127.0.0.1:9/v1?token=", "cannot connect to http://golive:…@"),
        hides=IN_URLS,
    ),
    # 5. a receiver that cannot start echoes its command line (a password from ${PASSWORD}) and its URL
    Attack(
        "a-receiver-that-cannot-start-echoes-its-credentials",
        (*EVERY_FORMAT, "--select", "HOOK-201"),
        1,
        files={
            "golive.yaml": credentials_config(
                "builtin",
                f"webhook:\n  url: 'http://hook:{URL_PASSWORD}@127.0.0.1:{{port}}/hooks?key={URL_KEY}'\n  secret: {SECRET}\n"
                "  start: '{python} argv.py 3 --password ${PASSWORD} {url}'\n",
            ),
            "argv.py": ARGV_PRINTER,
        },
        env={"TOKEN": TOKEN, "PASSWORD": PASSWORD},
        results={"HOOK-201": "error"},
        hides=IN_URLS,
    ),
    # 5. pre-flight quotes a webhook.url it cannot use: exit 2, its credentials masked
    Attack(
        "pre-flight-quotes-a-url-with-credentials",
        ("check", "--select", "HOOK-201"),
        2,
        files={
            "golive.yaml": credentials_config(
                "builtin",
                f"webhook:\n  url: 'ftp://hook:{URL_PASSWORD}@127.0.0.1:8/x?key={URL_KEY}&token=${{TOKEN}}'\n  secret: {SECRET}\n"
                "  start: '{python} argv.py 3'\n",
            ),
            "argv.py": ARGV_PRINTER,
        },
        env={"TOKEN": TOKEN},
        shows=("is not an http(s) URL", "ftp://hook:…@127.0.0.1:8/x"),
        hides=IN_URLS,
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("attack", SECRETS_ATTACKS, ids=lambda a: a.name)
def test_values_from_variables_and_url_credentials_are_masked_everywhere(tmp_path: Path, attack: Attack) -> None:
    """5. Every value that came from `${VAR}`, and every credential in a URL, in none of the outputs: the terminal
    (header, checklist, evidence, annotations), every report file, the step summary, pre-flight's messages; nor in
    what `golive report render` draws from the saved report.json."""
    test_an_attack_on_the_command_line_ends_bounded_and_clean(tmp_path, attack)
    project = tmp_path / "project"
    if not (project / "out" / "report.json").is_file():
        return
    if "GITHUB_STEP_SUMMARY" in attack.env:  # written, and searched above with the reports
        assert (project / attack.env["GITHUB_STEP_SUMMARY"]).stat().st_size > 0
    context = json.dumps(json.loads((project / "out" / "report.json").read_text())["context"])
    assert "{python} argv.py 1 --token" in context and "@127.0.0.1" in context  # the context is there, masked
    again = golive("report", "render", "out/report.json", "--format", "text,html,md,junit,sarif,gitlab,github", "-o", "again", cwd=project)
    assert again.returncode == 0, again.stderr
    for name, text in {
        "stdout": again.stdout,
        "stderr": again.stderr,
        **{p.name: p.read_text() for p in (project / "again").glob("*")},
    }.items():
        assert not leaked(text, *attack.hides), f"report render's {name} leaks {leaked(text, *attack.hides)}"


def test_the_secrets_of_a_config_are_known_to_error_messages_and_crash_files() -> None:
    """5. What is printed outside a run (a configuration error, a crash file) masks the same values: the loader
    remembers every ${VAR}'s value and every URL credential for `redact.known()`; golive's own words stay."""
    from checker.config import parse_config
    from checker.redact import known

    parse_config(
        "provider: mintfax\nenvironment: ${ENVIRONMENT}\n"
        "sandbox: {url: 'http://u:" + URL_PASSWORD + "@127.0.0.1:9/?key=" + URL_KEY + "'}\n"
        "client: {command: 'run --token ${TOKEN}', env: {DB: 'postgres://app:${PASSWORD}@db/x'}}\n",
        environ={"TOKEN": TOKEN, "PASSWORD": PASSWORD, "ENVIRONMENT": "live"},
    )
    crash = known().text(f"ValueError: {TOKEN.upper()} {PASSWORD} {URL_PASSWORD} {urllib.parse.quote(URL_KEY)} delivered live")
    assert not leaked(crash, *IN_URLS), crash
    assert crash.endswith("delivered live")  # a value of a setting that names things ("live") is no secret


@pytest.mark.slow
def test_pre_flight_names_a_port_holder_without_the_key_in_its_command_line(tmp_path: Path) -> None:
    """6. Another process holds webhook.url's port, with an API key in its command line: pre-flight's exit-2 message
    names it by pid and program, its key and token masked."""
    import secrets

    live_key = "sk_live_" + secrets.token_hex(12)
    token = secrets.token_urlsafe(18)
    port = free_port()
    (tmp_path / "holder.py").write_text(
        "import socket, sys, time\nsock = socket.socket()\nsock.bind(('127.0.0.1', int(sys.argv[1])))\nsock.listen()\ntime.sleep(120)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "holder.py", str(port), "--api-key", live_key, f"--token={token}"], cwd=tmp_path, stdin=subprocess.DEVNULL
    )  # a short command line: pre-flight shows its first 100 characters
    try:
        wait_for(lambda: _listening(port), START_S, "the process holding the port")
        receiver_config(tmp_path, port, f"{{python}} {CLIENTS / 'receiver.py'} --port {port}")
        done = golive("check", "--select", "HOOK-201", "--format", "json", "--output", "out", cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"port {port} is already in use by pid {holder.pid} (" in done.stderr and "holder.py" in done.stderr, done.stderr
    assert "--api-key sk_live_…" in done.stderr and "--token=…" in done.stderr, done.stderr
    printed = done.stdout + done.stderr
    assert not leaked(printed, live_key.removeprefix("sk_live_"), token), leaked(printed, live_key.removeprefix("sk_live_"), token)


# ---------------------------------------------------------------- round 2: the client process harness and the reports

# runs the command it is given, leaving behind a helper in a session of its own (out of the process group golive
# kills) that holds the command's stdout and stderr for 25 s; the helper's pid goes to $SLEEPERS, for the clean-up
LEAVES_A_HELPER = 'setsid sleep 25 &\necho $! >> "$SLEEPERS"\nexec "$@"\n'


def kill_listed(pid_file: Path) -> None:
    """SIGKILL every process whose pid `pid_file` lists, one a line (the helpers LEAVES_A_HELPER started)."""
    import contextlib

    for pid in [int(pid) for pid in pid_file.read_text().split()] if pid_file.exists() else []:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_a_client_that_leaves_a_helper_running_is_judged_on_its_own_exit(tmp_path: Path) -> None:
    """8. A correct client that leaves a `setsid sleep 25` holding its pipes: golive judges the client's own exit
    and output (ERR-101 passes on the code it printed, the evidence has its real exit code), waits neither for the
    helper nor for its client.timeout, and prints nothing of asyncio's at exit."""
    sleepers = tmp_path / "sleepers"
    (tmp_path / "leaves_a_helper.sh").write_text(LEAVES_A_HELPER)
    (tmp_path / "golive.yaml").write_text(
        config(
            f'client:\n  command: "sh leaves_a_helper.sh {{python}} {CLIENTS / "faxclient.py"} --to {{to}} --file {{file}} --ref {{ref}}"\n'
            f'  env: {{MINTFAX_BASE_URL: "{{base_url}}", MINTFAX_API_KEY: "{{api_key}}", SLEEPERS: "{sleepers}"}}\n  timeout: 20\n',
            key=KEY,
        )
    )
    try:
        done = golive("check", "--select", "IDEM-101,ERR-101", "--format", "json", "--output", "out", cwd=tmp_path, timeout=120)
        helpers = [int(pid) for pid in sleepers.read_text().split()]
        outlived = [pid for pid in helpers if _alive(pid)]  # golive ended while they still held the pipes
    finally:
        kill_listed(sleepers)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(helpers) == 2 and outlived == helpers, (helpers, outlived)  # one client run per rule, each left one
    assert "Exception ignored" not in done.stderr and "Event loop is closed" not in done.stderr, done.stderr
    results = {r["id"]: r for r in json.loads((tmp_path / "out" / "report.json").read_text())["results"]}
    for rule, exit_code in (("IDEM-101", 0), ("ERR-101", 1)):
        assert results[rule]["status"] == "pass", results[rule]["message"]
        process = next(e for e in results[rule]["evidence"] if e["kind"] == "process")
        assert process["exit_code"] == exit_code and process["timed_out"] is False, process
    assert "invalid_request" in next(e for e in results["ERR-101"]["evidence"] if e["kind"] == "process")["stderr_tail"]


@pytest.mark.slow
def test_a_receiver_that_dies_leaving_a_helper_running_is_noticed(tmp_path: Path) -> None:
    """8, its sibling in the receiver: the receiver answers one delivery and exits 3, leaving a helper that holds
    its pipes: its death is noticed all the same, and whatever was judged after it is an error naming its exit."""
    sleepers = tmp_path / "sleepers"
    (tmp_path / "leaves_a_helper.sh").write_text(LEAVES_A_HELPER)
    receiver_config(tmp_path, "{port}", f"sh leaves_a_helper.sh {{python}} {CLIENTS / 'hostile.py'} --port {{port}} --mode once")
    config_text = (tmp_path / "golive.yaml").read_text()
    (tmp_path / "golive.yaml").write_text(config_text.replace("RECEIVER_DB:", f'SLEEPERS: "{sleepers}", RECEIVER_DB:'))
    try:
        done = golive("check", "--select", "HOOK", "--ignore", "HOOK-212", "--format", "json", "--output", "out", cwd=tmp_path)
    finally:
        kill_listed(sleepers)
    assert done.returncode == 1, done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr
    results = {r["id"]: r for r in json.loads((tmp_path / "out" / "report.json").read_text())["results"]}
    probed = [r for r in results.values() if r["target"] == "webhook" and r["status"] != "skip"]
    assert len([r for r in probed if r["status"] == "pass"]) <= 1
    died = [r for r in probed if "the webhook receiver exited 3 during the check" in r["message"]]
    assert len(died) >= len(probed) - 2, [(r["id"], r["status"], r["message"]) for r in probed]


# 9. an --output folder golive cannot write in: exit 2 naming the folder and the reason, never "internal error"; before
# any probe where a trial tells (nothing probed), and with every report file whole or absent
UNDER_A_FILE = "cannot write the reports to afile/out/: it is under a file (afile is a file)"
OUTPUT_ATTACKS = [
    Attack(
        "check-output-under-a-file",
        ("check", "--select", "KEY-001,KEY-004", "--format", "text,json,html", "--output", "afile/out"),
        2,
        files={"golive.yaml": config(key=KEY), "afile": "a file"},
        shows=(f"golive: {UNDER_A_FILE}; nothing was probed",),
    ),
    Attack(
        "check-output-deeper-under-a-file",
        ("check", "--select", "KEY-001", "--format", "json", "--output", "afile/a/b"),
        2,
        files={"golive.yaml": config(key=KEY), "afile": "a file"},
        shows=("cannot write the reports to afile/a/b/: it is under a file (afile is a file); nothing was probed",),
    ),
    Attack(
        "check-output-where-a-report-is-a-folder",
        ("check", "--select", "KEY-001", "--format", "json,html", "--output", "reports"),
        2,
        files={"golive.yaml": config(key=KEY)},
        setup=lambda root: (root / "reports" / "report.html").mkdir(parents=True),
        shows=("cannot write the reports to reports/: reports/report.html is a folder; nothing was probed",),
    ),
    Attack(
        "check-output-in-proc",
        ("check", "--select", "KEY-001", "--format", "json", "--output", "/proc/golive-out"),
        2,
        files={"golive.yaml": config(key=KEY)},
        shows=("cannot write the reports to /proc/golive-out/: ", "nothing was probed"),
    ),
    Attack(
        "report-render-output-under-a-file",
        ("report", "render", "report.json", "--format", "text,html,md", "--output", "afile/out"),
        2,
        files={"report.json": report(lambda data: None), "afile": "a file"},
        shows=("Verdict: NOT READY", f"golive: {UNDER_A_FILE}; none of this run's reports was written"),
    ),
    Attack(
        "report-merge-output-under-a-file",
        ("report", "merge", "report.json", "--format", "json,sarif", "--output", "afile/out"),
        2,
        files={"report.json": report(lambda data: None), "afile": "a file"},
        shows=("Verdict: READY  1 fail", f"golive: {UNDER_A_FILE}; none of this run's reports was written"),
    ),
    # the other files golive writes on request
    Attack(
        "init-output-under-a-file",
        ("init", "--provider", "mintfax", "-o", "afile/golive.yaml"),
        2,
        files={"afile": "a file"},
        shows=("golive: cannot write afile/.golive/golive.schema.json: it is under a file (afile is a file)",),
    ),
    Attack(
        "schema-output-under-a-file",
        ("schema", "config", "-o", "afile/golive.schema.json"),
        2,
        files={"afile": "a file"},
        shows=("golive: cannot write afile/golive.schema.json: it is under a file (afile is a file)",),
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("attack", OUTPUT_ATTACKS, ids=lambda a: a.name)
def test_an_output_folder_that_cannot_be_written_is_named(tmp_path: Path, attack: Attack) -> None:
    test_an_attack_on_the_command_line_ends_bounded_and_clean(tmp_path, attack)
    project = tmp_path / "project"
    left = [str(p.relative_to(project)) for p in project.rglob("*") if p.is_file() and p.name not in attack.files]
    assert not left, left  # no report, whole or partial, and no temporary file


@pytest.fixture
def tmpfs(tmp_path: Path) -> object:
    """mount(folder, options): a tmpfs of its own there, or the test is skipped where mounting is not permitted
    (it is, as root in a container that allows it); unmounted afterwards."""
    mounted: list[Path] = []

    def mount(folder: Path, options: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.slow
def test_a_read_only_output_folder_is_refused_before_probing(tmp_path: Path, tmpfs: Callable[[Path, str], None]) -> None:
    """9. As root, permissions stop no write: a read-only file system does (a tmpfs mounted read-only); another user
    gets a folder without write permission."""
    (tmp_path / "golive.yaml").write_text(config(key=KEY))
    if os.geteuid() == 0:
        tmpfs(tmp_path / "ro", "ro,size=64k")
        reason = "read-only file system"
    else:
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        reason = "permission denied"
    done = golive("check", "--select", "KEY-001,KEY-004", "--format", "text,json,html", "--output", "ro/out", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"golive: cannot write the reports to ro/out/: {reason}; nothing was probed" in done.stderr, done.stderr
    assert "internal error" not in done.stderr and not list((tmp_path / "ro").iterdir())


def _file_size_limit(size: int) -> Callable[[], None]:
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["full-disk", "file-size-limit"])
def test_reports_that_fail_while_written_cost_neither_the_verdict_nor_a_whole_file(
    tmp_path: Path, tmpfs: Callable[[Path, str], None], kind: str
) -> None:
    """9. The disk fills up after the trial (a tmpfs with one page left; or a file size limit, which behaves the
    same and needs no mount): the checklist and verdict are printed, exit 2 names the folder and the reason, and
    the folder holds only the earlier run's report, untouched (no half-written file, no temporary file)."""
    (tmp_path / "golive.yaml").write_text(config(key=KEY))
    out = tmp_path / "disk" / "out"
    limit: Callable[[], None] | None = None
    if kind == "full-disk":
        tmpfs(tmp_path / "disk", "size=64k")
        (tmp_path / "disk" / "filler").write_bytes(b"\0" * (56 * 1024))  # with the earlier report, one 4 KB page is left
        reason = "no space left on device"
    else:
        limit = _file_size_limit(8 * 1024)
        reason = "file too large"
    out.mkdir(parents=True)
    (out / "report.json").write_text("an earlier run's")
    done = subprocess.run(
        [sys.executable, "-m", "checker", "check", "--select", "KEY-001,KEY-004", "--format", "json,html,sarif", "--output", "disk/out"],
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        preexec_fn=limit,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Verdict: READY" in done.stdout, done.stdout  # only files were asked for: the verdict is printed all the same
    assert re.search(
        rf"golive: cannot write the reports to disk/out/: {reason} \(writing report\.\w+\); none of this run's reports was written",
        done.stderr,
    ), done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert sorted(os.listdir(out)) == ["report.json"] and (out / "report.json").read_text() == "an earlier run's"


def test_a_folder_that_becomes_unwritable_after_the_trial_is_named_when_written(tmp_path: Path) -> None:
    """9. The trial leaves nothing behind; a file that takes the folder's place after it is named at write time."""
    from checker.errors import OutputError
    from checker.model import Result, Rule, RunResult, Severity, Status
    from checker.report import unwritable, write_reports

    rule = Rule("KEY-001", "t", "Credentials", "repo", Severity.BLOCKER, "c", "w", "p", "f")
    run = RunResult(
        "mintfax", "sandbox", "2026-11-25T10:00:00Z", 1.0, "ready", False, (Result(rule, Status.PASS, Severity.BLOCKER, "m"),), "0.1.0"
    )
    out = tmp_path / "afile" / "out"
    assert unwritable(out, ["json", "html"]) is None
    assert not os.listdir(tmp_path)  # the trial's folders and file are gone
    (tmp_path / "afile").write_text("a file")
    with pytest.raises(OutputError, match=r"afile/out/: it is under a file \(.*afile is a file\); none of this run's"):
        write_reports(run, ["json", "html"], out)
    assert os.listdir(tmp_path) == ["afile"]


# ---------------------------------------------------------------- round 2: paths and the sandbox's control endpoints


class Listener:
    """A server on a port of its own that records each request's method, path and Authorization header: where a
    request golive must never make would land (and the key it would carry)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from threading import Thread

        self.requests: list[tuple[str, str, str | None]] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def answer(self) -> None:
                requests.append((self.command, self.path, self.headers.get("Authorization")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_DELETE = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_port

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> object:
    made = Listener()
    yield made
    made.close()


@pytest.fixture(scope="module")
def mintfax_sandbox() -> object:
    """One `golive sandbox` (mintfax) for the tests below that need a real sandbox.url beside the listener."""
    server = SandboxProcess("mintfax")
    yield server
    server.stop()


# (name, what the pack's facts say with STEAL standing for http://127.0.0.1:<listener>, the line, the key)
PACK_PATH_ATTACKS = [
    ("create-path-a-url", "  create:\n    path: STEAL/steal", 6, "facts.create.path"),
    ("create-path-a-network-path", "  create:\n    path: '//127.0.0.1:PORT/steal'", 6, "facts.create.path"),
    ("create-path-a-backslash", "  create:\n    path: '/\\\\127.0.0.1:PORT/steal'", 6, "facts.create.path"),
    ("create-path-a-header-injected", '  create:\n    path: "/v1/fax HTTP/1.1\\r\\nHost: 127.0.0.1:PORT\\r\\n"', 6, "facts.create.path"),
    ("create-path-a-query", "  create:\n    path: '/v1/fax?to=STEAL'", 6, "facts.create.path"),
    ("get-path-a-url", "  get_path: STEAL/steal/{id}", 5, "facts.get_path"),
    ("get-path-a-format-field", "  get_path: '/v1/fax/{id.__class__}'", 5, "facts.get_path"),
    ("balance-path-a-url", "  balance_path: STEAL/balance", 5, "facts.balance_path"),
    ("endpoints-path-a-url", "  webhooks:\n    endpoints_path: STEAL/hooks", 6, "facts.webhooks.endpoints_path"),
    ("path-alias-a-url", "  sandbox:\n    path_aliases: [STEAL/alias]", 6, "facts.sandbox.path_aliases[0]"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("facts", "line", "key"), [row[1:] for row in PACK_PATH_ATTACKS], ids=[row[0] for row in PACK_PATH_ATTACKS])
def test_a_pack_path_that_names_another_host_is_refused_at_its_line(
    tmp_path: Path, listener, mintfax_sandbox, facts: str, line: int, key: str
) -> None:  # type: ignore[no-untyped-def]
    """Issue 25, 2. A pack's endpoint paths are paths on sandbox.url: a URL there (httpx sends `http://other/…` there,
    whatever the base) would carry `Authorization: Bearer <key>` to another host. Refused when the pack loads."""
    facts = facts.replace("STEAL", f"http://127.0.0.1:{listener.port}").replace("PORT", str(listener.port))
    (tmp_path / "stealer.yaml").write_text(f"schema: golive-pack/1\nname: stealer\nextends: mintfax\nfacts:\n{facts}\n")
    (tmp_path / "golive.yaml").write_text(f"provider: ./stealer.yaml\nsandbox: {{url: '{mintfax_sandbox.url}', api_key: {KEY}}}\n")
    done = golive(
        "check", "--config", str(tmp_path / "golive.yaml"), "--select", "IDEM-001", "--output", str(tmp_path / "out"), cwd=tmp_path
    )
    assert listener.requests == [], listener.requests  # nothing reached the other host, least of all the key
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert re.search(rf"stealer\.yaml:{line}: {re.escape(key)}: ", done.stderr), done.stderr
    assert "Traceback" not in done.stderr and KEY not in done.stdout + done.stderr


def test_a_request_to_another_host_never_leaves_the_http_seam(listener, mintfax_sandbox) -> None:  # type: ignore[no-untyped-def]
    """Issue 25, 2, in depth: a path that is a URL, reaching the one HTTP seam however it got past the pack's check
    (a pack model built without validation here), is a ProbeError there (rule `error`), never a request elsewhere;
    and an id the sandbox answers stays one path segment of the read path."""
    from checker.errors import ProbeError
    from checker.packs import load_pack
    from checker.probes.sandbox_api import SandboxAPI

    facts = load_pack("mintfax").facts
    steal = f"http://127.0.0.1:{listener.port}/steal"
    facts = facts.model_copy(update={"create": facts.create.model_copy(update={"path": steal}), "balance_path": steal})

    async def attempt() -> list[str]:
        refused = []
        async with SandboxAPI(mintfax_sandbox.url, KEY, facts, started=time.monotonic(), timeout_s=10) as api:
            for request in (api.create("k-1"), api.get(steal), api.balance(), api.get(f"HTTP://127.0.0.1:{listener.port}/x")):
                with pytest.raises(
                    ProbeError, match=rf"golive sends requests only to http://127\.0\.0\.1:{mintfax_sandbox.port}; it refused"
                ) as info:
                    await request
                refused.append(str(info.value))
            assert api.resource_path("../../x?y#z") == "/v1/fax/..%2F..%2Fx%3Fy%23z"
        return refused

    refused = asyncio.run(attempt())
    assert listener.requests == [], listener.requests
    assert all(f"names http://127.0.0.1:{listener.port}" in message for message in refused), refused


@pytest.mark.slow
def test_a_web_page_cannot_move_the_sandbox_clock(tmp_path: Path) -> None:
    """Issue 25, 15. A page in the user's browser can POST to 127.0.0.1 without asking (a CORS-safelisted
    `text/plain` or form body, no key): such a request to a control endpoint is refused and moves no clock (a stored
    idempotency key still replays). The account's own key moves its own clock, as the README shows with curl; the
    control token `golive sandbox` prints moves every account's."""
    server = LimitedSandbox("mintfax", tmp_path)
    ten_years = json.dumps({"advance_s": 10 * 365 * 24 * 3600}).encode()
    evil = "https://evil.example"
    other_key = KEY[:-4] + "beef"

    def fax(client: httpx.Client, key: str) -> httpx.Response:
        return client.post("/v1/fax", data={"to": "+15005550000"}, files={"file": ("a.pdf", PDF)}, headers={"Idempotency-Key": key})

    try:
        with (
            httpx.Client(base_url=server.url, timeout=30) as page,
            httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as owner,
            httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {other_key}"}, timeout=30) as other,
        ):
            first, others = fax(owner, "order-1"), fax(other, "order-9")
            assert first.status_code == 201 and others.status_code == 201, (first.text, others.text)
            refused = [
                ({"Content-Type": "text/plain", "Origin": evil}, 403, "cross_origin_refused"),  # a page's fetch() or form
                ({"Content-Type": "application/x-www-form-urlencoded", "Origin": evil}, 403, "cross_origin_refused"),
                ({"Content-Type": "text/plain", "Origin": evil, "Authorization": f"Bearer {KEY}"}, 403, "cross_origin_refused"),
                ({"Content-Type": "application/json", "Origin": "null"}, 403, "cross_origin_refused"),  # a sandboxed frame
                ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403, "cross_origin_refused"),
                ({"Content-Type": "text/plain"}, 415, "unsupported_media_type"),  # no Origin: still no JSON, so no move
                ({"Content-Type": "text/plain", "Authorization": f"Bearer {KEY}"}, 415, "unsupported_media_type"),
                ({"Content-Type": "application/json"}, 401, "unauthorized"),  # no key: no account to move
            ]
            for headers, status, error in refused:
                answer = page.post("/_sandbox/clock", content=ten_years, headers=headers)
                assert (answer.status_code, answer.json().get("error")) == (status, error), (headers, answer.text)
            every = json.dumps({"advance_s": 10 * 365 * 24 * 3600, "scope": "sandbox"}).encode()
            for token in ("", "guessed", KEY):
                answer = page.post(
                    "/_sandbox/clock", content=every, headers={"Content-Type": "application/json", "X-Golive-Control-Token": token}
                )
                assert (answer.status_code, answer.json().get("error")) == (403, "control_token_required"), answer.text
            answer = owner.get("/_sandbox/events", headers={"Origin": evil})
            assert (answer.status_code, answer.json().get("error")) == (403, "cross_origin_refused"), answer.text
            # no clock moved: both stored keys still replay
            for client, key, made in ((owner, "order-1", first), (other, "order-9", others)):
                replay = fax(client, key)
                assert replay.headers.get("idempotency-replayed") == "true" and replay.json()["id"] == made.json()["id"], replay.text
            # the documented way: the account's own key, JSON; its keys age, the other account's do not
            moved = owner.post("/_sandbox/clock", json={"advance_s": 24 * 3600 + 60}, headers={"Origin": server.url})
            assert moved.status_code == 200, moved.text
            assert fax(owner, "order-1").json()["id"] != first.json()["id"]
            assert fax(other, "order-9").headers.get("idempotency-replayed") == "true"
            # every account's clock: the control token printed at start
            token = wait_for(lambda: re.search(r"control token (\S+)", server.log.read_text()), 10, "the control token").group(1)
            everyone = page.post(
                "/_sandbox/clock", content=every, headers={"Content-Type": "application/json", "X-Golive-Control-Token": token}
            )
            assert everyone.status_code == 200, everyone.text
            assert fax(other, "order-9").json()["id"] != others.json()["id"]
    finally:
        log = server.stop()
    assert "Traceback" not in log, log[-3000:]


# ---------------------------------------------------------------- round 2: saved reports and the Action's outputs

# a saved report is a file anyone could have written: a newline and a workflow command, a carriage return (the runner
# splits lines there too), OSC 52 (writes the clipboard), an erase-line, BEL and a bidi override
HOSTILE_TEXT = "t\n::error file=x::pwned\r::warning::cr \x1b]52;c;cHduZWQ=\x07 \x1b[2K \x07 ##[error]x \u202e"
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")  # tab and newline aside


def hostile_report(text: str = HOSTILE_TEXT, **fields: object) -> str:
    """BASE_REPORT whose every free text field holds `text`: a rule whose status changed and a new rule with `text` in
    its id, its title, section, message, fix, cite and evidence; the run's provider and environment."""

    def change(data: dict) -> None:
        first = data["results"][0]
        first.update(status="error", title=text, section=text, message=text, fix=text, cite=text)
        first["evidence"].append({"kind": "note", "text": text})
        data["results"].append({**first, "id": "::error file=y::id " + text, "status": "fail", "evidence": []})
        data.update(provider="mintfax " + text, environment=text, **fields)

    return report(change)


def workflow_lines(text: str) -> list[str]:
    """The lines of `text` a CI log would read as a command (GitHub's `::name::`, Azure's `##[name]`) or show with a
    raw control character."""
    from tests.workflow_commands import runner_lines

    return [line for line in runner_lines(text) if line.lstrip().startswith(("::", "##[")) or RAW_CONTROL.search(line)]


SAVED_REPORT_COMMANDS = [
    ("report", "diff", "old.json", "new.json"),
    ("report", "diff", "old.json", "new.json", "--format", "md"),
    ("report", "diff", "old.json", "new.json", "--format", "json"),
    ("report", "diff", "new.json", "old.json"),  # the hostile rules as fixed, changed and gone
    ("report", "diff", "new.json", "new.json"),
    ("report", "render", "new.json", "--format", "text,json,html,md,junit,sarif,gitlab", "-o", "out"),
    ("report", "merge", "new.json", "new.json", "-o", "out", "--format", "json,html,md,junit,sarif,gitlab"),
]


@pytest.mark.slow
@pytest.mark.parametrize("args", SAVED_REPORT_COMMANDS, ids=lambda a: "-".join(a[:2]) + "-" + "-".join(a[2:]).replace(".json", ""))
def test_a_saved_reports_text_is_printed_as_printable_lines(tmp_path: Path, args: tuple[str, ...]) -> None:
    """11. A report.json whose titles, ids, messages and names hold a newline and a workflow command, OSC 52, ESC
    and BEL: `report diff` (every format), `render` and `merge` print one printable line per change, no line a CI
    runner reads as a command, and write no raw control character into any report."""
    (tmp_path / "old.json").write_text(report(lambda d: d.update(provider="mintfax " + HOSTILE_TEXT, environment=HOSTILE_TEXT)))
    (tmp_path / "new.json").write_text(hostile_report())
    done = golive(*args, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for name, text in {"stdout": done.stdout, "stderr": done.stderr}.items():
        assert not workflow_lines(text), f"{name}: {workflow_lines(text)}"
    for path in (tmp_path / "out").glob("*") if (tmp_path / "out").is_dir() else ():
        assert not RAW_CONTROL.search(path.read_text()), f"{path.name} carries a raw control character"
    if args[1] == "diff" and "json" not in args:  # one line per change
        counted = sum(int(n) for n in re.findall(r"^(?:### )?(?:New failures|Fixed|Changed) \((\d+)\)$", done.stdout, re.M))
        assert len([line for line in done.stdout.splitlines() if line.startswith(("  ", "- "))]) == counted, done.stdout


@pytest.mark.slow
def test_saved_report_annotations_are_the_commands_golive_means(tmp_path: Path) -> None:
    """11. `report render --format github` of the hostile report: as many workflow commands as for the same report
    with plain words (one per finding and the verdict), none carrying a raw control character."""
    from tests.workflow_commands import parse, runner_lines

    (tmp_path / "hostile.json").write_text(hostile_report())
    (tmp_path / "plain.json").write_text(hostile_report("plain words"))
    hostile, plain = (golive("report", "render", f"{name}.json", "--format", "github", cwd=tmp_path) for name in ("hostile", "plain"))
    assert hostile.returncode == plain.returncode == 0, hostile.stderr + plain.stderr
    assert len(runner_lines(hostile.stdout)) == len(parse(hostile.stdout)) == len(parse(plain.stdout)) >= 3
    assert not RAW_CONTROL.search(hostile.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "files"),
    [
        (
            ("report", "merge", "a.json", "b.json"),
            {"a.json": report(lambda d: d.update(provider="mintfax " + HOSTILE_TEXT)), "b.json": report(lambda d: None)},
        ),
        (("report", "render", "a.json", "--format", "text"), {"a.json": report(lambda d: d.update(locations={HOSTILE_TEXT: "x"}))}),
        (
            ("report", "diff", "a.json", "b.json"),
            {"a.json": report(lambda d: d.update(coverage={"probed": {HOSTILE_TEXT: 5}})), "b.json": report(lambda d: None)},
        ),
        (
            ("report", "diff", "a.json", "b.json"),
            {"a.json": report(lambda d: None), "b.json": report(lambda d: d.update(verdict=HOSTILE_TEXT))},
        ),
    ],
    ids=["merge-of-two-providers", "render-a-bad-location", "diff-a-bad-coverage", "diff-a-verdict-that-is-no-verdict"],
)
def test_errors_about_a_saved_report_quote_it_printably(tmp_path: Path, args: tuple[str, ...], files: dict[str, str]) -> None:
    """11. The errors that quote a report's values (its provider, a key where a value is wrong) are printable lines."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    done = golive(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("golive: configuration error:") and "Traceback" not in done.stderr, done.stderr
    for name, text in {"stdout": done.stdout, "stderr": done.stderr}.items():
        assert not workflow_lines(text), f"{name}: {workflow_lines(text)}"


# ---------------------------------------------------------------- round 2: pack text
# A provider pack is a file users download from a third party: its words are untrusted input like a target's answers.
# They pass one seam when the pack is loaded (checker/packs.py, `shown`), and each output escapes them for its format
# (init's YAML, Markdown, workflow commands); tests/test_pack_text.py feeds arbitrary text into every field.

OSC52 = "\x1b]52;c;cHduZWQ=\x07"  # a terminal escape that writes the clipboard
INJECTED = "\nclient:\n  command: touch pwned\n#"  # ends init's comment and adds a live client.command


def hostile_pack(folder: Path, noun: str = "fax", facts: str = "", rest: str = "") -> None:
    """acme.yaml in `folder`: a pack extending mintfax in an attacker's words (`facts` and `rest`: YAML lines)."""
    folder.mkdir(exist_ok=True)
    text = f"schema: golive-pack/1\nname: acme\nextends: mintfax\nfacts:\n  create: {{noun: {json.dumps(noun)}}}\n{facts}{rest}"
    (folder / "acme.yaml").write_text(text)


@pytest.mark.slow
def test_init_from_a_hostile_pack_writes_only_comments_and_check_runs_no_packs_command(tmp_path: Path) -> None:
    """1. Whatever `golive init` writes from a pack stays in the comment or value it belongs to: the golive.yaml of a
    pack whose noun ends init's comment (the issue's example) parses as a plain pack's does, and `check` runs no client;
    the same for the magic field, the balance path, a key prefix and event names."""
    import yaml

    def init(folder: Path) -> object:
        done = golive("init", "--provider", "acme.yaml", cwd=folder)
        assert "\x1b" not in done.stdout + done.stderr
        if done.returncode == 2:  # a pack may also be refused (a path that is no path): at its line, and nothing written
            assert "acme.yaml:" in done.stderr and not (folder / "golive.yaml").exists(), done.stderr
            return plain
        assert done.returncode == 0, done.stderr
        return yaml.safe_load((folder / "golive.yaml").read_text())

    plain: object = None
    hostile_pack(tmp_path / "plain")
    plain = init(tmp_path / "plain")
    hostile_pack(tmp_path / "noun", noun="fax" + INJECTED)
    written = init(tmp_path / "noun")
    done = golive("check", "--select", "IDEM-101", cwd=tmp_path / "noun")
    assert not (tmp_path / "noun" / "pwned").exists(), "golive check ran a command the pack wrote into golive.yaml"
    assert done.returncode == 1 and "no client configured" in done.stdout, done.stdout + done.stderr
    assert written == plain
    for n, facts in enumerate(
        [
            {"sandbox": {"magic_field": f"to{INJECTED}"}},
            {"balance_path": f"/balance{INJECTED}"},
            {"keys": {"test_prefixes": [f"fx_test_{INJECTED}\u2028x: 1\x85y: 2"]}},
            {"webhooks": {"required_events": [f"fax.delivered{INJECTED}"], "balance_event": f"balance.low{INJECTED}"}},
        ]
    ):
        hostile_pack(tmp_path / str(n), facts="".join(f"  {key}: {json.dumps(value)}\n" for key, value in facts.items()))
        assert init(tmp_path / str(n)) == plain, facts


@pytest.mark.slow
def test_sarif_help_shows_a_packs_markdown_as_text(tmp_path: Path) -> None:
    """10. A pack's noun with a Markdown image and link: the SARIF rule's help.markdown shows them as text (no tracking
    image, no phishing link in code scanning), and the SARIF stays valid."""
    import jsonschema
    from markdown_it import MarkdownIt

    from tests.conftest import sarif_schema

    hostile_pack(tmp_path, noun="fax ![t](https://192.0.2.1/t.png) [Sign in](https://192.0.2.1/login) <img src=https://192.0.2.1/i>")
    (tmp_path / "golive.yaml").write_text("provider: acme.yaml\n")
    done = golive("check", "--select", "IDEM-101", "--format", "sarif", "--output", "out", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    sarif = json.loads((tmp_path / "out" / "report.sarif").read_text())
    jsonschema.validate(sarif, sarif_schema())
    (rule,) = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert "Sign in" in rule["help"]["markdown"]  # the pack's words are there, as text
    shown = MarkdownIt("commonmark").render(rule["help"]["markdown"])
    assert "<img" not in shown and "<a " not in shown, shown


@pytest.mark.slow
def test_explain_shows_no_terminal_escape_from_a_pack(tmp_path: Path) -> None:
    """13. OSC 52 (a clipboard write) in a pack's noun, a conflict's `about`, a quote and a skip reason: `golive explain
    --provider` and `golive rules --provider` show it as an escape, and no line of theirs is a workflow command."""
    hostile_pack(
        tmp_path,
        noun="fax" + OSC52,
        rest="conflicts:\n"
        f"  - about: {json.dumps('retries ' + OSC52 + chr(10) + '::error::forged')}\n"
        "    rules: [IDEM-101]\n"
        f"    quotes: [{{doc: 000_aa85249851aa0a9c.txt, quote: {json.dumps(OSC52)}}}, {{doc: 001_c1590b1e5571a9c0.txt, quote: q}}]\n"
        f"    reading: {json.dumps('r' + OSC52)}\n"
        "    otherwise: o\n"
        f"rules:\n  IDEM-102: {{skip: {json.dumps('not ours ' + OSC52)}}}\n",
    )
    for args in (("explain", "IDEM-101"), ("explain", "IDEM-102"), ("rules",)):
        done = golive(*args, "--provider", "acme.yaml", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "\\x1b]52;c;cHduZWQ=\\x07" in done.stdout  # shown, as an escape
        assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout + done.stderr
        assert not [line for line in done.stdout.splitlines() if line.lstrip().startswith(("::", "##["))], done.stdout


@pytest.mark.slow
def test_github_annotations_carry_no_control_character_from_a_pack(tmp_path: Path) -> None:
    """14. A pack's balance event with OSC 52 fills BAL-001's fix: the annotation's "How to fix" shows it as an escape."""
    from tests import workflow_commands

    hostile_pack(tmp_path, facts=f"  webhooks: {{balance_event: {json.dumps('balance.low' + OSC52)}}}\n")
    (tmp_path / "golive.yaml").write_text(
        "provider: acme.yaml\nwebhook: {url: 'http://127.0.0.1:9/x', secret: whsec_c2VjcmV0c2VjcmV0, events: [fax.delivered]}\n"
        "balance: {poll: false}\n"
    )
    done = golive("check", "--select", "BAL-001", "--format", "github", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr  # BAL-001 is a warning
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    (annotation,) = [c for c in workflow_commands.parse(done.stdout) if c.properties.get("title", "").startswith("BAL-001")]
    assert "How to fix: Subscribe to balance.low\\x1b]52;c;cHduZWQ=\\x07" in annotation.data


@pytest.mark.slow
def test_the_sandbox_log_shows_no_terminal_escape_from_a_pack(tmp_path: Path) -> None:
    """A sibling of 13: `golive sandbox --provider pack.yaml` logs each delivery with its event type, in a pack's words
    (`<noun>.queued`): an OSC 52 in the noun reaches the log as an escape."""
    queued = f"fax{OSC52}.queued"
    hostile_pack(tmp_path, noun="fax" + OSC52, facts=f"  webhooks: {{event_types: [{json.dumps(queued)}]}}\n")
    server = LimitedSandbox(str(tmp_path / "acme.yaml"), tmp_path)
    hook = f"http://127.0.0.1:{free_port()}/hooks"  # nobody listens: the delivery fails, and its line says so
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
            assert client.post("/v1/account/webhooks", json={"url": hook, "events": [queued]}).status_code == 201
            sent = client.post("/v1/fax", data={"to": "+15005550000"}, files={"file": ("a.pdf", PDF)}, headers={"Idempotency-Key": "k9"})
            assert sent.status_code == 201
            wait_for(lambda: f"-> {hook}" in server.log.read_text(), 20, "a delivery attempt in the log")
    finally:
        log = server.stop()
    assert "fax\\x1b]52;c;cHduZWQ=\\x07.queued -> " in log, log[-3000:]
    assert "\x1b" not in log and "\x07" not in log


def _pack_file(noun: str = "fax", rest: str = "") -> str:
    return f"schema: golive-pack/1\nname: acme\nextends: mintfax\nfacts:\n  create: {{noun: {json.dumps(noun)}}}\n{rest}"


PACK_TEXT_ATTACKS = [
    # a pack's key in a configuration error: shown printable, at its line
    Attack(
        "a-pack-key-with-a-terminal-escape",
        ("check",),
        2,
        files={"golive.yaml": "provider: acme.yaml\n", "acme.yaml": _pack_file(rest=f"  {json.dumps(OSC52)}: 1\n")},
        shows=("acme.yaml:6: facts.\\x1b]52;c;cHduZWQ=\\x07: unknown key",),
    ),
    # a pack's skip reason and noun in every report and the checklist: no terminal escape, no forged workflow command
    # (a guard: this held before, through the engine's seam and each format's escaping)
    Attack(
        "a-packs-skip-reason-in-every-report",
        (*CHECK, "--select", "IDEM-101,IDEM-102", "--no-color"),
        1,
        files={
            "golive.yaml": "provider: acme.yaml\n",
            "acme.yaml": _pack_file(
                "fax" + OSC52, f"rules:\n  IDEM-102: {{skip: {json.dumps('not ours' + OSC52 + chr(10) + '::error::forged')}}}\n"
            ),
        },
        results={"IDEM-101": "error", "IDEM-102": "skip"},
        shows=("not ours\\x1b]52;c;cHduZWQ=\\x07 ⏎ ::error::forged",),
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("attack", PACK_TEXT_ATTACKS, ids=lambda a: a.name)
def test_a_packs_text_on_the_command_line(tmp_path: Path, attack: Attack) -> None:
    test_an_attack_on_the_command_line_ends_bounded_and_clean(tmp_path, attack)


# ---------------------------------------------------------------- round 2: regex
# Every regular expression over text from outside runs in time linear in that text (README, Security): a pack's
# `sandbox.patterns` in RE2 (checker/linear_regex.py), golive's own written so that nothing backtracks. A hang shows
# as a subprocess's timeout expiring: REGEX_TIMEOUT bounds it, and a fixed run ends far within it on a loaded machine.

REGEX_TIMEOUT = 60
EVIL = "a" * 42 + "!"  # `^(a+)+$` in a backtracking engine tries 2**42 ways before refusing it
EVIL_PACK = "schema: golive-pack/1\nname: evil\nextends: idunox\nfacts:\n  sandbox:\n    patterns: {reference: '^(a+)+$'}\n"
BASE64_SECRET = "whsec_X+zrZv/IbzjZUnhsbWlsecLbwjndTpG0"  # base64 of 24 bytes, '+' and '/' among its first 8 characters
STANDARD_PACK = (  # a user's pack for a provider signing as Standard Webhooks, whose secrets are whsec_ + base64
    "schema: golive-pack/1\nname: acme\nextends: mintfax\n"
    "facts:\n  keys: {webhook_secret_prefixes: [whsec_]}\n  webhooks: {scheme: standard}\n"
)

# posts the evil value again and again (the attack goes on until golive stops it), writing each answer's status
EVIL_CLIENT = """
import json, os, pathlib, sys, urllib.error, urllib.request
answered = pathlib.Path(sys.argv[1])
for n in range(1000000):
    request = urllib.request.Request(
        os.environ["BASE_URL"] + "/v1/submissions", method="POST", data=json.dumps({"reference": "a" * 42 + "!"}).encode(),
        headers={"Authorization": "Bearer " + os.environ["API_KEY"], "Idempotency-Key": "evil-%d" % n,
                 "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=600).read()
    except urllib.error.HTTPError as exc:
        exc.read()
        answered.write_text(str(exc.code))
"""

# gets its answer, then ends as Node does on an uncaught fetch failure whose cause is an object: the error, its frames and
# the object's closing brace
NODE_STACK_CLIENT = """
import os, sys, urllib.error, urllib.request
request = urllib.request.Request(os.environ["MINTFAX_BASE_URL"] + "/v1/fax", data=b"x", method="POST",
                                 headers={"Authorization": "Bearer " + os.environ["MINTFAX_API_KEY"], "Idempotency-Key": "node-1"})
try:
    urllib.request.urlopen(request, timeout=30).read()
except urllib.error.HTTPError as exc:
    exc.read()
sys.stderr.write("TypeError: fetch failed\\n" + "    at x\\n" * 34 + "}\\n")
sys.exit(1)
"""

# a provider's sandbox that answers every request with 300,000 letters in a JSON field (under golive's 1 MB cap)
WORDY_API = """
import http.server, json, sys
body = json.dumps({"submissionId": "sub_1", "message": "a" * 300000}).encode()
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(202); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_GET = do_POST = answer
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

REGEX_ATTACKS = [
    # 3. a pattern RE2 cannot run in linear time (a backreference, a lookbehind) is refused when the pack loads
    Attack(
        "a-pack-pattern-with-a-backreference",
        ("check", "--select", "KEY-004"),
        2,
        files={
            "golive.yaml": "provider: evil.yaml\nsandbox: {url: builtin}\n",
            "evil.yaml": EVIL_PACK.replace("'^(a+)+$'", "'(a)\\1'"),
        },
        shows=("evil.yaml:6: facts.sandbox.patterns:", "reference: '(a)\\\\1' is not a regular expression golive runs", "RE2"),
    ),
    Attack(
        "a-pack-pattern-with-a-lookbehind",
        ("check", "--select", "KEY-004"),
        2,
        files={"golive.yaml": "provider: evil.yaml\nsandbox: {url: builtin}\n", "evil.yaml": EVIL_PACK.replace("'^(a+)+$'", "'(?<!x)a'")},
        shows=("evil.yaml:6: facts.sandbox.patterns:", "is not a regular expression golive runs (invalid perl operator: (?<"),
    ),
    # 4. a client whose stderr is an uncaught Node error with 34 frames and a brace: the crash detector reads it at once
    Attack(
        "a-client-printing-a-34-frame-node-stack",
        (*CHECK, "--select", "ERR-101"),
        0,  # ERR-101 is a warning
        files={
            "golive.yaml": config(
                'client: {command: "{python} stack.py", env: {MINTFAX_BASE_URL: "{base_url}", MINTFAX_API_KEY: "{api_key}"}}\n', key=KEY
            ),
            "stack.py": NODE_STACK_CLIENT,
        },
        results={"ERR-101": "fail"},
        shows=("does not name the error code",),  # judged on what it printed: an object's brace ends no crash report
        timeout=REGEX_TIMEOUT,
    ),
    # 7. a Standard Webhooks secret committed in a user's pack's project: base64, '+' and '/' in its first 8 characters
    Attack(
        "a-committed-base64-webhook-secret",
        (*CHECK, "--select", "KEY-002"),
        1,
        files={"golive.yaml": "provider: acme.yaml\nsandbox: {url: builtin, api_key: " + KEY + "}\n", "acme.yaml": STANDARD_PACK},
        setup=git_project({"config/.env": f"WEBHOOK_SECRET={BASE64_SECRET}\n".encode()}),
        results={"KEY-002": "fail"},
        shows=("config/.env:1",),
        hides=(BASE64_SECRET,),
        timeout=REGEX_TIMEOUT,
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("attack", REGEX_ATTACKS, ids=lambda a: a.name)
def test_a_regex_attack_on_the_command_line_ends_bounded_and_clean(tmp_path: Path, attack: Attack) -> None:
    test_an_attack_on_the_command_line_ends_bounded_and_clean(tmp_path, attack)


@pytest.mark.slow
def test_a_pack_pattern_cannot_hang_golive_check_and_sigterm_stops_it(tmp_path: Path) -> None:
    """3. A pack's `^(a+)+$`, and a client posting forty `a` and a `!` again and again: each request is answered (a
    backtracking engine never answered the first, holding the GIL), and SIGTERM during the attack stops golive."""
    (tmp_path / "evil.yaml").write_text(EVIL_PACK)
    (tmp_path / "client.py").write_text(EVIL_CLIENT)
    answered = tmp_path / "answered"
    (tmp_path / "golive.yaml").write_text(
        "provider: evil.yaml\nsandbox: {url: builtin}\n"
        f'client: {{command: "{{python}} client.py {answered}", env: {{BASE_URL: "{{base_url}}", API_KEY: "{{api_key}}"}}, timeout: 300}}\n'
    )
    check = subprocess.Popen(
        [sys.executable, "-m", "checker", "check", "--select", "IDEM-101", "--format", "json", "--output", "out"],
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(tmp_path)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        status = wait_for(lambda: answered.exists() and answered.read_text(), REGEX_TIMEOUT, "the sandbox to answer the evil value")
        check.send_signal(signal.SIGTERM)
        stdout, stderr = check.communicate(timeout=REGEX_TIMEOUT)
    finally:
        if check.poll() is None:
            check.kill()  # its watchdog ends the client's group
            check.communicate()
    assert status == "400"  # the pack's validation error: the pattern was matched, and refused the value
    assert check.returncode == 128 + signal.SIGTERM, stdout.decode() + stderr.decode()
    assert b"Traceback" not in stderr
    assert json.loads((tmp_path / "out" / "report.json").read_text())["interrupted"] is True


@pytest.mark.slow
def test_a_pack_pattern_cannot_hang_golive_sandbox(tmp_path: Path) -> None:
    """3. `golive sandbox --provider evil.yaml`: the evil value gets the pack's validation error, and SIGTERM stops it."""
    (tmp_path / "evil.yaml").write_text(EVIL_PACK)
    with (tmp_path / "sandbox.log").open("wb") as log:
        server = SandboxProcess(str(tmp_path / "evil.yaml"), None, log)
    try:
        answer = httpx.post(
            server.url + "/v1/submissions",
            json={"reference": EVIL},
            headers={"Authorization": "Bearer idx-sandbox-7d1e8b3c6a5f", "Idempotency-Key": "evil-1"},
            timeout=REGEX_TIMEOUT,
        )
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=REGEX_TIMEOUT)
    finally:
        server.stop()  # kills one that is still there
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "validation_failed" and "reference" in answer.text
    assert "Traceback" not in (tmp_path / "sandbox.log").read_text()


@pytest.mark.slow
def test_a_long_word_in_an_answer_is_redacted_in_linear_time(tmp_path: Path) -> None:
    """4 (sibling). The redactor reads every answer a target gives; its search for URL-encoded secrets started again
    from each letter of a word (quadratic: over an hour for this word of 300,000 letters, each time the evidence
    shows it). golive finishes and judges the rule."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", WORDY_API, str(port)], stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: listening(port), START_S, "the wordy API")
        (tmp_path / "golive.yaml").write_text(f"provider: idunox\nsandbox: {{url: 'http://127.0.0.1:{port}', api_key: idx-7d1e8b3c6a5f}}\n")
        done = golive("check", "--select", "IDEM-001", "--format", "json", "--output", "out", cwd=tmp_path, timeout=REGEX_TIMEOUT)
    finally:
        server.kill()
        server.wait()
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    result = json.loads((tmp_path / "out" / "report.json").read_text())["results"][0]
    assert result["id"] == "IDEM-001" and result["status"] in ("pass", "fail"), result["message"]
    # evidence keeps an excerpt (http.bounded) that says how long the word was
    assert "a" * 300 + "… (300000 chars)" in {e.get("body", {}).get("message") for e in result["evidence"]}
    # the redactor itself, on the whole word: the excerpt above no longer shows it all to the redactor
    alone = subprocess.run(
        [sys.executable, "-c", "from checker.redact import Redactor; print(len(Redactor(['fx_test_4f9a1c2b7d']).text('a' * 300000)))"],
        capture_output=True,
        text=True,
        timeout=REGEX_TIMEOUT,
        cwd=ROOT,
    )
    assert alone.stdout.strip() == "300000", alone.stderr


@pytest.mark.slow
def test_a_form_field_name_cannot_hang_golive_sandbox(tmp_path: Path) -> None:
    """3 (sibling). A form body's field names are split at their brackets (a[b][c]): a name of 900,000 characters
    without a closing bracket was scanned again from each of its characters. It is answered with an error envelope."""
    server = SandboxProcess("stripe")
    try:
        answer = httpx.post(
            server.url + "/v1/payment_intents",
            content=b"a[" + b"x" * 900_000 + b"=1",
            headers={"Authorization": "Bearer sk_test_golive51Hc0ffee", "Content-Type": "application/x-www-form-urlencoded"},
            timeout=REGEX_TIMEOUT,
        )
    finally:
        server.stop()
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert "error" in answer.json()


@pytest.mark.slow
def test_a_file_full_of_keys_is_scanned_once(tmp_path: Path) -> None:
    """7 (sibling). Each finding's line was counted from the top of the file: a 9 MB file of keys took quadratic time
    (minutes). Counted from the finding before, the scan reads it once."""
    lines = (f"fx_live_{n:08x}Qz7Kp {'#' * 40}\n" for n in range(150_000))
    git_project({"keys.txt": "".join(lines).encode()})(tmp_path)
    program = (
        "import sys; from pathlib import Path; from checker.keyscan import scan, tracked_files\n"
        "root = Path(sys.argv[1]); found = scan(root, tracked_files(root, ['.']), ['fx_live_']).findings\n"
        "print(len(found), found[-1].line)\n"
    )
    done = subprocess.run([sys.executable, "-c", program, str(tmp_path)], capture_output=True, text=True, timeout=REGEX_TIMEOUT, cwd=ROOT)
    assert done.stdout.split() == ["150000", "150000"], done.stdout + done.stderr


from hypothesis import given, settings  # noqa: E402  (this section's own: the sections above are other rounds')
from hypothesis import strategies as st  # noqa: E402

# the expressions as they were (backtracking, or scanning again from each character): the new ones must find the same
NODE_BEFORE = re.compile(
    r"^(?:Uncaught )?((TypeError|ReferenceError|SyntaxError|RangeError)(?:\[\w+\])?: .*)\n(?:\s+at .*\n?)+(?:\s*Node\.js v[\d.]+\s*)?\Z",
    re.M,
)
PERCENT_BEFORE = re.compile(r"[A-Za-z0-9._~+-]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~+-]*)+")
KEY_LIKE_BEFORE = re.compile(r"(?:[A-Za-z]+_(?:test|live)_|whsec_|sk_|pk_|rk_)[A-Za-z0-9+/=_-]{8,}")
SUBSCRIPT_BEFORE = re.compile(r"([^\[\]]*)\]")
QUERY_BEFORE = re.compile(r"([?&][^=&\s#\"']+)=([^&\s#\"']*)")
NODE_WORDS = ["TypeError: x", "Uncaught ", "RangeError[ERR_Y]: z", "at ", "  at f", "    at g (a.js:1:2)", " ", "\t", "\n", "\r", "}", "{"]
NODE_WORDS += ["Node.js v20.11.1", "x", "\x0b", "\u00a0", "Error: e"]


def tokens(words: list[str], most: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(words), max_size=most).map("".join)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(tokens(NODE_WORDS, 12))
def test_the_node_crash_detector_finds_what_the_regex_found(text: str) -> None:
    """4. Read line by line, a Node crash report gives what the old expression gave (on stderr short enough for it)."""
    from checker.harness.process import crash_of

    match = NODE_BEFORE.search(text.rstrip()[-8000:])  # the words hold no Python, Java or Go crash report
    assert crash_of(1, text) == (match.group(1).strip()[:200] if match else None)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(["TypeError: fetch failed\n", "Uncaught RangeError: x\n", "ReferenceError: y\n\n", "x\n"]),
    st.lists(st.sampled_from(["    at x\n", "    at x", "\n", "  \n", "at y\n", "\tat z (a.js:1:1)\n"]), min_size=30, max_size=80),
    st.sampled_from(["}", "}\n", "", "\nNode.js v20.11.1\n", "x", "  at"]),
)
def crash_detector_answers_any_stack(error: str, frames: list[str], end: str) -> None:
    from checker.harness.process import crash_of

    crash = crash_of(1, error + "".join(frames) + end)
    assert crash is None or crash in error


@pytest.mark.slow
def test_the_crash_detector_returns_on_any_stack() -> None:
    """4. An error line, 30 to 80 frames (blank lines between, some unindented, some without their newline) and any
    ending: the detector answers. Run in a process of its own: the old expression tried 2**frames ways, holding the
    GIL, so only a subprocess's timeout could end it."""
    program = "from tests.test_hostile import crash_detector_answers_any_stack as p; p()"
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=REGEX_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(
    tokens(["a", "B", "9", "%", "41", "zz", "%4", ".", "+", " ", "-", "%2B", "é"], 12),
    tokens(["a", "Zz", "_", "test", "live", "_test_", "whsec_", "sk_", "1", "abcdefgh1", "+", "/", " ", "x_live_", "-"], 10),
    tokens(["[", "]", "a", "bc", "]]", "[["], 10),
    tokens(["?", "&", "=", "a", "b", " ", "#", "'", "x", "??", "?a="], 10),
)
def test_the_linear_expressions_find_what_the_old_ones_found(percent: str, key: str, form: str, query: str) -> None:
    """4, siblings. The redactor's URL-encoded runs and key-shaped values, a form's subscripts and the sandbox log's
    query values: the same matches as before (the log masks a superset: a value after an empty name too)."""
    from checker import envelope, redact
    from checker.sandbox import server

    assert redact._PERCENT.findall(percent) == PERCENT_BEFORE.findall(percent)
    assert redact._KEY_LIKE.findall(key) == KEY_LIKE_BEFORE.findall(key)
    assert envelope._SUBSCRIPT.findall(form) == SUBSCRIPT_BEFORE.findall(form)

    def masked(pattern: re.Pattern[str]) -> set[int]:
        return {i for m in pattern.finditer(query) if m.group(2) for i in range(m.start(2), m.end(2))}

    assert masked(QUERY_BEFORE) <= masked(server._QUERY_VALUE)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    st.binary(min_size=16, max_size=48),
    st.text(st.characters(codec="ascii", exclude_characters="\0"), max_size=200),
    st.sampled_from([" ", "=", '"', "'", "\n", ":", "\t"]),
    st.sampled_from([" ", '"', "'", "\n", ",", ";"]),  # a character glued to its end would make another key
    st.text(st.characters(codec="ascii", exclude_characters="\0"), max_size=200),
)
def test_the_key_scan_finds_every_base64_webhook_secret(raw: bytes, before: str, left: str, right: str, after: str) -> None:
    """7. Any Standard Webhooks secret (whsec_ + base64: '+', '/', '=' anywhere they can be) in any text is found at
    its line, masked."""
    import tempfile

    from checker.keyscan import Tracked, is_placeholder, scan
    from checker.redact import mask

    secret = "whsec_" + base64.b64encode(raw).decode()
    if is_placeholder(secret, len("whsec_")):
        return  # an example-looking value is no finding
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "f.txt").write_text(before + left + secret + right + after)
        found = scan(Path(folder), [Tracked("f.txt", "", "100644")], ["fx_live_"], base64=["whsec_"]).findings
    line = (before + left).count("\n") + 1
    assert (line, mask(secret)) in {(f.line, f.masked) for f in found}, found
