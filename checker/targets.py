"""A run's targets: what is started for the checks (the run's folder, the embedded sandbox, the webhook receiver), handed
to them, and stopped again; and what a rule's target being absent means, before and after they start.

The engine asks for the targets its remaining rules need (`prepared_targets`) and gets them back as `Targets`; every
process and thread started here is stopped when that context ends, a cancelled run included (cli.run_interruptibly).
The proxies are the client probes' own (probes/client.py), each closed by the probe that opened it."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from checker.config import Config
from checker.errors import ProbeError
from checker.model import Outcome, Probe, Rule, Status
from checker.packs import Pack

if TYPE_CHECKING:
    from checker.harness.receiver import RunningReceiver

BUILT_IN_CONFIG = "(built-in)"  # Config.path when no golive.yaml was found
# the placeholders webhook.url may hold, and those webhook.start and webhook.env are filled with (`_receiver` fills
# them; {port} only where webhook.url has it: a free port golive picks): checker/preflight.py checks against these
WEBHOOK_URL = ("python", "workdir", "secret", "port")
RECEIVER = ("python", "workdir", "secret", "url")


@dataclass
class Targets:
    sandbox_url: str | None = None
    api_key: str | None = None
    contract_key: str | None = None  # the account the contract checks probe (ProbeContext.contract_key)
    sandbox_note: str = ""
    workdir: Path | None = None
    webhook_url: str | None = None
    webhook_error: str | None = None  # the receiver could not be started: every webhook probe is an error
    receiver: RunningReceiver | None = None  # the receiver golive started (it may exit during the check)
    webhook_values: dict[str, str] = field(default_factory=dict)  # RECEIVER's values: for webhook.env / processed_count

    def receiver_died(self, rule: Rule) -> str | None:
        """Why whatever answered a webhook probe was not the receiver golive started (it exited during the check)."""
        return self.receiver.failure if self.receiver is not None and rule.probes == "webhook" else None


@contextlib.asynccontextmanager
async def prepared_targets(config: Config, pack: Pack, needed: Collection[Probe]) -> AsyncIterator[Targets]:
    """The targets that rules probing `needed` use, started; stopped again when the context ends."""
    async with _run_folder() as workdir, _sandbox(config, pack, needed) as targets:
        targets.workdir = workdir
        async with _receiver(config, targets, "webhook" in needed):
            yield targets


@contextlib.asynccontextmanager
async def _run_folder() -> AsyncIterator[Path]:
    """A temporary folder for this run (sample documents, the embedded sandbox's state): removed at the end,
    and by the reaper's watchdog if golive is killed before that."""
    import shutil

    from checker.harness.reaper import forget_folder, track_folder

    folder = tempfile.mkdtemp(prefix="golive-run-")
    track_folder(folder)
    try:
        yield Path(folder)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)
        forget_folder(folder)


@contextlib.asynccontextmanager
async def _receiver(config: Config, targets: Targets, needed: bool) -> AsyncIterator[None]:
    """Fill in the receiver's URL ({port}: a free one) and, with webhook.start, run the receiver."""
    webhook = config.file.webhook
    if not needed or webhook is None or not webhook.url:
        yield
        return
    import sys
    from urllib.parse import urlsplit

    from checker.harness.process import fill
    from checker.harness.receiver import free_port, running_receiver

    values = {"python": sys.executable, "workdir": str(targets.workdir), "secret": webhook.secret or ""}
    if "{port}" in webhook.url:
        values["port"] = str(free_port())
    url = fill(webhook.url, values)
    values["url"] = url
    targets.webhook_url, targets.webhook_values = url, values
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        targets.webhook_error = f"webhook.url {url!r} is not an http(s) URL"
        yield
        return
    if not webhook.start:
        yield
        return
    async with contextlib.AsyncExitStack() as stack:
        try:
            targets.receiver = await stack.enter_async_context(
                running_receiver(
                    webhook.start,
                    values,
                    env=webhook.env,
                    cwd=config.resolve(webhook.cwd),
                    host=parts.hostname,
                    port=parts.port or (443 if parts.scheme == "https" else 80),
                    start_timeout_s=webhook.start_timeout,
                )
            )
        except ProbeError as exc:
            targets.webhook_error = str(exc)
        yield


