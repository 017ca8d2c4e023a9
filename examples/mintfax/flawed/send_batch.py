"""A naive batch: every fax at once from a thread pool (a burst well over mintfax's 10 requests a second)."""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys

import httpx


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True)
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {os.environ['MINTFAX_API_KEY']}"}

    def send(n: int) -> int:
        with open(args.file, "rb") as handle:
            response = httpx.post(
                f"{os.environ['MINTFAX_BASE_URL']}/v1/fax",
                data={"to": "+15005550000"},
                files={"file": handle},
                headers=headers,
                timeout=None,
            )
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.count) as pool:
        codes = list(pool.map(send, range(args.count)))
    print("statuses:", codes)
    return 0 if all(code < 300 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
