"""Submit one document to idunox, safely (seed: "Idempotency and Retries").

    IDUNOX_BASE_URL=... IDUNOX_API_KEY=... python submit.py --ref invoice-2026-0042

- Idempotency-Key derived from your reference: retries and re-runs send the same key.
- An x-correlation-id on every request, logged, for support.
- Network errors and 5xx are retried after 1, 2, 4 and 8 seconds; any 4xx stops.
Needs: httpx.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import uuid

import httpx

DELAYS_S = (1, 2, 4, 8)  # the documented schedule: five attempts in all


def main() -> int:
    parser = argparse.ArgumentParser(description="Submit one document to idunox.")
    parser.add_argument("--ref", required=True, help="your reference for this submission")
    args = parser.parse_args()
    body = {"reference": args.ref, "document": {"type": "invoice", "total": "12.50"}}
    key = hashlib.sha256(f"idunox-submission|{args.ref}".encode()).hexdigest()
    client = httpx.Client(
        base_url=os.environ["IDUNOX_BASE_URL"],
        timeout=httpx.Timeout(10.0, connect=5.0),
        headers={"Authorization": f"Bearer {os.environ['IDUNOX_API_KEY']}", "Idempotency-Key": key},
    )
    for attempt in range(len(DELAYS_S) + 1):
        correlation = str(uuid.uuid4())
        try:
            response = client.post("/v1/submissions", json=body, headers={"x-correlation-id": correlation})
        except httpx.TransportError as exc:
            print(f"submit: attempt {attempt + 1} ({correlation}): {type(exc).__name__}", file=sys.stderr)
        else:
            if response.is_success:
                print(f"submitted {response.json()['submissionId']} ({correlation})")
                return 0
            if response.status_code < 500:
                print(f"submit: {response.status_code} ({correlation}): {response.text[:300]}", file=sys.stderr)
                return 1
            print(f"submit: attempt {attempt + 1} ({correlation}): {response.status_code}", file=sys.stderr)
        if attempt < len(DELAYS_S):
            time.sleep(DELAYS_S[attempt])
    print("submit: gave up after 5 attempts", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
