"""mintfax clients built on common retry libraries, configured as their documentation suggests.

python libclient.py --lib urllib3-default|urllib3-post|httpx-transport|tenacity|stamina --to .. --file .. --ref ..
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

    if args.lib.startswith("urllib3"):
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        # the retry recipe most tutorials show; "-post" adds allowed_methods=None so POST is retried too
        extra = {"allowed_methods": None} if args.lib == "urllib3-post" else {}
        retry = Retry(total=4, backoff_factor=1, status_forcelist=[500, 503], **extra)
        session = requests.Session()
        session.mount("http://", HTTPAdapter(max_retries=retry))
        try:
            response = session.post(f"{base}/v1/fax", data=data, files=files, headers=headers, timeout=10)
        except requests.RequestException as exc:
            print(f"libclient: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        return finish(response.status_code, response.text)

    import httpx

    if args.lib == "httpx-transport":
        with httpx.Client(transport=httpx.HTTPTransport(retries=3), timeout=10) as client:
            try:
                response = client.post(f"{base}/v1/fax", data=data, files=files, headers=headers)
            except httpx.HTTPError as exc:
                print(f"libclient: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 1
            return finish(response.status_code, response.text)

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
    elif args.lib == "stamina":
        import stamina

        send = stamina.retry(on=(Retryable, httpx.TransportError))(send)  # type: ignore[assignment]
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
