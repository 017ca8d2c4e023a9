"""Create one PaymentIntent with the official `stripe` package on its defaults: the flawed example.

    STRIPE_BASE_URL=… STRIPE_API_KEY=sk_test_… python pay.py --payment-method pm_card_visa --ref order-42

The flaw is what is missing: no `max_network_retries`. A `StripeClient` made without it retries nothing (stripe 16.1.0),
so one 503, one dropped connection, one 409 while Stripe is busy with the same key, and the payment fails — golive's
RETRY-101, RETRY-102 and RETRY-103 say so (the legacy global `stripe.max_network_retries` is 2, but it does not
apply to a StripeClient). See ../good/pay.py for the one setting that fixes it.
"""

import argparse
import os
import sys

import stripe

parser = argparse.ArgumentParser()
parser.add_argument("--payment-method")
parser.add_argument("--ref")
args = parser.parse_args()
client = stripe.StripeClient(os.environ["STRIPE_API_KEY"], base_addresses={"api": os.environ["STRIPE_BASE_URL"]})
params = {"amount": 2000, "currency": "usd", "payment_method": args.payment_method, "metadata": {"order": args.ref}}
try:
    print(client.v1.payment_intents.create(params=params).id)
except stripe.StripeError as exc:
    sys.exit(f"payment failed: {type(exc).__name__} {exc.http_status} {exc.code}")
