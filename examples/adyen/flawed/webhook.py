"""Receive Adyen Standard webhooks — the way it often goes wrong (do not copy).

- The SDK's verifier is trusted to return False for a bad notification, but Adyen.util.is_valid_hmac_notification
  (Adyen 16.0.0, util.py:66-74) raises instead for an empty signature (ValueError) or a missing one (KeyError): the
  exception becomes a 500, an error instead of a rejection, and Adyen would keep redelivering.
- Business logic runs before the notification is stored, and the store refuses a second (pspReference, eventCode):
  a redelivered notification is processed again and then answered 500.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from Adyen.util import is_valid_hmac_notification


def notifications() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ.get("RECEIVER_DB", "adyen-notifications.db"), timeout=10, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (psp TEXT PRIMARY KEY, times INTEGER)")
    db.execute("CREATE TABLE IF NOT EXISTS stored (psp TEXT, event_code TEXT, PRIMARY KEY (psp, event_code))")
    return db


class AdyenEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        try:  # what a web framework does with an exception: a 500
            self.receive()
        except Exception:
            self.answer(500)

    def receive(self) -> None:
        notification = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
        if not is_valid_hmac_notification(notification, os.environ["ADYEN_HMAC_KEY"]):
            return self.answer(401)
        item = notification["notificationItems"][0]["NotificationRequestItem"]
        with notifications() as db:
            # the business logic first…
            db.execute("INSERT INTO processed VALUES (?, 1) ON CONFLICT(psp) DO UPDATE SET times = times + 1", (item["pspReference"],))
            # …then the notification is stored: a redelivery violates the primary key and raises
            db.execute("INSERT INTO stored VALUES (?, ?)", (item["pspReference"], item["eventCode"]))
        self.answer(200, b"[accepted]")

    def answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    if sys.argv[1:2] == ["count"]:
        row = notifications().execute("SELECT times FROM processed WHERE psp = ?", (sys.argv[2],)).fetchone()
        print(row[0] if row else 0)
        return 0
    parser = argparse.ArgumentParser(description="Receive Adyen Standard webhooks.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    notifications().close()
    ThreadingHTTPServer.request_queue_size = 128
    ThreadingHTTPServer(("127.0.0.1", args.port), AdyenEndpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
