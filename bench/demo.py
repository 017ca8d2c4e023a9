"""Demo wall time against its floor: the longest single probe's own waiting, in the same run.

Goal (docs/design.md §9): a full `golive demo` takes <= 1.10 x its longest probe. Probes run
concurrently, so the check should cost little beyond the slowest client run (the documented
backoff of a persistent failure, 1 + 2 + 4 + 8 s plus jitter).

    python bench/demo.py [--provider mintfax] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", default="mintfax")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    here = Path(sys.executable).parent
    golive = [str(here / "golive")] if (here / "golive").exists() else [sys.executable, "-m", "checker"]
    ratios = []
    for _ in range(args.runs):
        out = Path(tempfile.mkdtemp(prefix="golive-demo-bench-"))
        start = time.perf_counter()
        done = subprocess.run(
            [*golive, "demo", "--provider", args.provider, "--output", str(out), "-q"], capture_output=True, text=True, timeout=600
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"golive demo exited {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        results = json.loads((out / "report.json").read_text())["results"]
        longest = max(results, key=lambda r: r["duration_s"])
        ratios.append(wall / longest["duration_s"])
        print(f"demo wall {wall:6.2f} s   longest probe {longest['id']} {longest['duration_s']:6.2f} s   ratio {ratios[-1]:.3f}")
    ratio = statistics.median(ratios)
    print(f"golive demo --provider {args.provider}: median ratio {ratio:.3f} (goal <= 1.10) {'ok' if ratio <= 1.10 else 'MISSED'}")
    sys.exit(0 if ratio <= 1.10 else 1)


if __name__ == "__main__":
    main()
