"""Take one payment with Checkout.com's official SDK (checkout-sdk 4.x), made go-live ready.

    CKO_SECRET_KEY=sk_sbox_… python pay.py --token tok_… --ref order-1042

What the SDK does on its own (checkout-sdk 4.8.1, read in its source) and what this file adds:
- Retries: none. Its HTTP client is a plain `requests.Session()` (default_http_client.py:11), whose adapters
  retry nothing (requests' HTTPAdapter: Retry(0, read=False)). Here: a Session with urllib3's Retry mounted —
  429 (Checkout.com: "implement an automated retry mechanism for 429 responses") and 5xx, dropped connections
  and read errors, POST included, exponential backoff with jitter ("exponential backoff with jitter"), Retry-After
  honoured, 3 retries.
- Idempotency key: only when the caller passes `idempotency_key=` (api_client.py:96-97 sets Cko-Idempotency-Key).
  Here: one key per order, derived from its reference, so a retry (the same prepared request, resent by urllib3)
  and a re-run after a crash send the same key.
- Timeout: none (api_client.py:112 calls session.request without one: a hung connection waits forever). Here: 5 s to
  connect, 30 s to read.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid

import requests
from checkout_sdk.checkout_api import CheckoutApi
from checkout_sdk.checkout_configuration import CheckoutConfiguration
from checkout_sdk.checkout_sdk import CheckoutSdk
from checkout_sdk.common.enums import Currency
from checkout_sdk.default_keys_credentials import DefaultKeysSdkCredentials
from checkout_sdk.environment import Environment
from checkout_sdk.exception import CheckoutApiException, CheckoutException
from checkout_sdk.http_client_interface import HttpClientBuilderInterface
from checkout_sdk.payments.payments import PaymentRequest, PaymentRequestTokenSource
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRY = Retry(
    total=3,
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=None,  # POST too: every retry carries the same Cko-Idempotency-Key
    backoff_factor=1,  # 1, 2, 4 s …
    backoff_jitter=1,  # … plus up to 1 s of jitter
    backoff_max=30,
    respect_retry_after_header=True,
    raise_on_status=False,  # the last answer goes back to the SDK, which raises CheckoutApiException
)


class GoLiveSession(requests.Session):
    """The SDK's Session, with retries and a timeout on every request."""

    def __init__(self) -> None:
        super().__init__()
        self.mount("https://", HTTPAdapter(max_retries=RETRY))
        self.mount("http://", HTTPAdapter(max_retries=RETRY))

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("timeout", (5, 30))
        return super().request(*args, **kwargs)


class GoLiveHttpClient(HttpClientBuilderInterface):
    def get_client(self) -> requests.Session:
        return GoLiveSession()


def checkout_api() -> CheckoutApi:
    key = os.environ["CKO_SECRET_KEY"]
    base_url = os.environ.get("CKO_BASE_URL")
    if not base_url:  # Checkout.com itself: your merchant-specific subdomain
        return (
            CheckoutSdk.builder()
            .secret_key(key)
            .environment(Environment.sandbox() if key.startswith("sk_sbox_") else Environment.production())
            .environment_subdomain(os.environ["CKO_SUBDOMAIN"])
            .http_client_builder(GoLiveHttpClient())
            .build()
        )
    # A sandbox at another address (golive's proxy in front of its embedded sandbox): an Environment of that address,
    # and the configuration the builder would make (default_sdk.py: CheckoutConfiguration(...); CheckoutApi(...)) —
    # built here because the builder wants a merchant subdomain of checkout.com, which golive's address is not.
    uri = base_url.rstrip("/") + "/"
    here = Environment(uri, uri + "connect/token", uri, uri, uri, uri, uri, is_sandbox=True)
    credentials = DefaultKeysSdkCredentials(secret_key=key)
    return CheckoutApi(CheckoutConfiguration(credentials, here, GoLiveHttpClient().get_client()))


def main() -> int:
    parser = argparse.ArgumentParser(description="Take one payment with a card token.")
    parser.add_argument("--token", required=True, help="a card token (tok_…) from Frames or Flow")
    parser.add_argument("--ref", required=True, help="your order reference")
    args = parser.parse_args()

    request = PaymentRequest()
    request.source = PaymentRequestTokenSource()
    request.source.token = args.token
    request.amount = 1000
    request.currency = Currency.USD
    request.reference = args.ref
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://shop.example.com/orders/{args.ref}/payment"))
    try:
        payment = checkout_api().payments.request_payment(request, idempotency_key=key)
    except CheckoutApiException as exc:
        status = exc.http_metadata.status_code if exc.http_metadata else "?"
        print(f"payment refused: {status} {exc.error_type} {exc.error_details} (request {exc.request_id})", file=sys.stderr)
        return 1
    except CheckoutException as exc:  # a network failure the retries did not overcome
        print(f"payment not taken: {exc}", file=sys.stderr)
        return 1
    print(f"payment {payment.id}: {payment.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
