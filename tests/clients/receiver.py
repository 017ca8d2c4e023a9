"""A webhook receiver for the HOOK tests, with switchable flaws (repeat --flaw) and optional verification
by a mainstream library. It is a real program on a real socket: golive starts it with webhook.start.

    receiver.py --port P [--scheme mintfax|standard|github|square] [--flaw NAME ...] [--verifier own|stripe|standardwebhooks|square]
                [--header NAME]   the mintfax scheme's signature header (Stripe's: Stripe-Signature)
    receiver.py count EVENT_ID      prints how often EVENT_ID was processed

The secret comes from RECEIVER_SECRET; processed events are counted in the SQLite file RECEIVER_DB.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import queue
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

TOLERANCE_S = 300
FLAWS = {
    "trust-all": "accepts every delivery without verifying anything",
    "no-header-ok": "skips verification when the signature header is missing",
    "no-timestamp": "verifies the signature but never looks at how old or new the timestamp is",
    "past-only": "rejects old timestamps but not future ones",
    "first-signature": "compares only the first signature in the header",
    "reserialize": "verifies json.dumps(json.loads(body)) instead of the raw body",
    "reserialize-compact": "verifies json.dumps(json.loads(body), separators=(',', ':')) instead of the raw body",
    "small-queue": "one worker, a listen queue of 5 (Python's default), 0.3 s of work per delivery",
    "dup-500": "answers 500 to an event_id it has seen",
    "double-process": "acknowledges duplicates but processes them again",
    "slow": "processes synchronously for 6 s before answering",
    "reject-all": "answers 400 to everything",
    "reject-first": "answers 400 to its very first delivery (a cold start), then verifies correctly",
    "crash-malformed": "answers 500 when the signature header cannot be parsed",
    "leak-secrets": "prints its secret at start and puts it, with the signature it got, in every rejection",
    "uncaught-missing-header": "hands squareup's verify_signature headers.get(...) without a default and lets its error escape",
    "block-1s": "one request at a time, blocking 1 s on each (a receiver that blocks its event loop per event)",
}


class Rejected(Exception):
    pass


def db() -> sqlite3.Connection:
    conn = sqlite3.connect(os.environ["RECEIVER_DB"], timeout=10, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY)")
    conn.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT, at REAL)")
    return conn


def verify_own(scheme: str, secret: str, body: bytes, headers: dict[str, str], flaws: set[str], header_name: str) -> None:
    signed = body
    if "reserialize" in flaws:
        signed = json.dumps(json.loads(body)).encode()
    if "reserialize-compact" in flaws:
        signed = json.dumps(json.loads(body), separators=(",", ":")).encode()
    if scheme == "github":
        given = headers.get("x-hub-signature-256", "")
        expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given, expected):
            raise Rejected("bad signature")
        return
    if scheme == "standard":
        msg_id, ts, header = headers.get("webhook-id"), headers.get("webhook-timestamp", ""), headers.get("webhook-signature", "")
        if not (msg_id and ts.isdigit() and header):
            raise Rejected("missing headers")
        key = base64.b64decode(secret.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + signed, hashlib.sha256).digest()).decode()
        given = [part.split(",", 1)[1] for part in header.split(" ") if part.startswith("v1,")]
        timestamp = int(ts)
    else:
        header = headers.get(header_name, "")
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        if "crash-malformed" in flaws:
            timestamp = int(dict(parts)["t"])  # KeyError / ValueError on garbage: an unhandled 500
        else:
            t_values = [v for k, v in parts if k == "t"]
            if not t_values or not t_values[0].isdigit():
                raise Rejected("no timestamp")
            timestamp = int(t_values[0])
        given = [v for k, v in parts if k == "v1"]
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + signed, hashlib.sha256).hexdigest()
    if not given:
        raise Rejected("no signature")
    candidates = given[:1] if "first-signature" in flaws else given
    if not any(hmac.compare_digest(expected, g) for g in candidates):
        raise Rejected("bad signature")
    if "no-timestamp" not in flaws:
        age = time.time() - timestamp
        if age > TOLERANCE_S or ("past-only" not in flaws and -age > TOLERANCE_S):
            raise Rejected("timestamp outside the tolerance")


def verify_library(verifier: str, secret: str, body: bytes, headers: dict[str, str], header_name: str) -> None:
    if verifier == "square":  # Square's SDK (squareup), as its docs show: the notification URL is signed too
        from square.utils.webhooks_helper import verify_signature

        valid = verify_signature(
            request_body=body.decode("utf-8"),
            signature_header=headers.get("x-square-hmacsha256-signature", ""),
            signature_key=secret,
            notification_url=os.environ["RECEIVER_URL"],
        )
        if not valid:
            raise Rejected("invalid signature")
        return
    if verifier == "stripe":
        import stripe

        try:
            stripe.WebhookSignature.verify_header(body.decode(), headers.get(header_name), secret, tolerance=TOLERANCE_S)
        except stripe.SignatureVerificationError as exc:
            raise Rejected(str(exc)) from None
    else:
        import standardwebhooks

        try:  # as the library's README shows it: only its own exception is caught
            standardwebhooks.Webhook(secret).verify(body, headers)
        except standardwebhooks.WebhookVerificationError as exc:
            raise Rejected(str(exc)) from None


def serve(args: argparse.Namespace) -> None:
    secret = os.environ["RECEIVER_SECRET"]
    flaws = set(args.flaw)
    unknown = flaws - set(FLAWS)
    if unknown:
        sys.exit(f"unknown flaw(s): {', '.join(sorted(unknown))}")
    if "leak-secrets" in flaws:
        print(f"receiver: verifying with {secret}", file=sys.stderr, flush=True)
    work: queue.Queue[str] = queue.Queue()
    lock = threading.Lock()
    cold_start = threading.Event()  # reject-first: set once the first delivery was turned away

    def worker() -> None:
        conn = db()
        while True:
            event_id = work.get()
            conn.execute("INSERT INTO processed VALUES (?, ?)", (event_id, time.time()))

    threading.Thread(target=worker, daemon=True).start()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def answer(self, status: int, text: str) -> None:
            data = json.dumps({"status": text}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if "block-1s" in flaws:
                time.sleep(1)
            if "uncaught-missing-header" in flaws:
                # squareup 46: signature_header.encode("utf-8") (webhooks_helper.py:44) on None is an AttributeError;
                # http.server prints its traceback to stderr and closes the connection without an answer
                from square.utils.webhooks_helper import verify_signature

                signature = headers.get("x-square-hmacsha256-signature")
                url = os.environ["RECEIVER_URL"]
                if not verify_signature(request_body=body.decode(), signature_header=signature, signature_key=secret, notification_url=url):  # type: ignore[arg-type]
                    self.answer(400, "invalid signature")
                    return
            try:
                self.handle_delivery(body, headers)
            except Rejected as exc:
                # the secret after 270 characters of filler and before more: a cut answer holds it in the middle
                leak = f" {'.' * 230} (expected with {secret}, got {headers}) {'.' * 300}" if "leak-secrets" in flaws else ""
                self.answer(400, f"{exc}{leak}")
            except Exception as exc:  # as a web framework would: an unhandled error is a 500
                self.answer(500, f"{type(exc).__name__}")

        def handle_delivery(self, body: bytes, headers: dict[str, str]) -> None:
            if "reject-all" in flaws:
                raise Rejected("rejecting everything")
            if "reject-first" in flaws and not cold_start.is_set():
                cold_start.set()
                raise Rejected("warming up")
            signature_header = {
                "mintfax": args.header,
                "standard": "webhook-signature",
                "github": "x-hub-signature-256",
                "square": "x-square-hmacsha256-signature",
            }
            skip = "trust-all" in flaws or ("no-header-ok" in flaws and signature_header[args.scheme] not in headers)
            if not skip:
                if args.verifier == "own":
                    verify_own(args.scheme, secret, body, headers, flaws, args.header)
                else:
                    verify_library(args.verifier, secret, body, headers, args.header)
            event = json.loads(body)
            event_id = event["event_id"] if "event_id" in event else event["id"]  # mintfax's field, or Stripe's
            with lock:
                conn = db()
                fresh = conn.execute("INSERT OR IGNORE INTO seen VALUES (?)", (event_id,)).rowcount == 1
                conn.close()
            if not fresh and "dup-500" in flaws:
                raise RuntimeError("duplicate event")
            if fresh or "double-process" in flaws:
                if "slow" in flaws:
                    time.sleep(6)
                work.put(event_id)
            if "small-queue" in flaws:
                time.sleep(0.3)
            self.answer(200, "ok")

    if "block-1s" in flaws:  # one request at a time, as an event loop blocked by each: a backlog big enough for a burst
        HTTPServer.request_queue_size = 128
        blocking = HTTPServer(("127.0.0.1", args.port), Handler)
        blocking.serve_forever()
        return
    if "small-queue" in flaws:  # http.server's defaults: one request at a time, a backlog of 5
        single = HTTPServer(("127.0.0.1", args.port), Handler)
        single.serve_forever()
        return
    ThreadingHTTPServer.request_queue_size = 128  # the default backlog of 5 drops connections in a burst
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "count":
        conn = db()
        print(conn.execute("SELECT COUNT(*) FROM processed WHERE event_id = ?", (sys.argv[2],)).fetchone()[0])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--scheme", choices=["mintfax", "standard", "github", "square"], default="mintfax")
    parser.add_argument("--flaw", action="append", default=[])
    parser.add_argument("--verifier", choices=["own", "stripe", "standardwebhooks", "square"], default="own")
    parser.add_argument("--header", type=str.lower, default="x-mintfax-signature", help="the mintfax scheme's signature header")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE_S, help="seconds a signature's timestamp may be off")
    args = parser.parse_args()
    globals()["TOLERANCE_S"] = args.tolerance
    serve(args)


if __name__ == "__main__":
    main()
