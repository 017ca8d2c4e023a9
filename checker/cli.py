"""The `golive` command line: each command's arguments, options and help text, and `main()`, which maps every outcome
to an exit code. What a command does is one function in `checker/commands/`; heavy modules (httpx, pydantic,
starlette, jinja2) load inside those, so `golive --version` and `golive --help` stay fast. A `--provider` option's
help names the built-in packs as `{built_in}` (`PackOption` fills it from `packs.BUILTIN_PACKS` when it is shown)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from checker import __version__
from checker.commands import check as cmd_check
from checker.commands import explain as cmd_explain
from checker.commands import init as cmd_init
from checker.commands import reports as cmd_reports
from checker.commands import sandbox as cmd_sandbox
from checker.commands import trigger as cmd_trigger
from checker.commands.params import PROGRESS, CsvChoice, IdList, PackOption, ReplayStyle, RequireList, formats, recorded


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
@click.option("--provider", cls=PackOption, help="Built-in pack ({built_in}) or a pack YAML; overrides the config.")
@click.option("--environment", type=click.Choice(["sandbox", "live"]), help="Which key prefixes are expected.")
@click.option("--select", "select", type=IdList(), multiple=True, help="Only these rule ids or prefixes (e.g. IDEM,RETRY-101).")
@click.option("--ignore", "ignore", type=IdList(), multiple=True, help="Leave out these rule ids or prefixes.")
@click.option(
    "--format",
    "formats",
    type=CsvChoice(formats),
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
    from checker.engine import RunOptions

    config = cmd_check.config_for(config_path, provider)
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
    shown = cmd_check.Shown(formats, output, quiet, verbose, no_colour, progress)
    return cmd_check.run_and_report(config, provider or config.file.provider, options, shown)


# ---------------------------------------------------------------- demo


@cli.command()
@click.option("--flawed", is_flag=True, help="Run the flawed example integration instead of the good one.")
@click.option(
    "--provider", cls=PackOption, default="mintfax", show_default=True, help="A built-in provider with a bundled example ({built_in})."
)
@click.option("--format", "formats", type=CsvChoice(formats), default="text,json", show_default=True, help="Outputs, comma-separated.")
@click.option("--output", "output", type=click.Path(file_okay=False, path_type=Path), default=Path("golive-report"), show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict.")
@click.option("-v", "--verbose", is_flag=True, help="Print each rule's evidence and fix.")
@click.option("--no-color", "no_colour", is_flag=True, help="Plain output (also with NO_COLOR set).")
@click.option("--progress", type=click.Choice(PROGRESS), default="auto", show_default=True, help="As golive check's --progress.")
def demo(flawed: bool, provider: str, formats: list[str], output: Path, quiet: bool, verbose: bool, no_colour: bool, progress: str) -> int:
    """Check the bundled example integration against the embedded sandbox: zero set-up."""
    from checker.engine import RunOptions

    config = cmd_check.demo_config(provider, flawed)
    shown = cmd_check.Shown(formats, output, quiet, verbose, no_colour, progress)
    return cmd_check.run_and_report(config, provider, RunOptions(), shown)


# ---------------------------------------------------------------- sandbox


@cli.command()
@click.option(
    "--provider",
    cls=PackOption,
    default="mintfax",
    show_default=True,
    help="Built-in pack ({built_in}) or a pack YAML, served from its facts.",
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
    return cmd_sandbox.serve(
        provider, host, port, db=db, rate_limit=rate_limit, replay_style=replay_style, remote_webhooks=allow_remote_webhooks
    )


# ---------------------------------------------------------------- trigger


@cli.command()
@click.argument("event")
@click.option("--provider", cls=PackOption, help="Built-in pack ({built_in}) or a pack YAML [default: golive.yaml's provider].")
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
    pack, signing_secret = cmd_trigger.pack_and_secret(url, provider, secret, config_path)
    return cmd_trigger.send(cmd_trigger.Delivery(event, url, data, twice, stale), pack, signing_secret)


# ---------------------------------------------------------------- schema and init


@cli.command()
@click.argument("kind", type=click.Choice(["pack", "config", "report"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of printing.")
def schema(kind: str, output: Path | None) -> int:
    """Print the JSON Schema of a rule pack, of golive.yaml (for editors and linters) or of report.json (for its readers)."""
    return cmd_init.schema(kind, output)


@cli.command()
@click.option(
    "--provider", cls=PackOption, default="mintfax", show_default=True, help="The provider: a built-in pack ({built_in}) or a pack YAML."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("golive.yaml"), show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(provider: str, output: Path, force: bool) -> int:
    """Write a commented golive.yaml for the provider's documented targets."""
    return cmd_init.init(provider, output, force)


