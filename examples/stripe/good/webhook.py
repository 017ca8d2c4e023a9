"""Receive Stripe webhooks the way Stripe's docs show it — `stripe.Webhook.construct_event` over the raw body — plus
the one check the package leaves out.

    STRIPE_WEBHOOK_SECRET=whsec_… python webhook.py --port 4242
    python webhook.py count EVT_ID        # how often an event was processed (golive's processed_count)

- construct_event (stripe 16.1.0, stripe/_webhook.py) checks `Stripe-Signature`: every `v1=` against
  HMAC-SHA256(secret, "<t>.<raw body>") in constant time, and refuses a timestamp older than 300 s. It does not refuse
  one from the future (`timestamp < time.time() - tolerance` is its only bound), so a delivery signed ahead of time
  would be accepted long after: this endpoint bounds that side too.
- Stripe delivers at least once: each event's `id` is recorded, and a redelivery is acknowledged with 200 and not
  processed again.
Processed events are kept in SQLite (RECEIVER_DB, default ./stripe-events.db); use your database.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe  # imported before the port opens, as a web app does: not on the first delivery

TOLERANCE_S = stripe.Webhook.DEFAULT_TOLERANCE
MAX_BODY = 1024 * 1024


def signed_in_the_future(header: str) -> bool:
    stamps = [part[2:] for part in header.split(",") if part.startswith("t=")]
    return not stamps or not stamps[0].isdigit() or int(stamps[0]) > time.time() + TOLERANCE_S


def events() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ.get("RECEIVER_DB", "stripe-events.db"), timeout=10, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")  # the count command reads while the endpoint writes
    db.execute("PRAGMA synchronous=NORMAL")  # no fsync per event: a burst is answered in time (Stripe redelivers late ones)
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, times INTEGER)")
    return db


class Processed:
    """The events handled so far: one connection for the endpoint's threads, so a burst queues on a lock, not in
    SQLite's busy loop."""

    def __init__(self) -> None:
        self.db, self.lock = events(), threading.Lock()

    def first_time(self, event_id: str) -> bool:
        with self.lock:
            return self.db.execute("INSERT INTO processed VALUES (?, 1) ON CONFLICT(event_id) DO NOTHING", (event_id,)).rowcount == 1


PROCESSED: Processed  # set by serve()


def handle_event(event: stripe.Event) -> None:
    """Fulfil the order on payment_intent.succeeded, tell the customer on payment_intent.payment_failed: quickly, or
    hand it to a queue (Stripe redelivers what is not answered in time)."""


def status_for(payload: bytes, header: str) -> int:
    try:
        event = stripe.Webhook.construct_event(payload, header, os.environ["STRIPE_WEBHOOK_SECRET"])
    except (ValueError, stripe.SignatureVerificationError):  # not JSON, or not signed by Stripe with our secret
        return 400
    if signed_in_the_future(header):  # construct_event's missing bound
        return 400
    if PROCESSED.first_time(event["id"]):  # each event once: a redelivery is acknowledged, not handled again
        handle_event(event)
    return 200


class StripeEndpoint(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        status = 413 if length > MAX_BODY else status_for(self.rfile.read(length), self.headers.get("stripe-signature") or "")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(port: int) -> None:
    global PROCESSED
    PROCESSED = Processed()
    ThreadingHTTPServer.request_queue_size = 128  # a web server's backlog, not http.server's 5 (which drops a burst)
    ThreadingHTTPServer(("127.0.0.1", port), StripeEndpoint).serve_forever()


def count(event_id: str) -> int:
    row = events().execute("SELECT times FROM processed WHERE event_id = ?", (event_id,)).fetchone()
    return row[0] if row else 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Receive Stripe webhooks (or: count EVENT_ID).")
    parser.add_argument("--port", type=int)
    parser.add_argument("count", nargs="*", help="count EVENT_ID: how often that event was processed")
    args = parser.parse_args()
    if args.count[:1] == ["count"] and len(args.count) == 2:
        print(count(args.count[1]))
    elif args.port is not None and not args.count:
        serve(args.port)
    else:
        parser.error("give --port PORT, or count EVENT_ID")
    return 0


if __name__ == "__main__":
    sys.exit(main())
