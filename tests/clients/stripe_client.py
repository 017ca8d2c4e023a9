"""Creates one PaymentIntent with the official `stripe` package, as Stripe's docs show it: the client the
Stripe-like pack's tests (tests/test_any_provider.py) put in front of golive.

    stripe_client.py --payment-method PM --ref REF [--retries N] [--flaw raw-requests]

STRIPE_BASE_URL and STRIPE_API_KEY come from golive (the proxy and a sandbox key). What the SDK does (stripe
16.1.0, read in its source: stripe/_http_client.py, stripe/_api_requestor.py):
- max_network_retries=3 here, set explicitly (the module-level default, stripe.max_network_retries, is 2): its first
  retry always waits exactly 0.5 s, so only the later ones carry jitter, and three give golive room to see it;
  it retries connection errors, 409 and every status >= 500, and what `Stripe-Should-Retry: true` marks; it never
  retries a 429 without that header, and never reads Retry-After;
- it sleeps min(0.5 * 2**(n-1), 5) * U(0.5, 1), and at least 0.5 s;
- it sets one Idempotency-Key (a UUID v4) on every POST before the first attempt and sends it on every retry;
- its default request timeout is 80 s (RequestsClient / HTTPXClient timeout).
Exit 0 with the PaymentIntent's id; 1 with the error's class, status and code (a clean refusal); 2 on a crash.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid


def with_sdk(args: argparse.Namespace) -> int:
    import stripe

    client = stripe.StripeClient(
        os.environ["STRIPE_API_KEY"], base_addresses={"api": os.environ["STRIPE_BASE_URL"]}, max_network_retries=args.retries
    )
    try:
        intent = client.v1.payment_intents.create(
            params={"amount": 2000, "currency": "usd", "payment_method": args.payment_method, "metadata": {"order": args.ref}}
        )
    except stripe.StripeError as exc:  # what the SDK raises for every answer it could read
        print(f"stripe_client: {type(exc).__name__} {exc.http_status} {exc.code}: {exc.user_message or exc}", file=sys.stderr)
        return 1
    print(intent.id)
    return 0


def with_requests(args: argparse.Namespace) -> int:
    """The flawed one: raw `requests`, a new key per attempt, fixed 1 s sleeps, retries on every failure (5 attempts)."""
    import requests

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
        print(f"stripe_client: attempt {attempt + 1}: {answer.status_code} {answer.text[:200]}", file=sys.stderr)
        time.sleep(1)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payment-method", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--retries", type=int, default=3)
    parser.add_argument("--flaw", choices=["raw-requests"])
    args = parser.parse_args()
    return with_requests(args) if args.flaw else with_sdk(args)


if __name__ == "__main__":
    sys.exit(main())
