"""Register this integration's webhook endpoint with mintfax, as the go-live checklist asks ("At least one
endpoint is registered via POST /account/webhooks", subscribed to "fax.delivered, fax.failed, and balance.low at
minimum"). Run once per environment; golive runs it against its embedded sandbox (webhook.register) and reads
back what it registered (HOOK-212, BAL-001).

    MINTFAX_BASE_URL=https://api.mintfax.com MINTFAX_API_KEY=fx_test_… python register_webhook.py https://example.com/webhooks/mintfax
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx

EVENTS = ["fax.delivered", "fax.failed", "balance.low"]


def main() -> int:
    parser = argparse.ArgumentParser(description="Register this integration's webhook endpoint with mintfax.")
    parser.add_argument("url", help="the endpoint's public URL")
    parser.add_argument("--events", default=",".join(EVENTS), help=f"comma-separated (default: {','.join(EVENTS)})")
    args = parser.parse_args()
    url, events = args.url, [e for e in args.events.split(",") if e]
    headers = {"Authorization": f"Bearer {os.environ['MINTFAX_API_KEY']}"}
    with httpx.Client(base_url=os.environ["MINTFAX_BASE_URL"], timeout=30, headers=headers) as api:
        response = api.post("/v1/account/webhooks", json={"url": url, "events": events})
    if response.status_code not in (200, 201):
        print(f"registering {url} failed: {response.status_code} {response.text[:300]}", file=sys.stderr)
        return 1
    # the endpoint's signing secret is in the answer: store it in your secret manager as MINTFAX_WEBHOOK_SECRET (never print it)
    print(f"registered {url} for {', '.join(events)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
