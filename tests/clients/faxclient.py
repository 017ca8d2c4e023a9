"""A mintfax client for golive's tests: correct by default, with one switchable flaw per --flaw.

MINTFAX_BASE_URL=... MINTFAX_API_KEY=... python faxclient.py --to +15005550000 --file doc.pdf --ref order-1 [--flaw NAME]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import sys
import time
import urllib.parse
import uuid

import filetype
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
    "crash-on-error",  # reads an error answer as a nested {"error": {"code"}} (another provider's shape): TypeError
    "fixed-delay",
    "no-jitter",
    "no-timeout",
    "no-file-check",
    "top-up-retry-402",  # on 402 insufficient_balance, "tops up" (the guide: "Top up your balance before retrying") and retries once
    "leak-secrets",
    "give-up-exit-0",  # after its last attempt fails, prints that it gave up and exits 0 anyway
    "crash-on-success",  # reads the created resource's id as a nested object: TypeError on every successful create
    "raw-type-only",  # prints only the error's type, as a Node SDK's `err.rawType` (`invalid_request_error`), never its code
)
ACCEPTED = {"pdf", "docx", "xlsx", "jpg", "png", "tif", "html", "txt"}
MAX_BYTES = 10_000_000  # "Files are under 10 MB" (go-live checklist): decimal megabytes, strictly under


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--to", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--flaw", choices=FLAWS, action="append", default=[])
    parser.add_argument("--base", type=float, default=1.0, help="backoff base in seconds")
    parser.add_argument("--timeout", type=float, default=10.0, help="request timeout in seconds")
    args = parser.parse_args()
    global FLAWS_ON
    flaws = FLAWS_ON = set(args.flaw)
    if "leak-secrets" in flaws:  # prints its key every way a careless client might: golive must mask each
        api_key = os.environ["MINTFAX_API_KEY"]
        print(f"faxclient: using {api_key} at {os.environ['MINTFAX_BASE_URL']}")
        print(f"Authorization: Bearer {api_key}", file=sys.stderr)
        print(json.dumps({"api_key": api_key, "env": dict(os.environ)}), file=sys.stderr)
        print(api_key * 40)  # whatever the output tail's cut, it falls inside a key
        print(api_key * 40, file=sys.stderr)
        # the forms a logging library or a debug print really produces (README, Security)
        print(api_key.upper(), api_key[:14] + "\n" + api_key[14:], api_key.encode().hex(), file=sys.stderr)
        print(json.dumps({"key": api_key}, ensure_ascii=True), urllib.parse.quote_plus(api_key), file=sys.stderr)
        print("Authorization: Basic " + base64.b64encode(f"api:{api_key}".encode()).decode(), file=sys.stderr)
    if "crash" in flaws:
        raise SystemExit("faxclient: configuration error: MINTFAX_REGION is not set")
    with open(args.file, "rb") as handle:
        content = handle.read()
    if "no-file-check" not in flaws:
        kind = filetype.guess(content)
        if len(content) >= MAX_BYTES:
            print(f"faxclient: {args.file} is {len(content)} bytes; mintfax accepts files under 10 MB", file=sys.stderr)
            return 2
        if kind is not None and kind.extension not in ACCEPTED:
            print(f"faxclient: {args.file} is {kind.extension}, which mintfax cannot fax", file=sys.stderr)
            return 2
    digest = hashlib.sha256(f"{args.ref}|{args.to}|".encode() + hashlib.sha256(content).digest()).hexdigest()
    variants = {"random-key": uuid.uuid4().hex, "constant-key": "fax-key", "long-key": digest * 5}
    key = next((variants[f] for f in flaws if f in variants), digest)
    client = httpx.Client(
        base_url=os.environ["MINTFAX_BASE_URL"],
        timeout=None if "no-timeout" in flaws else args.timeout,
        headers={"Authorization": f"Bearer {os.environ['MINTFAX_API_KEY']}"},
    )
    max_attempts = 50 if "retry-forever" in flaws else 5
    topped_up = False
    for attempt in range(max_attempts):
        if "new-key-per-retry" in flaws:
            key = uuid.uuid4().hex
        headers = {} if "no-key" in flaws else {"Idempotency-Key": key}
        try:
            response = client.post("/v1/fax", data={"to": args.to}, files={"file": (os.path.basename(args.file), content)}, headers=headers)
        except httpx.TransportError as exc:
            if flaws & {"no-reset-retry", "no-retry"}:
                print(f"faxclient: network error: {exc}", file=sys.stderr)
                return 1
            print(f"faxclient: network error ({type(exc).__name__}), retrying", file=sys.stderr)
            time.sleep(delay(args.base, attempt))
            continue
        if response.status_code in (200, 201):
            if "crash-on-success" in flaws:
                print(f"sent {response.json()['id']['value']}")  # a str, not a dict: an uncaught TypeError
            print(f"sent {response.json()['id']}")
            return 0
        if "crash-on-error" in flaws:
            code = response.json()["error"]["code"]  # a str, not a dict: an uncaught TypeError, as an SDK for another API would
            print(code)
        if response.status_code == 429 and "no-retry" not in flaws:
            wait = 0.0 if "ignore-retry-after" in flaws else float(response.headers.get("retry-after", "1"))
            time.sleep(max(wait, delay(args.base, attempt) if "ignore-retry-after" in flaws else wait))
            continue
        if response.status_code == 402 and "top-up-retry-402" in flaws and not topped_up:
            print("faxclient: balance too low, topping up before retrying", file=sys.stderr)
            topped_up = True
            continue
        retry = response.status_code in RETRYABLE or ("retry-4xx" in flaws and response.status_code < 500)
        if retry and "no-retry" not in flaws and attempt < max_attempts - 1:
            time.sleep(delay(args.base, attempt))
            continue
        report(response, silent="silent-errors" in flaws)
        return 0 if "give-up-exit-0" in flaws else 1
    print("faxclient: giving up", file=sys.stderr)
    return 0 if "give-up-exit-0" in flaws else 1


FLAWS_ON: set[str] = set()


def delay(base: float, attempt: int) -> float:
    if "fixed-delay" in FLAWS_ON:
        return base
    if "no-jitter" in FLAWS_ON:
        return min(base * 2**attempt, 30 * base)
    return min(base * 2**attempt + random.uniform(0, base), 30 * base)


def report(response: httpx.Response, *, silent: bool) -> None:
    if silent:
        print(f"faxclient: request failed (HTTP {response.status_code})", file=sys.stderr)
        return
    if "raw-type-only" in FLAWS_ON:  # stripe-node's StripeError.rawType is the envelope's `type`; here the code + _error
        try:
            code = response.json().get("error")
        except json.JSONDecodeError:
            code = None
        print(f"faxclient: request failed: {code}_error", file=sys.stderr)
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
