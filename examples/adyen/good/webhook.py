"""Receive Adyen Standard webhooks the way Adyen's docs show it: the HMAC signature of every notification item checked
with the Adyen package's own `Adyen.util.is_valid_hmac_notification`, each event handled once, `[accepted]` answered.

    ADYEN_HMAC_KEY=… python webhook.py --port 4242
    python webhook.py count PSP_REFERENCE     # how often a notification was processed (golive's processed_count)

- is_valid_hmac_notification (Adyen 16.0.0, Adyen/util.py:49-74) checks base64 HMAC-SHA256, with the hex HMAC key,
  of pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success against
  additionalData.hmacSignature. It does not always return False for a bad notification: without additionalData it
  returns None, without hmacSignature it raises KeyError, with an empty one ValueError, with a number TypeError, and
  given the whole notification it checks only the first item. So each item is checked on its own, only `True`
  counts, and an exception is a rejection (401), not a crash.
- The signed string has no timestamp: a recorded notification verifies forever, and Adyen sends "duplicate
  notifications for the same transaction". Each (pspReference, eventCode) is recorded; a redelivery is accepted
  and not processed again.
- The answer is 200 with `[accepted]` (Adyen now accepts any 2xx), within Adyen's 10 s: the notification is stored
  first, business logic comes after the answer (here: `handle_notification`, which does nothing).
Processed notifications are kept in SQLite (RECEIVER_DB, default ./adyen-notifications.db); use your database.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from Adyen.util import is_valid_hmac_notification  # imported before the port opens, as a web app does

MAX_BODY = 1024 * 1024


def notifications() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ.get("RECEIVER_DB", "adyen-notifications.db"), timeout=10, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (psp TEXT, event_code TEXT, times INTEGER, PRIMARY KEY (psp, event_code))")
    return db


def signed_items(raw: bytes, hmac_key: str) -> list[dict] | None:
    """The notification's items when every one carries a valid signature; None otherwise."""
    try:
        notification = json.loads(raw)
        items = [entry["NotificationRequestItem"] for entry in notification["notificationItems"]]
        if items and all(is_valid_hmac_notification(item, hmac_key) is True for item in items):
            return items
    except (ValueError, KeyError, TypeError, AttributeError):  # what the verifier raises for a malformed signature
        pass
    return None


class AdyenEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return self.answer(413)
        items = signed_items(self.rfile.read(length), os.environ["ADYEN_HMAC_KEY"])
        if items is None:
            return self.answer(401)
        fresh = []
        with notifications() as db:  # each (pspReference, eventCode) once: a redelivery is accepted, not handled again
            for item in items:
                key = (str(item.get("pspReference")), str(item.get("eventCode")))
                if db.execute("INSERT INTO processed VALUES (?, ?, 1) ON CONFLICT DO NOTHING", key).rowcount:
                    fresh.append(item)
        self.answer(200, b"[accepted]")
        for item in fresh:
            self.handle_notification(item)

    def handle_notification(self, item: dict) -> None:
        """Act on AUTHORISATION, CAPTURE, REFUND…: after the answer, or hand it to a queue."""

    def answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    if sys.argv[1:2] == ["count"]:
        row = notifications().execute("SELECT SUM(times) FROM processed WHERE psp = ?", (sys.argv[2],)).fetchone()
        print(row[0] or 0)
        return 0
    parser = argparse.ArgumentParser(description="Receive Adyen Standard webhooks.")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    notifications().close()
    ThreadingHTTPServer.request_queue_size = 128  # a web server's backlog, not http.server's 5 (which drops a burst)
    ThreadingHTTPServer(("127.0.0.1", args.port), AdyenEndpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
