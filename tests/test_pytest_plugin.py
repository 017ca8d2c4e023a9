"""The pytest plugin as a team uses it: pytest's own `pytester` runs small test modules in a fresh pytest process that
finds the plugin by its entry point alone (nothing but golive installed), with real clients (the official stripe
package, an httpx client retrying with httpx-retries) and a real receiver subprocess (tests/clients/receiver.py, which
verifies with the stripe package)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import socket
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CLIENTS = Path(__file__).parent / "clients"
EXAMPLES = Path(__file__).parent.parent / "examples"
SUBPROCESS_S = 240  # the whole inner run's bound


@pytest.fixture(autouse=True)
def _plugins_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)  # the plugin is found by its entry point, as a user's is
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


def test_the_plugin_is_registered_by_entry_point() -> None:
    found = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "golive"]
    assert [e.value for e in found] == ["checker.pytest_plugin"]


@pytest.mark.slow
def test_a_fresh_pytest_lists_the_fixtures(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider", timeout=SUBPROCESS_S)
    for name in ("golive_sandbox", "golive_faults", "golive_check"):
        assert any(line.startswith(name) for line in result.outlines), result.stdout.str()


USER_TESTS = r"""
import json, os, subprocess, sys, time, socket
import httpx, pytest, stripe
from httpx_retries import Retry, RetryTransport

RECEIVER = {receiver!r}
SECRET = "whsec_" + "ab" * 16
PAYMENT = {{"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa"}}


def stripe_client(sandbox):
    return stripe.StripeClient(sandbox.api_key, base_addresses={{"api": sandbox.url}})


def test_the_stripe_sdk_pays_on_the_sandbox(golive_sandbox):
    sandbox = golive_sandbox("stripe")
    intent = stripe_client(sandbox).v1.payment_intents.create(params=PAYMENT)
    assert intent.id.startswith("pi_") and intent.status == "requires_payment_method"
    assert [(r["id"], r["amount"]) for r in sandbox.resources()] == [(intent.id, "2000")]
    assert sandbox.advance(25 * 3600) == 25 * 3600


def test_the_key_has_the_providers_format(golive_sandbox):
    from checkout_sdk.checkout_sdk import CheckoutSdk
    from checkout_sdk.environment import Environment
    sandbox = golive_sandbox("checkout")
    builder = CheckoutSdk.builder().secret_key(sandbox.api_key).environment(Environment.sandbox())
    builder.environment_subdomain("golive").build()  # checkout_sdk/default_sdk.py:15, _SECRET_KEY_PATTERN: checks the key's shape


def test_deliveries_reach_a_verifying_receiver(golive_sandbox, tmp_path):
    sandbox = golive_sandbox("stripe")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    env = {{**os.environ, "RECEIVER_SECRET": SECRET, "RECEIVER_DB": str(tmp_path / "r.db")}}
    verifying = ["--verifier", "stripe", "--header", "stripe-signature"]
    receiver = subprocess.Popen([sys.executable, RECEIVER, "--port", str(port), *verifying], env=env)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close(); break
            except OSError:
                assert time.monotonic() < deadline; time.sleep(0.05)
        sandbox.deliver_to(f"http://127.0.0.1:{{port}}/hooks", SECRET)
        intent = stripe_client(sandbox).v1.payment_intents.create(params=PAYMENT)
        count = [sys.executable, RECEIVER, "count"]
        event_id = None
        deadline = time.monotonic() + 20
        while event_id is None:
            assert time.monotonic() < deadline, "no delivery within 20 s"
            time.sleep(0.1)
            with httpx.Client(base_url=sandbox.url, headers=sandbox.auth, timeout=5) as c:
                got = c.get("/_sandbox/events").json()
            done = [d for d in got["deliveries"] if d["state"] == "delivered"]
            event_id = done[0]["event_id"] if done else None
        processed = subprocess.run([*count, event_id], capture_output=True, text=True, timeout=30, env=env).stdout.strip()
        assert processed == "1"  # the receiver verified it with the stripe package and processed it
        # read as the stripe package reads an event (stripe/_event.py: class Data, `object` — "the API resource relevant
        # to the event"): the payment under data.object, as Stripe sends it, not straight under data
        events = [stripe.Event.construct_from(e, "sk_test_x") for e in got["data"]]
        assert [(e.type, e.data.object.id) for e in events] == [("payment_intent.created", intent.id)]
    finally:
        receiver.kill(); receiver.wait(10)


