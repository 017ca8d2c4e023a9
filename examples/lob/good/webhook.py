"""Receive Lob webhooks: the signature checked over the raw body, stale and future timestamps refused, each event
handled once.

    LOB_WEBHOOK_SECRET=… python webhook.py --port 4242
    python webhook.py count EVENT_ID       # how often an event was processed (golive's processed_count)

- lob-python has no webhook verifier, so this receiver checks the signature itself: Lob-Signature is the hex
  HMAC-SHA256, with the webhook's secret, of the Lob-Signature-Timestamp header, a '.', and the raw body — the bytes
  as received, before any JSON parsing (golive's reading of Lob's scheme: see rules/lob.yaml). The comparison is
  constant-time (hmac.compare_digest).
- The timestamp (milliseconds since the epoch) must be within 5 minutes of the receiver's clock, either way: a
  recorded delivery cannot be replayed later, nor one dated ahead.
- Lob retries whatever is not answered with a 2xx "in a timely manner": each event id is recorded, and a redelivery
  is acknowledged with 200 and not processed again.
Processed events are kept in SQLite (RECEIVER_DB, default ./lob-events.db); use your database.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024
TOLERANCE_MS = 5 * 60 * 1000


def events() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ.get("RECEIVER_DB", "lob-events.db"), timeout=10, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, times INTEGER)")
    return db


def verified(raw: bytes, signature: str, timestamp: str, secret: str) -> bool:
    """Lob-Signature over "<Lob-Signature-Timestamp>.<raw body>", and the timestamp within the tolerance."""
    if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > TOLERANCE_MS:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


class LobEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return self.answer(413)
        raw = self.rfile.read(length)
        signature = self.headers.get("Lob-Signature") or ""
        timestamp = self.headers.get("Lob-Signature-Timestamp") or ""
        if not signature.isascii() or not verified(raw, signature, timestamp, os.environ["LOB_WEBHOOK_SECRET"]):
            return self.answer(401)
        try:
            event = json.loads(raw)
        except ValueError:
            return self.answer(400)
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            return self.answer(400)
        with events() as db:  # each event once: a redelivery is acknowledged, not handled again
            first = db.execute("INSERT INTO processed VALUES (?, 1) ON CONFLICT(event_id) DO NOTHING", (event["id"],)).rowcount
        if first:
            self.handle_event(event)
        self.answer(200)

    def handle_event(self, event: dict) -> None:
        """Act on postcard.created, postcard.mailed, postcard.delivered …: quickly, or hand it to a queue (Lob resends
        what is not acknowledged in time)."""

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
    parser = argparse.ArgumentParser(description="Receive Lob webhooks.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    events().close()
    ThreadingHTTPServer.request_queue_size = 128  # a web server's backlog, not http.server's 5 (which drops a burst)
    ThreadingHTTPServer(("127.0.0.1", args.port), LobEndpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
