"""Receive GoCardless webhooks — flawed on purpose (golive demo --provider gocardless --flawed). Each mistake is one a
real integration makes:
- it verifies the signature over json.dumps(request.get_json()), JSON it parsed and dumped again, not the raw body:
  Python's ", " and ": " separators and \\u escapes are other bytes than GoCardless's compact JSON, so every real
  delivery fails the check (HOOK-201, HOOK-213);
- an invalid signature gets 401, not the 498 GoCardless's API reference asks for (HOOK-202, HOOK-203, HOOK-205,
  HOOK-206);
- every event is processed each time it arrives, a repeat too (HOOK-208).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sqlite3
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024


def events() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ.get("RECEIVER_DB", "gocardless-events.db"), timeout=10, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, times INTEGER)")
    return db


class GoCardlessEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return self.answer(413)
        try:
            payload = json.loads(self.rfile.read(length))  # what a framework's request.get_json() gives
        except ValueError:
            return self.answer(400)
        secret = os.environ["GOCARDLESS_WEBHOOK_ENDPOINT_SECRET"].encode()
        digest = hmac.new(secret, json.dumps(payload).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(digest, self.headers.get("Webhook-Signature") or ""):
            return self.answer(401)
        with events() as db:
            for event in payload.get("events") or []:
                db.execute("INSERT INTO processed VALUES (?, 1) ON CONFLICT(event_id) DO UPDATE SET times = times + 1", (event.get("id"),))
        self.answer(200)

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    if sys.argv[1:2] == ["count"]:
        row = events().execute("SELECT times FROM processed WHERE event_id = ?", (sys.argv[2],)).fetchone()
        print(row[0] if row else 0)
        return 0
    parser = argparse.ArgumentParser(description="Receive GoCardless webhooks.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    events().close()
    ThreadingHTTPServer.request_queue_size = 128
    ThreadingHTTPServer(("127.0.0.1", args.port), GoCardlessEndpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
