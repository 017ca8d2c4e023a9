"""`golive check` and `golive demo`: find the config, select the rules, look before probing, run the engine so that a
signal stops it cleanly, write the reports before anything is printed, print the checklist, and give the exit code."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from checker import __version__
from checker.commands.output import print_formats, silence_stdout, write_reports
from checker.errors import OutputError

if TYPE_CHECKING:
    from checker.config import Config
    from checker.engine import RunOptions
    from checker.model import RunResult
    from checker.packs import Pack

# a file where `golive check` records this run's verdict and the reports it wrote (read by action/run.py)
RUN_RECORD = "GOLIVE_RUN_RECORD"


@dataclass(frozen=True)
class Shown:
    """What a run writes and prints: --format, --output, -q, -v, --no-color, --progress."""

    formats: list[str]
    output: Path
    quiet: bool = False
    verbose: bool = False
    no_colour: bool = False
    progress: str = "auto"


def config_for(config_path: Path | None, provider: str | None) -> Config:
    """-c FILE, else golive.yaml as `find_config` finds it (named on stderr when it is not here), else with
    --provider a config of the pack alone (its sandbox contract)."""
    from checker.config import find_config, load_config, minimal_config

    path = config_path or find_config(Path.cwd()) or Path("golive.yaml")
    if config_path is None and path.exists() and path.parent.resolve() != Path.cwd().resolve():
        click.echo(f"golive: using {os.path.relpath(path)}", err=True)
    if config_path is None and not path.exists():
        if provider is None:
            raise click.UsageError(
                "no golive.yaml here: write one with `golive init`, pass -c FILE, "
                "or give --provider to check the provider's sandbox contract"
            )
        return minimal_config(provider, api_key="")
    return load_config(path)


def demo_config(provider: str, flawed: bool) -> Config:
    """The bundled example integration's config: read nothing from the caller's environment (a live key there must
    not matter); its receiver gets a fresh secret."""
    from checker.config import load_config
    from checker.packs import BUILTIN_PACKS, data_dir, load_pack
    from checker.signing import fresh_secret

    if provider not in BUILTIN_PACKS:  # every built-in pack has an example integration (tests/test_demo.py)
        pack = load_pack(provider)  # a pack path: valid, but golive bundles no integration for it
        raise click.UsageError(
            f"golive bundles example integrations for {', '.join(BUILTIN_PACKS)} only; for the {pack.name} pack, check your own "
            f"integration: golive init --provider {provider}, then golive check"
        )
    path = data_dir("examples") / provider / ("flawed" if flawed else "good") / "golive.yaml"
    if not path.exists():
        raise click.UsageError(f"no {'flawed' if flawed else 'good'} example for {provider} in this version")
    require_example_packages(path.parent / "requirements.txt")
    hooks = load_pack(provider).facts.webhooks
    secret = fresh_secret(hooks.scheme if hooks else "")  # in the form the provider's scheme takes (Adyen: hex)
    return load_config(path, environ={f"{provider.upper()}_WEBHOOK_SECRET": secret})


def require_example_packages(requirements: Path) -> None:
    """An example written with a provider's SDK (stripe) runs on golive's own interpreter: say what to install
    instead of letting each probe fail on an ImportError."""
    import importlib.metadata
    import re

    if not requirements.exists():
        return
    for line in requirements.read_text().splitlines():
        spec = line.split("#", 1)[0].strip()  # a requirement, without its comment
        name = re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]
        if not name:
            continue
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            raise click.UsageError(f"this example runs the {name} package, which is not installed: pip install '{spec}'") from None


def run_and_report(config: Config, provider: str, options: RunOptions, shown: Shown) -> int:
    """Probe, write the reports, print; the exit code: 0 ready, 1 not ready, 128 + the signal when interrupted."""
    from checker import engine
    from checker.interrupt import run_interruptibly
    from checker.packs import load_pack
    from checker.preflight import check_before_probing
    from checker.report import cannot_write, unwritable
    from checker.terminal import progress_for

    record = os.environ.pop(RUN_RECORD, None)  # golive's own: the client and receiver it starts do not inherit it
    from_file = provider == config.file.provider and config.path != "(built-in)"
    named_in = (config.path, config.line_of("provider")) if from_file else None
    pack = load_pack(provider, relative_to=config.base_dir, named_in=named_in)
    rules = engine.select_rules(pack, config, options)
    checks = engine.registered()
    check_before_probing(config, {r.id: r.probes for r in rules if not r.skip and r.id in checks})  # exit 2, nothing probed
    if reason := unwritable(shown.output, shown.formats):  # a run of minutes is not wasted on reports that cannot be written
        raise OutputError(f"{cannot_write(shown.output, reason)}; nothing was probed")
    if "har" in shown.formats:  # the proxy and the webhook sender keep what they exchange (checker/traffic.py)
        options = dataclasses.replace(options, traffic=True)
    progress = progress_for(shown.progress, len(rules))

    def write(run: RunResult) -> tuple[list[Path], OutputError | None]:
        """The reports first, before anything is printed: a closed stdout (`golive check | head -1`) or a
        signal while printing must not cost the reports."""
        written, unwritten = write_reports(run, shown.formats, shown.output)
        _step_summary(run)
        if record:  # also when the reports could not be written: the verdict stands
            _record_run(Path(record), run, shown.output, written)
        return written, unwritten

    try:
        (run, (written, unwritten)), signum = run_interruptibly(engine.run(config, pack, options, progress), write, progress.stop)
    finally:
        progress.clear()
    code = (128 + signum) if signum is not None else (0 if run.verdict == "ready" else 1)  # 130 after Ctrl-C, 143 after SIGTERM
    try:
        _print_run(run, pack, shown, written, unwritten)
    except BrokenPipeError:  # the reader went away (`| head`): the reports are written, the verdict stands
        silence_stdout()
    if unwritten is not None and signum is None:
        raise unwritten  # exit 2 (an interrupted run keeps 128 + the signal, and says it)
    if unwritten is not None:
        click.echo(f"golive: {unwritten}", err=True)
    return code


def _print_run(run: RunResult, pack: Pack, shown: Shown, written: list[Path], unwritten: OutputError | None) -> None:
    """The checklist (or, with -q, the verdict alone), the reports' names, the printed formats."""
    from checker.terminal import Checklist, colour_enabled

    colour = colour_enabled(shown.no_colour, sys.stdout, dict(os.environ))
    # without its reports, the verdict is printed even where only files were asked for
    quiet = shown.quiet or ("text" not in shown.formats and unwritten is not None)
    checklist = Checklist(sys.stdout, colour=colour, verbose=shown.verbose, quiet=quiet)
    if "text" in shown.formats or shown.quiet or unwritten is not None:
        header = f"golive {__version__} · {pack.name} · {run.environment} · sandbox: {_sandbox_label(run)}"
        checklist.render(run, pack.sections, header)
    if not shown.quiet:
        for path in written:
            click.echo(f"Report: {path}")
    print_formats(run, shown.formats)
    sys.stdout.flush()


def _record_run(path: Path, run: RunResult, output: Path, written: list[Path]) -> None:
    """What this run decided and wrote, for a CI step that takes its outputs from the run itself rather than from
    whatever report files a folder holds (the GitHub Action, action/run.py): the verdict, the --output folder and the
    report files written there (none with `--format text`)."""
    from checker.report import write_atomically

    record = {"verdict": run.verdict, "output": str(output), "reports": [str(p) for p in written]}
    try:
        write_atomically(path, json.dumps(record, indent=2) + "\n")
    except OSError as exc:
        click.echo(f"golive: could not write {RUN_RECORD} ({path}): {exc.strerror}", err=True)


def _step_summary(run: RunResult) -> None:
    """On GitHub Actions, append the Markdown report to the job's summary page."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    from checker.report import render_markdown

    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(render_markdown(run) + "\n")
    except OSError as exc:
        click.echo(f"golive: could not append to GITHUB_STEP_SUMMARY ({target}): {exc.strerror}", err=True)


def _sandbox_label(run: RunResult) -> str:
    """The sandbox as the run recorded it: its URL's password, query values and any ${VAR} in it masked."""
    return (run.context.sandbox if run.context else None) or "embedded"
