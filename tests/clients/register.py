"""A webhook registration step (webhook.register): POST /v1/account/webhooks with the events given.

register.py URL [EVENT ...]        no events: fail as a broken registration does (exit 1 with the answer)
"""

from __future__ import annotations

import os
import sys

import httpx


def main() -> int:
    url, events = sys.argv[1], sys.argv[2:]
    headers = {"Authorization": f"Bearer {os.environ['MINTFAX_API_KEY']}"}
    with httpx.Client(base_url=os.environ["MINTFAX_BASE_URL"], timeout=30, headers=headers) as api:
        response = api.post("/v1/account/webhooks", json={"url": url, "events": events})
    if response.status_code not in (200, 201):
        print(f"registration failed: {response.status_code} {response.text[:200]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
