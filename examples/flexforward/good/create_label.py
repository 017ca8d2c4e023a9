"""Create one shipping label with Flex Forward, safely (seed: "Idempotency and retries").

    FLEXFORWARD_BASE_URL=... FLEXFORWARD_API_TOKEN=... python create_label.py --ref N-2026-05-27-TEST-03

- idempotencyKey is your order reference: retries and re-runs reuse it (201 first, 200 on replay).
- A request timeout (10 s) and retries on timeouts, network errors, 500 and 502 after 1, 2, 4 and 8 s.
- A 400 is not retried: fix the request; the same key can be reused afterwards.
Needs: httpx.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import httpx

DELAYS_S = (1, 2, 4, 8)
RETRYABLE = {500, 502}


def main() -> int:
    parser = argparse.ArgumentParser(description="Create one label.")
    parser.add_argument("--ref", required=True, help="your order reference (used as the idempotency key)")
    parser.add_argument("--courier", default="yunexpress")
    args = parser.parse_args()
    body = {
        "idempotencyKey": f"label-{args.ref}",
        "courier": args.courier,
        "reference": args.ref,
        "recipient": {"name": "Ada Lovelace", "country": "GB"},
    }
    client = httpx.Client(
        base_url=os.environ["FLEXFORWARD_BASE_URL"],
        timeout=httpx.Timeout(10.0, connect=5.0),
        headers={"Authorization": f"Bearer {os.environ['FLEXFORWARD_API_TOKEN']}"},
    )
    for attempt in range(len(DELAYS_S) + 1):
        try:
            response = client.post("/labels", json=body)
        except httpx.TransportError as exc:
            print(f"create_label: attempt {attempt + 1}: {type(exc).__name__}", file=sys.stderr)
        else:
            if response.status_code in (200, 201):
                label = response.json()
                print(f"label {label['id']} {label['status']} tracking {label['courierTrackingNumber']}")
                return 0
            if response.status_code not in RETRYABLE:
                print(f"create_label: {response.status_code}: {response.text[:300]}", file=sys.stderr)
                return 1
            print(f"create_label: attempt {attempt + 1}: {response.status_code}", file=sys.stderr)
        if attempt < len(DELAYS_S):
            time.sleep(DELAYS_S[attempt])
    print("create_label: gave up after 5 attempts; escalate", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
