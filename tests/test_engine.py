"""The engine: selection, pre-decided statuses, errors vs failures, bounds, waivers, verdict, redaction."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from checker import engine
from checker.config import parse_config
from checker.errors import ConfigError, ProbeError
from checker.model import Outcome, Severity, Status
from checker.packs import load_pack
from checker.registry import Check, check

KEY = "fx_test_a1b2c3d4e5f6a7b8c9d0"


def config(extra: str = "", key: str = KEY) -> object:
    return parse_config(f"provider: mintfax\nsandbox: {{url: 'http://127.0.0.1:9', api_key: '{key}'}}\n{extra}", environ={})


def run(cfg: object, *select: str, **options: object) -> dict[str, object]:
    result = asyncio.run(engine.run(cfg, load_pack("mintfax"), engine.RunOptions(select=select, **options)))  # type: ignore[arg-type]
    return {"verdict": result.verdict, **{r.rule.id: r for r in result.results}}


@pytest.fixture
def fake_checks(monkeypatch):
    """Replace the registry with checks a test defines: {rule_id: async fn}."""
    checks: dict[str, Check] = {}

    def add(rule_id: str, fn, creates: bool = False) -> None:  # what it probes is its catalog rule's target
        checks[rule_id] = Check(rule_id, fn, creates)

    monkeypatch.setattr(engine, "registered", lambda: dict(checks))
    return add


def ids(cfg: object, *select: str, ignore: tuple[str, ...] = ()) -> list[str]:
    options = engine.RunOptions(select=select, ignore=ignore)
    return [r.id for r in engine.select_rules(load_pack("mintfax"), cfg, options)]  # type: ignore[arg-type]


def test_select_and_ignore_by_prefix_longest_wins():
    cfg = config()
    assert ids(cfg, "IDEM-00") == ["IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005", "IDEM-006", "IDEM-007"]
    assert ids(cfg, "IDEM-00", ignore=("IDEM-003",)) == ["IDEM-001", "IDEM-002", "IDEM-004", "IDEM-005", "IDEM-006", "IDEM-007"]
    assert ids(cfg, "IDEM-004", ignore=("IDEM",)) == ["IDEM-004"]
    assert "HOOK-201" not in ids(cfg, ignore=("HOOK",))
    assert len(ids(cfg)) == 59


def test_config_rules_section_selects_and_cli_select_overrides_it():
    cfg = config("rules:\n  select: [KEY]\n  ignore: [KEY-004]\n")
    assert ids(cfg) == ["KEY-001", "KEY-002", "KEY-003"]
    assert ids(cfg, "BAL") == ["BAL-001"]


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ("rules:\n  select: [IDEM-999]\n", "golive.yaml:4: rules.select[0]: unknown rule 'IDEM-999'"),
        ("rules:\n  ignore: [NOPE]\n", "golive.yaml:4: rules.ignore[0]: unknown rule 'NOPE' (use a rule id or a prefix"),
        ("rules:\n  severity: {ERR-12: info}\n", "golive.yaml:4: rules.severity.ERR-12: unknown rule 'ERR-12' (did you mean 'ERR-102'?)"),
        ("waivers:\n  - {rule: HOOK-28, reason: r, expires: 2030-01-01, by: me}\n", "golive.yaml:4: waivers[0]"),
        ("attestations:\n  LIVE-9: {by: me, date: 2026-01-01}\n", "golive.yaml:4: attestations.LIVE-9"),
    ],
)
def test_unknown_rule_ids_in_config_are_errors_with_lines(extra, where):
    with pytest.raises(ConfigError) as caught:
        ids(config(extra))
    assert str(caught.value).startswith(where)


def test_unknown_ids_on_the_command_line():
    with pytest.raises(ConfigError, match=r"command line: --select\[0\]: unknown rule 'RETRY-1000'"):
        ids(config(), "RETRY-1000")


def test_unimplemented_rules_are_visible_skips(fake_checks):
    results = run(config(), "RETRY-101")
    assert results["RETRY-101"].status is Status.SKIP
    assert results["RETRY-101"].message == "not implemented in this version of golive"


def test_pack_skips_carry_the_reason(fake_checks):
    assert run(config(), "OBS-101")["OBS-101"].message == "mintfax documents no correlation header"


def test_a_probe_error_is_error_not_fail(fake_checks):
    async def unreachable(ctx, rule):
        raise ProbeError("cannot connect to the sandbox")

    async def buggy(ctx, rule):
        return {}["missing"]

    fake_checks("IDEM-001", unreachable)
    fake_checks("IDEM-002", buggy)
    results = run(config(), "IDEM-001", "IDEM-002")
    assert results["IDEM-001"].status is Status.ERROR
    assert results["IDEM-001"].message == "cannot connect to the sandbox"
    assert results["IDEM-002"].status is Status.ERROR
    assert "internal error in the check (KeyError" in results["IDEM-002"].message
    assert "test_engine.py:" in results["IDEM-002"].message
    assert results["verdict"] == "not ready"  # IDEM-001 is a blocker that could not be checked


def test_every_probe_is_bounded(fake_checks):
    async def hangs(ctx, rule):
        await asyncio.sleep(3600)

    fake_checks("IDEM-001", hangs)
    cfg = config()
    pack = load_pack("mintfax")
    rule = pack.rule("IDEM-001")
    object.__setattr__(rule, "params", {"timeout_s": 0.2})
    try:
        result = run(cfg, "IDEM-001")["IDEM-001"]
    finally:
        object.__setattr__(rule, "params", {})
    assert result.status is Status.ERROR
    assert result.message == "the probe did not finish within 0.2 s (not counting waits for a shared target)"


def test_probes_run_concurrently(fake_checks):
    async def slow(ctx, rule):
        await asyncio.sleep(0.3)
        return Outcome.passed("ok")

    for rule_id in ("IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005"):
        fake_checks(rule_id, slow)
    cfg = config()
    result = asyncio.run(engine.run(cfg, load_pack("mintfax"), engine.RunOptions(select=("IDEM-00",))))
    per_probe = sum(r.duration_s for r in result.results)
    assert per_probe >= 1.5
    assert result.duration_s < per_probe  # five 0.3 s probes overlapped instead of queueing


def test_verdict_follows_severity_and_fail_on(fake_checks):
    async def fails(ctx, rule):
        return Outcome.failed("no")

    fake_checks("IDEM-002", fails)  # a warning
    assert run(config(), "IDEM-002")["verdict"] == "ready"
    assert run(config(), "IDEM-002", fail_on="warning")["verdict"] == "not ready"
    assert run(config("rules:\n  severity: {IDEM-002: blocker}\n"), "IDEM-002")["verdict"] == "not ready"
    assert run(config("rules:\n  severity: {IDEM-002: blocker}\n"), "IDEM-002")["IDEM-002"].severity is Severity.BLOCKER


def test_waivers_cover_failures_until_they_expire(fake_checks):
    async def fails(ctx, rule):
        return Outcome.failed("duplicates are processed twice")

    fake_checks("IDEM-001", fails)
    waiver = "waivers:\n  - {rule: IDEM-001, reason: dedupe in the queue, expires: %s, by: ops@example.com}\n"
    today = dt.date(2026, 11, 22)
    covered = run(config(waiver % "2027-01-31"), "IDEM-001", today=today)
    assert covered["IDEM-001"].status is Status.WAIVED
    assert "waived by ops@example.com until 2027-01-31: dedupe in the queue" in covered["IDEM-001"].message
    assert covered["verdict"] == "ready"
    expired = run(config(waiver % "2026-11-01"), "IDEM-001", today=today)
    assert expired["IDEM-001"].status is Status.FAIL
    assert "expired on 2026-11-01" in expired["IDEM-001"].message
    assert expired["verdict"] == "not ready"


def test_a_waiver_never_covers_an_error(fake_checks):
    async def errs(ctx, rule):
        raise ProbeError("unreachable")

    fake_checks("IDEM-001", errs)
    waiver = "waivers:\n  - {rule: IDEM-001, reason: r, expires: 2099-01-01, by: me}\n"
    assert run(config(waiver), "IDEM-001")["IDEM-001"].status is Status.ERROR


def test_manual_items_block_only_in_live_mode_until_attested(fake_checks):
    sandbox_run = run(config(), "LIVE")
    assert {r.status for k, r in sandbox_run.items() if k != "verdict"} == {Status.MANUAL}
    assert sandbox_run["verdict"] == "ready"
    live_run = run(config("environment: live\n"), "LIVE")
    assert live_run["LIVE-001"].severity is Severity.BLOCKER
    assert live_run["verdict"] == "not ready"
    attest = "".join(f"  LIVE-{i:03d}: {{by: sec@example.com, date: 2026-11-20, evidence: 'ticket {i}'}}\n" for i in range(1, 11))
    attested = run(config("environment: live\nattestations:\n" + attest), "LIVE")
    assert attested["LIVE-004"].status is Status.ATTESTED
    assert attested["LIVE-004"].message == "attested by sec@example.com on 2026-11-20: ticket 4"
    assert attested["verdict"] == "ready"


def test_secrets_are_masked_in_messages_and_evidence(fake_checks):
    async def leaky(ctx, rule):
        return Outcome.failed(
            f"sent {KEY} and whsec_0123456789abcdef0123", [{"headers": {"authorization": f"Bearer {KEY}"}, "note": f"key={KEY}"}]
        )

    fake_checks("IDEM-001", leaky)
    cfg = config("webhook: {url: 'http://127.0.0.1:9', secret: whsec_0123456789abcdef0123}\n")
    result = run(cfg, "IDEM-001")["IDEM-001"]
    text = repr((result.message, result.evidence))
    assert KEY not in text and "whsec_0123456789abcdef0123" not in text
    assert "fx_test_…c9d0" in result.message and "whsec_…0123" in result.message


def test_creating_checks_are_refused_with_a_live_key(fake_checks):
    calls = []

    async def creates(ctx, rule):
        calls.append(rule.id)
        return Outcome.passed("created")

    fake_checks("IDEM-001", creates, creates=True)
    result = run(config(key="fx_live_a1b2c3d4e5f6a7b8c9d0"), "IDEM-001")["IDEM-001"]
    assert calls == []
    assert result.status is Status.ERROR and "live key" in result.message


def test_targets_that_are_not_configured_are_skipped_with_the_reason_unless_selected(fake_checks):
    """A target the user has not set up skips its rules (the verdict line names the blockers not probed); a rule the
    user selected by id or prefix was asked for, and not probing it is an error."""

    async def never(ctx, rule):
        raise AssertionError("must not run")

    fake_checks("RETRY-101", never)
    fake_checks("HOOK-201", never)
    results = run(config())
    assert results["RETRY-101"].status is Status.SKIP
    assert results["RETRY-101"].message == "no client configured (client.command in golive.yaml)"
    assert results["HOOK-201"].message == "no webhook receiver configured (webhook.url in golive.yaml)"
    results = run(config(), "RETRY-101", "HOOK-201")
    assert results["RETRY-101"].status is Status.ERROR
    assert results["RETRY-101"].message == "selected, but no client configured (client.command in golive.yaml)"
    assert results["HOOK-201"].status is Status.ERROR
    assert results["verdict"] == "not ready"
    results = run(config("rules:\n  select: [RETRY]\n"))
    assert results["RETRY-101"].status is Status.ERROR


def test_the_registry_refuses_a_second_check_for_one_rule():
    with pytest.raises(RuntimeError, match="already registered"):
        check("IDEM-001")(lambda ctx, rule: None)  # type: ignore[arg-type,return-value]


def test_progress_reports_every_selected_rule_once(fake_checks):
    async def ok(ctx, rule):
        return Outcome.passed("ok")

    fake_checks("IDEM-001", ok)
    events: list[tuple[str, str]] = []
    cfg = config()
    asyncio.run(
        engine.run(
            cfg, load_pack("mintfax"), engine.RunOptions(select=("IDEM-00",)), lambda event, rule, result: events.append((event, rule.id))
        )
    )
    done = [rule_id for event, rule_id in events if event == "done"]
    assert sorted(done) == ["IDEM-001", "IDEM-002", "IDEM-003", "IDEM-004", "IDEM-005", "IDEM-006", "IDEM-007"]
    assert ("start", "IDEM-001") in events


# ---------------------------------------------------------------- never a silent READY

OWN_PACK = """schema: golive-pack/1
name: acme
documents: {guide: {title: "Idempotent requests", site: acme.example}}
facts:
  create: {path: /v1/things, encoding: json, body: {ref: "{ref}"}}
  idempotency: {key_in: header, name: Idempotency-Key}
  retry: {retryable_statuses: [500], non_retryable_statuses: [400]}
