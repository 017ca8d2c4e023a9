"""A naive mintfax client, as many first integrations look. golive demo --flawed shows what is wrong.

Its mistakes: a new idempotency key on every attempt, retrying every error (also 4xx) on a fixed
one-second delay, ignoring Retry-After, no request timeout, no document checks, and error
output that hides mintfax's error code.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

import httpx


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--to", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--ref", required=True)
    args = parser.parse_args()
    client = httpx.Client(
        base_url=os.environ["MINTFAX_BASE_URL"], timeout=None, headers={"Authorization": f"Bearer {os.environ['MINTFAX_API_KEY']}"}
    )
    for _ in range(4):
        try:
            with open(args.file, "rb") as handle:
                response = client.post(
                    "/v1/fax", data={"to": args.to}, files={"file": handle}, headers={"Idempotency-Key": str(uuid.uuid4())}
                )
            if response.status_code < 300:
                print("sent", response.json()["id"])
                return 0
            print("failed with HTTP", response.status_code)
        except httpx.HTTPError as exc:
            print("network problem:", exc)
        time.sleep(1)
    return 1


if __name__ == "__main__":
    sys.exit(main())
