"""Receive mintfax webhooks, safely: the go-live checklist's webhook rules, in one file.

    MINTFAX_WEBHOOK_SECRET=whsec_... python receiver.py --port 8700
    python receiver.py count EVT_ID          # how often an event was processed (golive's processed_count)

- The signature is verified over the raw bytes received, before anything is parsed:
  `X-Mintfax-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. Every `v1=` is tried
  (during a secret rotation there are two), compared in constant time.
- The timestamp must be within 300 s of now, in either direction: an old or a future delivery is
  a replay.
- Deliveries are at least once: each `event_id` is recorded, and a duplicate is acknowledged with
  200 and not processed again.
- The answer comes at once; processing happens on a worker thread (mintfax redelivers anything
  slower than 5 s).
Processed events are kept in SQLite (RECEIVER_DB, default ./mintfax-events.db); use your database.
Needs: the standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import queue
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_S = 300
MAX_BODY = 1024 * 1024
DB = os.environ.get("RECEIVER_DB", "mintfax-events.db")


def connect() -> sqlite3.Connection:
    db = sqlite3.connect(DB, timeout=10, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY, received_at REAL)")
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT, type TEXT, processed_at REAL)")
    return db


def verify(secret: str, body: bytes, header: str | None, now: float) -> bool:
    if not header:
        return False
    timestamps, signatures = [], []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        return False
    if abs(now - int(timestamps[0])) > TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), timestamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def process(event: dict) -> None:
    """Your business logic: mark the fax delivered, alert on a low balance, …"""
    print(f"processed {event['event_id']} {event['type']}", flush=True)


def worker(jobs: queue.Queue) -> None:
    db = connect()
    while True:
        event = jobs.get()
        process(event)
        db.execute("INSERT INTO processed VALUES (?, ?, ?)", (event["event_id"], event["type"], time.time()))


def serve(port: int, secret: str) -> None:
    jobs: queue.Queue = queue.Queue()
    threading.Thread(target=worker, args=(jobs,), daemon=True).start()
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def reply(self, status: int, message: str) -> None:
            data = json.dumps({"message": message}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY:
                return self.reply(413, "body missing or too large")
            body = self.rfile.read(int(length))  # the raw bytes: verify these, not a re-serialised copy
            if not verify(secret, body, self.headers.get("X-Mintfax-Signature"), time.time()):
                return self.reply(400, "invalid signature")
            try:
                event = json.loads(body)
                event_id = event["event_id"]
            except (ValueError, KeyError, TypeError):
                return self.reply(400, "not a mintfax event")
            if not hasattr(local, "db"):
                local.db = connect()
            fresh = local.db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (event_id, time.time())).rowcount == 1
            if fresh:
                jobs.put(event)
            self.reply(200, "ok" if fresh else "duplicate, already handled")

    ThreadingHTTPServer.request_queue_size = 128  # the default backlog (5) drops connections in a burst
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "count":
        print(connect().execute("SELECT COUNT(*) FROM processed WHERE event_id = ?", (sys.argv[2],)).fetchone()[0])
        return 0
    parser = argparse.ArgumentParser(description="Receive mintfax webhooks.")
    parser.add_argument("--port", type=int, default=8700)
    args = parser.parse_args()
    secret = os.environ.get("MINTFAX_WEBHOOK_SECRET")
    if not secret:
        print("set MINTFAX_WEBHOOK_SECRET (the whsec_… secret mintfax returned when you registered the endpoint)", file=sys.stderr)
        return 2
    serve(args.port, secret)
    return 0


if __name__ == "__main__":
    sys.exit(main())
