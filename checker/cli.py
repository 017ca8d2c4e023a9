"""The `golive` command line. Heavy modules (httpx, pydantic, starlette, jinja2) load inside commands,
so `golive --version` and `golive --help` stay fast."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from checker import __version__
from checker.errors import OutputError
from checker.model import Assumed, Documented, Rule, RunResult

T = TypeVar("T")
U = TypeVar("U")
FORMATS = ("text", "json", "html", "md", "junit", "sarif", "github", "gitlab", "har")  # "text" and report.FORMATS (a test keeps them equal)
# formats only a run writes: what they show is recorded while it runs and not kept in report.json
RUN_ONLY = {"har": "report.json does not keep the traffic; golive check --format har writes traffic.har while it runs"}
PROGRESS = ("auto", "lines", "none")
REQUIRABLE = ("sandbox", "client", "webhook", "repo")
# the built-in packs for help texts, without importing packs at start-up (tests/test_cli.py: equal to packs.BUILTIN_PACKS)
BUILT_IN = "mintfax, idunox, flexforward, square, checkout, adyen, stripe, gocardless, lob"
# a file where `golive check` records this run's verdict and the reports it wrote (read by action/run.py)
RUN_RECORD = "GOLIVE_RUN_RECORD"


class CsvChoice(click.ParamType):  # type: ignore[type-arg]
    """A comma-separated list of choices: --format text,json."""

    name = "list"

    def __init__(self, choices: tuple[str, ...], refused: dict[str, str] | None = None) -> None:
        self.refused = refused or {}  # choices this command does not take, and why
        self.choices = tuple(c for c in choices if c not in self.refused)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        if isinstance(value, list):
            return value
        items = [v.strip() for v in str(value).split(",") if v.strip()]
        if refused := next((v for v in items if v in self.refused), None):
            self.fail(f"{refused}: {self.refused[refused]}", param, ctx)
        bad = [v for v in items if v not in self.choices]
        if bad or not items:
            self.fail(f"{', '.join(bad) or 'nothing'} is not one of {', '.join(self.choices)}", param, ctx)
        return items


class RequireList(CsvChoice):
    """--require: targets among REQUIRABLE, comma-separated; `none` (or an empty value) requires nothing, whatever
    golive.yaml's require: names."""

    name = "targets"

    def __init__(self) -> None:
        super().__init__((*REQUIRABLE, "none"))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        if isinstance(value, list):
            return value
        items = super().convert(value, param, ctx) if str(value).strip(" ,") else ["none"]
        if "none" in items and len(set(items)) > 1:
            self.fail(f"none requires nothing: it cannot be combined with {', '.join(i for i in items if i != 'none')}", param, ctx)
        return items


class IdList(click.ParamType):  # type: ignore[type-arg]
    """Rule ids or prefixes, comma-separated and repeatable: --select IDEM-001,RETRY."""

    name = "ids"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        return [v.strip().upper() for v in str(value).split(",") if v.strip()]


class ReplayStyle(click.Choice):  # type: ignore[type-arg]
    """How the embedded sandbox signals a replay, named by what a user sees; the revision numbers it was first
    spelt with (000, 001: the guide's two revisions) are still taken."""

    STYLES = {"replayed-header": "000", "key-echo": "001"}  # name -> the sandbox's option value

    def __init__(self) -> None:
        super().__init__(list(self.STYLES))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        older = {code: name for name, code in self.STYLES.items()}
        return self.STYLES[super().convert(older.get(value, value), param, ctx)]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="golive", message="%(prog)s %(version)s")
def cli() -> None:
    """golive: is this integration ready for the live key?

    Probes the provider's sandbox contract, your HTTP client, your webhook receiver and your
    files, and renders a pass/fail go-live checklist. Exit codes: 0 ready, 1 not ready,
    2 usage or config error, 3 internal error.
    """


# ---------------------------------------------------------------- check


