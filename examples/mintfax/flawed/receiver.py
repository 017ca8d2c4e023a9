"""Receive mintfax webhooks — the way it often goes wrong. `golive demo --flawed` shows what fails.

    MINTFAX_WEBHOOK_SECRET=whsec_... python receiver.py --port 8700

The mistakes, each a rule golive checks:
- verifies the HMAC over json.dumps(json.loads(body)), not the raw bytes, so mintfax's compact deliveries are
  all rejected (HOOK-201, HOOK-213);
- compares only the first `v1=` signature, so a secret rotation breaks it (HOOK-211);
- never looks at the timestamp, so a captured delivery can be replayed forever (HOOK-204, HOOK-210);
- answers 500 to an event it has already seen, so mintfax keeps redelivering it (HOOK-207);
- processes each event before answering, which takes 6 s: mintfax redelivers anything slower
  than 5 s (HOOK-209).
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

DB = os.environ.get("RECEIVER_DB", "mintfax-events.db")


def connect() -> sqlite3.Connection:
    db = sqlite3.connect(DB, timeout=10, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT, type TEXT, processed_at REAL)")
    return db


def verify(secret: str, event: dict, header: str) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)  # keeps one v1 of several
    body = json.dumps(event).encode()
    expected = hmac.new(secret.encode(), f"{fields.get('t')}.".encode() + body, hashlib.sha256).hexdigest()
    first = header.split("v1=")[1].split(",")[0] if "v1=" in header else ""
    return hmac.compare_digest(expected, first)


def serve(port: int, secret: str) -> None:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def reply(self, status: int, message: str) -> None:
            data = json.dumps({"message": message}).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            event = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if not verify(secret, event, self.headers.get("X-Mintfax-Signature", "")):
                return self.reply(401, "invalid signature")
            db = connect()
            if db.execute("SELECT 1 FROM processed WHERE event_id = ?", (event["event_id"],)).fetchone():
                return self.reply(500, "already processed")
            time.sleep(6)  # update the order, email the customer, … before answering
            db.execute("INSERT INTO processed VALUES (?, ?, ?)", (event["event_id"], event["type"], time.time()))
            self.reply(200, "ok")

    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "count":
        print(connect().execute("SELECT COUNT(*) FROM processed WHERE event_id = ?", (sys.argv[2],)).fetchone()[0])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8700)
    serve(parser.parse_args().port, os.environ["MINTFAX_WEBHOOK_SECRET"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
