"""mintfax clients built on common retry libraries, configured as their documentation suggests.

python libclient.py --lib NAME --to .. --file .. --ref ..

urllib3-default    requests + urllib3 Retry(total=4, backoff_factor=1, status_forcelist=[500, 503]): POST is not retried
urllib3-post       the same with allowed_methods=None: retries POST after 0, 2, 4, 8 s (urllib3 2.x: the first is immediate)
urllib3-b0         allowed_methods=None and urllib3's default backoff_factor=0: every retry immediate
httpx-transport    httpx.HTTPTransport(retries=3): retries failed connections only
httpx-retries      httpx-retries' RetryTransport(Retry(total=4, backoff_factor=0.5)): backoff_factor * 2**n * U(0, 1)
tenacity           wait_exponential_jitter(initial=1, max=30, jitter=1), stop_after_attempt(5): the documented schedule
tenacity-fixed     wait_fixed(1), stop_after_attempt(5)
stamina            stamina.retry's defaults: 10 attempts, 0.1 * 2**n + U(0, 1) capped at 5 s
backoff            backoff.on_exception(backoff.expo, max_tries=5): full jitter, U(0, 2**n)
stripe             the official stripe package, max_network_retries=2: 0.5 s, then 0.5 * 2**(n-1) * U(0.5, 1), at least 0.5 s
hammer             a hand-written loop retrying every 0.2 s, 11 attempts
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys


class Retryable(Exception):
    """A 5xx worth retrying (for the decorator libraries)."""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--ref", required=True)
    args = parser.parse_args()
    with open(args.file, "rb") as handle:
        content = handle.read()
    key = hashlib.sha256(f"{args.ref}|{args.to}".encode() + content).hexdigest()
    base, token = os.environ["MINTFAX_BASE_URL"], os.environ["MINTFAX_API_KEY"]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    files = {"file": (os.path.basename(args.file), content)}
    data = {"to": args.to}

    def post_through(transport: httpx.BaseTransport) -> int:
        """One POST through an httpx transport that does the retrying itself."""
        with httpx.Client(transport=transport, timeout=10) as client:
            try:
                response = client.post(f"{base}/v1/fax", data=data, files=files, headers=headers)
            except httpx.HTTPError as exc:
                print(f"libclient: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 1
            return finish(response.status_code, response.text)

    if args.lib == "stripe":
        import stripe

        client = stripe.StripeClient("sk_test_golive", base_addresses={"api": base}, max_network_retries=2)
        try:
            client.v1.charges.create(params={"amount": 100, "currency": "usd"}, options={"idempotency_key": key})
        except stripe.StripeError as exc:
            print(f"libclient: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # stripe cannot parse mintfax's error envelope: what golive reports as a crash
            raise SystemExit(f"libclient: stripe failed: {type(exc).__name__}") from exc
        return 0

    if args.lib == "hammer":
        import time

        import requests

        for _ in range(11):
            response = requests.post(f"{base}/v1/fax", data=data, files=files, headers=headers, timeout=10)
            if response.status_code < 500:
                return finish(response.status_code, response.text)
            time.sleep(0.2)
        return finish(response.status_code, response.text)

    if args.lib.startswith("urllib3"):
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        # the retry recipe most tutorials show; "-post" adds allowed_methods=None so POST is retried too, and
        # "-b0" leaves backoff_factor at urllib3's default of 0
        extra: dict[str, object] = {"allowed_methods": None} if args.lib in ("urllib3-post", "urllib3-b0") else {}
        retry = Retry(total=4, backoff_factor=0 if args.lib == "urllib3-b0" else 1, status_forcelist=[500, 503], **extra)
        session = requests.Session()
        session.mount("http://", HTTPAdapter(max_retries=retry))
        try:
            response = session.post(f"{base}/v1/fax", data=data, files=files, headers=headers, timeout=10)
        except requests.RequestException as exc:
            print(f"libclient: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        return finish(response.status_code, response.text)

    import httpx

    if args.lib == "httpx-retries":
        from httpx_retries import Retry as HttpxRetry
        from httpx_retries import RetryTransport

        retrying = RetryTransport(retry=HttpxRetry(total=4, backoff_factor=0.5, status_forcelist=[500, 503], allowed_methods=["POST"]))
        return post_through(retrying)

    if args.lib == "httpx-transport":
        return post_through(httpx.HTTPTransport(retries=3))

    def send() -> httpx.Response:
        response = httpx.post(f"{base}/v1/fax", data=data, files=files, headers=headers, timeout=10)
        if response.status_code in (500, 503):
            raise Retryable(response.status_code)
        return response

    if args.lib == "tenacity":
        import tenacity

        send = tenacity.retry(  # type: ignore[assignment]
            retry=tenacity.retry_if_exception_type((Retryable, httpx.TransportError)),
            wait=tenacity.wait_exponential_jitter(initial=1, max=30, jitter=1),
            stop=tenacity.stop_after_attempt(5),
            reraise=True,
        )(send)
    elif args.lib == "tenacity-fixed":
        import tenacity

        send = tenacity.retry(  # type: ignore[assignment]
            retry=tenacity.retry_if_exception_type((Retryable, httpx.TransportError)),
            wait=tenacity.wait_fixed(1),
            stop=tenacity.stop_after_attempt(5),
            reraise=True,
        )(send)
    elif args.lib == "stamina":
        import stamina

        send = stamina.retry(on=(Retryable, httpx.TransportError))(send)  # type: ignore[assignment]
    elif args.lib == "backoff":
        import backoff

        send = backoff.on_exception(backoff.expo, (Retryable, httpx.TransportError), max_tries=5)(send)  # type: ignore[assignment]
    try:
        response = send()
    except (Retryable, httpx.HTTPError) as exc:
        print(f"libclient: gave up: {type(exc).__name__} {exc}", file=sys.stderr)
        return 1
    return finish(response.status_code, response.text)


def finish(status: int, text: str) -> int:
    if status < 300:
        print("sent", text[:80])
        return 0
    print(f"libclient: {status} {text[:300]}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