@cli.command()
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="The config file [default: golive.yaml here, or in the nearest parent folder up to the git repository's root].",
)
@click.option("--provider", help=f"Built-in pack ({BUILT_IN}) or a pack YAML; overrides the config.")
@click.option("--environment", type=click.Choice(["sandbox", "live"]), help="Which key prefixes are expected.")
@click.option("--select", "select", type=IdList(), multiple=True, help="Only these rule ids or prefixes (e.g. IDEM,RETRY-101).")
@click.option("--ignore", "ignore", type=IdList(), multiple=True, help="Leave out these rule ids or prefixes.")
@click.option(
    "--format",
    "formats",
    type=CsvChoice(FORMATS),
    default="text,json",
    show_default=True,
    help="Outputs, comma-separated: files in --output, except text and github (workflow-command annotations), which are printed.",
)
@click.option(
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("golive-report"),
    show_default=True,
    help="Where report files go.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["blocker", "warning"]),
    default="blocker",
    show_default=True,
    help="Which failed severities make the verdict 'not ready'.",
)
@click.option(
    "--require",
    "require",
    type=RequireList(),
    default=None,
    help="Targets that must be configured and probed, comma-separated (with golive.yaml's require:), among those the selected "
    "rules probe; a missing one fails the verdict. none: require nothing, whatever golive.yaml says.",
)
@click.option(
    "--skip-unconfigured",
    is_flag=True,
    help="Selected rules whose target or setting golive.yaml leaves out skip with the reason instead of erring "
    "(a pre-commit hook's selection); a selection of which no rule probed anything still errs.",
)
@click.option("--jobs", type=click.IntRange(1, 256), default=16, show_default=True, help="Probes run at once.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict.")
@click.option("-v", "--verbose", is_flag=True, help="Print each rule's evidence (request transcripts) and fix.")
@click.option("--no-color", "no_colour", is_flag=True, help="Plain output (also with NO_COLOR set).")
@click.option(
    "--progress",
    type=click.Choice(PROGRESS),
    default="auto",
    show_default=True,
    help="On stderr while probing: a line per finished rule (lines), none, or auto: a live status line on a terminal, else lines (CI).",
)
def check(
    config_path: Path | None,
    provider: str | None,
    environment: str | None,
    select: tuple[list[str], ...],
    ignore: tuple[list[str], ...],
    formats: list[str],
    output: Path,
    fail_on: str,
    require: list[str] | None,
    skip_unconfigured: bool,
    jobs: int,
    quiet: bool,
    verbose: bool,
    no_colour: bool,
    progress: str,
) -> int:
    """Run the checklist against the integration and exit with the verdict."""
    from checker.config import load_config, minimal_config
    from checker.engine import RunOptions

    path = config_path or find_config(Path.cwd()) or Path("golive.yaml")
    if config_path is None and path.exists() and path.parent.resolve() != Path.cwd().resolve():
        click.echo(f"golive: using {os.path.relpath(path)}", err=True)
    if config_path is None and not path.exists():
        if provider is None:
            raise click.UsageError(
                "no golive.yaml here: write one with `golive init`, pass -c FILE, "
                "or give --provider to check the provider's sandbox contract"
            )
        config = minimal_config(provider, api_key="")
    else:
        config = load_config(path)
    options = RunOptions(
        select=tuple(i for group in select for i in group),
        ignore=tuple(i for group in ignore for i in group),
        environment=environment,
        fail_on=fail_on,
        jobs=jobs,
        require=tuple(t for t in require or () if t != "none"),
        require_none=require == ["none"],
        skip_unconfigured=skip_unconfigured,
    )
    return _run_and_report(config, provider or config.file.provider, options, formats, output, quiet, verbose, no_colour, progress)


def find_config(start: Path) -> Path | None:
    """golive.yaml in `start` or, inside a git repository, in the nearest parent up to the repository's root (a folder
    holding `.git`); outside a repository only `start` is looked at."""
    folders = [start, *start.parents]
    root = next((i for i, folder in enumerate(folders) if (folder / ".git").exists()), 0)
    return next((folder / "golive.yaml" for folder in folders[: root + 1] if (folder / "golive.yaml").is_file()), None)


