"""Send one postcard with the official `lob-python` package, as Lob's API reference shows it, set up for go-live.

    LOB_BASE_URL=https://api.lob.com/v1 LOB_API_KEY=test_… python send.py --to adr_… --ref order-42

What the package does by itself (lob-python 5.2.1, on urllib3 2):
- authenticates with HTTP Basic, the key as the user name and no password (configuration.py:369-398), as Lob asks;
- sends the body as JSON (api_client.py:595-596) and `Idempotency-Key` only when the caller passes idempotency_key
  (api/postcards_api.py:90-96): it makes no key of its own;
- retries nothing Lob answered: its urllib3 pool keeps urllib3's default Retry(3) (rest.py:65-66, configuration.py:209),
  which resends a request only when the connection failed before it was sent (util/retry.py:401-407) and never
  re-sends a POST after a reset or a read timeout (util/retry.py:507-510, 199-201);
- waits for an answer as long as the socket does: no timeout unless the caller passes `_request_timeout`.
So this example adds what the package leaves to its caller:
- one key per postcard, derived from the order reference (a uuid5: 36 characters, Lob takes up to 256), so every
  attempt, and a re-run after a crash within Lob's 24 hours, asks Lob for the same postcard;
- a retry, with that key, of a dropped or timed-out connection and of the answers Lob says to try again (408
  request_timeout, 429 rate_limit_exceeded, 500 internal_server_error, 503 service_unavailable), with exponential
  backoff and jitter (5 s at least after a 429: "Please wait 5 seconds and try your request again");
- a 20 s timeout on each attempt; Lob's error code printed on a refusal.
The host always comes from the environment (no default): a test run never reaches Lob by accident.
Exit 0 with the postcard's id; 1 with Lob's error code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid

import urllib3
from lob_python.api.postcards_api import PostcardsApi
from lob_python.api_client import ApiClient
from lob_python.configuration import Configuration
from lob_python.exceptions import ApiException
from lob_python.model.metadata_model import MetadataModel
from lob_python.model.postcard_editable import PostcardEditable
from lob_python.model.psc_use_type import PscUseType

ATTEMPTS = 4
RETRY_STATUSES = {408, 429, 500, 503}  # the codes Lob's error reference says to try again
POSTCARDS = uuid.UUID("5d0c9a6e-1b7f-4f3e-8a52-7c3b2e9d4f10")  # this application's namespace for postcard keys


def error_code(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return "no error code"
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) else "no error code"


def pause(attempt: int, status: int | None) -> None:
    delay = min(8.0, 2**attempt) * random.uniform(0.5, 1.0)
    time.sleep(max(delay, 5.0) if status == 429 else delay)


def main() -> int:
    parser = argparse.ArgumentParser(description="Send one postcard.")
    parser.add_argument("--to", required=True, help="the recipient: a saved address (adr_…)")
    parser.add_argument("--ref", required=True, help="your order reference: one postcard per reference")
    args = parser.parse_args()
    configuration = Configuration(host=os.environ["LOB_BASE_URL"], username=os.environ["LOB_API_KEY"])
    key = str(uuid.uuid5(POSTCARDS, args.ref))  # the same postcard, the same key: on a retry and after a restart
    postcard = PostcardEditable(
        to=args.to,
        front="tmpl_golivefront",
        back="tmpl_goliveback",
        use_type=PscUseType("operational"),
        description=args.ref,
        metadata=MetadataModel(order=args.ref),
    )
    with ApiClient(configuration) as client:
        api = PostcardsApi(client)
        for attempt in range(ATTEMPTS):
            last = attempt + 1 == ATTEMPTS
            try:
                created = api.create(postcard, idempotency_key=key, _request_timeout=20)
            except urllib3.exceptions.HTTPError as exc:  # reset, refused, timed out: the package does not resend a POST
                if last:
                    print(f"postcard failed: no answer from Lob after {ATTEMPTS} attempts ({type(exc).__name__})", file=sys.stderr)
                    return 1
                pause(attempt, None)
                continue
            except ApiException as exc:
                if exc.status in RETRY_STATUSES and not last:
                    pause(attempt, exc.status)
                    continue
                print(f"postcard failed: {exc.status} {error_code(exc)}", file=sys.stderr)
                return 1
            print(created.id)
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
