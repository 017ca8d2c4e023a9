"""A webhook endpoint written the way Stripe's docs show one, verifying with the official package's
`stripe.Webhook.construct_event` (stripe 16.1.0): the receiver of the Stripe-like pack's tests.

    stripe_receiver.py --port P          serve (secret in STRIPE_WEBHOOK_SECRET, state in RECEIVER_DB)
    stripe_receiver.py count EVENT_ID    how often EVENT_ID was processed

What construct_event does (stripe/_webhook.py): parses `t=` and every `v1=` of Stripe-Signature, compares each with
HMAC-SHA256(secret, "<t>.<raw body>") in constant time, and rejects a timestamp older than `tolerance` (300 s by
default) — but not one in the future (`if tolerance and timestamp < time.time() - tolerance`). So golive's HOOK-210
(a delivery signed 10 minutes ahead is rejected) fails for it, as a careful reviewer would note; every other HOOK
rule passes. The endpoint dedupes on the event's `id` (Stripe's docs: "logging the event IDs you've processed").
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe  # imported before the port opens, as a web app does: not on the first delivery


def db() -> sqlite3.Connection:
    conn = sqlite3.connect(os.environ["RECEIVER_DB"], timeout=10, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, times INTEGER)")
    return conn


class Endpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        payload = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            event = stripe.Webhook.construct_event(payload, self.headers.get("stripe-signature"), os.environ["STRIPE_WEBHOOK_SECRET"])
        except ValueError:  # invalid payload
            return self.answer(400)
        except stripe.SignatureVerificationError:  # invalid signature
            return self.answer(400)
        with db() as conn:  # handle each event once: a redelivery is acknowledged, not processed again
            conn.execute("INSERT INTO processed VALUES (?, 1) ON CONFLICT(event_id) DO NOTHING", (event["id"],))
        self.answer(200)

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    if sys.argv[1:2] == ["count"]:
        row = db().execute("SELECT times FROM processed WHERE event_id = ?", (sys.argv[2],)).fetchone()
        print(row[0] if row else 0)
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    db().close()
    ThreadingHTTPServer.request_queue_size = 128  # a web server's backlog, not http.server's 5 (which drops a burst)
    ThreadingHTTPServer(("127.0.0.1", args.port), Endpoint).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
