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