def _run_and_report(
    config: Any,
    provider: str,
    options: Any,
    formats: list[str],
    output: Path,
    quiet: bool,
    verbose: bool,
    no_colour: bool,
    progress_mode: str = "auto",
) -> int:
    import dataclasses

    from checker import engine
    from checker.packs import load_pack
    from checker.preflight import check_before_probing
    from checker.report import cannot_write, unwritable
    from checker.terminal import Checklist, colour_enabled, progress_for

    record = os.environ.pop(RUN_RECORD, None)  # golive's own: the client and receiver it starts do not inherit it
    from_file = provider == config.file.provider and config.path != "(built-in)"
    named_in = (config.path, config.line_of("provider")) if from_file else None
    pack = load_pack(provider, relative_to=config.base_dir, named_in=named_in)
    rules = engine.select_rules(pack, config, options)
    checks = engine.registered()
    check_before_probing(config, {r.id: checks[r.id].target for r in rules if not r.skip and r.id in checks})  # exit 2, nothing probed
    if reason := unwritable(output, formats):  # a run of minutes is not wasted on reports that cannot be written
        raise OutputError(f"{cannot_write(output, reason)}; nothing was probed")
    if "har" in formats:  # the proxy and the webhook sender keep what they exchange (checker/traffic.py)
        options = dataclasses.replace(options, traffic=True)
    progress = progress_for(progress_mode, len(rules))

    def write(run: Any) -> tuple[list[Path], OutputError | None]:
        """The reports first, before anything is printed: a closed stdout (`golive check | head -1`) or a
        signal while printing must not cost the reports."""
        written, unwritten = _write_reports(run, formats, output)
        _step_summary(run)
        if record:  # also when the reports could not be written: the verdict stands
            _record_run(Path(record), run, output, written)
        return written, unwritten

    try:
        (run, (written, unwritten)), signum = run_interruptibly(
            engine.run(config, pack, options, progress), on_first=progress.stop, then=write
        )
    finally:
        progress.clear()
    code = (128 + signum) if signum is not None else (0 if run.verdict == "ready" else 1)  # 130 after Ctrl-C, 143 after SIGTERM
    try:
        colour = colour_enabled(no_colour, sys.stdout, dict(os.environ))
        # without its reports, the verdict is printed even where only files were asked for
        checklist = Checklist(sys.stdout, colour=colour, verbose=verbose, quiet=quiet or ("text" not in formats and unwritten is not None))
        if "text" in formats or quiet or unwritten is not None:
            header = f"golive {__version__} · {pack.name} · {run.environment} · sandbox: {_sandbox_label(run)}"
            checklist.render(run, pack.sections, header)
        if not quiet:
            for path in written:
                click.echo(f"Report: {path}")
        _print_formats(run, formats)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`| head`): the reports are written, the verdict stands
        _silence_stdout()
    if unwritten is not None and signum is None:
        raise unwritten  # exit 2 (an interrupted run keeps 128 + the signal, and says it)
    if unwritten is not None:
        click.echo(f"golive: {unwritten}", err=True)
    return code


def _print_formats(run: Any, formats: list[str]) -> None:
    """The formats that are printed rather than written (`github`: workflow commands the Actions runner reads from
    stdout), after everything else, also with -q: they were asked for by name."""
    from checker.report import PRINTED, RENDERERS

    for fmt in formats:
        if fmt in PRINTED:
            click.echo(RENDERERS[fmt](run), nl=False)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def run_interruptibly(
    coro: Coroutine[Any, Any, T], on_first: Callable[[], None] = lambda: None, then: Callable[[T], U] | None = None
) -> tuple[Any, int | None]:
    """Run `coro` to its end, but on the first Ctrl-C or SIGTERM cancel it (it cleans up and returns what it
    gathered); then run `then` on its result in a thread, which a first signal does not stop. A second signal
    kills every process group golive started, removes its temporary folders and exits at once."""
    import asyncio
    import signal

    from checker.harness.reaper import clean_up_now

    received: list[int] = []

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        cancellable = [task]  # emptied once `coro` has finished: the reports are being written

        def on_signal(signum: int) -> None:
            if received:
                clean_up_now()
                os.write(2, b"golive: interrupted again: exiting now\n")
                os._exit(128 + received[0])
            received.append(signum)
            on_first()
            os.write(2, b"golive: interrupted: stopping the probes and writing the report (again to exit at once)\n")
            if cancellable:
                cancellable.pop().cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        try:
            result = await coro
            cancellable.clear()
            if then is None:
                return result
            return result, await asyncio.to_thread(then, result)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    result = asyncio.run(main())
    return result, (received[0] if received else None)


def _record_run(path: Path, run: Any, output: Path, written: list[Path]) -> None:
    """What this run decided and wrote, for a CI step that takes its outputs from the run itself rather than from
    whatever report files a folder holds (the GitHub Action, action/run.py): the verdict, the --output folder and the
    report files written there (none with `--format text`)."""
    from checker.report import write_atomically

    record = {"verdict": run.verdict, "output": str(output), "reports": [str(p) for p in written]}
    try:
        write_atomically(path, json.dumps(record, indent=2) + "\n")
    except OSError as exc:
        click.echo(f"golive: could not write {RUN_RECORD} ({path}): {exc.strerror}", err=True)


