"""A mintfax client for golive's tests: correct by default, with one switchable flaw per --flaw.

MINTFAX_BASE_URL=... MINTFAX_API_KEY=... python faxclient.py --to +15005550000 --file doc.pdf --ref order-1 [--flaw NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
import uuid

import httpx

RETRYABLE = {500, 503}
FLAWS = (
    "no-key",
    "new-key-per-retry",
    "random-key",
    "constant-key",
    "long-key",
    "no-retry",
    "retry-4xx",
    "no-reset-retry",
    "retry-forever",
    "ignore-retry-after",
    "silent-errors",
    "crash",
    "fixed-delay",
    "no-jitter",
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--to", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--flaw", choices=FLAWS)
    parser.add_argument("--base", type=float, default=1.0, help="backoff base in seconds")
    args = parser.parse_args()
    global FLAW
    flaw = FLAW = args.flaw or ""
    if flaw == "crash":
        raise SystemExit("faxclient: configuration error: MINTFAX_REGION is not set")
    with open(args.file, "rb") as handle:
        content = handle.read()
    digest = hashlib.sha256(f"{args.ref}|{args.to}|".encode() + hashlib.sha256(content).digest()).hexdigest()
    key = {"random-key": uuid.uuid4().hex, "constant-key": "fax-key", "long-key": digest * 5}.get(flaw or "", digest)
    client = httpx.Client(
        base_url=os.environ["MINTFAX_BASE_URL"], timeout=10, headers={"Authorization": f"Bearer {os.environ['MINTFAX_API_KEY']}"}
    )
    max_attempts = 50 if flaw == "retry-forever" else 5
    for attempt in range(max_attempts):
        if flaw == "new-key-per-retry":
            key = uuid.uuid4().hex
        headers = {} if flaw == "no-key" else {"Idempotency-Key": key}
        try:
            response = client.post("/v1/fax", data={"to": args.to}, files={"file": (os.path.basename(args.file), content)}, headers=headers)
        except httpx.TransportError as exc:
            if flaw in ("no-reset-retry", "no-retry"):
                print(f"faxclient: network error: {exc}", file=sys.stderr)
                return 1
            print(f"faxclient: network error ({type(exc).__name__}), retrying", file=sys.stderr)
            time.sleep(delay(args.base, attempt))
            continue
        if response.status_code in (200, 201):
            print(f"sent {response.json()['id']}")
            return 0
        if response.status_code == 429 and flaw != "no-retry":
            wait = 0.0 if flaw == "ignore-retry-after" else float(response.headers.get("retry-after", "1"))
            time.sleep(max(wait, delay(args.base, attempt) if flaw == "ignore-retry-after" else wait))
            continue
        retry = response.status_code in RETRYABLE or (flaw == "retry-4xx" and response.status_code < 500)
        if retry and flaw != "no-retry" and attempt < max_attempts - 1:
            time.sleep(delay(args.base, attempt))
            continue
        report(response, silent=flaw == "silent-errors")
        return 1
    print("faxclient: giving up", file=sys.stderr)
    return 1


FLAW = ""


def delay(base: float, attempt: int) -> float:
    if FLAW == "fixed-delay":
        return base
    if FLAW == "no-jitter":
        return min(base * 2**attempt, 30 * base)
    return min(base * 2**attempt + random.uniform(0, base), 30 * base)


def report(response: httpx.Response, *, silent: bool) -> None:
    if silent:
        print(f"faxclient: request failed (HTTP {response.status_code})", file=sys.stderr)
        return
    try:
        body = response.json()
    except json.JSONDecodeError:
        body = {}
    print(f"faxclient: {response.status_code} {body.get('error')}: {body.get('message')} ({body.get('action')})", file=sys.stderr)
    for item in body.get("context", {}).get("errors", []):
        print(f"  {item.get('field')}: {item.get('message')}", file=sys.stderr)
    if body.get("error") == "insufficient_balance":
        print("ALERT: mintfax balance is too low; top up before sending more faxes", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
