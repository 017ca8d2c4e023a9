"""golive.yaml: every problem named by file, line and key; ${VAR} expansion; never a traceback."""

from __future__ import annotations

import datetime as dt

import pytest

from checker.config import load_config, parse_config
from checker.errors import ConfigError


def problems_of(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "golive.yaml", environ=environ or {})
    return [str(p) for p in caught.value.problems]


FULL = """\
provider: mintfax
environment: sandbox
sandbox:
  url: builtin
  api_key: ${MINTFAX_API_KEY}
client:
  command: python send_fax.py --to {to} --file {file} --ref {ref}
  env: {MINTFAX_BASE_URL: "{base_url}", MINTFAX_API_KEY: "{api_key}"}
  cwd: .
  timeout: 60
webhook:
  url: http://127.0.0.1:8700/webhooks/mintfax
  secret: ${MINTFAX_WEBHOOK_SECRET:-whsec_default_for_tests}
  start: python receiver.py --port 8700
  events: [fax.delivered, fax.failed, balance.low]
  processed_count: python count.py {event_id}
repo:
  paths: ["."]
  production_paths: ["deploy/prod/**", "config/production*"]
documents: ["documents/*"]
balance: {poll: false}
rules:
  select: []
  ignore: []
  severity: {ERR-102: warning}
waivers:
  - {rule: HOOK-208, reason: "dedupe happens in the queue", expires: 2027-01-31, by: ops@example.com}
attestations:
  LIVE-004: {by: sec@example.com, date: 2026-11-20, evidence: "https://wiki.example.com/rotation"}
"""


def test_the_design_example_loads():
    config = parse_config(FULL, environ={"MINTFAX_API_KEY": "fx_test_0123456789abcdef"})
    assert config.file.sandbox.api_key == "fx_test_0123456789abcdef"
    assert config.file.webhook is not None and config.file.webhook.secret == "whsec_default_for_tests"
    assert config.file.client is not None and "{to}" in config.file.client.command
    assert config.file.waivers[0].expires == dt.date(2027, 1, 31)
    assert config.file.attestations["LIVE-004"].by == "sec@example.com"
    assert config.secrets == ("fx_test_0123456789abcdef", "whsec_default_for_tests")
    # ${VAR:-default} with a literal default is a secret written in the file (KEY-004), even when VAR is set
    assert config.literal_secrets == {"sandbox.api_key": False, "webhook.secret": True}


def test_literal_keys_are_recorded_for_key_004():
    config = parse_config("provider: mintfax\nsandbox: {api_key: fx_test_literal0123456789}\n", environ={})
    assert config.literal_secrets == {"sandbox.api_key": True}


def test_unset_variable_names_line_and_key():
    assert problems_of("provider: mintfax\nsandbox:\n  api_key: ${MINTFAX_API_KEY}\n") == [
        "golive.yaml:3: sandbox.api_key: environment variable MINTFAX_API_KEY is not set (set it to your sandbox key, "
        "or write ${MINTFAX_API_KEY:-} (empty: the embedded sandbox makes its own key))"
    ]


def test_dollar_dollar_is_a_literal_dollar():
    config = parse_config("provider: mintfax\nclient:\n  command: echo $${HOME}\n", environ={"HOME": "/root"})
    assert config.file.client is not None and config.file.client.command == "echo ${HOME}"


def test_unknown_key_suggests_the_right_one():
    assert problems_of("provider: mintfax\nsandbox:\n  url: builtin\n  api_kye: x\n") == [
        "golive.yaml:4: sandbox.api_kye: unknown key (did you mean 'api_key'?)"
    ]
    assert problems_of("provider: mintfax\nwebhooks: {}\n") == ["golive.yaml:2: webhooks: unknown key (did you mean 'webhook'?)"]


def test_every_problem_is_reported_at_once():
    found = problems_of("provider: mintfax\nclient:\n  command: 5\n  timeout: fast\nrules:\n  severity: {ERR-102: warnng}\n")
    assert [p.split(":")[1] for p in found] == ["3", "4", "6"]
    assert "client.timeout" in found[1] and "'fast'" in found[1]
    assert "'blocker', 'warning' or 'info'" in found[2]


def test_missing_required_keys():
    assert problems_of("environment: sandbox\n") == ["golive.yaml:1: provider: required key is missing"]
    assert any("client.command: required key is missing" in p for p in problems_of("provider: mintfax\nclient: {cwd: .}\n"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("provider: [mintfax\n", "golive.yaml:2: invalid YAML"),
        ("provider: mintfax\n  bad: indent\n", "golive.yaml:2: invalid YAML"),
        ("- just\n- a list\n", "golive.yaml:1: expected a mapping"),
        ("", "golive.yaml:1: the file is empty"),
        ("provider: mintfax\nprovider: idunox\n", "golive.yaml:2: provider: duplicate key (first defined on line 1)"),
        ("provider: mintfax\nenvironment: production\n", "golive.yaml:2: environment: input should be 'sandbox' or 'live'"),
    ],
)
def test_malformed_files(text, expected):
    assert problems_of(text)[0].startswith(expected)


@pytest.mark.parametrize(
    "waiver",
    [
        "{rule: HOOK-208, expires: 2027-01-31, by: ops@example.com}",
        "{rule: HOOK-208, reason: x, by: ops@example.com}",
        "{rule: HOOK-208, reason: x, expires: 2027-01-31}",
        "{rule: HOOK-208, reason: '', expires: 2027-01-31, by: ops@example.com}",
        "{rule: HOOK-208, reason: x, expires: someday, by: ops@example.com}",
    ],
)
def test_a_waiver_needs_reason_owner_and_expiry(waiver):
    found = problems_of(f"provider: mintfax\nwaivers:\n  - {waiver}\n")
    assert found and all(p.startswith("golive.yaml:3: waivers[0]") for p in found)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "golive.yaml")


def test_paths_resolve_against_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "golive.yaml"
    path.write_text("provider: mintfax\n")
    config = load_config(path, environ={})
    assert config.resolve("documents/a.pdf") == tmp_path / "sub" / "documents" / "a.pdf"


def test_a_command_that_starts_with_a_brace_is_told_to_be_quoted():
    """`command: {python} send.py` is a YAML mapping followed by text: the parser's words alone do not say what to do."""
    from checker.config import parse_config
    from checker.errors import ConfigError

    text = "provider: mintfax\nclient:\n  command: {python} send.py --to {to}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={})
    problem = caught.value.problems[0]
    assert problem.line == 3 and "put the whole value in quotes" in problem.hint, problem
    quoted = parse_config(text.replace("{python} send.py --to {to}", '"{python} send.py --to {to}"'), environ={})
    assert quoted.file.client is not None and quoted.file.client.command.startswith("{python}")
    with pytest.raises(ConfigError) as other:
        parse_config("provider: mintfax\nsandbox: [\n", environ={})
    assert "quotes" not in other.value.problems[0].hint
