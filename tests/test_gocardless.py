"""The built-in `gocardless` pack, proven with the official SDK: the bundled examples (examples/gocardless/) through
golive's proxy against the embedded sandbox served from rules/gocardless.yaml, 127.0.0.1 only, and the pack fields
GoCardless needed (issue 26, item 7): a replay answered as an error naming the existing resource, rate limits per
minute, the documented rejection status, several events per delivery, required fields of any JSON type.

What the official SDK really does — gocardless-pro 3.22.0, read in its source (site-packages/gocardless_pro/):
- Idempotency: every POST gets an `Idempotency-Key`, a new uuid4 unless the caller's headers carry one, injected
  once per call before the retry loop (services/base_service.py:24-26, 56-70).
- A used key: GoCardless answers 409 `invalid_state` whose errors carry reason `idempotent_creation_conflict` and
  `links.conflicting_resource_id`; `ApiError.exception_for` makes that an IdempotentCreationConflictError
  (errors.py:69-91, reading `error['reason']` of *every* error of an invalid_state: an error without a reason is a
  KeyError), and `payments.create` catches it and returns `self.get(identity=err.conflicting_resource_id)` — a GET
  of the existing payment — unless the client was made with raise_on_idempotency_conflict=True
  (services/payments_service.py:42-52, errors.py:102-111).
- Error types: any status but 401/403/429 must carry one of validation_failed, invalid_api_usage, invalid_state,
  gocardless, or the SDK raises GoCardlessProError('Invalid error type') (errors.py:56-91).
- Retries: only a requests Timeout or ConnectionError, or an answer that is not JSON (MalformedResponseError), three
  attempts 0.5 s apart (base_service.py:18, 28-36). A 5xx in GoCardless's JSON is raised at once as
  GoCardlessInternalError: the good example retries it itself with the same key.
- Rate limits: after every request `RateLimit.update_from_response` does `int(response.headers['ratelimit-limit'])`
  and `int(...['ratelimit-remaining'])` (rate_limit.py:22-37): a header of "16.6667" raises ValueError on every
  success; the reset is kept as text.
- Webhooks: `webhooks.parse(body, webhook_secret, signature_header)` (webhooks.py:29-33) checks
  hex HMAC-SHA256(secret, body) against the header with hmac.compare_digest (:50-58), raising
  InvalidSignatureError, then returns an Event per item of `json.loads(body)['events']`.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from checker import envelope
from checker.config import Config, load_config
from checker.errors import ConfigError
from checker.model import Status
from checker.packs import load_pack
from checker.signing import SigningScheme
from tests.conftest import ROOT, run_rules, verdicts

# slow, left out of the fast tier: the provider's official SDK as client and receiver (examples/gocardless), end to end
pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "examples" / "gocardless"
SECRET = "golive-gocardless-endpoint-secret-0123456789"
TOKEN = "sandbox_golive_gocardless_token_0001"
SANDBOX_RULES = ("IDEM-001", "IDEM-002", "IDEM-004", "IDEM-006")
CLIENT_RULES = ("IDEM-101", "IDEM-102", "IDEM-103", "RETRY-101", "RETRY-102", "RETRY-103", "RETRY-105", "ERR-101")
HOOK_RULES = ("HOOK-201", "HOOK-202", "HOOK-203", "HOOK-205", "HOOK-206", "HOOK-207", "HOOK-208", "HOOK-213")
PROBED = (*SANDBOX_RULES, *CLIENT_RULES, *HOOK_RULES)


def example(kind: str) -> Config:
    return load_config(EXAMPLES / kind / "golive.yaml", environ={"GOCARDLESS_WEBHOOK_SECRET": SECRET})


def client(url: str, **options: object):  # type: ignore[no-untyped-def]
    import gocardless_pro

    return gocardless_pro.Client(access_token=TOKEN, base_url=url, timeout=15, **options)


PAYMENT = {"amount": 1000, "currency": "GBP", "reference": "order-1", "links": {"mandate": "MD000GOLIVE"}}


def test_the_sdk_version_whose_source_was_read() -> None:
    """The behaviour written above was read in gocardless-pro 3.22.0's source: another major version is read again."""
    version = importlib.metadata.version("gocardless-pro")
    assert version.split(".")[0] == "3", f"gocardless-pro {version}: re-read its idempotency, rate-limit and webhook code"


