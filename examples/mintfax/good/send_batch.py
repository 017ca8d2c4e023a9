"""Send a batch of faxes without bursting: a steady 5 requests a second, under mintfax's 10/s.

    MINTFAX_BASE_URL=... MINTFAX_API_KEY=... python send_batch.py --file invoice.pdf --count 20

Each fax goes through send_fax.send (same key derivation, checks and retries).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import httpx
from send_fax import send

PER_SECOND = 5


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--to", default="+15005550000")
    args = parser.parse_args()
    with open(args.file, "rb") as handle:
        content = handle.read()
    failures = 0
    with httpx.Client(
        base_url=os.environ["MINTFAX_BASE_URL"],
        timeout=httpx.Timeout(10.0, connect=5.0),
        headers={"Authorization": f"Bearer {os.environ['MINTFAX_API_KEY']}"},
    ) as client:
        for n in range(args.count):
            started = time.monotonic()
            failures += send(client, args.to, os.path.basename(args.file), content, f"batch-{n}") != 0
            time.sleep(max(0.0, 1 / PER_SECOND - (time.monotonic() - started)))
    print(f"sent {args.count - failures} of {args.count}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
