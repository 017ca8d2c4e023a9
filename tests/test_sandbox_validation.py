"""The embedded sandbox's validation without a server: keys and auth schemes, the idempotency key, body encodings, a
create's fields, magic values and replays, each a plain class or function of checker/sandbox/ called directly."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from checker.linear_regex import LinearPattern
from checker.packs import load_pack
from checker.provenance import READING
from checker.sandbox.app import SandboxOptions
from checker.sandbox.endpoints import CreateEndpoint, Magic, Replay
from checker.sandbox.errors import ApiError
from checker.sandbox.packed import Served, replay_of
from checker.sandbox.store import IdempotencyRecord, Store
from checker.sandbox.validation import (
    Fields,
    FileRule,
    Invalid,
    KeyRule,
    Keys,
    Upload,
    _plainly_usable,
    account_of,
    authorization_key,
    decoded_form,
    json_problem,
    parsed_json,
)


def refused(call: Any, *args: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args)
    return caught.value


def basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:".encode()).decode()


# ---------------------------------------------------------------- keys and auth schemes


def test_a_bearer_key_is_its_account_and_each_key_an_account_of_its_own() -> None:
    keys = Keys(test_prefixes=("fx_test_",))
    account = keys.account(Headers({"Authorization": "Bearer fx_test_abc"}))
    assert account == account_of("fx_test_abc") and account.startswith("acct_") and "fx_test_abc" not in account
    assert keys.account(Headers({"authorization": "bearer fx_test_abd"})) != account


def test_basic_auth_carries_the_key_as_the_user_name_only_where_the_pack_takes_it() -> None:
    lob = Keys(test_prefixes=("test_",), schemes=("basic",))
    assert lob.account(Headers({"Authorization": basic("test_abc")})) == account_of("test_abc")
    error = refused(lob.account, Headers({"Authorization": "Bearer test_abc"}))
    assert (error.status, error.error, error.action) == (401, "unauthorized", "Send HTTP Basic with the sandbox key as the user name.")
    both = Keys(schemes=("bearer", "basic"))
    assert both.account(Headers({"Authorization": basic("sk_test_1")})) == both.account(Headers({"Authorization": "Bearer sk_test_1"}))
    assert refused(Keys(schemes=("bearer",)).account, Headers({"Authorization": basic("sk_test_1")})).action == (
        "Send Authorization: Bearer <sandbox key>."
    )


def test_a_malformed_basic_credential_carries_no_key() -> None:
    assert authorization_key("Basic !!!", ("basic",)) == ""
    assert authorization_key("Basic " + base64.b64encode(b"\xff\xfe:").decode(), ("basic",)) == ""
    assert authorization_key("Token abc", ("bearer", "basic")) == ""
    assert authorization_key("Bearer   abc  ", ("bearer",)) == "abc"


def test_a_key_header_of_the_providers_own_is_the_only_place_a_key_is_taken() -> None:
    adyen = Keys(header="X-API-Key")
    assert adyen.account(Headers({"x-api-key": " AQE1 "})) == account_of("AQE1")
    error = refused(adyen.account, Headers({"Authorization": "Bearer AQE1"}))
    assert (error.status, error.message) == (401, "Missing X-API-Key header.")


def test_live_keys_and_keys_without_a_sandbox_prefix_are_refused() -> None:
    keys = Keys(live_prefixes=("fx_live_",), test_prefixes=("fx_test_", "mfx_test_"))
    assert refused(keys.account, Headers({"Authorization": "Bearer fx_live_abc"})).error == "live_key_in_sandbox"
    assert refused(keys.account, Headers({"Authorization": "Bearer sk_live_abc"})).error == "live_key_in_sandbox"  # any _live_
    error = refused(keys.account, Headers({"Authorization": "Bearer nope_abc"}))
    assert (error.status, error.error, error.action) == (401, "invalid_api_key", "Sandbox keys start with fx_test_ or mfx_test_.")
    assert Keys().account(Headers({"Authorization": "Bearer anything"})) == account_of("anything")  # no prefixes named


# ---------------------------------------------------------------- the idempotency key


def test_the_idempotency_key_is_read_from_its_header_or_taken_out_of_the_body() -> None:
    header = KeyRule(in_header=True, name="Idempotency-Key")
    assert header.key(Headers({"idempotency-key": "k1"}), {}) == "k1"
    assert header.in_headers(Headers({"idempotency-key": ""})) is None
    body_rule = KeyRule(in_header=False, name="idempotencyKey")
    data: dict[str, Any] = {"idempotencyKey": "k2", "courier": "x"}
    assert body_rule.key(Headers({}), data) == "k2" and data == {"courier": "x"}  # the key is not the request
    assert body_rule.in_headers(Headers({"idempotencyKey": "k3"})) is None
    assert body_rule.key(Headers({}), {"idempotencyKey": 5}) is None
    assert body_rule.key(Headers({}), {"idempotencyKey": ""}) is None


def test_a_required_key_missing_is_the_packs_validation_error_in_a_body_and_400_in_a_header() -> None:
    in_body = KeyRule(in_header=False, name="idempotencyKey", required=True, invalid=Invalid(422, "invalid"))
    error = refused(in_body.check, None)
    assert (error.status, error.error, error.errors) == (
        422,
        "invalid",
        [{"field": "idempotencyKey", "message": "is required in every request"}],
    )
    error = refused(KeyRule(in_header=True, name="Idempotency-Key", required=True).check, None)
    assert (error.status, error.error, error.message) == (
        400,
        "idempotency_key_required",
        "Every request needs the Idempotency-Key header.",
    )
    KeyRule(in_header=True, name="Idempotency-Key").check(None)  # optional: no key is a plain create


def test_a_key_over_the_documented_length_is_refused() -> None:
    rule = KeyRule(in_header=True, name="Idempotency-Key", max_length=64)
    rule.check("k" * 64)
    error = refused(rule.check, "k" * 65)
    assert (error.status, error.error, error.message) == (
        400,
        "idempotency_key_too_long",
        "Idempotency keys are at most 64 characters (got 65).",
    )
    KeyRule(in_header=True, name="Idempotency-Key").check("k" * 255)
    assert refused(KeyRule(in_header=True, name="Idempotency-Key").check, "k" * 256).error == "idempotency_key_too_long"


# ---------------------------------------------------------------- body encodings


def test_json_bodies_are_refused_when_not_json_nested_too_deep_or_holding_a_lone_surrogate() -> None:
    assert parsed_json(b'{"a": [1, {"b": "c"}]}') == {"a": [1, {"b": "c"}]}
    assert refused(parsed_json, b"{nope").message == "The body is not valid JSON."
    assert parsed_json(b"[" * 31 + b"1" + b"]" * 31) is not None  # 32 levels: the scalar inside is the 32nd
    error = refused(parsed_json, b"[" * 32 + b"1" + b"]" * 32)
    assert (error.status, error.error, error.message) == (400, "invalid_json", "The body is not usable JSON: nested deeper than 32 levels.")
    assert json_problem({"a": "\ud800"}) == "a string holds a lone surrogate (\\ud800-\\udfff)"
    assert json_problem({"\udfff": 1}) == "a string holds a lone surrogate (\\ud800-\\udfff)"
    assert json_problem(["\U0001f600", "é"]) is None  # a pair is one character, not a lone surrogate
    assert refused(parsed_json, b'"\\ud800"').error == "invalid_json"


def test_form_bodies_nest_and_are_refused_when_not_text() -> None:
    assert decoded_form(b"amount=100&metadata[order]=7") == {"amount": "100", "metadata": {"order": "7"}}
    error = refused(decoded_form, b"\xff\xfe")
    assert (error.status, error.error, error.message) == (400, "invalid_request", "The body is not a form.")


# ---------------------------------------------------------------- a create's fields


def fields(**overrides: Any) -> Fields:
    settings: dict[str, Any] = {
        "required": ("to", "file", "amount"),
        "typed": {"amount": "integer", "capture": "boolean"},
        "patterns": {"to": LinearPattern(r"\+[1-9][0-9]{6,14}")},
        "file": FileRule("file", ("pdf", "png"), "unsupported_media"),
        "invalid": Invalid(422, "validation_failed"),
    }
    return Fields(**{**settings, **overrides})


def test_every_invalid_field_is_named_in_one_answer_in_order() -> None:
    error = refused(fields().check, {"to": "0800", "amount": True, "capture": "yes"})
    assert (error.status, error.error) == (422, "validation_failed")
    assert error.errors == [
        {"field": "file", "message": "is required (a document upload)"},
        {"field": "amount", "message": "must be an integer"},
        {"field": "capture", "message": "must be true or false"},
        {"field": "to", "message": "is not valid (expected \\+[1-9][0-9]{6,14})"},
    ]
    assert error.message == "; ".join(f"{e['field']}: {e['message']}" for e in error.errors or [])


def test_required_strings_types_and_whole_pattern_matches() -> None:
    check = fields(file=FileRule(None), required=("to", "name")).problems
    assert check({"to": "+15005550000", "name": "x", "amount": 1, "capture": False}) == []
    assert check({"to": "+15005550000x", "name": "", "amount": 1.5, "capture": False}) == [
        ("name", "is required (a string)"),
        ("amount", "must be an integer"),
        ("to", "is not valid (expected \\+[1-9][0-9]{6,14})"),
    ]
    assert check({"to": 15005550000, "name": ["x"], "capture": None}) == [
        ("to", "must be a string"),
        ("name", "must be a string"),
        ("amount", "is required (an integer)"),
        ("capture", "is required (true or false)"),
        ("to", "is not valid (expected \\+[1-9][0-9]{6,14})"),
    ]
    nested = Fields(required=("payment.currency",), typed={"payment.amount": "number"})
    assert nested.problems({"payment": {"currency": "GBP", "amount": 10}}) == []
    assert nested.problems({"payment": {"amount": False}}) == [
        ("payment.currency", "is required (a string)"),
        ("payment.amount", "must be a number"),
    ]


def test_an_upload_of_a_kind_the_pack_does_not_take_is_422_with_its_code_first() -> None:
    error = refused(fields().check, {"to": "x", "file": Upload("a.exe", "elf", 10), "amount": 1})
    assert (error.status, error.error, error.action) == (422, "unsupported_media", "Send one of: PDF, PNG.")
    assert error.errors == [{"field": "file", "message": "unsupported type elf"}]
    fields().check({"to": "+15005550000", "file": Upload("a.pdf", "pdf", 10), "amount": 1, "capture": True})
    fields(file=FileRule("file")).check({"to": "+15005550000", "file": Upload("a.exe", "elf", 10), "amount": 1, "capture": True})


def test_pack_patterns_match_as_re2_does_whole_text_only() -> None:
    cases = {
        r"\+[1-9][0-9]{6,14}": ["+15005550000", "+1", "+15005550000\n", "", "+١٢٣٤٥٦٧"],
        r"[a-z]*": ["", "abc", "abC", "é"],
        r"(a|b)+\z": ["ab", "abc"],
        r".": ["é", "é\u0301", "\n"],
    }
    for pattern, texts in cases.items():
        compiled = re2.compile(pattern)
        for text in texts:
            assert LinearPattern(pattern).fullmatch(text) == (compiled.fullmatch(text) is not None), (pattern, text)
    assert LinearPattern("a").fullmatch("\ud800") is False


# ---------------------------------------------------------------- built from a pack, read untracked


def test_the_endpoints_read_the_packs_facts_once_and_record_no_rules_basis(tmp_path: Path) -> None:
    """Every facts model records the fields read while READING holds a set (checker/provenance.py): building the
    sandbox inside a rule's reading would add the sandbox's reads to that rule's basis."""
    from checker.sandbox.app import Sandbox

    pack = load_pack("gocardless")
    sandbox = Sandbox(pack.name, Store(tmp_path / "s.db"), SandboxOptions())
    served = Served(pack)
    reading: set[str] = set()
    token = READING.set(reading)
    try:
        served.configure(sandbox)
        routes = served.routes(sandbox)
        endpoint = CreateEndpoint.of(sandbox, pack.facts, replay_of(pack, sandbox.options), None)
    finally:
        READING.reset(token)
        sandbox.store.close()
    assert reading == set()
    assert routes and endpoint.parts.fields.typed == {"payments.amount": "integer"}


