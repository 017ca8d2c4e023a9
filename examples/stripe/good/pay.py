"""Create one PaymentIntent with the official `stripe` package, as Stripe's docs show it, set up for go-live.

    STRIPE_BASE_URL=https://api.stripe.com STRIPE_API_KEY=sk_test_… python pay.py --payment-method pm_card_visa --ref order-42

What makes it ready is one setting: `max_network_retries`. A `StripeClient` made without it retries nothing
(stripe 16.1.0: RequestorOptions keeps None, and HTTPClient._should_retry reads None as 0). With it the package:
- sets one `Idempotency-Key` (random, UUID-shaped) on every POST before the first attempt and sends the same one on
  every retry, so a retried payment is never a second payment;
- retries connection errors, 409 and every status >= 500 (and whatever `Stripe-Should-Retry: true` marks), never
  another 4xx;
- waits min(0.5 s · 2^(n-1), 5 s) · U(0.5, 1), at least 0.5 s, between attempts.
3 retries (4 attempts) ride out a short outage and give up within about 6 s of waiting.
The base URL always comes from the environment (no default): a test run never reaches api.stripe.com by accident.
Exit 0 with the PaymentIntent's id; 1 with Stripe's error (its class, status and code).
"""

from __future__ import annotations

import argparse
import os
import sys

import stripe


def main() -> int:
    parser = argparse.ArgumentParser(description="Create one PaymentIntent.")
    parser.add_argument("--payment-method", required=True)
    parser.add_argument("--ref", required=True, help="your order reference, kept in the PaymentIntent's metadata")
    args = parser.parse_args()
    client = stripe.StripeClient(os.environ["STRIPE_API_KEY"], base_addresses={"api": os.environ["STRIPE_BASE_URL"]}, max_network_retries=3)
    try:
        intent = client.v1.payment_intents.create(
            params={"amount": 2000, "currency": "usd", "payment_method": args.payment_method, "metadata": {"order": args.ref}}
        )
    except stripe.StripeError as exc:  # every answer the package could read, and a connection it gave up on
        print(f"payment failed: {type(exc).__name__} {exc.http_status} {exc.code}: {exc.user_message or exc}", file=sys.stderr)
        return 1
    print(intent.id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
