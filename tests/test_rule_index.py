"""Where each rule's tests are, and the check that the fast tier tests every rule both ways.

RULE_TESTS names, for every rule of rules/catalog.yaml, the fast tests (`pytest -m "not slow"`) in which the rule
fails on a flawed integration and those in which it passes on a good one: test ids under tests/, a parametrized test
by its whole name or by the start of one case's id (`…[mintfax-IDEM-001]`, `…[RETRY-102-`). The same rules also run
end to end in slow tests (tests/test_demo.py, the providers' SDK tests, real backoff): tests/README.md.

The test below collects the fast tier in a subprocess (pytest decides what is slow, markers and all) and refuses a
catalog rule missing from the index, a rule without a failing or a passing case, and a named test that is gone or is
slow. A new rule is a new entry here, with its tests; a slow test of a rule is a fast one beside it.
"""

from __future__ import annotations

import re
import subprocess
import sys

from checker.packs import load_catalog
from tests.conftest import ROOT

Cases = tuple[tuple[str, ...], tuple[str, ...]]  # (fails on a flawed integration, passes on a good one)

CONTRACT_FAILS = "test_contract_rules.py::test_contract_rule_fails_against_a_sandbox_with_that_flaw"
CONTRACT_PASSES = "test_contract_rules.py::test_contract_rules_pass_against_the_embedded_sandbox"
KEY_FAILS = "test_client_rules.py::test_each_key_rule_fails_on_its_flaw"
KEY_PASSES = "test_client_rules.py::test_a_correct_client_passes_the_key_rules"
FAULT_FAILS = "test_client_rules.py::test_each_fault_rule_fails_on_its_flaw"
FAULT_PASSES = "test_client_rules.py::test_a_correct_client_passes_the_fault_rules"
RECORDED = "test_client_rules_recorded.py"
HOOK_FAILS = "test_webhook_rules.py::test_each_flaw_fails_exactly_its_rules"
HOOK_PASSES = "test_webhook_rules.py::test_a_correct_receiver_passes_every_webhook_rule"
MANUAL = "test_engine.py::test_manual_items_block_only_in_live_mode_until_attested"  # not ready in live mode until attested


def contract(rule_id: str, provider: str = "mintfax") -> Cases:
    return (f"{CONTRACT_FAILS}[{provider}-{rule_id}]",), (f"{CONTRACT_PASSES}[{provider}]",)


def webhook(rule_id: str, flaw: str) -> Cases:
    return (f"{HOOK_FAILS}[{flaw}]",), (HOOK_PASSES,)


