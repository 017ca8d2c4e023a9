"""A flawed Stripe client that skips the official package: raw `requests`, a new Idempotency-Key per attempt, fixed
1 s sleeps, every failure retried (5 attempts), no retry after a dropped connection. tests/test_stripe.py puts it in
front of golive beside the bundled examples (examples/stripe/), which use the SDK.

    stripe_raw_client.py --payment-method PM --ref REF       (STRIPE_BASE_URL and STRIPE_API_KEY from golive)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

import requests


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payment-method", required=True)
    parser.add_argument("--ref", required=True)
    args = parser.parse_args()
    for attempt in range(5):
        answer = requests.post(
            os.environ["STRIPE_BASE_URL"] + "/v1/payment_intents",
            data={"amount": "2000", "currency": "usd", "payment_method": args.payment_method, "metadata[order]": args.ref},
            headers={"Authorization": f"Bearer {os.environ['STRIPE_API_KEY']}", "Idempotency-Key": str(uuid.uuid4())},
            timeout=30,
        )
        if answer.status_code < 300:
            print(answer.json()["id"])
            return 0
        print(f"stripe_raw_client: attempt {attempt + 1}: {answer.status_code} {answer.text[:200]}", file=sys.stderr)
        time.sleep(1)
    return 1


if __name__ == "__main__":
    sys.exit(main())