def test_a_retrying_client_rides_out_the_faults(golive_sandbox, golive_faults):
    sandbox = golive_sandbox("stripe")
    proxy = golive_faults(sandbox.url, ["503", "reset", "429:2"])
    retry = Retry(total=5, backoff_factor=0.1, allowed_methods=["POST"])
    with httpx.Client(base_url=proxy.url, transport=RetryTransport(retry=retry), timeout=10) as client:
        headers = {{**sandbox.auth, "Idempotency-Key": "order-1"}}
        answer = client.post("/v1/payment_intents", data={{"amount": "2000", "currency": "usd"}}, headers=headers)
    assert answer.status_code == 200
    got = proxy.requests
    assert [r.status for r in got] == [503, None, 429, 200]
    assert [r["path"] for r in got] == ["/v1/payment_intents"] * 4
    assert {{r.idempotency_key for r in got}} == {{"order-1"}}
    assert got[3].time - got[2].time >= 2  # Retry-After: 2, honoured
    assert got[0].time <= got[1].time <= got[2].time
    assert got[0].headers["authorization"] != sandbox.auth["Authorization"]  # credentials masked in the record
    assert len(sandbox.resources()) == 1


def test_the_stripe_sdk_pays_once_through_faults(golive_sandbox, golive_faults):
    # the README's example. stripe 16.1.0, _http_client.py:117-162 (`_should_retry`) retries a connection error as its
    # `should_retry` says, 409 and every status >= 500; never 429
    sandbox = golive_sandbox("stripe")
    proxy = golive_faults(sandbox.url, ["503", "reset", "500"])
    client = stripe.StripeClient(sandbox.api_key, base_addresses={{"api": proxy.url}}, max_network_retries=3)
    intent = client.v1.payment_intents.create(params=PAYMENT)
    assert [r.status for r in proxy.requests] == [503, None, 500, 200]
    assert [r["id"] for r in sandbox.resources()] == [intent.id]
    assert len({{r.idempotency_key for r in proxy.requests}}) == 1


def test_a_hang_holds_until_the_client_gives_up(golive_sandbox, golive_faults):
    proxy = golive_faults(golive_sandbox("stripe").url, ["hang"])
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(proxy.url + "/v1/payment_intents/pi_x", timeout=0.5)
    assert proxy.requests[0].status is None and proxy.requests[0].action.startswith("no answer")


def test_a_hang_is_bounded_when_the_client_never_gives_up(golive_faults, golive_sandbox):
    proxy = golive_faults(golive_sandbox("stripe").url, ["hang:0.2"])
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):  # the proxy ends the held request itself (a reset)
        httpx.get(proxy.url + "/v1/payment_intents/pi_x", timeout=30)


def test_an_unknown_fault_is_named(golive_faults):
    with pytest.raises(Exception, match="unknown fault 'slow'"):
        golive_faults("http://127.0.0.1:9", ["slow"])
"""


@pytest.mark.slow
def test_the_fixtures_with_real_clients_and_a_real_receiver(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS.format(receiver=str(CLIENTS / "receiver.py")))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=SUBPROCESS_S)
    result.assert_outcomes(passed=8)


STOPPED_TESTS = r"""
import json

def test_fails_with_everything_running(golive_sandbox, golive_faults):
    sandbox = golive_sandbox("mintfax")
    proxy = golive_faults(sandbox.url, ["hang"])
    with open("started.json", "w") as f:
        json.dump([sandbox.url, proxy.url], f)
    assert False, "the test fails"
"""


@pytest.mark.slow
def test_what_a_failing_test_started_is_stopped(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_stopped=STOPPED_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=SUBPROCESS_S)
    result.assert_outcomes(failed=1)
    for url in json.loads((pytester.path / "started.json").read_text()):
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
            pass


CHECK_TESTS = r"""
import pytest

ENV = {"STRIPE_WEBHOOK_SECRET": "whsec_" + "cd" * 16}


def test_the_good_example_is_ready(golive_check, monkeypatch):
    monkeypatch.chdir("good")
    run = golive_check("golive.yaml", select=["RETRY-101"], env=ENV)
    assert run.ready
    assert run.status("RETRY-101") == "pass"
    assert [r.rule.id for r in run.results] == ["RETRY-101"]


