"""The built-in `lob` pack (Lob's Print & Mail API, postcards), proven with the official SDK: the bundled examples
(examples/lob/) through golive's proxy against the embedded sandbox served from rules/lob.yaml, 127.0.0.1 only; the
`lob` signature scheme; and the two things golive needed for a provider that takes its key by HTTP Basic only and
whose SDK parses the created postcard strictly.

What the official SDK really does — lob-python 5.2.1 (PyPI), read in its source (site-packages/lob_python/), on
urllib3 2.8.0 (site-packages/urllib3/):
- Auth: HTTP Basic, the key as the user name and an empty password: Configuration(username=…) (configuration.py:142)
  becomes `basicAuth` (:384-398) through urllib3.util.make_headers(basic_auth=username + ':' + password) (:369-382).
  No Bearer: golive's contract probe sent `Authorization: Bearer`, which a Basic-only pack's sandbox refuses (401:
  IDEM-001…005 errored); it now sends Basic where the pack's keys.schemes names only basic.
- Body: JSON — PostcardsApi.create lists application/json first (api/postcards_api.py:100-110) and
  ApiClient.select_header_content_type picks it (api_client.py:595-596); rest.py:166-175 sends json.dumps(body).
- Idempotency: `Idempotency-Key` is a header parameter sent only when the caller passes idempotency_key
  (api/postcards_api.py:90-96), validated to at most 256 characters (:78-82). The SDK never makes a key: the flawed
  example, like the SDK alone, sends none (IDEM-101 fails).
- Retries: none of Lob's answers are retried. The pool keeps urllib3's default (configuration.retries = None,
  configuration.py:209; rest.py:65-66 passes it only when set), Retry.DEFAULT = Retry(3) (urllib3 util/retry.py:569):
  a connection that failed before the request was sent is retried at once (ConnectTimeoutError, and
  NewConnectionError which subclasses it: :401-407, backoff_factor 0: :232); a reset or read timeout after sending
  is re-raised for a POST (:507-510; POST is not in DEFAULT_ALLOWED_METHODS, :199-201); no status is retried without
  a status_forcelist. rest.py:230-245 turns every non-2xx into an ApiException (401, 403, 404 and 5xx subclasses),
  and lets urllib3's ProtocolError/MaxRetryError through (only SSLError is wrapped, :220-222). The good example retries
  408, 429, 500 and 503 and dropped connections itself with one key per postcard; the flawed one retries every
  ApiException (4xx too: RETRY-105) and no reset (RETRY-103).
- Timeout: none unless `_request_timeout` is passed (rest.py:148-155): the good example sets 20 s.
- The answer: Postcard requires `id` and `url` (model/postcard.py:198, 306) and checks `object` against "postcard"
  (:82-88): the embedded sandbox adds what Lob sets on every postcard (the pack's sandbox.resource_fields), or the SDK
  cannot parse golive's answer.
- Webhooks: the SDK has no verifier (no module of lob_python mentions a signature header). The receivers check
  Lob-Signature themselves, as golive reads Lob's scheme (assumed in rules/lob.yaml: the Help Center's section on
  securing an endpoint is in no stored copy).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from checker.config import Config, load_config
from checker.model import Status
from checker.packs import load_pack
from tests.conftest import ROOT, run_rules, verdicts

# slow, left out of the fast tier: the provider's official SDK as client and receiver (examples/lob), end to end
pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "examples" / "lob"
SECRET = "golive-lob-webhook-secret-0123456789abcdef"
SANDBOX_RULES = ("IDEM-001", "IDEM-002", "IDEM-003", "IDEM-005")
CLIENT_RULES = ("IDEM-101", "IDEM-102", "IDEM-103", "IDEM-104", "RETRY-101", "RETRY-102", "RETRY-103", "RETRY-105", "ERR-101")
HOOK_RULES = (
    *("HOOK-201", "HOOK-202", "HOOK-203", "HOOK-204", "HOOK-205", "HOOK-206", "HOOK-207", "HOOK-208", "HOOK-209", "HOOK-210"),
    "HOOK-213",
)
PROBED = (*SANDBOX_RULES, *CLIENT_RULES, *HOOK_RULES)


def example(kind: str) -> Config:
    return load_config(EXAMPLES / kind / "golive.yaml", environ={"LOB_WEBHOOK_SECRET": SECRET})


def test_the_sdk_version_whose_source_was_read() -> None:
    """The behaviour written above was read in lob-python 5.2.1's source: a newer major version is to be read again."""
    version = importlib.metadata.version("lob-python")
    assert version.split(".")[0] == "5", f"lob-python {version}: re-read its auth, retry and idempotency code (module docstring)"


