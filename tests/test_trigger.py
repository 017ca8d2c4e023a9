"""`golive trigger`: one delivery, as the provider sends it, to a real receiver on a real socket (tests/clients/receiver.py,
verifying with the provider's own SDK), through the command as a user runs it (a subprocess: exit codes 0, 1 and 2)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.harness.receiver import free_port

CLIENTS = Path(__file__).parent / "clients"
SECRET = "whsec_" + "5e" * 16
MINTFAX_TYPES = "fax.queued, fax.delivered, fax.failed, balance.low"


def golive(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker", *args], capture_output=True, text=True, timeout=60, cwd=cwd, env={**os.environ, **(env or {})}
    )


@contextlib.contextmanager
def receiver(tmp_path: Path, *args: str, secret: str = SECRET, path: str = "/hooks") -> Iterator[str]:
    """tests/clients/receiver.py on a free port; its URL once it accepts connections (bounded), killed afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}{path}"
    env = {**os.environ, "RECEIVER_SECRET": secret, "RECEIVER_DB": str(tmp_path / "receiver.db"), "RECEIVER_URL": url}
    process = subprocess.Popen([sys.executable, str(CLIENTS / "receiver.py"), "--port", str(port), *args], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert process.poll() is None, f"the receiver exited: {process.stderr.read() if process.stderr else ''}"
            assert time.monotonic() < deadline, "the receiver did not listen within 15 s"
            time.sleep(0.05)
        yield url
    finally:
        process.kill()
        process.wait(10)
        if process.stderr:
            process.stderr.close()


def test_a_delivery_stripe_verifies_is_answered_2xx(tmp_path: Path) -> None:
    """The receiver verifies with the stripe package (16.1.0: stripe/_webhook.py:67-78, `Webhook.construct_event` calls
    `WebhookSignature.verify_header`, :132-191, which parses `t=…,v1=…` and compares HMAC-SHA256 of "<t>.<raw body>";
    :189 refuses a timestamp older than the 300 s tolerance). golive's delivery passes it: exit 0, its status, time and
    body printed."""
    with receiver(tmp_path, "--verifier", "stripe", "--header", "stripe-signature") as url:
        done = golive("trigger", "payment_intent.succeeded", "--provider", "stripe", "--to", url, "--secret", SECRET)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^  2\d\d in [0-9.]+ s$", done.stdout, re.M), done.stdout
    assert f"POST {url} (event evt_golive_" in done.stdout
    assert "│" in done.stdout  # the receiver's answer, under the status


def test_a_stale_delivery_is_rejected_and_exits_1(tmp_path: Path) -> None:
    """--stale signs beyond the tolerance (stripe/_webhook.py:189: `timestamp < time.time() - tolerance` raises
    "Timestamp outside the tolerance zone"): the receiver answers 400, golive exits 1 and prints what it said."""
    with receiver(tmp_path, "--verifier", "stripe", "--header", "stripe-signature") as url:
        done = golive("trigger", "payment_intent.succeeded", "--provider", "stripe", "--to", url, "--secret", SECRET, "--stale")
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"^  400 in ", done.stdout, re.M), done.stdout
    assert "tolerance" in done.stdout


@pytest.mark.slow
def test_twice_sends_the_same_event_again(tmp_path: Path) -> None:
    """--twice: the same event id twice (a redelivery); a receiver that deduplicates acknowledges both and processes it once."""
    with receiver(tmp_path, "--verifier", "stripe", "--header", "stripe-signature") as url:
        done = golive("trigger", "payment_intent.succeeded", "--provider", "stripe", "--to", url, "--secret", SECRET, "--twice")
        ids = re.findall(r"\(event (evt_golive_[0-9a-f]+)\)", done.stdout)
        count = subprocess.run(
            [sys.executable, str(CLIENTS / "receiver.py"), "count", ids[0]],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "RECEIVER_DB": str(tmp_path / "receiver.db")},
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(ids) == 2 and ids[0] == ids[1], done.stdout
    assert "the same event again" in done.stdout
    assert count.stdout.strip() == "1"


