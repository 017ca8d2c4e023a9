"""Faithful to the providers' documents (issue 17): real clients (subprocesses) against the embedded sandbox,
judged the way the documents ask, both ways.

- Documented exact delays are judged as documented. idunox ("Idempotency and Retries", seed 003) and flexforward
  (seed 004) document a 1, 2, 4, 8 s schedule: a client waiting exactly that passes RETRY-106, one that adds
  jitter on top passes (golive's reading: jitter may only add to documented delays), and a client drawing full
  jitter U(0, 1·2^n) fails; it passed before as "fit the full jitter schedule (base 1 s, cap 8 s)".

The schedules are scaled down tenfold through a pack that extends idunox (base 0.1 s, cap 0.8 s): the same
judges, a tenth of the wait.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from checker.config import parse_config
from checker.model import Status
from tests.conftest import ROOT, TEST_KEYS, run_rules

SUBMIT = (ROOT / "examples" / "idunox" / "good" / "submit.py").read_text()
DELAYS = "DELAYS_S = (1, 2, 4, 8)"


def scaled_idunox(tmp_path: Path, delays: str) -> object:
    """The good idunox example with its delays replaced by `delays` (a Python expression for attempt n), a pack
    documenting the idunox schedule a tenth as long, and the embedded sandbox started by `url`."""
    assert DELAYS in SUBMIT and "time.sleep(DELAYS_S[attempt])" in SUBMIT
    client = SUBMIT.replace(DELAYS, "import random\nDELAYS_S = (0.1, 0.2, 0.4, 0.8)").replace(
        "time.sleep(DELAYS_S[attempt])", f"time.sleep({delays})"
    )
    (tmp_path / "submit.py").write_text(client)
    (tmp_path / "tenfold.yaml").write_text(
        "schema: golive-pack/1\nname: idunox\nextends: idunox\nfacts:\n  retry: {base_s: 0.1, max_delay_s: 0.8, jitter_s: 0}\n"
    )
    return parse_config(
        f"provider: {tmp_path / 'tenfold.yaml'}\nsandbox: {{url: builtin, api_key: '{TEST_KEYS['idunox']}'}}\n"
        f"client:\n  command: '{sys.executable} {tmp_path / 'submit.py'} --ref {{ref}}'\n"
        "  env: {IDUNOX_BASE_URL: '{base_url}', IDUNOX_API_KEY: '{api_key}'}\n  timeout: 30\n",
        environ={},
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("delays", "status", "says"),
    [
        ("DELAYS_S[attempt]", Status.PASS, "fit the documented schedule (base 0.1 s, cap 0.8 s)"),
        ("DELAYS_S[attempt] * random.uniform(1, 1.5)", Status.PASS, "added jitter"),
        ("random.uniform(0, DELAYS_S[attempt])", Status.FAIL, "the provider documents exact delays, and jitter may only add to them"),
    ],
    ids=["exact", "added-jitter", "full-jitter"],
)
def test_documented_exact_delays_are_judged_as_documented(tmp_path: Path, delays: str, status: Status, says: str) -> None:
    result = run_rules(scaled_idunox(tmp_path, delays), "RETRY-106")["RETRY-106"]
    assert result.status is status, result.message
    assert says in result.message, result.message


# ---------------------------------------------------------------- both revisions of the mintfax guide

REVISION_001 = (
    "schema: golive-pack/1\nname: mintfax\nextends: mintfax\n"
    "facts:\n  idempotency:\n    replay:\n      headers: {Idempotency-Replayed: null}\n"
    "      missing_key_echo: 'not provided; recommended'\n"
)


def revision_001(tmp_path: Path, url: str = "builtin") -> object:
    """mintfax's guide in its revision 001 (seed 001: no `Idempotency-Replayed`; "Every POST response includes an
    X-Idempotency-Key header ... If you omitted it, the header reads not provided; recommended"): a pack that extends
    the built-in one (seed 000's revision) and removes the replay header with a null."""
    (tmp_path / "mintfax-001.yaml").write_text(REVISION_001)
    return parse_config(
        f"provider: {tmp_path / 'mintfax-001.yaml'}\nsandbox: {{url: '{url}', api_key: '{TEST_KEYS['mintfax']}'}}\n", environ={}
    )


def test_an_extending_pack_removes_an_inherited_fact_with_null(tmp_path: Path) -> None:
    from checker.packs import load_pack

    (tmp_path / "mintfax-001.yaml").write_text(REVISION_001)
    replay = load_pack(str(tmp_path / "mintfax-001.yaml")).facts.idempotency.replay
    assert (replay.headers, replay.echo_header, replay.missing_key_echo) == ({}, "X-Idempotency-Key", "not provided; recommended")
    assert load_pack("mintfax").facts.idempotency.replay.headers == {"Idempotency-Replayed": "true"}


@pytest.mark.slow
def test_revision_001_is_checked_against_a_sandbox_serving_it(tmp_path: Path) -> None:
    """The embedded sandbox follows the pack's revision, and IDEM-002 checks 001's echo without a key."""
    result = run_rules(revision_001(tmp_path), "IDEM-002")["IDEM-002"]
    assert result.status is Status.PASS, result.message
    assert "X-Idempotency-Key: not provided; recommended without a key" in result.message


@pytest.mark.slow
def test_revision_001_fails_against_a_sandbox_serving_revision_000(tmp_path: Path, sandbox) -> None:
    """Both ways: a sandbox answering as revision 000 (no echo without a key) fails the 001 pack's IDEM-002."""
    served = sandbox("mintfax", replay_style="000")
    result = run_rules(revision_001(tmp_path, served.url), "IDEM-002")["IDEM-002"]
    assert result.status is Status.FAIL, result.message
    assert "an answer to a POST without a key has X-Idempotency-Key: None, documented 'not provided; recommended'" in result.message


# ---------------------------------------------------------------- declared versus verified


@pytest.mark.slow
def test_init_writes_production_paths_that_fit_the_layout(tmp_path: Path) -> None:
    """`golive init` names the common production folders that exist (it wrote `production_paths: []`, so KEY-003
    went unprobed by default, issue 17); with none, it says KEY-003 is not probed."""
    from tests.conftest import golive

    (tmp_path / "src").mkdir()
    (tmp_path / "deploy").mkdir()
    (tmp_path / "tests").mkdir()
    done = golive("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert parse_config((tmp_path / "golive.yaml").read_text(), environ={}).file.repo.production_paths == ["src/**", "deploy/**"]
    assert "KEY-003 scans these production paths for sandbox keys: src/**, deploy/**" in done.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    bare = golive("init", cwd=empty)
    assert parse_config((empty / "golive.yaml").read_text(), environ={}).file.repo.production_paths == []
    assert "KEY-003 is not probed until repo.production_paths" in bare.stdout


def test_a_blocker_left_unprobed_by_the_config_shows_in_the_verdict(tmp_path: Path) -> None:
    """A READY with KEY-003 skipped (no production paths) or RETRY-101 skipped (no client) says so on the verdict
    line; a blocker the pack does not cover (idunox documents no key prefixes: its skip is the pack's) is not listed."""
    import asyncio
    import io

    from checker import engine
    from checker.packs import load_pack
    from checker.terminal import Checklist

    def run(provider: str) -> object:
        config = parse_config(f"provider: {provider}\nsandbox: {{url: builtin, api_key: '{TEST_KEYS[provider]}'}}\n", environ={})
        # the two rules without selecting them (a selected rule left unprobed is an error: tests/test_engine.py)
        others = tuple(r.id for r in load_pack(provider).rules if r.id not in ("KEY-003", "RETRY-101"))
        return asyncio.run(engine.run(config, load_pack(provider), engine.RunOptions(ignore=others)))

    mintfax = run("mintfax")
    assert mintfax.verdict == "ready"
    assert sorted(mintfax.not_probed()) == ["KEY-003", "RETRY-101"]
    line = Checklist(io.StringIO(), colour=False).verdict(mintfax)
    assert "not probed: 2 blockers the pack covers (" in line and "KEY-003" in line, line
    idunox = run("idunox")  # KEY-003 and RETRY-101: the idunox pack covers neither
    assert idunox.not_probed() == [] and "not probed" not in Checklist(io.StringIO(), colour=False).verdict(idunox)


def test_subscriptions_on_golive_yamls_word_say_declared_not_verified() -> None:
    """With the embedded sandbox nothing the integration registered can be read back: HOOK-212 and BAL-001 pass on
    golive.yaml's word, and say so (they read as verified before, issue 17)."""
    config = parse_config(
        f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n"
        "webhook: {events: [fax.delivered, fax.failed, balance.low]}\n",
        environ={},
    )
    results = run_rules(config, "HOOK-212", "BAL-001")
    for rule_id in ("HOOK-212", "BAL-001"):
        assert results[rule_id].status is Status.PASS, results[rule_id].message
        assert "declared, not verified: golive.yaml's webhook.events" in results[rule_id].message
        assert "the embedded sandbox holds no endpoint the integration registered" in results[rule_id].message


@pytest.mark.parametrize(
    ("events", "statuses", "says"),
    [
        ("", ("pass", "pass"), "1 endpoint(s) registered on the sandbox"),  # the example as it ships
        ("--events fax.delivered", ("fail", "fail"), "the registered endpoints are not subscribed to fax.failed, balance.low"),
        ("--events ,", ("error", "error"), "webhook.register exited 1 against the embedded sandbox: "),
    ],
    ids=["registers-all", "registers-one", "registration-fails"],
)
def test_with_webhook_register_the_embedded_sandbox_verifies_the_registration(events: str, statuses: tuple[str, str], says: str) -> None:
    """webhook.register is the integration's own registration step (here the bundled example's, as shipped, with too
    few events, and failing): golive runs it against the embedded sandbox (an
    account of its own) and HOOK-212 and BAL-001 read back what it registered, however golive.yaml's webhook.events
    reads (here it always names all three events: only the registration decides)."""
    register = f"{sys.executable} {ROOT / 'examples' / 'mintfax' / 'good' / 'register_webhook.py'} {{url}} {events}"
    config = parse_config(
        f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n"
        "webhook:\n  url: http://127.0.0.1:{port}/hooks\n  events: [fax.delivered, fax.failed, balance.low]\n"
        f"  register: '{register}'\n  env: {{MINTFAX_BASE_URL: '{{base_url}}', MINTFAX_API_KEY: '{{api_key}}'}}\n",
        environ={},
    )
    results = run_rules(config, "HOOK-212", "BAL-001")
    assert (results["HOOK-212"].status.value, results["BAL-001"].status.value) == statuses, {r: v.message for r, v in results.items()}
    assert says in results["HOOK-212"].message
    assert "declared, not verified" not in results["HOOK-212"].message


def test_a_registration_step_golive_cannot_point_at_the_sandbox_is_not_run(tmp_path: Path) -> None:
    """A webhook.register that does not take {base_url} and {api_key} from golive might register on the provider's
    live API with whatever the environment holds: golive refuses to run it, and says why (the review of issue 17)."""
    marker = tmp_path / "ran"
    (tmp_path / "register.py").write_text(f"open({str(marker)!r}, 'w').write('registered')\n")
    config = parse_config(
        f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{TEST_KEYS['mintfax']}'}}\n"
        "webhook:\n  url: http://127.0.0.1:{port}/hooks\n  events: [fax.delivered, fax.failed, balance.low]\n"
        f"  register: '{{python}} {tmp_path / 'register.py'} {{url}}'\n",
        environ={},
    )
    result = run_rules(config, "HOOK-212")["HOOK-212"]
    assert result.status is Status.ERROR and "webhook.register must take the sandbox's URL and key from golive" in result.message
    assert not marker.exists()
