"""Receive Lob webhooks — the way it often goes wrong (do not copy).

- The signature is checked over the parsed and re-serialised JSON instead of the raw body: a delivery whose JSON is
  laid out differently from json.dumps' defaults fails, although Lob signed it (HOOK-201, HOOK-213).
- The timestamp is signed but never compared with the clock: a recorded delivery verifies forever (HOOK-204), and one
  dated ahead is accepted too (HOOK-210).
- No record of the event id: a redelivered event is processed again (HOOK-208).
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
    db = sqlite3.connect(os.environ.get("RECEIVER_DB", "lob-events.db"), timeout=10, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, times INTEGER)")
    return db


class LobEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            event = json.loads(raw)
        except ValueError:
            return self.answer(400)
        timestamp = self.headers.get("Lob-Signature-Timestamp") or ""
        signed = f"{timestamp}.{json.dumps(event)}".encode()  # the parsed body, not the bytes Lob signed
        expected = hmac.new(os.environ["LOB_WEBHOOK_SECRET"].encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("Lob-Signature") or ""):
            return self.answer(401)
        with events() as db:  # every delivery processed, a redelivery too
            db.execute("INSERT INTO processed VALUES (?, 1) ON CONFLICT(event_id) DO UPDATE SET times = times + 1", (str(event.get("id")),))
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
    parser = argparse.ArgumentParser(description="Receive Lob webhooks.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    events().close()
    ThreadingHTTPServer.request_queue_size = 128
    ThreadingHTTPServer(("127.0.0.1", args.port), LobEndpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