def test_a_replay_is_the_stored_answer_or_the_error_naming_what_the_key_made() -> None:
    record = IdempotencyRecord("h1", 201, {"content-type": "application/json"}, b'{"payments": {"id": "PM1"}}', None)
    gocardless = load_pack("gocardless")
    replay = Replay(gocardless.facts, replay_of(gocardless, SandboxOptions()))
    error = refused(replay.answer, record, "h1")
    assert (error.status, error.error, error.extra) == (
        409,
        "idempotent_creation_conflict",
        {"error.errors.0.links.conflicting_resource_id": "PM1"},
    )
    mintfax = load_pack("mintfax")
    answer = Replay(mintfax.facts, replay_of(mintfax, SandboxOptions())).answer(record, "h1")
    assert answer.status_code == 201 and answer.body == record.body
    assert dict(answer.headers)["idempotency-replayed"] == "true"
    echoed = Replay(mintfax.facts, replay_of(mintfax, SandboxOptions(replay_style="001"))).answer(record, "h1")
    assert "idempotency-replayed" not in dict(echoed.headers)


def test_a_reused_key_with_another_body_is_answered_as_the_pack_says() -> None:
    stripe = load_pack("stripe")
    record = IdempotencyRecord("h1", 200, {"content-type": "application/json"}, b'{"id": "pi_1"}', None)
    error = refused(Replay(stripe.facts, replay_of(stripe, SandboxOptions())).answer, record, "h2")
    mismatch = stripe.facts.idempotency.on_body_mismatch
    assert not isinstance(mismatch, str) and (error.status, error.error) == (mismatch.status, mismatch.code)
    assert Replay(stripe.facts, replay_of(stripe, SandboxOptions())).answer(record, "h1").status_code == 200


