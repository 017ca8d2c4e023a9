"""Meta-tests over the catalog and every pack, and loading a user's own pack."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checker.engine import registered
from checker.errors import ConfigError
from checker.model import PROBED_TARGETS, Documented, Status
from checker.packs import BUILTIN_PACKS, RULE_ID, load_catalog, load_pack
from tests.conftest import ROOT, config_for, run_rules

# docs/design.md §5 (and the additions marked below): the IDs are a contract
DESIGN_IDS = [
    "IDEM-001",
    "IDEM-002",
    "IDEM-003",
    "IDEM-004",
    "IDEM-005",
    "IDEM-006",
    "FILE-003",
    "IDEM-101",
    "IDEM-102",
    "IDEM-103",
    "IDEM-104",
    "IDEM-105",
    "OBS-101",
    "RETRY-101",
    "RETRY-102",
    "RETRY-103",
    "RETRY-104",
    "RETRY-105",
    "RETRY-106",
    "RETRY-107",
    "RETRY-108",
    "RATE-101",
    "RATE-102",
    "ERR-101",
    "ERR-102",
    "ERR-103",
    "FILE-001",
    "FILE-002",
    "FILE-101",
    "FILE-102",
    "HOOK-201",
    "HOOK-202",
    "HOOK-203",
    "HOOK-204",
    "HOOK-205",
    "HOOK-206",
    "HOOK-207",
    "HOOK-208",
    "HOOK-209",
    "HOOK-210",
    "HOOK-211",
    "HOOK-212",
    "HOOK-213",
    "KEY-001",
    "KEY-002",
    "KEY-003",
    "KEY-004",
    "BAL-001",
    "LIVE-001",
    "LIVE-002",
    "LIVE-003",
    "LIVE-004",
    "LIVE-005",
    "LIVE-006",
    "LIVE-007",
    # added to docs/design.md §5 by issue 17 (item 7): the mintfax checklist items no rule covered, as attestations
    "LIVE-008",
    "LIVE-009",
    "LIVE-010",
    # added by issue 17 (item 7): the checklist's "keys expire after 24 hours", probed on golive's sandbox clock
    "IDEM-007",
]
SEEDS = {
    "000_aa85249851aa0a9c.txt",
    "001_c1590b1e5571a9c0.txt",
    "002_8baf5029274c2112.txt",
    "003_831ca1a28e9ab1b8.txt",
    "004_bb152a8fa4e847ed.txt",
}
SEED_DIR = ROOT / "tests" / "data" / "provider_docs"  # the seed documents, kept in the repository (a clone has nothing beside it)


def test_catalog_is_exactly_the_design_catalog():
    catalog, _ = load_catalog()
    ids = [r.id for r in catalog.rules]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(DESIGN_IDS)
    assert all(RULE_ID.match(i) for i in ids)


def test_every_rule_has_its_words():
    catalog, _ = load_catalog()
    for rule in catalog.rules:
        for field in ("title", "checks", "why", "probe", "fix"):
            assert len(getattr(rule, field).strip()) >= 10, f"{rule.id}.{field}"


@pytest.mark.parametrize("name", BUILTIN_PACKS)
def test_builtin_packs_state_every_rule_with_a_source_or_a_reason(name):
    pack = load_pack(name)
    text = (ROOT / "rules" / f"{name}.yaml").read_text()
    own = {rule.id for rule in load_catalog()[0].rules if rule.every_pack}  # golive's own rules (KEY-004): every pack's
    for rule in pack.rules:
        if rule.id in own and rule.source is None:  # applies whatever the pack says, with no document of its own
            assert rule.skip is None, f"{name} {rule.id}"
            continue
        assert re.search(rf"^  {rule.id}:", text, re.M), f"{name} does not mention {rule.id}"
        if rule.skip:
            assert name in rule.skip and "document" in rule.skip, f"{name} {rule.id}: {rule.skip}"
        elif rule.source is None:  # golive applies it though no document says so (issue 28): the reason, naming the pack
            assert rule.cite and rule.cite.startswith("assumed (no document of the pack says it): ") and name in rule.cite, rule.id
        else:
            # a seed document, or a real provider's public document kept as an excerpt (stripe/idempotency.md)
            kept = rule.source in SEEDS or (ROOT / "tests" / "data" / "provider_docs" / str(rule.source)).is_file()
            assert kept, f"{name} {rule.id} cites {rule.source}"


CITE = re.compile(r"^[^\s—][^—]* — https://[^\s/]+\.[a-z]{2,}(/\S*)?$")  # "Title — URL"


@pytest.mark.parametrize("name", BUILTIN_PACKS)
def test_every_source_a_user_sees_is_a_title_and_a_url(name):
    """A rule's source, each documented fact and each side of a conflict are cited by the document's title and public
    URL (docs/design.md §5), never the file name the pack knows it by (`000_aa85249851aa0a9c.txt`, `errors.md`)."""
    pack = load_pack(name)
    cites = {pack.cite(document) for document in pack.documents}
    for rule in pack.rules:
        assumed = rule.cite is not None and rule.cite.startswith("assumed (no document of the pack says it): ")
        assert (rule.cite is None) == (rule.source is None) or (assumed and rule.source is None), rule.id
        if rule.cite is not None and not assumed:
            assert rule.cite == pack.cite(rule.source) and rule.cite in cites, rule.id
        cites |= {item.documented for item in rule.basis if isinstance(item, Documented)}
        cites |= {quote.document for reading in rule.readings for quote in reading.quotes}
    assert cites
    for cite in cites:
        assert CITE.match(cite), cite
        assert not re.search(r"\.(txt|md)\b|seeds/", cite.split(" — ")[0]), cite  # a URL may end in .md (a GitHub page)


def test_a_document_cites_as_its_title_and_url(tmp_path):
    pack_path = tmp_path / "acme.yaml"
    pack_path.write_text(
        "schema: golive-pack/1\nname: acme\nextends: mintfax\n"
        "documents:\n  guide.md: {title: Retries, site: 'http://docs.acme.example/retries', revision: v2}\n"
        "rules:\n  ERR-102: {source: guide.md}\n"
    )
    pack = load_pack(str(pack_path))
    assert pack.rule("ERR-102").cite == "Retries (v2) — http://docs.acme.example/retries"  # a URL stays as written
    # documents the base brought are the base provider's, cited by their own title and URL
    assert pack.rule("IDEM-001").cite == "Retry safely without sending duplicate faxes — https://mintfax.com/docs"
    spaced = tmp_path / "spaced.yaml"  # (packs are cached by path)
    spaced.write_text(pack_path.read_text().replace("site: 'http://docs.acme.example/retries'", "site: 'docs acme'"))
    with pytest.raises(ConfigError, match=r"spaced\.yaml:5: documents\.guide\.md\.site"):
        load_pack(str(spaced))


def test_cited_documents_exist():
    assert {p.name for p in SEED_DIR.iterdir()} >= SEEDS


def test_every_registered_check_has_a_rule_and_tests_both_ways():
    catalog = {r.id: r for r in load_catalog()[0].rules}
    catalog_ids = set(catalog)
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    for rule_id in registered():
        assert rule_id in catalog_ids
        assert catalog[rule_id].target in PROBED_TARGETS  # a check probes a target; a manual item has none
        # the rule's pass and fail tests name it (tests/test_contract_rules.py: APPLIES and FLAW_FOR)
        assert tests.count(f'"{rule_id}"') >= 2, f"{rule_id} has no pass/fail tests"


def test_user_pack_extending_a_builtin(tmp_path):
    pack_path = tmp_path / "acmefax.yaml"
    pack_path.write_text(
        "schema: golive-pack/1\nname: acmefax\nextends: mintfax\n"
        "facts:\n  create: {path: /v2/send}\n"
        "rules:\n  IDEM-005: {skip: acmefax documents no key length}\n  ERR-102: {source: acme.md, severity: blocker}\n"
    )
    pack = load_pack(str(pack_path))
    assert pack.name == "acmefax"
    assert pack.facts.create.path == "/v2/send"
    assert pack.facts.create.encoding == "multipart"  # kept from mintfax
    assert pack.rule("IDEM-005").skip == "acmefax documents no key length"
    assert pack.rule("ERR-102").severity.value == "blocker" and pack.rule("ERR-102").source == "acme.md"
    assert pack.rule("IDEM-001").source == "000_aa85249851aa0a9c.txt"


def test_user_pack_from_scratch_skips_what_it_does_not_mention(tmp_path):
    pack_path = tmp_path / "labels.yaml"
    pack_path.write_text(
        "schema: golive-pack/1\nname: shipit\n"
        "facts:\n"
        "  create: {path: /labels, encoding: json, body: {courier: dhl}, created_status: 201}\n"
        "  idempotency: {key_in: body, name: idempotencyKey}\n"
        "  retry: {retryable_statuses: [500], non_retryable_statuses: [400]}\n"
        "rules:\n  IDEM-001: {source: docs/idempotency.md}\n"
    )
    pack = load_pack(str(pack_path))
    assert pack.rule("IDEM-001").skip is None
    assert pack.rule("IDEM-004").skip == "the shipit pack does not cover this rule"


def test_user_pack_runs_against_a_compatible_sandbox(sandbox, tmp_path):
    url = sandbox("flexforward").url
    pack_path = tmp_path / "shipit.yaml"
    pack_path.write_text(
        "schema: golive-pack/1\nname: shipit\n"
        "facts:\n"
        "  create: {path: /labels, encoding: json, body: {courier: dhl, reference: '{ref}'}, created_status: 201}\n"
        "  idempotency: {key_in: body, name: idempotencyKey, replay: {status: 200}}\n"
        "  retry: {retryable_statuses: [500], non_retryable_statuses: [400]}\n"
        "rules:\n  IDEM-001: {source: docs/idempotency.md}\n  IDEM-002: {source: docs/idempotency.md}\n"
    )
    config = config_for("flexforward", url)
    config = type(config)(
        **{**{f: getattr(config, f) for f in config.__slots__}, "file": config.file.model_copy(update={"provider": str(pack_path)})}
    )
    results = run_rules(config, "IDEM")
    assert results["IDEM-001"].status is Status.PASS
    assert results["IDEM-002"].status is Status.PASS
    assert results["IDEM-004"].status is Status.SKIP


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("rules:\n  IDEM-01: {source: x}\n", "rules.IDEM-01: unknown rule id (did you mean 'IDEM-"),
        ("rules:\n  IDEM-0001: {source: x}\n", "unknown rule id (did you mean 'IDEM-001'?)"),
        ("rules:\n  IDEM-001: {source: x, skip: y}\n", "exactly one of 'source'"),
        ("rules:\n  IDEM-001: {}\n", "exactly one of 'source'"),
        ("facts:\n  idempotency: {key_in: query, name: k}\n", "facts.idempotency.key_in"),
        ("facts:\n  retry: {retryable_statuses: [five hundred]}\n", "facts.retry.retryable_statuses[0]"),
        ("facts:\n  create: {pth: /x}\n", "unknown key (did you mean 'path'?)"),
    ],
)
def test_invalid_user_packs_are_config_errors_with_lines(tmp_path, body, expected):
    pack_path = tmp_path / "bad.yaml"
    pack_path.write_text("schema: golive-pack/1\nname: bad\nextends: mintfax\n" + body)
    with pytest.raises(ConfigError) as caught:
        load_pack(str(pack_path))
    text = str(caught.value)
    assert expected in text
    assert re.search(r"bad\.yaml:\d+:", text)


def test_unknown_provider_suggests_a_builtin():
    with pytest.raises(ConfigError, match="did you mean 'mintfax'"):
        load_pack("mintfx")


def test_rules_and_reports_folders_are_found():
    from checker.packs import data_dir

    assert (data_dir("rules") / "catalog.yaml").is_file()
    assert Path(data_dir("reports")).is_dir()


def test_readme_lists_every_rule():
    readme = (ROOT / "docs" / "rules.md").read_text()
    for rule_id in DESIGN_IDS:
        assert f"| {rule_id} |" in readme, f"docs/rules.md does not list {rule_id}"


def test_rule_texts_speak_each_packs_numbers_and_words() -> None:
    """Rule texts are templates filled from the pack's facts: no rule says mintfax's numbers (5 attempts, a 1 s base
    and 30 s cap) or its words (fax, balance.low, context.errors) for another provider."""
    from checker.packs import TEXTS

    mintfax, stripe = load_pack("mintfax"), load_pack("stripe")
    assert mintfax.rule("RETRY-108").title == "Gives up after at most 5 attempts and exits non-zero"
    assert stripe.rule("RETRY-108").title == "Gives up after at most 4 attempts and exits non-zero"
    assert stripe.rule("RETRY-106").fix == "Use exponential backoff, doubling from a base of 0.5 s, capped at 5 s."
    assert "one byte larger than the provider accepts (9,999,999 bytes)" in mintfax.rule("FILE-102").probe  # not "an 11 MB file"
    assert mintfax.rule("BAL-001").fix.startswith("Subscribe to balance.low or poll the balance (/v1/account/balance)")
    assert "a second payment" in stripe.rule("IDEM-001").why
    for rule in stripe.rules:
        text = " ".join(getattr(rule, name) for name in TEXTS)
        assert "{" not in text.replace("${", ""), (rule.id, text)  # every placeholder filled
        for mintfax_word in ("fax", "balance.low", "context.errors", "30 s cap", "at most 5 attempts", "mintfax"):
            assert mintfax_word not in text.lower(), (rule.id, mintfax_word, text)
    for pack in (mintfax, load_pack("idunox"), load_pack("flexforward"), stripe):
        for rule in pack.rules:
            text = " ".join(getattr(rule, name) for name in TEXTS)
            if pack.name != "flexforward":  # labels are Flex Forward's word
                assert not re.search(r"\blabels?\b", text), (pack.name, rule.id, text)
            assert not re.search(r"\ba (8|11|18)\b|\ba 8\d", text), (pack.name, rule.id, text)  # "an 8 s cap"


def test_a_sandbox_pattern_that_is_no_regular_expression_is_refused_at_its_line(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "schema: golive-pack/1\nname: p\nextends: mintfax\nfacts:\n  sandbox:\n    patterns: {amount: '[0-9'}\n"
    )
    with pytest.raises(ConfigError, match=r"p\.yaml:6: facts\.sandbox\.patterns: .*amount: '\[0-9' is not a regular expression"):
        load_pack(str(tmp_path / "p.yaml"))


# ---------------------------------------------------------------- round 3: docs (the README's front door, docs/ pages)


def test_a_typed_required_field_in_a_form_request_is_refused_at_its_line(tmp_path):
    """docs/packs.md's example pack (form-encoded, Stripe's shape) once stated `sandbox.required_types: {amount: integer}`:
    a form body carries every value as text (checker/sandbox/packed.py `validate`: `is_json_type("2000", "integer")` is
    false), so the embedded sandbox refused every create with `400 parameter_missing` and IDEM-001 was golive's `error`.
    Such a pack is refused when it loads, at the line; the same field in a JSON pack (GoCardless's amount) loads."""
    docs = (ROOT / "docs" / "packs.md").read_text()
    start = docs.index("```yaml\n", docs.index("A shorter one:")) + len("```yaml\n")
    example = docs[start : docs.index("```", start)]
    assert "    # required_types: {amount: integer}" in example  # JSON bodies only: commented out in a form pack
    (tmp_path / "acmepay.yaml").write_text(
        example.replace("    # required_types: {amount: integer}", "    required_types: {amount: integer}")
    )
    line = example[: example.index("# required_types")].count("\n") + 1
    with pytest.raises(ConfigError, match=rf"acmepay\.yaml:{line}: facts\.sandbox\.required_types\.amount: a form request carries"):
        load_pack(str(tmp_path / "acmepay.yaml"))
    (tmp_path / "fax.yaml").write_text(
        "schema: golive-pack/1\nname: fax\nextends: mintfax\nfacts:\n  sandbox:\n    required_types: {to: boolean}\n"
    )
    with pytest.raises(ConfigError, match=r"fax\.yaml:6: facts\.sandbox\.required_types\.to: a multipart request carries"):
        load_pack(str(tmp_path / "fax.yaml"))
    (tmp_path / "json.yaml").write_text(
        "schema: golive-pack/1\nname: json\nextends: gocardless\nfacts:\n  sandbox:\n    required_types: {payments.amount: integer}\n"
    )
    assert load_pack(str(tmp_path / "json.yaml")).facts.sandbox.required_types == {"payments.amount": "integer"}
