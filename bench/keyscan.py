"""Key scan speed: `golive check --select KEY-002` against ripgrep and detect-secrets on the same tree.

Goal (docs/design.md §9): within 5 x ripgrep's wall time, and at least 100 x faster than detect-secrets.

The tree is this Python's standard library (about 2,450 files, 100 MB) committed to a fresh git
repository with one live key planted; every tool scans the same tracked files with a warm page
cache. ripgrep comes from Debian (`apt-get install ripgrep`), detect-secrets from PyPI
(`pip install detect-secrets`); a missing peer is reported, not silently dropped.

    python bench/keyscan.py [--runs 5] [--tree DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLANTED = "fx_live_B3nchPl4nt3dK3y9x"
PLANTED_IN = "email/utils.py"
PATTERN = r"(?:mfx_live_|fx_live_)[A-Za-z0-9]{8,}"


def build_tree(target: Path) -> None:
    source = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    for directory, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_symlink() or not path.is_file():
                continue
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    with (target / PLANTED_IN).open("a") as handle:
        handle.write(f'\nMINTFAX_API_KEY = "{PLANTED}"  # planted by bench/keyscan.py\n')
    (target / "golive.yaml").write_text("provider: mintfax\nsandbox: {url: builtin}\n")
    git = ["git", "-C", str(target), "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "stdlib with a planted key"], check=True)


def timed(command: list[str], cwd: Path, timeout: float = 900) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - start, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="reuse (or build) the tree here instead of a temporary folder")
    args = parser.parse_args()
    tree = args.tree or Path(tempfile.mkdtemp(prefix="golive-keyscan-"))
    if not (tree / ".git").exists():
        tree.mkdir(parents=True, exist_ok=True)
        build_tree(tree)
    tracked = subprocess.run(["git", "-C", str(tree), "ls-files", "-z"], capture_output=True, check=True).stdout.count(b"\0")
    size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file() and ".git" not in p.parts)
    print(f"tree: {tracked} tracked files, {size / 1e6:.0f} MB ({tree})")

    here = Path(sys.executable).parent
    golive = [str(here / "golive")] if (here / "golive").exists() else [sys.executable, "-m", "checker"]
    out = Path(tempfile.mkdtemp(prefix="golive-keyscan-report-"))
    ours = [*golive, "check", "--select", "KEY-002", "--format", "json", "--output", str(out), "-q"]
    timed(ours, tree)  # warm the page cache
    golive_times = []
    for _ in range(args.runs):
        seconds, _ = timed(ours, tree)
        golive_times.append(seconds)
    result = json.loads((out / "report.json").read_text())["results"][0]
    found = [(e["file"], e["line"]) for e in result["evidence"]]
    assert result["status"] == "fail" and [f for f, _ in found] == [PLANTED_IN], f"golive found {found}: {result['message']}"
    ours_s = statistics.median(golive_times)
    print(f"golive check --select KEY-002   {ours_s * 1000:8.0f} ms  (median of {args.runs}; found {found[0][0]}:{found[0][1]})")

    from checker.keyscan import scan, tracked_files

    def scanner_only() -> float:
        start = time.perf_counter()
        scan(tree, tracked_files(tree, ["."]), ["fx_live_", "mfx_live_"])
        return time.perf_counter() - start

    scanner_only()
    scanner_s = statistics.median(scanner_only() for _ in range(args.runs))
    print(f"golive's scanner alone          {scanner_s * 1000:8.0f} ms  (in-process: git's index + scan; no start-up)")

    rg = shutil.which("rg")
    if rg:
        command = [rg, "-n", "--no-messages", "-e", PATTERN, "."]
        timed(command, tree)
        rg_s = statistics.median(timed(command, tree)[0] for _ in range(args.runs))
        print(f"ripgrep                         {rg_s * 1000:8.0f} ms  (median of {args.runs})")
        print(f"  golive / ripgrep = {ours_s / rg_s:.1f} x   (goal <= 5)  {'ok' if ours_s <= 5 * rg_s else 'MISSED'}")
        print(f"  scanner alone / ripgrep = {scanner_s / rg_s:.1f} x   (the rest is Python start-up and imports)")
    else:
        print("ripgrep: not installed (apt-get install ripgrep) - no ratio this run")

    ds = shutil.which("detect-secrets", path=str(here)) or shutil.which("detect-secrets")
    if ds:
        ds_s, done = timed([ds, "scan"], tree)
        try:
            flagged = PLANTED_IN in json.loads(done.stdout).get("results", {})
        except ValueError:
            flagged = False
        print(f"detect-secrets scan             {ds_s * 1000:8.0f} ms  (one run; flagged the planted file: {flagged})")
        print(f"  detect-secrets / golive = {ds_s / ours_s:.0f} x   (goal >= 100)  {'ok' if ds_s >= 100 * ours_s else 'MISSED'}")
    else:
        print("detect-secrets: not installed (pip install detect-secrets) - no ratio this run")


if __name__ == "__main__":
    main()