def test_the_good_example_is_ready_rule_by_rule() -> None:
    """One Idempotency-Key per payment, GoCardless's 5xx and 429 retried with it, the SDK's own network retries;
    webhooks.parse over the raw body, 498 for an invalid signature, each event id once: every rule the pack covers
    passes, the replay rules on GoCardless's 409 naming the payment."""
    results = run_rules(example("good"), *PROBED)
    verdicts(results, dict.fromkeys(PROBED, Status.PASS))
    assert "answered 409 naming the original resource" in results["IDEM-001"].message
    assert "error idempotent_creation_conflict" in results["IDEM-002"].message
    assert "500, 502, 503, 504" in results["RETRY-102"].message
    assert "(498, 498" in results["HOOK-202"].message and "(498)" in results["HOOK-206"].message


def test_the_flawed_example_fails_for_the_reasons_it_states() -> None:
    """The SDK's own key per call (a new one on every retry), every error retried (4xx too), "payment failed"; a
    receiver verifying json.dumps(json.loads(body)) — what `json.dumps(request.get_json())` does in Flask — so every
    compact GoCardless delivery fails its check (HOOK-201, issue 26), 401 where GoCardless asks 498 (the rejection
    rules), and repeats processed again (HOOK-208)."""
    results = run_rules(example("flawed"), *PROBED)
    failed = ("IDEM-102", "RETRY-101", "RETRY-105", "ERR-101", "HOOK-201", "HOOK-202", "HOOK-203", "HOOK-205", "HOOK-206")
    failed += ("HOOK-208", "HOOK-213")
    verdicts(results, dict.fromkeys(PROBED, Status.PASS) | dict.fromkeys(failed, Status.FAIL))
    assert "changed the key" in results["IDEM-102"].message
    assert "as the provider sends it (compact JSON)" in results["HOOK-201"].message and "re-serialised" in results["HOOK-201"].message
    assert "answered 401" in results["HOOK-202"].message and "documents 498" in results["HOOK-202"].message
    assert "processed 2 times" in results["HOOK-208"].message


# ---------------------------------------------------------------- the SDK against the embedded sandbox


def test_the_sdk_follows_the_409_of_a_used_key_to_the_payment_it_names(sandbox) -> None:
    """payments_service.py:42-52: a used key's 409 idempotent_creation_conflict is caught and answered with a GET of
    `err.conflicting_resource_id` (errors.py:102-111 reads it from the first error's links). The embedded sandbox
    answered a replay with the payment again (201): the SDK took it, and no client of GoCardless's real shape (this
    409, then a GET) was ever exercised. Now the pack's idempotency.replay says 409 with the id at
    error.errors.0.links.conflicting_resource_id, and the SDK gets back the same payment through its GET."""
    from gocardless_pro.errors import IdempotentCreationConflictError

    url = sandbox("gocardless").url
    headers = {"Idempotency-Key": "order-1-payment"}
    first = client(url).payments.create(params=PAYMENT, headers=headers)
    again = client(url).payments.create(params=PAYMENT, headers=headers)
    assert first.id.startswith("PM") and again.id == first.id and again.amount == 1000
    with pytest.raises(IdempotentCreationConflictError) as raised:
        client(url, raise_on_idempotency_conflict=True).payments.create(params=PAYMENT, headers=headers)
    assert raised.value.conflicting_resource_id == first.id and raised.value.type == "invalid_state"
    other = client(url).payments.create(params=PAYMENT, headers={"Idempotency-Key": "order-2-payment"})
    assert other.id != first.id


def test_the_sdk_parses_the_per_minute_rate_limit_headers(sandbox) -> None:
    """rate_limit.py:29-35 does int() on ratelimit-limit and ratelimit-remaining after every request. The pack's limit
    is 1000 a minute (16.666667 a second, window: minute): the headers must be whole numbers per minute, or the SDK
    raises ValueError on every success and golive would blame the client (issue 26)."""
    url = sandbox("gocardless", rate_limit=None).url  # the pack's own limit
    sdk = client(url)
    sdk.payments.create(params=PAYMENT)
    limits = sdk._api_client.rate_limit
    assert limits.limit == 1000 and isinstance(limits.remaining, int) and 0 < limits.remaining < 1000
    assert limits.reset is not None and limits.reset.isdigit()


