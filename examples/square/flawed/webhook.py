"""Receive Square webhooks — the way it often goes wrong (do not copy).

- The signature is checked over the parsed and re-serialised JSON instead of the raw body: a notification whose JSON
  is laid out differently from json.dumps' defaults fails, although Square signed it — and Square sends compact JSON
  ({"a":1}, json.dumps writes {"a": 1}), so every real notification does (HOOK-201, HOOK-213).
- No record of event_id: a redelivered notification is processed again.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from square.utils.webhooks_helper import verify_signature


def events() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ.get("RECEIVER_DB", "square-events.db"), timeout=10, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, times INTEGER)")
    return db


class SquareEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            event = json.loads(raw)
        except ValueError:
            return self.answer(400)
        if not verify_signature(
            request_body=json.dumps(event),  # the parsed body, not the bytes Square signed
            signature_header=self.headers.get("x-square-hmacsha256-signature") or "",
            signature_key=os.environ["SQUARE_WEBHOOK_SIGNATURE_KEY"],
            notification_url=os.environ["SQUARE_NOTIFICATION_URL"],
        ):
            return self.answer(401)
        with events() as db:  # every delivery processed, a redelivery too
            db.execute(
                "INSERT INTO processed VALUES (?, 1) ON CONFLICT(event_id) DO UPDATE SET times = times + 1", (str(event.get("event_id")),)
            )
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
    parser = argparse.ArgumentParser(description="Receive Square webhooks.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    events().close()
    ThreadingHTTPServer.request_queue_size = 128
    ThreadingHTTPServer(("127.0.0.1", args.port), SquareEndpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
