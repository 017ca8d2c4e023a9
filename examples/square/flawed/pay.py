"""Take one payment with the official `squareup` package — the way it often goes wrong (do not copy).

- A fresh uuid4 per attempt: a retry after a lost answer is a second payment as far as Square can tell.
- The package's own retries turned off (max_retries=0) for a loop of its own that retries every ApiError, a declined
  or invalid request (4xx) too, after a fixed second.
- Connection errors are not caught, so a reset ends the run without a retry.
- The error printed says nothing of Square's error code.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

import httpx
from square import Square
from square.core.api_error import ApiError


def main() -> int:
    parser = argparse.ArgumentParser(description="Take one payment.")
    parser.add_argument("--source", required=True)
    parser.add_argument("--ref", required=True)
    args = parser.parse_args()
    client = Square(token=os.environ["SQUARE_TOKEN"], base_url=os.environ["SQUARE_BASE_URL"])
    try:
        for _ in range(3):
            try:
                response = client.payments.create(
                    source_id=args.source,
                    idempotency_key=str(uuid.uuid4()),  # a new key on every attempt
                    amount_money={"amount": 1000, "currency": "USD"},
                    reference_id=args.ref,
                    request_options={"max_retries": 0},
                )
            except ApiError:
                time.sleep(1)
                continue
            print(response.payment.id if response.payment else "?")
            return 0
    except httpx.TransportError:
        print("payment failed", file=sys.stderr)
        return 1
    print("payment failed", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