def test_magic_values_fail_a_keys_first_attempt_and_every_other_request_without_a_key(tmp_path: Path) -> None:
    from checker.sandbox.app import Sandbox

    pack = load_pack("mintfax")
    store = Store(tmp_path / "s.db")
    try:
        magic = Magic(Sandbox(pack.name, store, SandboxOptions()), pack.facts)
        field = pack.facts.sandbox.magic_field
        assert field
        transient = {field: next(v for name, v in pack.facts.magic.items() if name == "transient")}
        assert refused(magic.apply, "acct_a", "k1", dict(transient)).status == 503
        magic.apply("acct_a", "k1", dict(transient))  # the retry with the same key goes through
        assert refused(magic.apply, "acct_a", "k2", dict(transient)).status == 503  # a new key fails once again
        assert refused(magic.apply, "acct_a", None, dict(transient)).status == 503
        magic.apply("acct_a", None, dict(transient))
        assert refused(magic.apply, "acct_a", None, dict(transient)).status == 503
        magic.apply("acct_a", "k3", {field: "+15005550000"})
    finally:
        store.close()


def test_replayed_bodies_keep_their_bytes() -> None:
    body = json.dumps({"id": "fax_1", "to": "+1"}).encode()
    record = IdempotencyRecord("", None, {"content-type": "application/json"}, body, None)
    mintfax = load_pack("mintfax")
    answer = Replay(mintfax.facts, replay_of(mintfax, SandboxOptions())).answer(record, "")
    assert answer.body == body and answer.status_code == mintfax.facts.create.created_status


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(), max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet=st.characters(), max_size=4), inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(_json_values, st.booleans(), st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-32-le"]), st.integers(0, 40))
def test_the_bytes_only_shortcut_never_passes_a_body_the_walk_refuses(value: Any, ascii_only: bool, encoding: str, depth: int):
    """`parsed_json` skips the walk (`json_problem`) where the body's bytes alone show it cannot find anything: that must
    never let through what the walk would refuse (a lone surrogate, raw or escaped, in any encoding json.loads reads;
    nesting past MAX_JSON_DEPTH)."""
    text = "[" * depth + json.dumps(value, ensure_ascii=ascii_only) + "]" * depth
    body = text.encode(encoding, "surrogatepass")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return
    if _plainly_usable(body):
        assert json_problem(data) is None, body


def test_a_multipart_body_that_stops_arriving_is_408_like_a_json_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A body is bounded in time whatever its encoding (a multipart create was read without a bound, so a client that
    sent half a form held its connection open for good)."""
    import asyncio

    from checker.sandbox import endpoints
    from checker.sandbox.packed import build_app

    monkeypatch.setattr(endpoints, "BODY_TIMEOUT_S", 0.2)
    boundary = "b0undary"
    half = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 and then nothing'.encode()
    headers = [
        (b"authorization", b"Bearer fx_test_0123456789abcdef"),
        (b"idempotency-key", b"stalled-1"),
        (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
    ]
    scope = {"type": "http", "method": "POST", "path": "/v1/fax", "headers": headers, "query_string": b"", "client": ("127.0.0.1", 1)}
    scope |= {"asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http", "root_path": "", "raw_path": b"/v1/fax"}
    messages: list[dict[str, Any]] = []

    async def run() -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)  # the rest of the body never comes
            sent = True
            return {"type": "http.request", "body": half, "more_body": True}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await asyncio.wait_for(build_app("mintfax")(scope, receive, send), 10)

    asyncio.run(run())
    assert messages[0]["status"] == 408
    assert json.loads(messages[1]["body"])["error"] == "request_timeout"