def _step_summary(run: Any) -> None:
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


# ---------------------------------------------------------------- demo


@cli.command()
@click.option("--flawed", is_flag=True, help="Run the flawed example integration instead of the good one.")
@click.option(
    "--provider",
    default="mintfax",
    show_default=True,
    help=f"A built-in provider with a bundled example ({BUILT_IN}).",
)
@click.option("--format", "formats", type=CsvChoice(FORMATS), default="text,json", show_default=True, help="Outputs, comma-separated.")
@click.option("--output", "output", type=click.Path(file_okay=False, path_type=Path), default=Path("golive-report"), show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict.")
@click.option("-v", "--verbose", is_flag=True, help="Print each rule's evidence and fix.")
@click.option("--no-color", "no_colour", is_flag=True, help="Plain output (also with NO_COLOR set).")
@click.option("--progress", type=click.Choice(PROGRESS), default="auto", show_default=True, help="As golive check's --progress.")
def demo(flawed: bool, provider: str, formats: list[str], output: Path, quiet: bool, verbose: bool, no_colour: bool, progress: str) -> int:
    """Check the bundled example integration against the embedded sandbox: zero set-up."""
    from checker.config import load_config
    from checker.engine import RunOptions
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
    _require_example_packages(path.parent / "requirements.txt")
    # the demo reads nothing from the caller's environment (a live key there must not matter); its
    # receiver gets a fresh secret
    hooks = load_pack(provider).facts.webhooks
    secret = fresh_secret(hooks.scheme if hooks else "")  # in the form the provider's scheme takes (Adyen: hex)
    config = load_config(path, environ={f"{provider.upper()}_WEBHOOK_SECRET": secret})
    return _run_and_report(config, provider, RunOptions(), formats, output, quiet, verbose, no_colour, progress)


def _require_example_packages(requirements: Path) -> None:
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


# ---------------------------------------------------------------- report merge / diff / render


@cli.group()
def report() -> None:
    """Work with saved reports: merge runs, compare two, render one in other formats."""


def _load_run(path: Path) -> Any:
    from checker.report import load_report

    return load_report(path)


def _write_reports(run: Any, formats: list[str], output: Path) -> tuple[list[Path], OutputError | None]:
    """The report files written, or why none was: for the caller to raise once it has printed what it prints
    (a full disk must not cost the checklist and the verdict)."""
    from checker.report import write_reports

    try:
        return write_reports(run, formats, output), None
    except OutputError as exc:
        return [], exc


def _write_and_say(run: Any, formats: list[str], output: Path) -> OutputError | None:
    """Write the report files, name them and print the printed formats; what stopped the writing is returned."""
    written, unwritten = _write_reports(run, formats, output)
    for path in written:
        click.echo(f"Report: {path}")
    _print_formats(run, formats)
    return unwritten


@report.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("golive-report"), show_default=True)
@click.option("--format", "formats", type=CsvChoice(FORMATS, RUN_ONLY), default="json", show_default=True, help="Outputs, comma-separated.")
@click.option("--fail-on", type=click.Choice(["blocker", "warning"]), help="Recompute the verdict with this threshold.")
def merge(reports: tuple[Path, ...], output: Path, formats: list[str], fail_on: str | None) -> int:
    """Merge report.json files from parallel CI jobs into one report; exits with the merged verdict."""
    from checker.report import merge_runs

    merged = merge_runs([_load_run(p) for p in reports], fail_on=fail_on)
    unwritten = _write_and_say(merged, formats, output)
    summary = merged.summary()
    click.echo(f"Verdict: {merged.verdict.upper()}  " + " · ".join(f"{n} {s}" for s, n in summary.items() if n))
    if unwritten is not None:
        raise unwritten
    return 0 if merged.verdict == "ready" else 1


@report.command()
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fail-on-new", is_flag=True, help="Exit 1 when NEW has a failure or error that OLD did not.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True)
def diff(old: Path, new: Path, fail_on_new: bool, fmt: str) -> int:
    """What changed between two reports: new failures, fixes and other status changes."""
    import json

    from checker.report import diff_runs, render_diff

    changes = diff_runs(_load_run(old), _load_run(new))
    if fmt == "json":
        click.echo(json.dumps(changes, indent=2))
    else:
        click.echo(render_diff(changes, markdown=fmt == "md"))
    return 1 if fail_on_new and changes["new_failures"] else 0


