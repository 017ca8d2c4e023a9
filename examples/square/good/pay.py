"""Take one payment with the official `squareup` package, as Square's docs show it, set up for go-live.

    SQUARE_BASE_URL=https://connect.squareupsandbox.com SQUARE_TOKEN=… python pay.py --source cnon:card-nonce-ok --ref order-42

What the package does by itself (squareup 46.0.0.20260916, square/core/http_client.py):
- retries an answer of 408, 409, 429 or any 5xx, twice by default (max_retries=2: three attempts), resending the same
  JSON body, so the same idempotency_key; it waits 1 s, then 2 s (times U(0.9, 1.1)), or the Retry-After it was given;
- never retries a connection error or a timeout: httpx's exception goes straight to the caller (:318-336);
- sends no idempotency key of its own: `idempotency_key` is a required body field the caller sets.
So this example adds the two things the package leaves to its caller:
- one key per logical payment, derived from the order reference, so every attempt, and a re-run after a crash, asks
  Square for the same payment (a uuid is 36 characters; Square takes up to 45);
- a retry of connection errors and timeouts with that same key (Square's idempotency guide: a connection that fails
  before the answer is exactly when to send the request again).
The base URL always comes from the environment (no default): a test run never reaches Square by accident.
Exit 0 with the payment's id; 1 with Square's error code.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid

import httpx
from square import Square
from square.core.api_error import ApiError

ATTEMPTS = 3  # connection errors and timeouts: the package's own status retries happen inside each attempt
PAYMENTS = uuid.UUID("8f4c3a52-6a5e-4d3b-9f1e-2b7c1d0e5a90")  # this application's namespace for payment keys


def error_codes(exc: ApiError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    return ", ".join(str(e.get("code")) for e in body.get("errors") or [] if isinstance(e, dict)) or "no error code"


def main() -> int:
    parser = argparse.ArgumentParser(description="Take one payment.")
    parser.add_argument("--source", required=True, help="a payment token (the Web Payments SDK's, or a Sandbox test value)")
    parser.add_argument("--ref", required=True, help="your order reference: one payment per reference")
    args = parser.parse_args()
    client = Square(token=os.environ["SQUARE_TOKEN"], base_url=os.environ["SQUARE_BASE_URL"], timeout=20.0)
    key = str(uuid.uuid5(PAYMENTS, args.ref))  # the same payment, the same key: on a retry and after a restart
    for attempt in range(ATTEMPTS):
        try:
            response = client.payments.create(
                source_id=args.source, idempotency_key=key, amount_money={"amount": 1000, "currency": "USD"}, reference_id=args.ref
            )
        except httpx.TransportError as exc:  # reset, refused, timed out: the package does not retry these
            if attempt + 1 == ATTEMPTS:
                print(f"payment failed: no answer from Square after {ATTEMPTS} attempts ({type(exc).__name__})", file=sys.stderr)
                return 1
            time.sleep(2**attempt * random.uniform(0.9, 1.1))
            continue
        except ApiError as exc:  # an answer: the package has already retried what it retries
            print(f"payment failed: {exc.status_code} {error_codes(exc)}", file=sys.stderr)
            return 1
        payment = response.payment
        if payment is None or not payment.id:
            print("payment failed: the answer holds no payment", file=sys.stderr)
            return 1
        print(payment.id)
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