@contextlib.asynccontextmanager
async def _sandbox(config: Config, pack: Pack, needed: Collection[Probe]) -> AsyncIterator[Targets]:
    """The sandbox the checks probe: a real one as configured, or the embedded one started for the pack (and stopped)."""
    targets = Targets(api_key=config.file.sandbox.api_key)
    url = config.file.sandbox.url
    if url != "builtin":  # a real sandbox: nothing to start (HOOK-212 also reads its endpoints)
        targets.sandbox_url = url.rstrip("/")
        if not targets.api_key:
            targets.sandbox_note = f"sandbox.api_key is not set: the contract cannot be probed at {targets.sandbox_url} without a key"
        yield targets
        return
    registers = config.file.webhook is not None and config.file.webhook.registration is not None and "config" in needed
    if "sandbox" not in needed and "client" not in needed and not registers:  # (HOOK-212 reads back a registration)
        yield targets
        return
    from checker.probes.context import sandbox_key

    if not targets.api_key:
        targets.api_key = sandbox_key(pack.facts.keys, "golive")
    targets.contract_key = sandbox_key(pack.facts.keys, "golivecontract")
    from checker.sandbox.app import SandboxOptions
    from checker.sandbox.server import EmbeddedSandbox

    options = SandboxOptions()  # the sandbox follows the pack's facts (a pack for mintfax's revision 001 too)
    sandbox = EmbeddedSandbox(pack, options=options)  # its state in memory: nothing of it outlives the run
    await asyncio.to_thread(sandbox.start)
    try:
        targets.sandbox_url = sandbox.url
        yield targets
    finally:
        await asyncio.to_thread(sandbox.stop)


# ---------------------------------------------------------------- a target that is not there


def not_set_up(probe: Probe, config: Config) -> str | None:
    """Why golive.yaml gives a rule probing this nothing to probe, or None."""
    if probe == "client" and config.file.client is None:
        return "no client configured (client.command in golive.yaml)"
    if probe == "repo" and config.path == BUILT_IN_CONFIG:
        return "no golive.yaml: the repo checks read the project that a config file names"
    if probe == "webhook" and (config.file.webhook is None or not config.file.webhook.url):
        return "no webhook receiver configured (webhook.url in golive.yaml)"
    if probe == "config" and config.path == BUILT_IN_CONFIG:
        return "no golive.yaml: this rule reads the integration's settings"
    return None


def unconfigured(rule: Rule, config: Config) -> str | None:
    """Why this rule has nothing to probe: its target (or, for a settings rule, golive.yaml) is not configured, or
    none of the sections its settings name is (HOOK-212 reads webhook.events: without a webhook section it follows
    its siblings and skips as they do, in their words, rather than failing alone on a section not set up yet)."""
    reason = not_set_up(rule.probes, config)
    if reason is None and rule.settings and all(getattr(config.file, setting.split(".")[0]) is None for setting in rule.settings):
        return not_set_up(rule.target, config)
    return reason


def missing(rule: Rule, targets: Targets) -> Outcome | None:
    """The outcome of a rule whose target turned out not to be there once the targets were prepared: an error,
    never a skip (the sandbox section is always configured, `builtin` by default: a rule that needs it and cannot
    have it was not probed, and a verdict must not read READY over it)."""
    if rule.probes in ("sandbox", "client") and not targets.sandbox_url:
        return Outcome(Status.ERROR, targets.sandbox_note or "the sandbox could not be served")
    if rule.probes == "sandbox" and not targets.api_key:
        return Outcome(Status.ERROR, targets.sandbox_note or "sandbox.api_key is not set: the contract cannot be probed without a key")
    return None
