"""`golive trigger`: the provider and the receiver's secret (from the options, else golive.yaml), then one signed
delivery built and sent by `checker.trigger`, and what the receiver answered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from checker.config import Config
    from checker.packs import Pack


@dataclass(frozen=True)
class Delivery:
    """What to send: EVENT to --to, with --data, --twice, --stale."""

    event: str
    url: str
    data: str | None = None
    twice: bool = False
    stale: bool = False


def pack_and_secret(url: str, provider: str | None, secret: str | None, config_path: Path | None) -> tuple[Pack, str]:
    """The pack and the signing secret, checked before anything is sent: --provider and --secret, else golive.yaml's
    (-c FILE, or as `check` finds it)."""
    from urllib.parse import urlsplit

    from checker.config import find_config, load_config
    from checker.packs import load_pack

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.UsageError(f"--to {url!r} is not an http(s) URL")
    path = config_path or find_config(Path.cwd())
    if config_path is not None and not config_path.is_file():
        raise click.UsageError(f"-c {config_path}: no such file")
    config = load_config(path) if (provider is None or secret is None) and path is not None and path.is_file() else None
    if provider is not None:
        pack = load_pack(provider, relative_to=Path.cwd())
    elif config is not None:
        pack = load_pack(config.file.provider, relative_to=config.base_dir, named_in=(config.path, config.line_of("provider")))
    else:
        raise click.UsageError("no --provider, and no golive.yaml here to take it from")
    return pack, secret if secret is not None else _configured_secret(config)


def _configured_secret(config: Config | None) -> str:
    secret = config.file.webhook.secret if config is not None and config.file.webhook is not None else None
    if not secret:
        where = f"{config.path} has no webhook.secret" if config is not None else "there is no golive.yaml here"
        raise click.UsageError(f"no --secret, and {where}: pass the receiver's signing secret with --secret")
    return secret


def send(delivery: Delivery, pack: Pack, secret: str) -> int:
    """Send it (twice with --twice) and print each answer; exit 0 when every delivery got a 2xx, 1 otherwise."""
    import asyncio

    from checker.trigger import TriggerError, check_event, deliver, describe, parsed_data, webhook_facts

    try:
        facts = webhook_facts(pack)
        note = check_event(facts, pack, delivery.event)
        data = parsed_data(delivery.data)
        answers = asyncio.run(deliver(facts, delivery.event, delivery.url, secret, data=data, twice=delivery.twice, stale=delivery.stale))
    except TriggerError as exc:
        raise click.UsageError(str(exc)) from None
    if note:
        click.echo(f"golive: {note}", err=True)
    for answer in answers:
        for line in describe(answer, delivery.url):
            click.echo(line)
    return 0 if all(a.ok for a in answers) else 1
