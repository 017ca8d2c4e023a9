"""Take one payment with Checkout.com's official SDK on its defaults — what golive says is not go-live ready.

    CKO_SECRET_KEY=sk_sbox_… python pay.py --token tok_… --ref order-1042

checkout-sdk 4.8.1 on its defaults: a plain requests.Session() (default_http_client.py:11) that retries nothing, no
Cko-Idempotency-Key unless the caller passes idempotency_key= (api_client.py:96-97; this file does not), and no
timeout (api_client.py:112).
"""

from __future__ import annotations

import argparse
import os
import sys

from checkout_sdk.checkout_api import CheckoutApi
from checkout_sdk.checkout_configuration import CheckoutConfiguration
from checkout_sdk.common.enums import Currency
from checkout_sdk.default_http_client import DefaultHttpClientBuilder
from checkout_sdk.default_keys_credentials import DefaultKeysSdkCredentials
from checkout_sdk.environment import Environment
from checkout_sdk.exception import CheckoutApiException, CheckoutException
from checkout_sdk.payments.payments import PaymentRequest, PaymentRequestTokenSource


def checkout_api() -> CheckoutApi:
    # the configuration CheckoutSdk.builder().build() makes, at the address golive gives (the builder wants a merchant
    # subdomain of checkout.com, which golive's address is not), with the SDK's own default HTTP client
    uri = os.environ["CKO_BASE_URL"].rstrip("/") + "/"
    here = Environment(uri, uri + "connect/token", uri, uri, uri, uri, uri, is_sandbox=True)
    credentials = DefaultKeysSdkCredentials(secret_key=os.environ["CKO_SECRET_KEY"])
    return CheckoutApi(CheckoutConfiguration(credentials, here, DefaultHttpClientBuilder().get_client()))


def main() -> int:
    parser = argparse.ArgumentParser(description="Take one payment with a card token.")
    parser.add_argument("--token", required=True)
    parser.add_argument("--ref", required=True)
    args = parser.parse_args()
    request = PaymentRequest()
    request.source = PaymentRequestTokenSource()
    request.source.token = args.token
    request.amount = 1000
    request.currency = Currency.USD
    request.reference = args.ref
    try:
        payment = checkout_api().payments.request_payment(request)  # no idempotency_key=
    except CheckoutApiException as exc:
        print(f"payment refused: {exc.error_type} {exc.error_details}", file=sys.stderr)
        return 1
    except CheckoutException as exc:
        print(f"payment not taken: {exc}", file=sys.stderr)
        return 1
    print(f"payment {payment.id}: {payment.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
