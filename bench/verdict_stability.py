"""Verdict stability: every example integration (good and flawed, every built-in provider) and the test suite's
flawed clients and receivers, checked K times with every core kept busy, and the number of verdicts that flipped.

    python bench/verdict_stability.py [--runs 10] [--busy N] [--only NAME[,NAME...]]

A flip is a rule of one integration whose status was not the same in every run (a pass once and a fail once,
or a fail and an error). The goal is 0: a verdict is a function of the integration, not of the machine's load.
The busy processes (`python -c "while True: pass"`, one per core unless --busy says otherwise) run for the whole
measurement; the physical floor here is the machine itself, so the figure is a count, not a ratio.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "tests" / "clients"
KEY = "fx_test_4f9c2a7d1e8b3c6a5f0d"
SECRET = "whsec_0f5a9c2d7e1b8a4c6d3e9f0a1b2c3d4e"
TIMING = "IDEM-102,RETRY-102,RETRY-106,RETRY-107,RETRY-108"


def client(flags: str, select: str = TIMING) -> tuple[str, str]:
    command = f"{{python}} {CLIENTS / 'faxclient.py'} --to {{to}} --file {{file}} --ref {{ref}} {flags}"
    return select, (
        f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{KEY}'}}\n"
        f"client:\n  command: '{command}'\n  env: {{MINTFAX_BASE_URL: '{{base_url}}', MINTFAX_API_KEY: '{{api_key}}'}}\n  timeout: 90\n"
    )


def library(name: str) -> tuple[str, str]:
    command = f"{{python}} {CLIENTS / 'libclient.py'} --lib {name} --to {{to}} --file {{file}} --ref {{ref}}"
    return TIMING, (
        f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{KEY}'}}\n"
        f"client:\n  command: '{command}'\n  env: {{MINTFAX_BASE_URL: '{{base_url}}', MINTFAX_API_KEY: '{{api_key}}'}}\n  timeout: 120\n"
    )


def receiver(flags: str) -> tuple[str, str]:
    start = f"{{python}} {CLIENTS / 'receiver.py'} --port {{port}} {flags}"
    return "HOOK", (
        f"provider: mintfax\nsandbox: {{url: builtin, api_key: '{KEY}'}}\n"
        f"webhook:\n  url: http://127.0.0.1:{{port}}/hooks\n  secret: {SECRET}\n  start: '{start}'\n"
        "  env: {RECEIVER_SECRET: '{secret}', RECEIVER_DB: '{workdir}/r.db'}\n"
        f"  processed_count: '{{python}} {CLIENTS / 'receiver.py'} count {{event_id}}'\n"
        "  events: [fax.delivered, fax.failed, balance.low]\n"
    )


# the suite's flawed clients and receivers (and clients built on real libraries) whose verdicts are timing- or
# load-sensitive: each a golive.yaml and the rules it selects
INTEGRATIONS = {
    "faxclient (correct)": client("--base 1"),
    "faxclient --flaw fixed-delay": client("--base 1 --flaw fixed-delay"),
    "faxclient --flaw no-jitter": client("--base 1 --flaw no-jitter"),
    "faxclient --flaw new-key-per-retry": client("--base 0.2 --flaw new-key-per-retry", "IDEM-102,RETRY-101,RETRY-103"),
    "libclient urllib3-post": library("urllib3-post"),
    "libclient tenacity": library("tenacity"),
    "libclient tenacity-fixed": library("tenacity-fixed"),
    "libclient stripe": library("stripe"),
    "receiver (correct)": receiver(""),
    "receiver --flaw small-queue": receiver("--flaw small-queue"),
    "receiver --flaw reserialize-compact": receiver("--flaw reserialize-compact"),
    "receiver --flaw past-only": receiver("--flaw past-only"),
    "receiver --flaw slow": receiver("--flaw slow"),
}


def statuses(report: Path) -> dict[str, tuple[str, str]]:
    """Rule -> (status, message)."""
    return {r["id"]: (r["status"], r["message"]) for r in json.loads(report.read_text())["results"]}


def run_demo(provider: str, flawed: bool, folder: Path) -> dict[str, tuple[str, str]]:
    command = [sys.executable, "-m", "checker", "demo", "--provider", provider, "--format", "json", "--output", str(folder / "out"), "-q"]
    subprocess.run([*command, *(["--flawed"] if flawed else [])], cwd=folder, capture_output=True, timeout=900)
    return statuses(folder / "out" / "report.json")


def run_check(config: str, select: str, folder: Path) -> dict[str, tuple[str, str]]:
    (folder / "golive.yaml").write_text(config)
    command = [sys.executable, "-m", "checker", "check", "--select", select, "--format", "json", "--output", str(folder / "out"), "-q"]
    subprocess.run(command, cwd=folder, capture_output=True, timeout=900)
    return statuses(folder / "out" / "report.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2, help="busy processes (default: one per core)")
    parser.add_argument("--only", help="only the integrations whose name contains one of these (comma-separated)")
    args = parser.parse_args()
    jobs: dict[str, Callable[[Path], dict[str, tuple[str, str]]]] = {}
    from checker.packs import BUILTIN_PACKS

    for provider in BUILTIN_PACKS:  # every built-in provider's examples, the four with official SDKs too
        for flawed in (False, True):
            jobs[f"golive demo --provider {provider}{' --flawed' * flawed}"] = functools.partial(run_demo, provider, flawed)
    for name, (select, config) in INTEGRATIONS.items():
        jobs[name] = functools.partial(run_check, config, select)
    if args.only:
        wanted = [part.strip() for part in args.only.split(",") if part.strip()]
        jobs = {name: job for name, job in jobs.items() if any(part in name for part in wanted)}
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    seen: dict[str, dict[str, collections.Counter[str]]] = {name: collections.defaultdict(collections.Counter) for name in jobs}
    messages: dict[tuple[str, str, str], str] = {}  # the first message of each verdict: why it flipped
    started = time.monotonic()
    try:
        for run in range(1, args.runs + 1):
            for name, job in jobs.items():
                with tempfile.TemporaryDirectory(prefix="golive-stability-") as folder:
                    found = job(Path(folder))
                for rule, (status, message) in found.items():
                    seen[name][rule][status] += 1
                    messages.setdefault((name, rule, status), message[:300])
            so_far = [
                f"{name}: {rule} {dict(counts)}" + "".join(f"\n        {status}: {messages[name, rule, status]}" for status in counts)
                for name, rules in seen.items()
                for rule, counts in rules.items()
                if len(counts) > 1
            ]
            print(f"run {run}/{args.runs} done ({time.monotonic() - started:.0f} s), {len(so_far)} flipped so far", flush=True)
            for line in so_far:
                print("    " + line, flush=True)
    finally:
        for process in busy:
            process.kill()
    flips = 0
    print(f"\n{'integration':44} rules  flipped")
    for name, rules in seen.items():
        flipped = {rule: dict(counts) for rule, counts in rules.items() if len(counts) > 1}
        flips += len(flipped)
        print(f"{name:44} {len(rules):5}  {len(flipped)}" + "".join(f"\n    {rule}: {counts}" for rule, counts in flipped.items()))
    print(f"\n{flips} verdicts flipped over {args.runs} runs with {args.busy} busy processes (goal: 0)  {'ok' if flips == 0 else 'MISSED'}")


if __name__ == "__main__":
    main()
