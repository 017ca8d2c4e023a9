"""Send one fax through mintfax, safely: the go-live checklist's retry and idempotency rules, in one file.

    MINTFAX_BASE_URL=https://api.mintfax.com MINTFAX_API_KEY=fx_test_... \
        python send_fax.py --to +12015550100 --file invoice.pdf --ref order-1042

- The idempotency key is derived from your reference, the recipient and the document, so a retry
  (and a re-run after a crash) sends the same key and mintfax never sends the fax twice.
- Network errors, timeouts, 500 and 503 are retried with exponential backoff and jitter
  (1 s base, 30 s cap, 5 attempts); 429 waits for Retry-After; other 4xx are not retried.
- Errors print mintfax's stable `error` code, the message and the action, and field errors.
- Documents are checked (type by content, size) before anything is uploaded.
Needs: httpx, filetype.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time

import filetype
import httpx

ACCEPTED = {"pdf", "docx", "xlsx", "jpg", "png", "tif", "html", "txt"}
MAX_BYTES = 10_000_000  # "Files are under 10 MB": decimal megabytes, strictly under
RETRYABLE = {500, 503}
MAX_ATTEMPTS, BASE_S, CAP_S = 5, 1.0, 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description="Send one fax through mintfax.")
    parser.add_argument("--to", required=True, help="recipient, E.164")
    parser.add_argument("--file", required=True, help="the document")
    parser.add_argument("--ref", required=True, help="your reference for this fax (an order id)")
    args = parser.parse_args()
    with open(args.file, "rb") as handle:
        content = handle.read()
    with httpx.Client(
        base_url=os.environ.get("MINTFAX_BASE_URL", "https://api.mintfax.com"),
        headers={"Authorization": f"Bearer {os.environ['MINTFAX_API_KEY']}"},
        timeout=httpx.Timeout(10.0, connect=5.0),
    ) as client:
        return send(client, args.to, os.path.basename(args.file), content, args.ref)


def send(client: httpx.Client, to: str, name: str, content: bytes, ref: str) -> int:
    """Send one fax; 0 when mintfax accepted it (or had already), 1 or 2 otherwise."""
    problem = check_document(name, content)
    if problem:
        print(f"send_fax: not sending: {problem}", file=sys.stderr)
        return 2
    key = hashlib.sha256(f"{ref}|{to}|".encode() + hashlib.sha256(content).digest()).hexdigest()
    for attempt in range(MAX_ATTEMPTS):
        last = attempt == MAX_ATTEMPTS - 1
        try:
            response = client.post("/v1/fax", data={"to": to}, files={"file": (name, content)}, headers={"Idempotency-Key": key})
        except httpx.TransportError as exc:  # reset, timeout, DNS: the fax may or may not have been accepted
            print(f"send_fax: attempt {attempt + 1}: {type(exc).__name__}", file=sys.stderr)
            if last:
                break
            time.sleep(backoff(attempt))
            continue
        if response.is_success:
            fax = response.json()
            replayed = " (replayed)" if response.headers.get("Idempotency-Replayed") == "true" else ""
            print(f"queued {fax['id']} to {fax['to']}{replayed}")
            return 0
        if response.status_code == 429 and not last:
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        if response.status_code in RETRYABLE and not last:
            print(f"send_fax: attempt {attempt + 1}: {response.status_code}, retrying", file=sys.stderr)
            time.sleep(backoff(attempt))
            continue
        return report(response)
    print(f"send_fax: gave up after {MAX_ATTEMPTS} attempts", file=sys.stderr)
    return 1


def backoff(attempt: int) -> float:
    return min(BASE_S * 2**attempt + random.uniform(0, 1), CAP_S)


def check_document(name: str, content: bytes) -> str | None:
    if len(content) >= MAX_BYTES:
        return f"{name} is {len(content):,} bytes; mintfax accepts files under 10 MB (10,000,000 bytes)"
    kind = filetype.guess(content)
    if kind is not None and kind.extension not in ACCEPTED:
        return f"{name} is {kind.extension}, which mintfax cannot fax"
    return None


def report(response: httpx.Response) -> int:
    try:
        body = response.json()
    except ValueError:
        body = {}
    print(
        f"send_fax: {response.status_code} {body.get('error')}: {body.get('message')} {body.get('action') or ''}".rstrip(), file=sys.stderr
    )
    for item in body.get("context", {}).get("errors", []):
        print(f"  {item.get('field')}: {item.get('message')}", file=sys.stderr)
    if body.get("error") == "insufficient_balance":
        print("ALERT: mintfax balance too low - top up before sending more faxes", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
