"""Registers a webhook endpoint with the official `stripe` package, as Stripe's docs show it (the integration's
`webhook.register` step in tests/test_any_provider.py).

    stripe_register.py --base URL --key KEY --url ENDPOINT [--events E ...]   (default: every event, "*")
"""

from __future__ import annotations

import argparse
import sys

import stripe


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--events", nargs="*", default=["*"])
    args = parser.parse_args()
    client = stripe.StripeClient(args.key, base_addresses={"api": args.base}, max_network_retries=2)
    endpoint = client.v1.webhook_endpoints.create(params={"url": args.url, "enabled_events": args.events})
    print(endpoint.id)  # not its secret: a registration step's output is no place for one
    return 0


if __name__ == "__main__":
    sys.exit(main())
