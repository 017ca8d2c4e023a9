"""Start-up: `golive --version` against the floor `python -c pass`, in the same run.

Goal (docs/design.md §9): golive --version <= 0.1 s. Also compared with schemathesis's
`st --version` when it is installed (issue 7 asks for <= 1/3 of it).

    python bench/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    here = Path(sys.executable).parent
    golive = str(here / "golive") if (here / "golive").exists() else None
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "golive --version": [golive, "--version"] if golive else [sys.executable, "-m", "checker", "--version"],
    }
    st = shutil.which("st", path=str(here)) or shutil.which("st")
    if st:
        commands["st --version (schemathesis)"] = [st, "--version"]
    for command in commands.values():  # warm the page cache
        wall(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):  # interleaved, so machine noise hits every command alike
        for name, command in commands.items():
            times[name].append(wall(command))
    median = {name: statistics.median(values) for name, values in times.items()}
    floor = median["python -c pass"]
    print(f"start-up: median of {args.runs} interleaved runs")
    for name, value in median.items():
        print(f"{name:<30}{value * 1000:8.1f} ms   {value / floor:5.2f} x python -c pass")
    ours = median["golive --version"]
    print(f"golive --version: {ours * 1000:.1f} ms (goal <= 100 ms) {'ok' if ours <= 0.1 else 'MISSED'}")
    if st:
        ratio = ours / median["st --version (schemathesis)"]
        print(f"golive / schemathesis: {ratio:.2f} (goal <= 0.33) {'ok' if ratio <= 1 / 3 else 'MISSED'}")
    else:
        print("schemathesis is not installed here (pip install schemathesis) - no peer ratio this run")
    sys.exit(0 if ours <= 0.1 else 1)


if __name__ == "__main__":
    main()