@report.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "formats", type=CsvChoice(FORMATS, RUN_ONLY), default="html", show_default=True, help="Outputs, comma-separated.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("golive-report"), show_default=True)
def render(source: Path, formats: list[str], output: Path) -> int:
    """Render a saved report.json again, in other formats (html, md, junit, sarif, gitlab, github, text)."""
    run = _load_run(source)
    if "text" in formats:
        from checker.packs import load_catalog
        from checker.terminal import Checklist, colour_enabled

        colour = colour_enabled(False, sys.stdout, dict(os.environ))
        sections = tuple(load_catalog()[0].sections)
        Checklist(sys.stdout, colour=colour).render(run, sections, f"golive {run.tool_version} · {run.provider} · {run.environment}")
    if unwritten := _write_and_say(run, formats, output):
        raise unwritten
    return 0


def _signer(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    from checker.report.signoff import checked_note, checked_signer

    try:
        return checked_signer(value) if param.name == "by" else checked_note(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@report.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", required=True, callback=_signer, help="Who signs: an e-mail address.")
@click.option("--decision", required=True, type=click.Choice(["approve", "reject"]), help="The reviewer's decision.")
@click.option("--note", callback=_signer, help="Why, or on what condition (shown with the sign-off).")
def sign(source: Path, by: str, decision: str, note: str | None) -> int:
    """Record a reviewer's sign-off in a saved report.json: who, the decision, and the digest of what they signed
    (a report changed afterwards says so when rendered). Signing again replaces the sign-off."""
    import datetime as dt

    from checker.report.signoff import sign as record

    signed_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    block = record(source, by=by, decision=decision, note=note, signed_at=signed_at)
    click.echo(f"Signed {source}: {decision} by {by} at {signed_at} over {block['digest']}")
    click.echo(f"Render it with: golive report render {source} --format html,md")
    return 0


# ---------------------------------------------------------------- rules and explain


def _say(text: str = "") -> None:
    """A line of `rules` or `explain`: a pack's words in it come printable from its loading (packs.shown); none of its
    lines is a workflow command to a CI runner, wherever the wrapping puts a pack's `::`."""
    from checker.printable import no_command

    click.echo(no_command(text))


@cli.command()
@click.option("--provider", help="Show the rules as this pack states them (severity, source, skips).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(provider: str | None, fmt: str) -> int:
    """List the rules: id, section, target, severity, title."""
    import json

    from checker.packs import filled, load_catalog, load_pack

    assumes: dict[str, list[str]] = {}  # per rule that applies, the facts golive assumes
    if provider:
        pack = load_pack(provider, relative_to=Path.cwd())
        assumes = {r.id: [b.fact for b in r.assumptions] for r in pack.rules if r.skip is None}
        items: list[dict[str, Any]] = [
            {
                "id": r.id,
                "section": r.section,
                "target": r.target,
                "severity": r.severity.value,
                "title": r.title,
                "applies": r.skip is None,
                "skip_reason": r.skip,
                "source": r.source,
                "cite": r.cite,
                "basis": [item.to_json() for item in r.basis],
                "readings": [item.to_json() for item in r.readings],
            }
            for r in pack.rules
        ]
    else:
        catalog, _ = load_catalog()
        items = [
            {"id": r.id, "section": r.section, "target": r.target, "severity": r.severity.value, "title": filled(r.title, None)}
            for r in catalog.rules
        ]
    if fmt == "json":
        click.echo(json.dumps({"provider": provider, "rules": items}, indent=2, ensure_ascii=False))  # cites read "Title — URL"
        return 0
    for item in items:
        note = "" if item.get("applies", True) else f"  (skip: {item['skip_reason']})"
        assumed = assumes.get(item["id"], [])
        note += f"  (assumes: {', '.join(assumed)})" if assumed else ""
        _say(f"{item['id']:<10} {item['section']:<15} {item['target']:<8} {item['severity']:<8} {item['title']}{note}")
    return 0


@cli.command()
@click.argument("rule_id")
@click.option("--provider", help="Also say how this pack states the rule (source, skip, parameters).")
def explain(rule_id: str, provider: str | None) -> int:
    """What a rule checks, why, how it is probed, how to fix it, and its source document."""
    import difflib
    import textwrap

    from checker.packs import BUILTIN_PACKS, TEXTS, filled, load_catalog, load_pack

    catalog, _ = load_catalog()
    known = {r.id: r for r in catalog.rules}
    rule = known.get(rule_id.upper())
    if rule is None:
        close = difflib.get_close_matches(rule_id.upper(), known, n=1)
        raise click.UsageError(f"unknown rule {rule_id!r}" + (f"; did you mean {close[0]}?" if close else "; see `golive rules`"))
    # in the pack's numbers and words with --provider; else each fact's placeholder (<retry.max_attempts>)
    words = (
        load_pack(provider, relative_to=Path.cwd()).rule(rule.id)
        if provider
        else rule.model_copy(update={n: filled(getattr(rule, n), None) for n in TEXTS})
    )
    _say(f"{rule.id}  {words.title}")
    _say(f"section: {rule.section} · target: {rule.target} · default severity: {rule.severity.value}")
    for label, text in (
        ("What it checks", words.checks),
        ("Why", words.why),
        ("How golive probes it", words.probe),
        ("How to fix", words.fix),
    ):
        _say(f"\n{label}:")
        _say(textwrap.fill(text, width=92, initial_indent="  ", subsequent_indent="  "))
    _say("\nSources:")
    for name in [provider] if provider else list(BUILTIN_PACKS):
        pack = load_pack(name, relative_to=Path.cwd())
        pack_rule = pack.rule(rule.id)
        where = pack_rule.cite or pack_rule.source if pack_rule.source or pack_rule.cite else f"skip: {pack_rule.skip}"
        params = f"  params: {dict(pack_rule.params)}" if pack_rule.params else ""  # a dict's repr: every string escaped
        _say(f"  {pack.name}: {where}{params}")
        if provider and not pack_rule.skip:
            _explain_basis(pack_rule)
    if not provider:
        _say("\n(--provider NAME also shows each fact the verdict rests on: documented, with its sentence, or assumed)")
    return 0


def _explain_basis(rule: Rule) -> None:
    """Per fact the rule rests on: documented (the document and its sentence) or assumed (why); then the
    conflicts between the provider's documents and the reading golive takes."""
    import textwrap

    def say(text: str, indent: str) -> None:
        _say(textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False))

    if rule.basis:
        _say("\nWhat the verdict rests on:")
    for item in rule.basis:
        if isinstance(item, Documented):
            say(f"documented: {item.fact} = {item.value}", "  ")
            say(f'{item.documented} says "{item.quote}"', "      ")
        elif isinstance(item, Assumed):
            say(f"assumed: {item.fact} = {item.value}", "  ")
            say(item.assumed, "      ")
        else:
            say(f"unstated: {item.fact} = {item.value} ({item.unstated})", "  ")
    for reading in rule.readings:
        _say(f"\nWhere the documents disagree: {reading.about}")
        for quote in reading.quotes:
            say(f'{quote.document} says "{quote.quote}"', "  ")
        say(f"reading: {reading.reading}", "  ")
        say(f"otherwise: {reading.otherwise}", "  ")


# ---------------------------------------------------------------- sandbox


@cli.command()
@click.option(
    "--provider",
    default="mintfax",
    show_default=True,
    help=f"Built-in pack ({BUILT_IN}) or a pack YAML, served from its facts.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (the sandbox is for local use).")
@click.option("--port", type=click.IntRange(0, 65535), default=8480, show_default=True, help="Port to listen on.")
@click.option("--db", type=click.Path(dir_okay=False), help="SQLite file that keeps the state across restarts [default: a temporary file].")
@click.option("--rate-limit", type=click.FloatRange(0), help="Requests a second per account (0 = off) [default: the provider's].")
@click.option(
    "--replay-style",
    type=ReplayStyle(),
    default="replayed-header",
    show_default=True,
    help="How a replay is signalled, for a provider that echoes the key (mintfax): replayed-header marks a replay "
    "with Idempotency-Replayed: true; key-echo, as a later revision of mintfax's retry guide has it, sends no such "
    "header but echoes X-Idempotency-Key on every POST ('not provided; recommended' without a key).",
)
@click.option(
    "--allow-remote-webhooks",
    is_flag=True,
    help="Deliver webhooks to endpoints off this machine too (by default only 127.0.0.1, ::1 and localhost).",
)
def sandbox(
    provider: str, host: str, port: int, db: str | None, rate_limit: float | None, replay_style: str, allow_remote_webhooks: bool
) -> int:
    """Serve the embedded sandbox for local development (Ctrl-C stops it): a built-in provider's, or any pack's,
    served from its facts."""
    from checker.packs import load_pack
    from checker.sandbox.app import CONTROL_TOKEN_HEADER, SandboxOptions
    from checker.sandbox.server import serve
    from checker.sandbox.store import StateFileError

    pack = load_pack(provider)
    options = SandboxOptions(rate_limit=rate_limit, replay_style=replay_style, allow_remote_webhooks=allow_remote_webhooks)
    click.echo(f"golive sandbox: {pack.name} on http://{host}:{port}  (state: {db or 'temporary'})", err=True)
    # the one thing that moves every account's clock (a key moves its own account's): printed once, for this run only
    click.echo(f"golive sandbox: control token {options.control_token} ({CONTROL_TOKEN_HEADER}, for every account's clock)", err=True)
    try:
        serve(pack, host=host, port=port, db=db, options=options)  # served from its facts, as `golive check` serves it
    except StateFileError as exc:
        raise click.UsageError(f"--db: {exc}") from None
    except OSError as exc:
        raise click.UsageError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the signal: the normal way to stop
        pass
    click.echo("golive sandbox: stopped", err=True)
    return 0


# ---------------------------------------------------------------- trigger


@cli.command()
@click.argument("event")
@click.option("--provider", help=f"Built-in pack ({BUILT_IN}) or a pack YAML [default: golive.yaml's provider].")
@click.option("--to", "url", required=True, help="The receiver's URL (http or https), as the provider would deliver to it.")
@click.option("--secret", help="The receiver's signing secret [default: golive.yaml's webhook.secret].")
@click.option("--data", help="The event's data object, as JSON [default: the pack's example].")
@click.option("--twice", is_flag=True, help="Send the same event again after the first (a duplicate, as a redelivery is).")
@click.option("--stale", is_flag=True, help="Sign with a timestamp beyond the provider's tolerance (a replayed old delivery).")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path), help="The config file [default: as check finds it].")
def trigger(
    event: str, provider: str | None, url: str, secret: str | None, data: str | None, twice: bool, stale: bool, config_path: Path | None
) -> int:
    """Send one signed delivery of EVENT to a receiver, as the provider sends it; print its status, time and body.
    Exit 0 when every delivery got a 2xx, 1 otherwise."""
    import asyncio
    from urllib.parse import urlsplit

    from checker.config import load_config
    from checker.packs import load_pack
    from checker.trigger import TriggerError, check_event, deliver, describe, parsed_data, webhook_facts

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
    if secret is None:
        secret = config.file.webhook.secret if config is not None and config.file.webhook is not None else None
        if not secret:
            where = f"{config.path} has no webhook.secret" if config is not None else "there is no golive.yaml here"
            raise click.UsageError(f"no --secret, and {where}: pass the receiver's signing secret with --secret")
    try:
        facts = webhook_facts(pack)
        note = check_event(facts, pack, event)
        answers = asyncio.run(deliver(facts, event, url, secret, data=parsed_data(data), twice=twice, stale=stale))
    except TriggerError as exc:
        raise click.UsageError(str(exc)) from None
    if note:
        click.echo(f"golive: {note}", err=True)
    for answer in answers:
        for line in describe(answer, url):
            click.echo(line)
    return 0 if all(a.ok for a in answers) else 1