def test_the_flawed_example_on_one_rule(golive_check, monkeypatch):
    monkeypatch.chdir("flawed")
    run = golive_check("golive.yaml", select=["RETRY-101"], env=ENV)
    assert run.status("RETRY-101") == "pass"


def test_the_flawed_example_ready(golive_check, monkeypatch):
    monkeypatch.chdir("flawed")
    assert golive_check("golive.yaml", select=["RETRY-101"], env=ENV).ready
"""


@pytest.mark.slow
def test_golive_check_shows_the_triage_when_an_assertion_fails(pytester: pytest.Pytester) -> None:
    """The bundled stripe examples (examples/stripe/good and flawed: the flawed client is made without
    max_network_retries, so the stripe package retries nothing — its docstring, from stripe 16.1.0's
    _http_client.py)."""
    for which in ("good", "flawed"):
        shutil.copytree(EXAMPLES / "stripe" / which, pytester.path / which)
    pytester.makepyfile(test_check=CHECK_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=SUBPROCESS_S)
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    # the comparison's explanation: the rule, its message and fix (pytest_assertrepr_compare)
    result.stdout.fnmatch_lines(["*assert 'fail' == 'pass'*", "*RETRY-101 fail (blocker): *", "*fix: *"])
    # any failed assertion: the run's triage in the report's section, and a repr that names the failing rule
    result.stdout.fnmatch_lines(["*golive check: NOT READY*", "What to fix first", "*RETRY-101*", "Verdict: NOT READY*"])
    assert "<golive check stripe: NOT READY (1 fail); RETRY-101 fail>" in out
    assert out.count("What to fix first") == 2  # both failing tests, none for the passing one


def test_golive_check_refuses_a_broken_config_naming_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.errors import ConfigError
    from checker.testing import check

    (tmp_path / "golive.yaml").write_text("provider: stripe\nrules:\n  select: [NOPE-1]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"golive.yaml:3: rules.select\[0\]: unknown rule 'NOPE-1'"):
        check("golive.yaml")


def test_deliver_to_refuses_a_secret_the_scheme_cannot_use() -> None:
    from checker.testing import GoliveTestError, Sandbox

    sandbox = Sandbox("adyen")
    try:
        with pytest.raises(GoliveTestError, match="an Adyen HMAC key is hexadecimal"):
            sandbox.deliver_to("http://127.0.0.1:9/hooks", "whsec_not_hex")
        with pytest.raises(GoliveTestError, match="must be on this machine"):
            sandbox.deliver_to("http://example.com/hooks", "AB" * 32)
    finally:
        sandbox.stop()


def test_the_sandbox_url_and_key_work_for_every_built_in_pack() -> None:
    """`.api_key` passes the sandbox's own key check (the pack's test prefix, and keys.format where the pack states one)."""
    import httpx

    from checker.packs import BUILTIN_PACKS
    from checker.testing import Sandbox

    for name in BUILTIN_PACKS:
        sandbox = Sandbox(name)
        try:
            path = (sandbox.pack.facts.get_path or "/_sandbox/stats").replace("{id}", "golive_none")
            answer = httpx.get(sandbox.url + path, headers=sandbox.auth, timeout=10, trust_env=False)
            assert answer.status_code in (200, 404), (name, answer.text)  # not 401: the key is one the sandbox takes
            keys = sandbox.pack.facts.keys
            assert sandbox.api_key.startswith(tuple(keys.test_prefixes or ["test_"]))
            if keys.format is not None:
                prefix = next(p for p in keys.test_prefixes if sandbox.api_key.startswith(p))
                assert keys.format.fits(sandbox.api_key[len(prefix) :]), name
            assert sandbox.resources() == []
        finally:
            sandbox.stop()


def test_square_deliveries_without_a_registration_endpoint_pass_squares_own_check(tmp_path: Path) -> None:
    """Square's pack documents no registration endpoint, yet its sandbox delivers through `deliver_to` (POST
    /_sandbox/webhooks), signed over the notification URL and the body; the receiver checks each with squareup's
    `square.utils.webhooks_helper.verify_signature(request_body=, signature_header=, signature_key=, notification_url=)`
    (tests/clients/receiver.py, --verifier square) and counts what it processed."""
    import subprocess
    import sys
    import time

    import httpx

    from checker.harness.receiver import free_port
    from checker.testing import Sandbox

    key, port = "k" * 22, free_port()
    url = f"http://127.0.0.1:{port}/square"
    env = {**os.environ, "RECEIVER_SECRET": key, "RECEIVER_DB": str(tmp_path / "r.db"), "RECEIVER_URL": url}
    receiver = subprocess.Popen(
        [sys.executable, str(CLIENTS / "receiver.py"), "--port", str(port), "--scheme", "square", "--verifier", "square"], env=env
    )
    sandbox = Sandbox("square")
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the receiver did not listen"
                time.sleep(0.05)
        sandbox.deliver_to(url, key)
        body = {"source_id": "cnon:card-nonce-ok", "amount_money": {"amount": 1000, "currency": "USD"}, "idempotency_key": "k1"}
        created = httpx.post(sandbox.url + "/v2/payments", json=body, headers=sandbox.auth, timeout=10, trust_env=False)
        assert created.status_code == 200, created.text
        deadline = time.monotonic() + 20
        while True:
            events = httpx.get(sandbox.url + "/_sandbox/events", headers=sandbox.auth, timeout=10, trust_env=False).json()
            if any(d["state"] == "delivered" for d in events["deliveries"]):
                break
            assert time.monotonic() < deadline, events["deliveries"]
            time.sleep(0.1)
        event_id = events["deliveries"][0]["event_id"]
        counted = subprocess.run(
            [sys.executable, str(CLIENTS / "receiver.py"), "count", event_id], capture_output=True, text=True, timeout=30, env=env
        )
        assert counted.stdout.strip() == "1"
    finally:
        sandbox.stop()
        receiver.kill()
        receiver.wait(10)


def test_the_new_control_endpoints_keep_to_an_account_and_refuse_other_origins() -> None:
    """/_sandbox/resources: a key sees its own account's, the control token every account's; /_sandbox/webhooks and
    /_sandbox/resources answer no web page of another origin (as the clock does)."""
    import httpx

    from checker.probes.context import sandbox_key
    from checker.sandbox.app import CONTROL_TOKEN_HEADER
    from checker.testing import Sandbox

    sandbox = Sandbox("stripe")
    other = {"Authorization": f"Bearer {sandbox_key(sandbox.pack.facts.keys, 'other')}"}
    try:
        with httpx.Client(base_url=sandbox.url, timeout=10, trust_env=False) as client:
            made = client.post("/v1/payment_intents", data={"amount": "2000", "currency": "usd"}, headers=sandbox.auth)
            assert made.status_code == 200, made.text
            assert [r["id"] for r in client.get("/_sandbox/resources", headers=sandbox.auth).json()["data"]] == [made.json()["id"]]
            assert client.get("/_sandbox/resources", headers=other).json()["data"] == []
            assert len(sandbox.resources()) == 1  # the control token: every account's
            assert client.get("/_sandbox/resources", headers={CONTROL_TOKEN_HEADER: "wrong"}).status_code == 401
            page = {"Origin": "https://evil.example"}
            assert client.get("/_sandbox/resources", headers={**sandbox.auth, **page}).status_code == 403
            hook = {"url": "http://127.0.0.1:9/x", "secret": "whsec_" + "ab" * 16}
            assert client.post("/_sandbox/webhooks", json=hook, headers={**sandbox.auth, **page}).status_code == 403
            assert client.post("/_sandbox/webhooks", content=json.dumps(hook), headers=sandbox.auth).status_code == 415
            assert client.post("/_sandbox/webhooks", json=hook, headers=sandbox.auth).status_code == 201
    finally:
        sandbox.stop()


def test_a_reimported_probe_module_registers_its_checks_again() -> None:
    """pytester's in-process runs drop the modules a run imported (its SysModulesSnapshot) while the registry stays: the
    probes imported again register the same functions again, which is no duplicate (another function still is:
    tests/test_engine.py)."""
    import importlib

    import checker.probes.repo as repo
    from checker import registry

    importlib.reload(repo)
    assert registry.registered()["KEY-001"].fn.__module__ == "checker.probes.repo"
