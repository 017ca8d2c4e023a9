"""The registries a pack names things from: signature schemes (checker/signing.py's SCHEMES) and the embedded sandbox's
named features (checker/sandbox/features.py's FEATURES). A new scheme is one class registered there and its tests;
what a pack may name, and the pack's JSON Schema, come from the registries."""

from __future__ import annotations

import re

import pytest

from checker.errors import ConfigError
from checker.facts import SANDBOX_FEATURES
from checker.file_schemas import json_schema
from checker.packs import load_pack
from checker.sandbox.features import FEATURES
from checker.signing import SCHEMES, SecretError, SigningScheme, fresh_secret
from tests.conftest import ROOT

HEADERS = {"standard": ("webhook-signature", "webhook-timestamp", "webhook-id"), "lob": ("Lob-Signature", "Lob-Signature-Timestamp", None)}


def scheme(name: str) -> SigningScheme:
    header, timestamp, id_ = HEADERS.get(name, ("additionalData.hmacSignature" if SCHEMES[name].in_body else "X-Signature", None, None))
    return SigningScheme(name, header, timestamp, id_)


def test_the_pack_json_schema_offers_the_registered_names() -> None:
    defs = json_schema("pack")["$defs"]
    assert defs["WebhookFacts"]["properties"]["scheme"]["enum"] == list(SCHEMES)
    assert defs["SandboxFacts"]["properties"]["features"]["items"]["enum"] == list(FEATURES)


def test_the_sandbox_features_a_pack_may_name_are_the_ones_the_sandbox_has() -> None:
    """Loading a pack does not import the sandbox (starlette), so the names are written beside the facts models:
    this keeps them the sandbox's."""
    assert tuple(FEATURES) == SANDBOX_FEATURES
    assert all(FEATURES[name].name == name for name in FEATURES)


@pytest.mark.parametrize("field", ["scheme", "feature"])
def test_a_name_no_registry_has_is_refused_with_the_names_it_has(tmp_path, field: str) -> None:
    pack = tmp_path / "mine.yaml"
    facts = "  webhooks: {scheme: nope, signature_header: X-Sig}\n" if field == "scheme" else "  sandbox: {features: [nope]}\n"
    pack.write_text(f"schema: golive-pack/1\nname: mine\nextends: mintfax\nfacts:\n{facts}")
    with pytest.raises(ConfigError) as caught:
        load_pack(str(pack))
    names = list(SCHEMES) if field == "scheme" else list(FEATURES)
    expected = "input should be " + ", ".join(repr(n) for n in names[:-1]) + f" or {names[-1]!r} (got 'nope')"
    assert expected in str(caught.value)


@pytest.mark.parametrize("name", list(SCHEMES))
def test_every_scheme_signs_with_its_own_fresh_secret_and_its_malformed_forms_differ(name: str) -> None:
    how, secret = scheme(name), fresh_secret(name)
    headers = how.sign([secret], b'{"id": 1}', timestamp=1_700_000_000, msg_id="msg_1", url="https://example.test/hooks")
    assert headers == how.sign([secret], b'{"id": 1}', timestamp=1_700_000_000, msg_id="msg_1", url="https://example.test/hooks")
    if how.in_body:
        assert headers == {}
        return
    assert how.signature_header in headers
    bad = how.malformed(headers)
    assert bad and all(variant != headers for _, variant in bad)
    assert len({label for label, _ in bad}) == len(bad)
    if not how.carries_several_signatures:
        other = how.sign([fresh_secret(name)], b'{"id": 1}', timestamp=1_700_000_000, msg_id="msg_1", url="https://example.test/hooks")
        assert other != headers


def test_a_secret_is_checked_where_the_scheme_takes_only_one_form() -> None:
    with pytest.raises(SecretError):
        scheme("adyen").sign(["not hex"], b"{}", timestamp=0, msg_id="x")
    with pytest.raises(SecretError):
        scheme("standard").sign(["whsec_!!"], b"{}", timestamp=0, msg_id="x")


@pytest.mark.parametrize("name", list(SCHEMES))
def test_every_registered_scheme_has_tests_of_its_own(name: str) -> None:
    """As a registered check without tests naming its rule is refused (tests/test_packs.py): some test beside this
    file builds the scheme by name, or loads a pack that names it and signs with it."""
    own = ROOT / "tests" / "test_registries.py"
    by_name = re.compile(rf'SigningScheme\(\s*"{name}"|scheme:\s*{name}\b|load_pack\("{name}"\)\.facts\.webhooks\.signing\(\)')
    assert any(by_name.search(f.read_text(encoding="utf-8")) for f in (ROOT / "tests").glob("test_*.py") if f != own)
