"""Register this integration's webhook endpoint with the official `stripe` package, for the events it acts on. Run
once per environment; golive runs it against its embedded sandbox (webhook.register) and reads back what it
registered (HOOK-212).

    STRIPE_BASE_URL=https://api.stripe.com STRIPE_API_KEY=sk_test_… python register_webhook.py https://example.com/webhooks/stripe
"""

from __future__ import annotations

import argparse
import os
import sys

import stripe

EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]


def main() -> int:
    parser = argparse.ArgumentParser(description="Register this integration's webhook endpoint with Stripe.")
    parser.add_argument("url", help="the endpoint's public URL")
    parser.add_argument("--events", default=",".join(EVENTS), help=f"comma-separated, * for all (default: {','.join(EVENTS)})")
    args = parser.parse_args()
    client = stripe.StripeClient(os.environ["STRIPE_API_KEY"], base_addresses={"api": os.environ["STRIPE_BASE_URL"]}, max_network_retries=3)
    endpoint = client.v1.webhook_endpoints.create(params={"url": args.url, "enabled_events": args.events.split(",")})
    # its signing secret (endpoint.secret) goes to your secret manager as STRIPE_WEBHOOK_SECRET: never print it
    print(f"registered {endpoint.id} for {args.events}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
