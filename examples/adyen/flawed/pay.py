"""Make one card payment with the official `Adyen` package on its defaults, the way a quick start reads.

    ADYEN_BASE_URL=https://checkout-test.adyen.com ADYEN_API_KEY=… python pay.py --card test_4111111111111111 --ref order-42

Not ready, and golive says why: the Adyen package (16.0.0) sends one request per call and retries nothing, and
without `idempotency_key=` it sends no Idempotency-Key (Adyen/client.py:388-389). A 503 or a dropped connection
fails the payment, and a manual retry of a payment that got no answer could charge twice.
"""

from __future__ import annotations

import argparse
import os
import sys

import Adyen


def main() -> int:
    parser = argparse.ArgumentParser(description="Make one card payment.")
    parser.add_argument("--card", required=True)
    parser.add_argument("--ref", required=True)
    args = parser.parse_args()
    adyen = Adyen.Adyen(xapikey=os.environ["ADYEN_API_KEY"], platform="test")
    adyen.checkout.payments_api.baseUrl = os.environ["ADYEN_BASE_URL"].rstrip("/") + "/v72"
    request = {
        "amount": {"currency": "EUR", "value": 1000},
        "reference": args.ref,
        "merchantAccount": os.environ.get("ADYEN_MERCHANT_ACCOUNT", "GoliveECOM"),
        "paymentMethod": {"type": "scheme", "encryptedCardNumber": args.card},
        "returnUrl": "https://shop.example.com/return",
    }
    try:
        payment = adyen.checkout.payments_api.payments(request).message
    except Adyen.AdyenError as exc:
        print(f"payment failed: {type(exc).__name__} {exc.status_code} errorCode={exc.error_code}", file=sys.stderr)
        return 1
    print(payment.get("pspReference"), payment.get("resultCode"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
