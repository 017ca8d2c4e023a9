"""A naive Flex Forward client: a fresh idempotencyKey on every try, no timeout, retries on any error."""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

import httpx


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ref", required=True)
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {os.environ['FLEXFORWARD_API_TOKEN']}"}
    for _ in range(6):
        try:
            response = httpx.post(
                f"{os.environ['FLEXFORWARD_BASE_URL']}/labels",
                timeout=None,
                headers=headers,
                json={"idempotencyKey": str(uuid.uuid4()), "courier": "yunexpress", "reference": args.ref},
            )
            if response.status_code in (200, 201):
                print("label", response.json()["id"])
                return 0
        except httpx.HTTPError:
            pass
        time.sleep(2)
    return 1


if __name__ == "__main__":
    sys.exit(main())
