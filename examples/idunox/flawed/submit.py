"""A naive idunox client: a new key per attempt, no correlation id, retries everything every second."""

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
    for _ in range(4):
        try:
            response = httpx.post(
                f"{os.environ['IDUNOX_BASE_URL']}/v1/submissions",
                timeout=60,
                json={"reference": args.ref, "document": {"type": "invoice"}},
                headers={"Authorization": f"Bearer {os.environ['IDUNOX_API_KEY']}", "Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code < 300:
                print("ok", response.json())
                return 0
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return 1


if __name__ == "__main__":
    sys.exit(main())