# ---------------------------------------------------------------- report merge / diff / render / sign


@cli.group()
def report() -> None:
    """Work with saved reports: merge runs, compare two, render one in other formats."""


@report.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("golive-report"), show_default=True)
@click.option("--format", "formats", type=CsvChoice(formats, recorded), default="json", show_default=True, help="Outputs, comma-separated.")
@click.option("--fail-on", type=click.Choice(["blocker", "warning"]), help="Recompute the verdict with this threshold.")
def merge(reports: tuple[Path, ...], output: Path, formats: list[str], fail_on: str | None) -> int:
    """Merge report.json files from parallel CI jobs into one report; exits with the merged verdict."""
    return cmd_reports.merge(reports, output, formats, fail_on)


@report.command()
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fail-on-new", is_flag=True, help="Exit 1 when NEW has a failure or error that OLD did not.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True)
def diff(old: Path, new: Path, fail_on_new: bool, fmt: str) -> int:
    """What changed between two reports: new failures, fixes and other status changes."""
    return cmd_reports.diff(old, new, fail_on_new, fmt)


@report.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "formats", type=CsvChoice(formats, recorded), default="html", show_default=True, help="Outputs, comma-separated.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("golive-report"), show_default=True)
def render(source: Path, formats: list[str], output: Path) -> int:
    """Render a saved report.json again, in other formats (html, md, junit, sarif, gitlab, github, text)."""
    return cmd_reports.render(source, formats, output)


@report.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", required=True, callback=cmd_reports.checked_option, help="Who signs: an e-mail address.")
@click.option("--decision", required=True, type=click.Choice(["approve", "reject"]), help="The reviewer's decision.")
@click.option("--note", callback=cmd_reports.checked_option, help="Why, or on what condition (shown with the sign-off).")
def sign(source: Path, by: str, decision: str, note: str | None) -> int:
    """Record a reviewer's sign-off in a saved report.json: who, the decision, and the digest of what they signed
    (a report changed afterwards says so when rendered). Signing again replaces the sign-off."""
    return cmd_reports.sign(source, by, decision, note)


# ---------------------------------------------------------------- rules and explain


@cli.command()
@click.option("--provider", help="Show the rules as this pack states them (severity, source, skips).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(provider: str | None, fmt: str) -> int:
    """List the rules: id, section, target, severity, title."""
    return cmd_explain.rules(provider, fmt)


@cli.command()
@click.argument("rule_id")
@click.option("--provider", help="Also say how this pack states the rule (source, skip, parameters).")
def explain(rule_id: str, provider: str | None) -> int:
    """What a rule checks, why, how it is probed, how to fix it, and its source document."""
    return cmd_explain.explain(rule_id, provider)


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map every outcome to an exit code, never a bare traceback."""
    from checker.commands.output import silence_stdout

    try:
        from_click: object = cli.main(args=argv, prog_name="golive", standalone_mode=False)
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
        silence_stdout()
        sys.exit(0)
    except Exception as exc:
        from checker.crash import internal_error
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
        sys.exit(internal_error(exc))
    sys.exit(from_click if isinstance(from_click, int) else 0)