def test_the_good_example_is_ready_rule_by_rule() -> None:
    """A key per postcard (uuid5 of the order), 408/429/500/503 and dropped connections retried with it, Lob's error
    code printed; a receiver checking Lob-Signature over the raw body and the timestamp both ways, deduplicating on
    the event's id. The contract rules pass too: they failed to reach the sandbox before it took Basic (401)."""
    results = run_rules(example("good"), *PROBED)
    verdicts(results, dict.fromkeys(PROBED, Status.PASS))
    assert "the original resource replayed, as documented" in results["IDEM-003"].message
    assert "257 characters was rejected" in results["IDEM-005"].message
    assert "408, 429, 500, 503" in results["RETRY-102"].message
    assert "retried with the same key" in results["RETRY-103"].message
    assert "keys are 36 characters at most (limit 256)" in results["IDEM-104"].message


def test_the_flawed_example_fails_for_the_reasons_it_states() -> None:
    """No idempotency key, every ApiException retried (4xx too), resets not retried, no error code printed; a
    receiver verifying re-serialised JSON, never comparing the timestamp with its clock, processing redeliveries again."""
    results = run_rules(example("flawed"), *PROBED)
    failed = (
        *("IDEM-101", "IDEM-102", "IDEM-103", "IDEM-104", "RETRY-103", "RETRY-105", "ERR-101"),
        *("HOOK-201", "HOOK-204", "HOOK-208", "HOOK-210", "HOOK-213"),
    )
    verdicts(results, dict.fromkeys(PROBED, Status.PASS) | dict.fromkeys(failed, Status.FAIL))
    assert "carry no Idempotency-Key header" in results["IDEM-101"].message
    assert "did not retry" in results["RETRY-103"].message
    assert "422 was retried (3 requests)" in results["RETRY-105"].message
    assert "'bad_request'" in results["ERR-101"].message  # Lob's code, in Lob's spelling (errors.codes)
    assert "600 s old" in results["HOOK-204"].message and "600 s in the future" in results["HOOK-210"].message
    assert "processed 2 times" in results["HOOK-208"].message
    assert "re-serialised" in results["HOOK-201"].message and "re-serialised" in results["HOOK-213"].message


# ---------------------------------------------------------------- the lob signature scheme


def test_the_lob_scheme_signs_milliseconds_and_the_raw_body_in_hex() -> None:
    """Lob-Signature-Timestamp in milliseconds; Lob-Signature = hex HMAC-SHA256(secret, "<ms>.<raw body>"); one
    signature (HOOK-211 has no rotation to check). The good example's own check accepts it; a delivery re-dated in
    seconds, or with a timestamp that is not a number, is one of HOOK-202's malformed variants."""

    scheme = load_pack("lob").facts.webhooks.signing()  # type: ignore[union-attr]
    body = b'{"id":"evt_1","object":"event"}'
    headers = scheme.sign([SECRET], body, timestamp=1_700_000_000, msg_id="evt_1")
    assert headers["Lob-Signature-Timestamp"] == "1700000000000"
    expected = hmac.new(SECRET.encode(), b"1700000000000." + body, hashlib.sha256).hexdigest()
    assert headers["Lob-Signature"] == expected
    assert scheme.has_timestamp and not scheme.carries_several_signatures and scheme.signs_raw_body

    receiver: Any = _good_receiver()
    import time

    now = int(time.time())
    fresh = scheme.sign([SECRET], body, timestamp=now, msg_id="evt_1")
    assert receiver.verified(body, fresh["Lob-Signature"], fresh["Lob-Signature-Timestamp"], SECRET)
    labels = dict(scheme.malformed(fresh))
    assert {"timestamp not a number", "timestamp in seconds, not the one signed", "base64 instead of hex"} <= set(labels)
    for label, bad in scheme.malformed(fresh):
        assert not receiver.verified(body, bad["Lob-Signature"], bad["Lob-Signature-Timestamp"], SECRET), label


def test_hook_211_is_skipped_for_a_scheme_of_one_signature() -> None:
    results = run_rules(example("good"), "HOOK-211")
    assert results["HOOK-211"].status is Status.SKIP


# ---------------------------------------------------------------- what golive needed for Lob


def test_the_contract_probe_sends_basic_where_the_pack_takes_only_basic() -> None:
    """keys.schemes [basic] (Lob: "use your API key as the username while leaving the password blank"): the contract
    probe's Authorization is Basic <key:>; a pack that takes Bearer keeps Bearer."""
    import base64

    from checker.probes.sandbox_api import authorization

    assert authorization("test_abc", ["basic"]) == "Basic " + base64.b64encode(b"test_abc:").decode()
    assert authorization("sk_test_abc", ["basic", "bearer"]) == "Bearer sk_test_abc"
    assert authorization("k", ["bearer"]) == "Bearer k"


