"""Receive Checkout.com webhooks — with two mistakes golive finds.

    CKO_WEBHOOK_KEY=… python webhook.py --port 8700

1. The signature is computed over the payload parsed and serialised again, not over the raw body: a delivery whose
   JSON is formatted differently from json.dumps's is refused, as Checkout.com's docs warn — compact JSON, as golive
   takes Checkout.com to send it, among them (HOOK-201, HOOK-213).
2. A redelivery of an event already handled is answered 409: Checkout.com counts that as a failure and resends it, up
   to eight times (HOOK-207).
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


def events() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ.get("RECEIVER_DB", "checkout-events.db"), timeout=10, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, times INTEGER)")
    return db


class CheckoutEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            event = json.loads(raw)
        except ValueError:
            return self.answer(400)
        body = json.dumps(event).encode()  # flaw 1: not the bytes that were signed
        expected = hmac.new(os.environ["CKO_WEBHOOK_KEY"].encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("cko-signature") or ""):
            return self.answer(401)
        with events() as db:
            first = db.execute("INSERT INTO processed VALUES (?, 1) ON CONFLICT(event_id) DO NOTHING", (str(event.get("id")),)).rowcount
        self.answer(200 if first else 409)  # flaw 2: a redelivery is an error here

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
    parser = argparse.ArgumentParser(description="Receive Checkout.com webhooks.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    events().close()
    ThreadingHTTPServer.request_queue_size = 128
    ThreadingHTTPServer(("127.0.0.1", args.port), CheckoutEndpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
