"""Receive Square webhooks the way Square's docs show it: `square.utils.webhooks_helper.verify_signature` over the raw
body and the notification URL, each event handled once.

    SQUARE_WEBHOOK_SIGNATURE_KEY=… SQUARE_NOTIFICATION_URL=https://example.com/webhooks/square python webhook.py --port 4242
    python webhook.py count EVENT_ID       # how often an event was processed (golive's processed_count)

- verify_signature (squareup 46.0.0.20260916, square/utils/webhooks_helper.py) computes base64 HMAC-SHA256 of the
  notification URL + the raw body with the subscription's signature key and compares it in constant time. The URL
  must be the one the subscription names, byte for byte, so it comes from the configuration, not the request.
- Square's signature has no timestamp: a recorded notification verifies forever, so dedupe by `event_id` matters.
- Square may send a notification more than once: each event_id is recorded, and a redelivery is acknowledged with 200
  and not processed again.
Processed events are kept in SQLite (RECEIVER_DB, default ./square-events.db); use your database.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from square.utils.webhooks_helper import verify_signature  # imported before the port opens, as a web app does

MAX_BODY = 1024 * 1024


def events() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ.get("RECEIVER_DB", "square-events.db"), timeout=10, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, times INTEGER)")
    return db


class SquareEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return self.answer(413)
        raw = self.rfile.read(length)
        try:
            body = raw.decode("utf-8")
            valid = verify_signature(
                request_body=body,
                signature_header=self.headers.get("x-square-hmacsha256-signature") or "",
                signature_key=os.environ["SQUARE_WEBHOOK_SIGNATURE_KEY"],
                notification_url=os.environ["SQUARE_NOTIFICATION_URL"],
            )
            event = json.loads(body) if valid else None
        except (UnicodeDecodeError, ValueError):
            return self.answer(400)
        if not isinstance(event, dict) or not isinstance(event.get("event_id"), str):
            return self.answer(400 if valid else 401)
        with events() as db:  # each event once: a redelivery is acknowledged, not handled again
            first = db.execute("INSERT INTO processed VALUES (?, 1) ON CONFLICT(event_id) DO NOTHING", (event["event_id"],)).rowcount
        if first:
            self.handle_event(event)
        self.answer(200)

    def handle_event(self, event: dict) -> None:
        """Act on payment.created / payment.updated: quickly, or hand it to a queue (Square resends what is not
        acknowledged in time)."""

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
    parser = argparse.ArgumentParser(description="Receive Square webhooks.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    events().close()
    ThreadingHTTPServer.request_queue_size = 128  # a web server's backlog, not http.server's 5 (which drops a burst)
    ThreadingHTTPServer(("127.0.0.1", args.port), SquareEndpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