RULE_TESTS: dict[str, Cases] = {
    # ---------------------------------------------------------------- sandbox contract: a broken sandbox in front of the embedded one
    "IDEM-001": contract("IDEM-001"),
    "IDEM-002": contract("IDEM-002"),
    "IDEM-003": contract("IDEM-003"),
    "IDEM-004": contract("IDEM-004"),
    "IDEM-005": contract("IDEM-005"),
    "IDEM-006": contract("IDEM-006", "flexforward"),  # only flexforward documents a key reusable after a 400
    "IDEM-007": contract("IDEM-007"),
    "FILE-003": contract("FILE-003"),
    # ---------------------------------------------------------------- client: tests/clients/faxclient.py with one --flaw at a time
    "IDEM-101": ((f"{KEY_FAILS}[IDEM-101-",), (KEY_PASSES,)),
    "IDEM-102": ((f"{KEY_FAILS}[IDEM-102-",), (KEY_PASSES,)),
    "IDEM-103": ((f"{KEY_FAILS}[IDEM-103-",), (KEY_PASSES,)),
    "IDEM-104": ((f"{KEY_FAILS}[IDEM-104-",), (KEY_PASSES,)),
    "IDEM-105": ((f"{KEY_FAILS}[IDEM-105-",), (KEY_PASSES,)),
    "RETRY-101": (("test_client_rules.py::test_recovers_from_the_transient_magic_number",),) * 2,  # both in one test
    "RETRY-102": ((f"{FAULT_FAILS}[RETRY-102-",), (FAULT_PASSES,)),
    "RETRY-103": ((f"{FAULT_FAILS}[RETRY-103-",), (FAULT_PASSES,)),
    "RETRY-105": ((f"{FAULT_FAILS}[RETRY-105-",), (FAULT_PASSES,)),
    "RETRY-108": ((f"{FAULT_FAILS}[RETRY-108-",), (FAULT_PASSES,)),
    "RATE-101": ((f"{FAULT_FAILS}[RATE-101-",), (FAULT_PASSES,)),
    "ERR-101": ((f"{FAULT_FAILS}[ERR-101-",), (FAULT_PASSES,)),
    "ERR-102": ((f"{FAULT_FAILS}[ERR-102-",), (FAULT_PASSES,)),
    "ERR-103": ((f"{FAULT_FAILS}[ERR-103-retry-4xx", f"{FAULT_FAILS}[ERR-103-silent-errors"), (FAULT_PASSES,)),
    "FILE-101": (
        ("test_client_rules.py::test_file_101_fails_when_the_refused_file_is_retried",),
        ("test_client_rules.py::test_file_rules_pass_when_the_client_checks_documents",),
    ),
    "FILE-102": (
        ("test_client_rules.py::test_file_rules_without_the_client_checks",),
        ("test_client_rules.py::test_file_rules_pass_when_the_client_checks_documents",),
    ),
    # client rules whose live probes wait out real time (tests/test_client_rules.py, slow): judged from recorded runs
    "RETRY-104": (
        (
            f"{RECORDED}::test_retry_104_on_a_recorded_hung_request[never-gives-up]",
            f"{RECORDED}::test_retry_104_on_a_recorded_hung_request[gives-up-too-late]",
        ),
        (f"{RECORDED}::test_retry_104_on_a_recorded_hung_request[gives-up-and-retries]",),
    ),
    "RETRY-106": (
        (f"{RECORDED}::test_backoff_rules_on_a_real_librarys_recorded_delays[106-fixed-delay]",),
        (f"{RECORDED}::test_backoff_rules_on_a_real_librarys_recorded_delays[106-documented-schedule]",),
    ),
    "RETRY-107": (
        (f"{RECORDED}::test_backoff_rules_on_a_real_librarys_recorded_delays[107-no-jitter]",),
        (f"{RECORDED}::test_backoff_rules_on_a_real_librarys_recorded_delays[107-jittered]",),
    ),
    "OBS-101": (
        (f"{RECORDED}::test_obs_101_on_a_recorded_run[missing-on-the-retry]",),
        (f"{RECORDED}::test_obs_101_on_a_recorded_run[on-every-request]",),
    ),
    "RATE-102": (
        (f"{RECORDED}::test_rate_102_on_a_recorded_bulk_send[burst]",),
        (f"{RECORDED}::test_rate_102_on_a_recorded_bulk_send[paced]",),
    ),
    # ---------------------------------------------------------------- repository and configuration
    "KEY-001": (
        ("test_repo_rules.py::test_key_001_prefix_matches_environment[sandbox-fx_live_Cfg0123456789ab-fail]",),
        ("test_repo_rules.py::test_key_001_prefix_matches_environment[sandbox-fx_test_Cfg0123456789ab-pass]",),
    ),
    "KEY-002": (
        ("test_repo_rules.py::test_key_002_finds_live_keys_in_tracked_files_only",),
        ("test_repo_rules.py::test_key_002_passes_on_a_clean_repo_and_skips_outside_git",),
    ),
    "KEY-003": (("test_repo_rules.py::test_key_003_finds_sandbox_keys_in_production_paths",),) * 2,  # both in one test
    "KEY-004": (("test_repo_rules.py::test_key_004_literal_keys_fail_with_their_line",),) * 2,  # both in one test
    "FILE-001": (
        ("test_repo_rules.py::test_file_001_judges_content_not_names",),
        ("test_repo_rules.py::test_file_001_and_002_pass_on_real_documents",),
    ),
    "FILE-002": (
        ("test_repo_rules.py::test_file_002_reads_under_10_mb_strictly[10000000-fail]",),
        ("test_repo_rules.py::test_file_002_reads_under_10_mb_strictly[9999999-pass]",),
    ),
    # ---------------------------------------------------------------- webhooks: tests/clients/receiver.py with one --flaw at a time
    "HOOK-201": webhook("HOOK-201", "reserialize"),
    "HOOK-202": webhook("HOOK-202", "trust-all"),
    "HOOK-203": webhook("HOOK-203", "no-header-ok"),
    "HOOK-204": webhook("HOOK-204", "no-timestamp"),
    "HOOK-205": webhook("HOOK-205", "trust-all"),
    "HOOK-206": webhook("HOOK-206", "trust-all"),
    "HOOK-207": webhook("HOOK-207", "dup-500"),
    "HOOK-208": webhook("HOOK-208", "double-process"),
    "HOOK-209": (("test_webhook_rules.py::test_a_receiver_that_processes_synchronously_for_6_s_is_too_slow",), (HOOK_PASSES,)),
    "HOOK-210": webhook("HOOK-210", "past-only"),
    "HOOK-211": webhook("HOOK-211", "first-signature"),
    "HOOK-212": (("test_webhook_rules.py::test_hook_212_names_the_missing_events",), (HOOK_PASSES,)),
    "HOOK-213": webhook("HOOK-213", "reserialize"),
    "BAL-001": (
        ("test_webhook_rules.py::test_hook_212_names_the_missing_events",),
        ("test_webhook_rules.py::test_no_webhook_section_errs_on_the_selected_probes_and_fails_the_balance_rule", HOOK_PASSES),
    ),
    # ---------------------------------------------------------------- manual items: attested or not, in live mode
    **{f"LIVE-{n:03d}": ((MANUAL,), (MANUAL,)) for n in range(1, 11)},
}