# ---------------------------------------------------------------- schema


@cli.command()
@click.argument("kind", type=click.Choice(["pack", "config", "report"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of printing.")
def schema(kind: str, output: Path | None) -> int:
    """Print the JSON Schema of a rule pack, of golive.yaml (for editors and linters) or of report.json (for its readers)."""
    from checker.report.load import report_schema
    from checker.schema import json_schema

    text = json.dumps(report_schema() if kind == "report" else json_schema(kind), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        _write_file(output, text)
    return 0


def _write_file(path: Path, text: str) -> None:
    """A file the user asked for, whole or not at all; what stops it is exit 2 naming the file and why."""
    from checker.report import reason_of, write_atomically

    try:
        write_atomically(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {reason_of(exc, path)}") from None


# ---------------------------------------------------------------- init


@cli.command()
@click.option(
    "--provider",
    default="mintfax",
    show_default=True,
    help=f"The provider: a built-in pack ({BUILT_IN}) or a pack YAML.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("golive.yaml"), show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(provider: str, output: Path, force: bool) -> int:
    """Write a commented golive.yaml for the provider's documented targets."""
    from checker.packs import BUILTIN_PACKS, load_pack
    from checker.printable import printable
    from checker.starter import Starter

    if output.exists() and not force:
        raise click.UsageError(f"{output} exists; use --force to overwrite it")
    pack = load_pack(provider)  # a pack path is checked before anything is written
    if provider not in BUILTIN_PACKS:  # as the config will read it: relative to the config's folder
        provider = os.path.relpath(Path(provider).resolve(), output.resolve().parent)
    starter = Starter(pack, provider, tuple(production_paths(output.resolve().parent)))
    # editors that speak yaml-language-server (VS Code's YAML extension, Neovim, JetBrains) check the file as it is typed
    from checker.schema import json_schema

    schema_file = output.parent / ".golive" / "golive.schema.json"
    _write_file(schema_file, json.dumps(json_schema("config"), indent=2) + "\n")
    relative = os.path.relpath(schema_file, output.parent).replace(os.sep, "/")
    _write_file(output, f"# yaml-language-server: $schema={relative}\n{starter.render()}")
    click.echo(f"Wrote {output} (and its JSON Schema, {schema_file}) for {pack.title}: its documents cover {', '.join(starter.targets)}.")
    click.echo(f"Next: `golive check` probes golive's embedded {pack.name} sandbox, which needs no key. require: names every")
    others = [t for t in starter.targets if t not in ("sandbox", "repo")]
    if others:
        click.echo(f"target, so the verdict stays NOT READY until you uncomment and fill in your integration's {' and '.join(others)}.")
    else:
        click.echo("target: a missing one makes the verdict NOT READY.")
    example = f" ({printable(starter.key_example, one_line=True)})" if starter.key_example else ""  # a pack's prefix: its words
    click.echo(f"For the provider's own sandbox instead: set sandbox.url to it, and ${starter.env}_API_KEY to your sandbox key{example}.")
    if not starter.applies("KEY-003"):
        pass  # the pack recognises no sandbox key by its prefix: production paths would be scanned for nothing
    elif starter.production_paths:
        click.echo(f"KEY-003 scans these production paths for sandbox keys: {', '.join(starter.production_paths)} (repo.production_paths)")
    else:
        click.echo("KEY-003 is not probed until repo.production_paths names where production code and config live")
    return 0


# where production code and its configuration live in common layouts (not tests, examples or docs)
PRODUCTION_LAYOUTS = ("src", "app", "lib", "server", "api", "config", "deploy", "k8s", "helm", "infra", "terraform")


def production_paths(root: Path) -> list[str]:
    """The common production folders that exist under `root`, as globs for repo.production_paths."""
    return [f"{name}/**" for name in PRODUCTION_LAYOUTS if (root / name).is_dir()]


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map every outcome to an exit code, never a bare traceback."""
    from_click: Any
    try:
        from_click = cli.main(args=argv, prog_name="golive", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # `golive rules | head -1`: the reader stopped reading, which is no error of ours
        _silence_stdout()
        sys.exit(0)
    except Exception as exc:
        from checker.errors import ConfigError, GoliveError
        from checker.printable import printable_line
        from checker.redact import known

        # a problem quotes what it found (a key of a saved report, a pack's name): one printable line each
        if isinstance(exc, ConfigError):
            click.echo("golive: configuration error:", err=True)
            for problem in exc.problems:
                click.echo(printable_line(f"  {known().text(str(problem))}"), err=True)
            sys.exit(exc.exit_code)
        if isinstance(exc, GoliveError) and exc.exit_code != 3:
            click.echo(printable_line(f"golive: {known().text(str(exc))}"), err=True)
            sys.exit(exc.exit_code)
        sys.exit(_internal_error(exc))
    sys.exit(from_click if isinstance(from_click, int) else 0)


def _internal_error(exc: BaseException) -> int:
    if isinstance(exc, MemoryError):  # formatting a traceback needs memory there may not be: say it plainly
        exc.__traceback__ = None
        os.write(2, b"golive: internal error (out of memory). This is a bug; please report what was being checked\n")
        return 3
    try:
        from checker.redact import known

        redactor = known()  # the crash file is a log like any other: no secret in it
        fd, path = tempfile.mkstemp(prefix="golive-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(redactor.text(f"golive {__version__}\nargv: {sys.argv!r}\n\n"))
            handle.write(redactor.text("".join(traceback.format_exception(exc))))
        message = redactor.text(f"{type(exc).__name__}: {exc}")
        click.echo(f"golive: internal error ({message}). This is a bug; details were written to {path}", err=True)
    except BaseException:  # the crash handler itself failed (a full disk, no memory): never a bare traceback
        os.write(2, f"golive: internal error ({type(exc).__name__}). This is a bug; no details could be written\n".encode())
    return 3
