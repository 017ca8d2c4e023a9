"""Take one payment with the official `gocardless-pro` package — flawed on purpose (golive demo --provider gocardless
--flawed). Each mistake is one a real integration makes:
- no key of its own: the package makes a new uuid4 per call (services/base_service.py:66-68), so each retry below is a
  new payment to GoCardless (IDEM-102);
- every ApiError is retried, a 4xx too: an invalid request is sent again and again (RETRY-105);
- the error is printed as "payment failed", without GoCardless's error type or reason (ERR-101).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import gocardless_pro
from gocardless_pro import errors

ATTEMPTS = 4


def main() -> int:
    parser = argparse.ArgumentParser(description="Take one payment against a Direct Debit mandate.")
    parser.add_argument("--mandate", required=True)
    parser.add_argument("--ref", required=True)
    args = parser.parse_args()
    client = gocardless_pro.Client(
        access_token=os.environ["GOCARDLESS_ACCESS_TOKEN"], base_url=os.environ["GOCARDLESS_BASE_URL"], timeout=20
    )
    params = {"amount": 1000, "currency": "GBP", "reference": args.ref, "links": {"mandate": args.mandate}}
    for _ in range(ATTEMPTS):
        try:
            payment = client.payments.create(params=params)  # a new key on every call
        except (errors.GoCardlessProError, OSError):
            time.sleep(0.5)
            continue
        print(payment.id)
        return 0
    print("payment failed", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