rules:
  IDEM-001: {source: guide}
  IDEM-002: {source: guide}
  RETRY-101: {source: guide}
  RETRY-102: {source: guide}
"""
NOT_PROBED = (Status.SKIP, Status.ERROR, Status.MANUAL)


def configurations(tmp_path):
    (tmp_path / "acme.yaml").write_text(OWN_PACK)
    (tmp_path / "mine.yaml").write_text("schema: golive-pack/1\nname: mintfax\nextends: mintfax\n")
    (tmp_path / "impostor.yaml").write_text(OWN_PACK.replace("name: acme", "name: mintfax"))
    client = "client: {command: 'true', timeout: 5}\n"
    webhook = "webhook: {url: 'http://127.0.0.1:9/hooks', secret: whsec_0123456789abcdef0123}\n"
    for provider in ("mintfax", str(tmp_path / "mine.yaml"), str(tmp_path / "acme.yaml"), str(tmp_path / "impostor.yaml")):
        for sandbox in ("{url: builtin}", f"{{url: 'http://127.0.0.1:9', api_key: {KEY}}}", "{url: 'http://127.0.0.1:9'}"):
            for extra in ("", client, webhook, client + webhook):
                for select in ((), ("RETRY",), ("HOOK-201",)):
                    text = f"provider: {provider}\nsandbox: {sandbox}\n{extra}"
                    yield text, select


def test_no_configuration_reaches_ready_while_a_blocker_it_asks_for_was_not_probed(tmp_path, monkeypatch):
    """Every check passes whatever it probes (a fake that records it ran). Over packs (built-in, extending one, a pack
    of its own, one of its own named like a built-in), sandboxes (embedded, real with and without a key), targets
    configured or not, and selections: a READY verdict means every blocker was probed and passed, except what the
    pack does not cover (`skip` with the pack's reason) and targets the user did not set up and did not select —
    and those the verdict line names (`not_probed`). A real sandbox without a key errs; a pack of one's own is served
    by the embedded sandbox from its facts (the issue this test comes from: such a pack with `url: builtin` read
    READY with all 18 sandbox and client rules skipped)."""
    from checker.engine import registered

    probed: list[str] = []

    async def passes(ctx, rule):
        probed.append(rule.id)
        return Outcome.passed("probed")

    real = registered()
    fakes = {rule_id: Check(rule_id, passes, False) for rule_id in real}
    monkeypatch.setattr(engine, "registered", lambda: dict(fakes))
    seen_ready = seen_refused = 0
    for text, select in configurations(tmp_path):
        cfg = parse_config(text, environ={})
        pack = load_pack(cfg.file.provider)
        probed.clear()
        result = asyncio.run(engine.run(cfg, pack, engine.RunOptions(select=select)))  # type: ignore[arg-type]
        unprobed = [r for r in result.results if r.severity is Severity.BLOCKER and r.status in NOT_PROBED]
        if result.verdict != "ready":
            seen_refused += 1
            continue
        seen_ready += 1
        for r in unprobed:
            assert r.status is Status.SKIP, (text, select, r.rule.id, r.message)
            assert not select or r.rule.skip is not None, (text, select, r.rule.id, "a selected rule was not probed")
            assert r.rule.skip is not None or r.rule.id in result.not_probed(), (text, r.rule.id)
            assert r.rule.skip is not None or r.message.startswith("no "), (text, r.rule.id, r.message)  # a target not set up
        assert all(r.rule.id in probed for r in result.results if r.status is Status.PASS), text
        if ("acme" in text or "impostor" in text) and "url: builtin" in text and not select:  # served from their facts
            assert "IDEM-001" in probed, text
    assert seen_ready and seen_refused  # the property was exercised both ways


def test_a_pack_of_ones_own_named_like_a_built_in_does_not_get_its_sandbox(tmp_path):
    """The embedded sandbox serves a pack from its own facts, never a built-in's by name: one named mintfax answers
    its own create path, and mintfax's answers 404."""
    import httpx

    from checker.sandbox.server import EmbeddedSandbox

    (tmp_path / "impostor.yaml").write_text(OWN_PACK.replace("name: acme", "name: mintfax"))
    with EmbeddedSandbox(load_pack(str(tmp_path / "impostor.yaml"))) as served:
        headers = {"Authorization": "Bearer test_key", "Idempotency-Key": "k1"}
        assert httpx.post(served.url + "/v1/things", json={"ref": "r"}, headers=headers).status_code == 201
        assert httpx.post(served.url + "/v1/fax", json={"ref": "r"}, headers=headers).status_code == 404


# ---------------------------------------------------------------- round 3: fast tier
# slow, left out of the fast tier: every configuration of the targets checked in turn (marked here rather
# than above each test while this file is edited by others)
pytest.mark.slow(test_no_configuration_reaches_ready_while_a_blocker_it_asks_for_was_not_probed)
