"""The targets: named once (checker/model.py), what a rule probes said by the catalog (`target:`, `settings:`), and
their lifecycle (checker/targets.py)."""

from __future__ import annotations

import asyncio
import sys
import typing

import pydantic

from checker import engine
from checker.config import ConfigFile, parse_config
from checker.model import PROBED_TARGETS, Status, Target
from checker.packs import load_catalog, load_pack
from checker.targets import prepared_targets


def test_the_targets_are_named_once_and_everything_that_lists_them_uses_that() -> None:
    from checker.commands import params

    assert typing.get_args(Target) == (*PROBED_TARGETS, "manual")
    assert {rule.target for rule in load_catalog()[0].rules} <= set(typing.get_args(Target))
    schema = ConfigFile.model_json_schema()["properties"]["require"]["items"]
    assert tuple(schema["enum"]) == PROBED_TARGETS  # golive.yaml's require:
    assert params.REQUIRABLE is PROBED_TARGETS  # --require
    assert engine.COVERED is PROBED_TARGETS  # coverage


def test_settings_rules_say_so_in_the_catalog_and_name_settings_golive_yaml_has() -> None:
    """HOOK-212 and BAL-001 judge golive.yaml (webhook.events, balance.poll), not a running receiver: the catalog says
    so (`settings:`), and each setting it names is one golive.yaml has."""
    rules = load_catalog()[0].rules
    assert {rule.id for rule in rules if rule.settings} == {"HOOK-212", "BAL-001"}
    for rule in rules:
        for setting in rule.settings:
            section, key = setting.split(".")
            annotation = ConfigFile.model_fields[section].annotation
            (model,) = [t for t in (*typing.get_args(annotation), annotation) if isinstance(t, type) and issubclass(t, pydantic.BaseModel)]
            assert key in model.model_fields, setting
    pack = load_pack("mintfax")
    assert {rule.id: rule.probes for rule in pack.rules if rule.id in ("HOOK-212", "BAL-001", "HOOK-201")} == {
        "HOOK-201": "webhook",
        "HOOK-212": "config",
        "BAL-001": "config",
    }


def _run(text: str, *select: str) -> dict[str, object]:
    cfg = parse_config(text, environ={})
    result = asyncio.run(engine.run(cfg, load_pack("mintfax"), engine.RunOptions(select=select)))
    return {r.rule.id: r for r in result.results}


def test_a_settings_rule_starts_no_receiver_and_follows_its_section() -> None:
    """HOOK-212 alone does not start webhook.start (a receiver that cannot start is not its concern); without a webhook
    section it skips in its siblings' words; BAL-001 reads balance.poll without one."""
    failing_start = f'webhook:\n  url: "http://127.0.0.1:{{port}}/hooks"\n  start: "{sys.executable} -c \'raise SystemExit(3)\'"\n'
    found = _run(f"provider: mintfax\n{failing_start}  events: [fax.delivered, fax.failed, balance.low]\n", "HOOK-212")
    assert found["HOOK-212"].status is Status.PASS, found["HOOK-212"].message  # type: ignore[attr-defined]
    without = _run("provider: mintfax\nbalance: {poll: true}\n", "HOOK-2", "BAL-001")
    assert without["HOOK-212"].message == without["HOOK-201"].message  # type: ignore[attr-defined]
    assert without["HOOK-212"].message == "selected, but no webhook receiver configured (webhook.url in golive.yaml)"  # type: ignore[attr-defined]
    assert without["BAL-001"].status is Status.PASS  # type: ignore[attr-defined]


def test_the_run_folder_and_the_embedded_sandbox_are_gone_when_the_targets_context_ends() -> None:
    import httpx

    cfg = parse_config("provider: mintfax\n", environ={})

    async def scenario() -> tuple[object, str | None]:
        async with prepared_targets(cfg, load_pack("mintfax"), {"sandbox"}) as targets:
            folder, url = targets.workdir, targets.sandbox_url
            assert folder is not None and folder.is_dir() and url
        return folder, url

    folder, url = asyncio.run(scenario())
    assert not folder.exists()  # type: ignore[attr-defined]
    try:
        httpx.get(f"{url}/", timeout=2)
    except httpx.HTTPError:
        pass
    else:
        raise AssertionError("the embedded sandbox still answers after its context ended")
