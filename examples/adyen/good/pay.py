"""Make one card payment with the official `Adyen` package (Checkout API, POST /payments), set up for go-live.

    ADYEN_BASE_URL=https://checkout-test.adyen.com ADYEN_API_KEY=… python pay.py --card test_4111111111111111 --ref order-42

The Adyen package (16.0.0) sends exactly one request per call: it retries nothing, and it sends an Idempotency-Key
only when the caller passes `idempotency_key=` (Adyen/client.py:388-389). What makes this ready is the wrapper below:
- one Idempotency-Key (a UUID, as Adyen recommends; at most 64 characters) per payment, made before the first attempt
  and sent again on every retry, so a retried payment is never a second payment;
- retries what Adyen's servers failed: a 503 and a request that got no answer (a dropped connection or a timeout:
  requests' ConnectionError and Timeout, which the package does not catch); never a 4xx (Adyen: "Do not repeat the
  request without first modifying it");
- waits min(0.5 s · 2^n, 4 s) · U(0.5, 1) between attempts, at most 4 attempts;
- a 10 s timeout per request (http_timeout; the package's default is 30 s).
The endpoint always comes from the environment: a test run never reaches checkout-test.adyen.com by accident.
Exit 0 printing the pspReference; 1 with Adyen's error (its status and errorCode).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid

import Adyen
import requests

ATTEMPTS = 4
RETRYABLE = {503}


def backoff(retry: int) -> float:
    return min(0.5 * 2**retry, 4.0) * random.uniform(0.5, 1.0)


def pay(adyen: Adyen.Adyen, request: dict[str, object]) -> dict[str, object]:
    key = str(uuid.uuid4())  # one key for this payment, reused by every retry
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        try:
            return adyen.checkout.payments_api.payments(request, idempotency_key=key).message
        except Adyen.AdyenError as exc:
            if exc.status_code not in RETRYABLE or last:
                raise
        except (requests.ConnectionError, requests.Timeout):  # no answer: the payment may or may not exist; retry it
            if last:
                raise
        time.sleep(backoff(attempt))
    raise AssertionError("unreachable")


def main() -> int:
    parser = argparse.ArgumentParser(description="Make one card payment.")
    parser.add_argument("--card", required=True, help="the (test) card")
    parser.add_argument("--ref", required=True, help="your order reference")
    args = parser.parse_args()
    adyen = Adyen.Adyen(xapikey=os.environ["ADYEN_API_KEY"], platform="test", http_timeout=10)
    adyen.checkout.payments_api.baseUrl = os.environ["ADYEN_BASE_URL"].rstrip("/") + "/v72"
    request = {
        "amount": {"currency": "EUR", "value": 1000},
        "reference": args.ref,
        "merchantAccount": os.environ.get("ADYEN_MERCHANT_ACCOUNT", "GoliveECOM"),
        "paymentMethod": {"type": "scheme", "encryptedCardNumber": args.card},
        "returnUrl": "https://shop.example.com/return",
    }
    try:
        payment = pay(adyen, request)
    except Adyen.AdyenError as exc:
        print(f"payment failed: {type(exc).__name__} {exc.status_code} errorCode={exc.error_code}", file=sys.stderr)
        return 1
    except (requests.ConnectionError, requests.Timeout) as exc:
        print(f"payment failed: no answer from Adyen after {ATTEMPTS} attempts ({type(exc).__name__})", file=sys.stderr)
        return 1
    print(payment.get("pspReference"), payment.get("resultCode"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
