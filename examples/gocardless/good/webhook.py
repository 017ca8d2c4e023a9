"""Receive GoCardless webhooks the way GoCardless's docs show it: `gocardless_pro.webhooks.parse` over the raw body,
498 for an invalid signature, each event handled once.

    GOCARDLESS_WEBHOOK_ENDPOINT_SECRET=… python webhook.py --port 4242
    python webhook.py count EVENT_ID       # how often an event was processed (golive's processed_count)

- parse (gocardless-pro 3.22.0, webhooks.py:29-33, 50-58) computes the hex HMAC-SHA256 of the body it is given with the
  endpoint's secret, compares it with the Webhook-Signature header in constant time and raises InvalidSignatureError
  when they differ; then it reads the list under "events". It must get the raw bytes: JSON parsed and dumped again
  is other bytes (GoCardless sends compact JSON).
- An invalid signature is answered 498 Token Invalid, as GoCardless's API reference asks.
- A delivery may hold several events, and an event may come again: each event id is recorded, and a repeat is
  acknowledged and not processed again (the README: "use the event IDs to deduplicate").
Processed events are kept in SQLite (RECEIVER_DB, default ./gocardless-events.db); use your database.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gocardless_pro import webhooks
from gocardless_pro.errors import InvalidSignatureError

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
        raw = self.rfile.read(length)
        try:
            parsed = webhooks.parse(raw, os.environ["GOCARDLESS_WEBHOOK_ENDPOINT_SECRET"], self.headers.get("Webhook-Signature") or "")
        except InvalidSignatureError:
            return self.answer(498)
        except (ValueError, KeyError, TypeError):  # signed but not GoCardless's shape
            return self.answer(400)
        with events() as db:  # each event once: a repeat is acknowledged, not handled again
            for event in parsed:
                first = db.execute("INSERT INTO processed VALUES (?, 1) ON CONFLICT(event_id) DO NOTHING", (event.id,)).rowcount
                if first:
                    self.handle_event(event)
        self.answer(200)

    def handle_event(self, event: object) -> None:
        """Act on a payment's events (switch on details.cause): quickly, or hand it to a queue."""

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
    ThreadingHTTPServer.request_queue_size = 128  # a web server's backlog, not http.server's 5 (which drops a burst)
    ThreadingHTTPServer(("127.0.0.1", args.port), GoCardlessEndpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
