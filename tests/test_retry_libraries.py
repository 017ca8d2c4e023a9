"""Clients built on common retry libraries get the verdicts a careful reviewer would give them.

Checked against each library's real defaults (urllib3 2.x, httpx, tenacity, stamina):
- urllib3's Retry, as tutorials configure it, never retries POST: POST is not in its default
  allowed_methods, so a 500 on the fax endpoint is not retried at all.
- With allowed_methods=None it retries POST, but its backoff is 0, 2, 4, 8 s with no jitter.
- httpx's transport `retries=` only retries failed connection attempts: not 5xx, not a reset
  after the request was sent.
- tenacity with wait_exponential_jitter(initial=1, max=30, jitter=1) and stop_after_attempt(5)
  is exactly the documented schedule.
- stamina's defaults make 10 attempts (from a 0.1 s base): more than mintfax's 5.
"""

from __future__ import annotations

import sys

import pytest

from checker.config import parse_config
from checker.model import Status
from tests.conftest import ROOT, TEST_KEYS, run_rules

# slow, left out of the fast tier: real retry libraries as clients, waiting out their real backoff schedules
pytestmark = pytest.mark.slow

CLIENT = ROOT / "tests" / "clients" / "libclient.py"


def config(lib: str, url: str) -> object:
    return parse_config(
        f"provider: mintfax\nsandbox: {{url: '{url}', api_key: {TEST_KEYS['mintfax']}}}\n"
        f"client:\n  command: {sys.executable} {CLIENT} --lib {lib} --to {{to}} --file {{file}} --ref {{ref}}\n"
        "  env: {MINTFAX_BASE_URL: '{base_url}', MINTFAX_API_KEY: '{api_key}'}\n  timeout: 90\n",
        environ={},
    )


@pytest.mark.parametrize(
    ("lib", "expected"),
    [
        ("urllib3-default", {"RETRY-102": (Status.FAIL, "500 was not retried")}),
        ("urllib3-post", {"RETRY-102": (Status.PASS, "was retried"), "RETRY-107": (Status.FAIL, "no jitter")}),
        ("httpx-transport", {"RETRY-102": (Status.FAIL, "500 was not retried"), "RETRY-103": (Status.FAIL, "did not retry")}),
        (
            "tenacity",
            {
                "RETRY-102": (Status.PASS, ""),
                "RETRY-103": (Status.PASS, ""),
                "RETRY-106": (Status.PASS, "documented schedule"),
                "RETRY-107": (Status.PASS, ""),
                "RETRY-108": (Status.PASS, "gave up after 5 attempts"),
            },
        ),
        ("stamina", {"RETRY-108": (Status.FAIL, "10 attempts on a persistent 500; at most 5")}),
    ],
)
def test_library_verdicts(sandbox, lib, expected):
    results = run_rules(config(lib, sandbox("mintfax").url), *expected)
    for rule_id, (status, says) in expected.items():
        result = results[rule_id]
        assert result.status is status, f"{lib} {rule_id}: {result.status} {result.message}"
        assert says in result.message, f"{lib} {rule_id}: {result.message}"