def fast_tests(files: set[str]) -> set[str]:
    """The test ids `pytest -m "not slow"` runs from these files (relative to tests/), as pytest collects them."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "not slow", "-n", "0", "-p", "no:cacheprovider", *sorted(files)],
        cwd=ROOT / "tests",
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {line.split("tests/", 1)[-1] for line in done.stdout.splitlines() if "::" in line}


def named(test: str, collected: set[str]) -> bool:
    return any(found == test or found.startswith(test + "[") or ("[" in test and found.startswith(test)) for found in collected)


def test_every_rule_has_fast_tests_that_fail_on_a_flaw_and_pass_on_a_good_integration() -> None:
    catalog = [rule.id for rule in load_catalog()[0].rules]
    assert sorted(RULE_TESTS) == sorted(catalog), {
        "rules without tests in RULE_TESTS": sorted(set(catalog) - set(RULE_TESTS)),
        "not in the catalog": sorted(set(RULE_TESTS) - set(catalog)),
    }
    for rule_id, (fails, passes) in RULE_TESTS.items():
        assert fails and passes, f"{rule_id} needs a test where it fails and one where it passes"
    tests = {test for fails, passes in RULE_TESTS.values() for test in (*fails, *passes)}
    collected = fast_tests({test.split("::")[0] for test in tests})
    missing = sorted(test for test in tests if not named(test, collected))
    assert not missing, f"not in the fast tier (gone, renamed or marked slow): {missing}"


def test_each_rules_tests_are_in_a_module_that_names_it() -> None:
    """A test listed for a rule is in a module that names the rule (the manual items are run as their family, LIVE):
    a copied entry that points at another rule's tests is caught here."""
    for rule_id, (fails, passes) in RULE_TESTS.items():
        for test in (*fails, *passes):
            text = (ROOT / "tests" / test.split("::")[0]).read_text()
            name = "LIVE" if rule_id.startswith("LIVE-") else rule_id
            assert re.search(rf"\b{name}\b", text), f"{test} is listed for {rule_id}, which its module never names"