class Recorder(BaseHTTPRequestHandler):
    """Answers one postcard create as Lob's reference shows it and keeps the request."""

    seen: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        Recorder.seen.append((dict(self.headers), body))
        answer = json.dumps({"id": "psc_d2d10a2e9cba991c", "object": "postcard", "url": "https://lob-assets.com/p.pdf"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _create(host: str, **kwargs: object) -> object:
    from lob_python.api.postcards_api import PostcardsApi
    from lob_python.api_client import ApiClient
    from lob_python.configuration import Configuration
    from lob_python.model.postcard_editable import PostcardEditable
    from lob_python.model.psc_use_type import PscUseType

    postcard = PostcardEditable(to="adr_x", front="tmpl_a", back="tmpl_b", use_type=PscUseType("operational"))
    with ApiClient(Configuration(host=host, username="test_abc")) as client:
        return PostcardsApi(client).create(postcard, **kwargs)


def test_what_the_sdk_sends_basic_auth_json_and_the_key_only_when_given(recorder: str) -> None:
    """The facts the pack and the docstring above state about the SDK, observed on the wire."""
    import base64

    created = _create(recorder, idempotency_key="order-42")
    _create(recorder)
    (with_key, body), (without_key, _) = Recorder.seen
    assert with_key["Authorization"] == "Basic " + base64.b64encode(b"test_abc:").decode()
    assert with_key["Content-Type"] == "application/json" and json.loads(body)["use_type"] == "operational"
    assert with_key["Idempotency-Key"] == "order-42" and "Idempotency-Key" not in without_key
    assert created.id == "psc_d2d10a2e9cba991c"  # type: ignore[attr-defined]


def test_the_sdk_parses_the_embedded_sandboxs_postcard(sandbox) -> None:
    """Postcard needs id and url (model/postcard.py:306): the sandbox's answer carries the pack's resource_fields
    (object, url) beside the request's, so the SDK's create returns a Postcard instead of raising ApiTypeError."""
    server = sandbox("lob")
    created = _create(server.url + "/v1", idempotency_key="k-1")
    again = _create(server.url + "/v1", idempotency_key="k-1")
    assert created.id.startswith("psc_") and created.url and created.id == again.id  # type: ignore[attr-defined]


def test_the_sandbox_refuses_a_bearer_key_as_lob_does(sandbox) -> None:
    """Lob documents Basic only: the embedded sandbox takes the key as Basic's user name and refuses Bearer (401, in
    Lob's envelope: {"error": {"code", "message", "status_code"}})."""
    import httpx

    url = sandbox("lob").url + "/v1/postcards"
    body = {"to": "adr_x", "front": "tmpl_a", "back": "tmpl_b", "use_type": "operational"}
    refused = httpx.post(url, json=body, headers={"Authorization": "Bearer test_abc"})
    assert refused.status_code == 401 and refused.json()["error"]["status_code"] == 401
    accepted = httpx.post(url, json=body, auth=("test_abc", ""))
    assert accepted.status_code == 200 and accepted.json()["object"] == "postcard", accepted.text


def _good_receiver() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("lob_good_webhook", EXAMPLES / "good" / "webhook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_any_body_signed_by_the_lob_scheme_verifies_and_no_malformed_one_does() -> None:
    """Over arbitrary bodies and secrets: what golive signs the good receiver's check accepts, each malformed variant
    (HOOK-202's) it refuses — the scheme and the documented-as-assumed check agree byte for byte."""
    import time

    from hypothesis import given, settings
    from hypothesis import strategies as st

    scheme = load_pack("lob").facts.webhooks.signing()  # type: ignore[union-attr]
    receiver: Any = _good_receiver()

    @settings(max_examples=60, deadline=None)
    @given(body=st.binary(max_size=300), secret=st.text(st.characters(codec="utf-8"), min_size=1, max_size=40))
    def check(body: bytes, secret: str) -> None:
        headers = scheme.sign([secret], body, timestamp=int(time.time()), msg_id="evt_1")
        assert receiver.verified(body, headers["Lob-Signature"], headers["Lob-Signature-Timestamp"], secret)
        for label, bad in scheme.malformed(headers):
            assert not receiver.verified(body, bad["Lob-Signature"], bad["Lob-Signature-Timestamp"], secret), label

    check()
