"""Pre-flight: a placeholder golive does not fill, a program that is not there, a receiver port another process holds
are one config error each (exit 2, file:line, key) before any probe, never the same error on every rule."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from checker.config import parse_config
from checker.errors import ConfigError
from checker.preflight import CLIENT, RECEIVER, check_before_probing
from tests.conftest import TEST_KEYS, golive

KEY = TEST_KEYS["mintfax"]
# argv and the environment as the client was started with them, written where the test can read them
RECORDER = "import json, os, sys\njson.dump({'argv': sys.argv[1:], 'env': dict(os.environ)}, open(sys.argv[1], 'w'))\nsys.exit(3)\n"


def write_config(folder: Path, body: str) -> Path:
    path = folder / "golive.yaml"
    path.write_text(f"provider: mintfax\nsandbox: {{url: builtin, api_key: {KEY}}}\n{body}")
    return path


def problems(body: str, in_use: dict[str, str] | None = None) -> list[str]:
    """What pre-flight says of a config (in-process), one string per problem."""
    config = parse_config(f"provider: mintfax\nsandbox: {{url: builtin, api_key: {KEY}}}\n{body}", environ={})
    try:
        check_before_probing(config, in_use if in_use is not None else {"IDEM-101": "client"})
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


# ---------------------------------------------------------------- the command line, as a user meets it


@pytest.mark.slow
def test_unknown_placeholders_are_one_config_error_each_with_did_you_mean(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "client:\n"
        '  command: "{python} send.py --to {to} --file {filename} --ref {ref}"\n'
        '  env: {MINTFAX_BASE_URL: "{baseurl}", MINTFAX_API_KEY: "{api_key}"}\n',
    )
    (tmp_path / "send.py").write_text("import sys\nsys.exit(1)\n")
    done = golive("check", "--format", "text,json", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "golive: configuration error:"
    known = "golive fills {to} {file} {ref} {base_url} {api_key} {python} here"
    assert [line.split("golive.yaml", 1)[1] for line in lines[1:]] == [
        f":4: client.command: unknown placeholder {{filename}}: golive would pass it on literally (did you mean {{file}}? {known})",
        f":5: client.env.MINTFAX_BASE_URL: unknown placeholder {{baseurl}}: golive would pass it on literally "
        f"(did you mean {{base_url}}? {known})",
    ]
    assert not (tmp_path / "golive-report").exists()  # nothing probed, nothing reported


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("no-such-fax-sender --to {to}", "cannot start the client: 'no-such-fax-sender' is not on PATH (install it, or give its path;"),
        ("./send.sh --to {to}", "cannot start the client: ./send.sh does not exist in "),
        ("./notexec.sh --to {to}", "cannot start the client: ./notexec.sh is not executable (chmod +x ./notexec.sh"),
        ("./bin --to {to}", "cannot start the client: ./bin is a folder, not a program"),
        ("{python} sendfax.py --to {to}", "cannot start the client: the script sendfax.py that python"),
        ("'unclosed --to {to}", "cannot start the client: client.command cannot be split into words (No closing quotation)"),
    ],
    ids=["not-on-path", "no-such-file", "not-executable", "a-folder", "no-such-script", "unbalanced-quote"],
)
def test_a_client_that_cannot_start_is_one_config_error(tmp_path: Path, command: str, expected: str) -> None:
    (tmp_path / "notexec.sh").write_text("#!/bin/sh\n")
    (tmp_path / "bin").mkdir()
    write_config(tmp_path, f"client:\n  command: {json.dumps(command)}\n")
    done = golive("check", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"golive.yaml:4: client.command: {expected}" in done.stderr
    assert done.stderr.count("cannot start") == 1 and "Traceback" not in done.stderr


def test_a_receiver_port_in_use_is_a_config_error_naming_its_holder(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        write_config(
            tmp_path,
            f'webhook:\n  url: http://127.0.0.1:{port}/hooks\n  secret: whsec_0123456789abcdef0123\n  start: "{{python}} receiver.py"\n',
        )
        (tmp_path / "receiver.py").write_text("")
        done = golive("check", "--select", "HOOK-201", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"golive.yaml:4: webhook.url: port {port} is already in use by pid {os.getpid()} (" in done.stderr
    assert "write {port} in webhook.url to get a free one" in done.stderr


@pytest.mark.slow
def test_a_good_client_passes_preflight_and_gets_every_placeholder_filled(tmp_path: Path) -> None:
    """Every placeholder pre-flight knows for the client is filled by the run; literal braces pass untouched."""
    (tmp_path / "record.py").write_text(RECORDER)
    record = tmp_path / "argv.json"
    every = " ".join("{" + name + "}" for name in CLIENT)
    literal = """'{"a": {"b": 1}}' '{ file }' '$${HOME}'"""  # $$: a literal $ in golive.yaml
    write_config(
        tmp_path,
        "client:\n"
        f"  command: {json.dumps(f'{{python}} record.py {record} {every} {literal}')}\n"
        f"  env: {json.dumps({name.upper(): '{' + name + '}' for name in CLIENT})}\n",
    )
    done = golive("check", "--select", "IDEM-101", "--format", "text", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # the recorder sends nothing: IDEM-101 is an error
    seen = json.loads(record.read_text())
    filled = seen["argv"][1 : 1 + len(CLIENT)]
    assert all("{" not in value and value for value in filled), filled
    assert all(seen["env"][name.upper()] and "{" not in seen["env"][name.upper()] for name in CLIENT)
    assert seen["argv"][1 + len(CLIENT) :] == ['{"a": {"b": 1}}', "{ file }", "${HOME}"]  # passed on as written


def test_the_receiver_gets_every_placeholder_preflight_knows(tmp_path: Path) -> None:
    (tmp_path / "record.py").write_text(RECORDER)
    record = tmp_path / "argv.json"
    every = " ".join("{" + name + "}" for name in (*RECEIVER, "port"))
    write_config(
        tmp_path,
        "webhook:\n  url: http://127.0.0.1:{port}/hooks\n  secret: whsec_0123456789abcdef0123\n"
        f"  start: {json.dumps(f'{{python}} record.py {record} {every}')}\n  start_timeout: 5\n",
    )
    done = golive("check", "--select", "HOOK-201", "--format", "text", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # the recorder opens no port: HOOK-201 is an error
    filled = json.loads(record.read_text())["argv"][1:]
    assert len(filled) == len(RECEIVER) + 1 and all("{" not in value and value for value in filled), filled


@pytest.mark.slow
def test_preflight_looks_only_at_the_targets_this_run_probes(tmp_path: Path) -> None:
    write_config(tmp_path, 'client:\n  command: "no-such-fax-sender --file {filename}"\n')
    done = golive("check", "--select", "IDEM-001", "--format", "text", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------- what counts as a placeholder


@pytest.mark.parametrize(
    ("template", "flagged"),
    [
        ('{python} -c pass --data \'{"a": {"b": 1}}\'', []),  # JSON: quotes inside the braces
        ("{python} -c pass '{}' '{1..3}' '{a,b}'", []),  # find's {}, a shell's ranges and lists
        ("sh -c 'echo $${HOME}'", []),  # ${HOME} for the shell ($$ is a literal $ in golive.yaml)
        ("{python} -c pass '{ print }' {{file}}", []),  # a space inside is literal; {{file}} holds {file}
        ("{python} -c pass {filename} {filename} {recipient}", ["{filename}", "{recipient}"]),  # each once
    ],
)
def test_what_counts_as_a_placeholder(template: str, flagged: list[str]) -> None:
    found = problems(f"client:\n  command: {json.dumps(template)}\n")
    assert [p.split("unknown placeholder ")[1].split(":")[0] for p in found] == flagged, found


def test_port_in_a_receiver_command_needs_port_in_the_url() -> None:
    found = problems('webhook:\n  url: http://127.0.0.1:8799/hooks\n  start: "{python} -c pass {port}"\n', in_use={"HOOK-201": "webhook"})
    assert found == [
        "golive.yaml:5: webhook.start: unknown placeholder {port}: golive fills it only when webhook.url has {port}, with a free "
        "port it picks (write {port} in webhook.url, or the port number here)"
    ]


def test_webhook_env_may_hold_what_register_is_given() -> None:
    body = (
        'webhook:\n  url: "http://127.0.0.1:{port}/hooks"\n  start: "{python} -c pass {port}"\n'
        '  register: "{python} -c pass {url}"\n  env: {BASE: "{base_url}", KEY: "{api_key}", DB: "{workdir}/x"}\n'
    )
    assert problems(body, in_use={"HOOK-201": "webhook", "HOOK-212": "config"}) == []
    # without the registration in this run, {base_url} there is filled by no command that runs
    assert problems(body, in_use={"HOOK-201": "webhook"})[0].startswith("golive.yaml:7: webhook.env.BASE: unknown placeholder {base_url}")


def test_a_missing_client_folder_is_named() -> None:
    found = problems('client:\n  command: "{python} send.py"\n  cwd: no-such-folder\n')
    assert len(found) == 1 and found[0].startswith("golive.yaml:5: client.cwd: no such folder: ")


def test_a_url_that_is_not_http_is_a_config_error() -> None:
    assert problems("webhook:\n  url: ftp://127.0.0.1/hooks\n", in_use={"HOOK-201": "webhook"}) == [
        "golive.yaml:4: webhook.url: 'ftp://127.0.0.1/hooks' is not an http(s) URL (for example http://127.0.0.1:{port}/webhooks)"
    ]


def test_a_port_golive_picks_is_not_tried_but_the_scheme_is() -> None:
    assert problems('webhook:\n  url: "http://127.0.0.1:{port}/hooks"\n  start: "{python} -c pass"\n', in_use={"HOOK-201": "webhook"}) == []
    assert problems('webhook:\n  url: "ws://127.0.0.1:{port}/hooks"\n', in_use={"HOOK-201": "webhook"})[0].startswith(
        "golive.yaml:4: webhook.url: 'ws://127.0.0.1:{port}/hooks' is not an http(s) URL"
    )


@pytest.mark.slow
def test_a_malformed_webhook_url_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    """urlsplit raises on a broken IPv6 literal: that is the user's typo (exit 2, file:line, key), not golive's bug (3)."""
    assert problems('webhook:\n  url: "http://[::1/hooks"\n', in_use={"HOOK-201": "webhook"}) == [
        "golive.yaml:4: webhook.url: 'http://[::1/hooks' is not a valid URL (Invalid IPv6 URL) (for example http://127.0.0.1:{port}/webhooks)"
    ]
    write_config(tmp_path, 'webhook:\n  url: "http://[::1/hooks"\n  start: "{python} -c pass"\n')
    done = golive("check", "--select", "HOOK-201", "--format", "text", cwd=tmp_path)
    assert done.returncode == 2 and "webhook.url" in done.stderr and "internal error" not in done.stderr, done.stderr
