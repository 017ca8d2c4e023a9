"""Memory: a full `golive demo`'s peak RSS, and what a 10 MB upload adds to the embedded sandbox's, in one run.

Goals (docs/design.md §9): a check's peak memory <= 100 MB (the good demo and the flawed one, whose client
uploads the 11 MB probe file); a 10 MB upload adds <= 30 MB to the sandbox.
Each figure is set beside its floor, measured in the same run:
  - demo: the bare interpreter with golive's run-time imports loaded (what any Python tool of this kind
    pays before doing anything), and the goal;
  - upload: the upload's own size (holding the file once), and the goal.
Peak RSS is the kernel's high-water mark (ru_maxrss / VmHWM), not a sample.

    python bench/memory.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

MB = 1024 * 1024
# golive's own process only (clients and receivers are the team's programs): its maxrss at exit
PEAK_OF = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: sys.stderr.write(f'\\nmaxrss_kb {{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}\\n'))\n"
    "{body}\n"
)
IMPORTS = (
    "import checker.cli, checker.engine, checker.http, checker.report, checker.sandbox.server, checker.probes.webhook, "
    "checker.probes.client"
)


def peak_kb(body: str, *args: str) -> int:
    done = subprocess.run([sys.executable, "-c", PEAK_OF.format(body=body), *args], capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stderr.splitlines() if line.startswith("maxrss_kb ")]
    if not lines:
        raise SystemExit(f"no measurement (exit {done.returncode}): {done.stderr[-2000:]}")
    return int(lines[-1].split()[1])


def demo_peak(out: Path, *flags: str) -> int:
    argv = ["golive", "demo", "-q", "--output", str(out), *flags]
    return peak_kb(f"import sys\nfrom checker.cli import main\nsys.argv = {argv!r}\nmain()")


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def upload_extra(size: int) -> tuple[int, int]:
    """(RSS before, high-water mark after) of a `golive sandbox` process around one upload of `size` bytes, in KB."""
    from checker.harness.receiver import free_port
    from checker.samples import MINIMAL_PDF

    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(
            [sys.executable, "-m", "checker", "sandbox", "--port", str(port), "--db", f"{folder}/s.db", "--rate-limit", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            headers = {"Authorization": "Bearer fx_test_bench0000000000000000"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                for _ in range(200):
                    try:
                        client.get("/v1/account/balance")
                        break
                    except httpx.TransportError:
                        time.sleep(0.05)
                pdf = MINIMAL_PDF + b"%" * (size - len(MINIMAL_PDF))
                small = client.post("/v1/fax", data={"to": "+15005550000"}, files={"file": ("a.pdf", MINIMAL_PDF)})
                small.raise_for_status()  # warm: every code path of an upload has run once
                before = status_kb(server.pid, "VmRSS")
                answer = client.post("/v1/fax", data={"to": "+15005550000"}, files={"file": ("big.pdf", pdf)})
                if answer.status_code != 201:
                    raise SystemExit(f"the 10 MB upload was answered {answer.status_code}: {answer.text[:300]}")
                return before, status_kb(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    floor_kb = statistics.median(peak_kb(IMPORTS) for _ in range(args.runs))
    print(f"python with golive's imports (floor)   {floor_kb / 1024:7.1f} MB")
    demo_ok = True
    # the flawed demo uploads the 11 MB probe file (FILE-102) through the proxy into the embedded sandbox
    for label, flags in (("golive demo", ()), ("golive demo --flawed", ("--flawed",))):
        demo_kb = statistics.median(demo_peak(Path(tempfile.mkdtemp(prefix="golive-mem-bench-")), *flags) for _ in range(args.runs))
        print(f"{label + ', peak RSS':<38} {demo_kb / 1024:7.1f} MB   {demo_kb / floor_kb:.2f} x floor (median of {args.runs})")
        ok = demo_kb <= 100 * 1024
        demo_ok = demo_ok and ok
        print(f"  peak / goal (100 MB) = {demo_kb / 1024 / 100:.2f}  {'ok' if ok else 'MISSED'}")

    size = 10 * MB - 4096  # just under mintfax's limit: accepted
    extras = []
    for _ in range(args.runs):
        before, after = upload_extra(size)
        extras.append(after - before)
    extra_kb = statistics.median(extras)
    print(f"10 MB upload: sandbox high-water mark grows by {extra_kb / 1024:.1f} MB (median of {args.runs})")
    print(f"  extra / upload size = {extra_kb * 1024 / size:.2f}   extra / goal (30 MB) = {extra_kb / 1024 / 30:.2f}  ", end="")
    upload_ok = extra_kb <= 30 * 1024
    print("ok" if upload_ok else "MISSED")
    sys.exit(0 if demo_ok and upload_ok else 1)


if __name__ == "__main__":
    main()
