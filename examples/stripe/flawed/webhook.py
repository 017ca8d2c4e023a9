"""A Stripe webhook endpoint that trusts `construct_event` alone and treats a redelivery as an error: the flawed
example.

    STRIPE_WEBHOOK_SECRET=whsec_… python webhook.py --port 4242
    python webhook.py count EVT_ID

Its flaws, each one a golive rule:
- HOOK-210: construct_event (stripe 16.1.0) refuses a timestamp older than 300 s but not one in the future, and
  nothing here adds that bound;
- HOOK-207: a redelivered event (Stripe delivers at least once) is answered 409 "already processed", so Stripe
  counts the delivery as failed and keeps retrying it.
Processed event ids are appended to a file (RECEIVER_DB).
"""

import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

import stripe

LOG = os.environ.get("RECEIVER_DB", "stripe-events.log")


def seen() -> list[str]:
    return open(LOG).read().split() if os.path.exists(LOG) else []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        try:
            event = stripe.Webhook.construct_event(body, self.headers.get("stripe-signature"), os.environ["STRIPE_WEBHOOK_SECRET"])
            status = 409 if event.id in seen() else 200
        except Exception:
            status = 400
        if status == 200:
            with open(LOG, "a") as log:
                log.write(event.id + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(ThreadingMixIn, HTTPServer):
    request_queue_size = 128


if sys.argv[1] == "count":
    print(seen().count(sys.argv[2]))
else:
    Server(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