def test_square_signs_the_url_it_delivers_to(tmp_path: Path) -> None:
    """Square's scheme signs the notification URL and the body (squareup's square/utils/webhooks_helper.py
    `verify_signature(request_body=, signature_header=, signature_key=, notification_url=)`): golive signs the --to URL
    as given, and the SDK's check passes."""
    key = "k" * 22
    with receiver(tmp_path, "--scheme", "square", "--verifier", "square", secret=key) as url:
        done = golive("trigger", "payment.created", "--provider", "square", "--to", url, "--secret", key)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_secret_comes_from_golive_yaml(tmp_path: Path) -> None:
    """Without --secret, the receiver's configured one (webhook.secret, here from the environment as init writes it)."""
    (tmp_path / "golive.yaml").write_text(
        "provider: stripe\nwebhook:\n  url: http://127.0.0.1:{port}/hooks\n  secret: ${STRIPE_WEBHOOK_SECRET}\n", encoding="utf-8"
    )
    with receiver(tmp_path, "--verifier", "stripe", "--header", "stripe-signature") as url:
        done = golive("trigger", "payment_intent.succeeded", "--to", url, cwd=tmp_path, env={"STRIPE_WEBHOOK_SECRET": SECRET})
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_rejection_is_printed_bounded_and_without_the_secret(tmp_path: Path) -> None:
    """A receiver that puts its secret in its rejections (tests/clients/receiver.py --flaw leak-secrets): exit 1, the
    answer printed with the secret masked."""
    with receiver(tmp_path, "--verifier", "stripe", "--header", "stripe-signature", "--flaw", "leak-secrets") as url:
        done = golive("trigger", "payment_intent.succeeded", "--provider", "stripe", "--to", url, "--secret", SECRET, "--stale")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "expected with" in done.stdout  # the leaking part of its answer is printed …
    assert SECRET not in done.stdout + done.stderr  # … with the secret masked
    assert SECRET[6:20] not in done.stdout


def test_no_receiver_exits_1_saying_so(tmp_path: Path) -> None:
    done = golive(
        "trigger", "payment_intent.succeeded", "--provider", "stripe", "--to", f"http://127.0.0.1:{free_port()}/x", "--secret", SECRET
    )
    assert done.returncode == 1
    assert "no answer: cannot connect" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["fax.sent", "--provider", "mintfax"], f"unknown event 'fax.sent' for the mintfax pack; its event types are: {MINTFAX_TYPES}"),
        (
            ["payment_intent.succeeded", "--provider", "stripe", "--data", '{"object": {"id": pi_1}}'],
            "--data is not JSON: Expecting value at line 1, column 19",
        ),
        (
            ["payment_intent.succeeded", "--provider", "stripe", "--data", "[1, 2]"],
            "--data must be a JSON object (the event's data), not list",
        ),
        (["payment.created", "--provider", "square", "--stale"], "--stale: the square signature scheme signs no timestamp"),
        (["NOTIFICATION", "--provider", "adyen", "--secret", "not-hex"], "--secret: an Adyen HMAC key is hexadecimal"),
        (["payment_intent.succeeded", "--provider", "stripe", "--to", "ftp://x/y"], "--to 'ftp://x/y' is not an http(s) URL"),
    ],
)
def test_bad_input_exits_2_saying_what(tmp_path: Path, args: list[str], said: str) -> None:
    if "--to" not in args:
        args = [*args, "--to", "http://127.0.0.1:9/hooks"]
    if "--secret" not in args:
        args = [*args, "--secret", SECRET]
    done = golive("trigger", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in " ".join(done.stderr.split()), done.stderr
    assert "Traceback" not in done.stderr


def test_without_a_secret_or_a_config_it_says_what_to_pass(tmp_path: Path) -> None:
    done = golive("trigger", "payment_intent.succeeded", "--provider", "stripe", "--to", "http://127.0.0.1:9/x", cwd=tmp_path)
    assert done.returncode == 2
    assert "no --secret, and there is no golive.yaml here: pass the receiver's signing secret with --secret" in done.stderr


def test_a_bad_data_position_is_pointed_at() -> None:
    from checker.trigger import TriggerError, parsed_data

    with pytest.raises(TriggerError) as caught:
        parsed_data('{"a": 1,\n "b": }')
    lines = str(caught.value).splitlines()
    assert lines[0] == "--data is not JSON: Expecting value at line 2, column 7 (character 16)"
    assert lines[2].index("^") == lines[1].index("}")