def test_required_fields_of_another_json_type(sandbox) -> None:
    """sandbox.required_types: GoCardless's amount is an integer (pence). The sandbox refused every number (required
    fields had to be non-empty strings), so the SDK's own request was invalid to it; a string or a boolean amount is
    refused, in the pack's envelope, as a ValidationFailedError the SDK can raise and print."""
    from gocardless_pro.errors import ValidationFailedError

    url = sandbox("gocardless").url
    assert client(url).payments.create(params=PAYMENT).amount == 1000
    for amount in ("1000", True, None):
        with pytest.raises(ValidationFailedError) as raised:
            client(url).payments.create(params={**PAYMENT, "amount": amount})
        assert "payments.amount" in str(raised.value) and raised.value.code == 422


def test_a_delivery_holds_its_events_in_a_list_that_webhooks_parse_reads() -> None:
    """webhooks.py:29-33 returns an Event per item of body['events'] after verifying the raw bytes: golive's
    deliveries for this pack are {"events": [...]} (webhooks.envelope.batch), compact as GoCardless signs them
    (the SDK repository's signed fixture, tests/fixtures/webhook_body.json), and parse accepts them; the same event
    re-serialised with json.dumps' defaults does not verify."""
    from gocardless_pro import webhooks
    from gocardless_pro.errors import InvalidSignatureError

    facts = load_pack("gocardless").facts.webhooks
    assert facts is not None
    shape = facts.envelope.model_dump()
    delivery = envelope.event(shape, "EV000GOLIVE", "created", 1_780_000_000, dict(facts.event_data))
    body = envelope.serialise(delivery, facts.serialisation.format())
    assert body.startswith(b'{"events":[{') and envelope.dig(delivery, envelope.field_path(shape, "id")) == "EV000GOLIVE"
    signature = SigningScheme(facts.scheme, facts.signature_header).sign([SECRET], body, timestamp=0, msg_id="x")["Webhook-Signature"]
    events = webhooks.parse(body, SECRET, signature)
    assert [e.id for e in events] == ["EV000GOLIVE"] and events[0].action == "created"
    with pytest.raises(InvalidSignatureError):
        webhooks.parse(json.dumps(json.loads(body)).encode(), SECRET, signature)


# ---------------------------------------------------------------- the pack fields, checked at load


def extending(tmp_path: Path, facts: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(f"schema: golive-pack/1\nname: mine\nextends: gocardless\nfacts:\n{facts}")
    return path


@pytest.mark.parametrize(
    ("facts", "said"),
    [
        ("  idempotency:\n    replay: {status: same}\n", "needs that error's status"),
        ("  idempotency:\n    replay: {status: 201, existing_id_at: error.id}\n", "must be a 4xx"),
        ("  webhooks:\n    rejection_status: 200\n", "rejection_status"),
        ("  sandbox:\n    required_types: {payments.amount: int}\n", "required_types"),
    ],
)
def test_a_pack_field_out_of_shape_is_refused_at_load_with_file_line_and_key(tmp_path: Path, facts: str, said: str) -> None:
    """Each new field is validated when the pack loads; the error names the file, the line and the key."""
    path = extending(tmp_path, facts)
    with pytest.raises(ConfigError) as raised:
        load_pack(str(path))
    text = str(raised.value)
    assert said in text and f"{path}:" in text, text


def test_the_old_packs_are_unchanged_by_the_new_fields() -> None:
    """All optional: a pack that states none of them keeps its replay, its required strings, one event per delivery
    and any 4xx as a rejection."""
    for name in ("mintfax", "stripe", "square", "checkout", "adyen"):
        facts = load_pack(name).facts
        assert facts.idempotency.replay.code is None and facts.idempotency.replay.existing_id_at is None
        assert facts.sandbox.required_types == {}
        assert facts.webhooks is None or (facts.webhooks.envelope.batch is None and facts.webhooks.rejection_status is None)


def test_a_rejection_is_judged_against_the_documented_status() -> None:
    """webhooks.rejection_status (GoCardless: "Webhooks with an invalid signature must return a 498 Token Invalid
    error"): a 401 passes where any 4xx is the rule, and fails where the provider states 498."""
    from checker.probes.webhook import Delivery, _judge_rejections

    control = Delivery("valid", "e1", 0.0, 200, 0.01)
    rejected = Delivery("a wrong signature", "e2", 0.0, 401, 0.01)
    assert _judge_rejections(control, [rejected], "wrong signatures").status == Status.PASS
    failed = _judge_rejections(control, [rejected], "wrong signatures", 498)
    assert failed.status == Status.FAIL and "documents 498" in failed.message
    right = Delivery("a wrong signature", "e3", 0.0, 498, 0.01)
    assert _judge_rejections(control, [right], "wrong signatures", 498).status == Status.PASS
