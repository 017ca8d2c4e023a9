"""Take one payment against a mandate with the official `gocardless-pro` package, set up for go-live.

    GOCARDLESS_BASE_URL=https://api-sandbox.gocardless.com GOCARDLESS_ACCESS_TOKEN=… python pay.py --mandate MD123 --ref order-42

What the package does by itself (gocardless-pro 3.22.0):
- puts an Idempotency-Key on every POST, a new uuid4 per call unless the caller gives one, once per call so that its
  own retries carry the same key (services/base_service.py:56-70);
- retries a timeout, a connection error and an answer that is not JSON, three attempts 0.5 s apart
  (base_service.py:28-36), but never an error answer in GoCardless's JSON: a 5xx is raised as
  GoCardlessInternalError, a 429 as RateLimitError (errors.py:56-91);
- answers a used key's 409 idempotent_creation_conflict by fetching the payment it names (payments_service.py:42-52).
So this example adds what the package leaves to its caller:
- one key per logical payment, derived from the order reference, so every attempt and a re-run after a crash ask
  GoCardless for the same payment (the package's own key would be new on every call);
- a retry of GoCardless's 5xx and 429 with that same key, with backoff.
The base URL always comes from the environment (no default): a test run never reaches GoCardless by accident.
Exit 0 with the payment's id; 1 with GoCardless's error type and reason.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid

import gocardless_pro
from gocardless_pro import errors

ATTEMPTS = 4
PAYMENTS = uuid.UUID("0b8e4d1c-3f6a-4c2e-9d57-6a1f2e3b4c5d")  # this application's namespace for payment keys


def reasons(exc: errors.ApiError) -> str:
    """GoCardless's error: its type and each error's reason (validation_failed, rate_limit_exceeded, …)."""
    found = [str(e.get("reason") or e.get("field")) for e in exc.errors or [] if isinstance(e, dict)]
    return " ".join([str(exc.type), *found])


def main() -> int:
    parser = argparse.ArgumentParser(description="Take one payment against a Direct Debit mandate.")
    parser.add_argument("--mandate", required=True, help="the customer's mandate id (MD…)")
    parser.add_argument("--ref", required=True, help="your order reference: one payment per reference")
    args = parser.parse_args()
    client = gocardless_pro.Client(
        access_token=os.environ["GOCARDLESS_ACCESS_TOKEN"], base_url=os.environ["GOCARDLESS_BASE_URL"], timeout=20
    )
    key = str(uuid.uuid5(PAYMENTS, args.ref))  # the same payment, the same key: on a retry and after a restart
    params = {"amount": 1000, "currency": "GBP", "reference": args.ref, "links": {"mandate": args.mandate}}
    for attempt in range(ATTEMPTS):
        try:
            payment = client.payments.create(params=params, headers={"Idempotency-Key": key})
        except (errors.GoCardlessInternalError, errors.RateLimitError, errors.MalformedResponseError) as exc:
            failure = f"{getattr(exc, 'code', None) or ''} {reasons(exc) if isinstance(exc, errors.ApiError) else exc}".strip()
        except errors.ApiError as exc:  # the request itself is wrong: retrying it changes nothing
            print(f"payment failed: {exc.code} {reasons(exc)}: {exc}", file=sys.stderr)
            return 1
        except errors.GoCardlessProError as exc:
            print(f"payment failed: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:  # requests' ConnectionError and Timeout, after the package's own three attempts
            failure = type(exc).__name__
        else:
            print(payment.id)
            return 0
        if attempt + 1 < ATTEMPTS:
            time.sleep(2**attempt * random.uniform(0.5, 1.0))
    print(f"payment failed: GoCardless did not take it after {ATTEMPTS} attempts ({failure})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
