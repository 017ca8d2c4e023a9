"""`golive report merge|diff|render|sign`: saved report.json files, read back (`checker.report.load`), combined,
compared, rendered again or signed."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from checker.commands.output import write_and_say


def merge(reports: tuple[Path, ...], output: Path, formats: list[str], fail_on: str | None) -> int:
    """One report of several; exit 0 when the merged verdict is ready, 1 otherwise."""
    from checker.report import load_report, merge_runs

    merged = merge_runs([load_report(p) for p in reports], fail_on=fail_on)
    unwritten = write_and_say(merged, formats, output)
    summary = merged.summary()
    click.echo(f"Verdict: {merged.verdict.upper()}  " + " · ".join(f"{n} {s}" for s, n in summary.items() if n))
    if unwritten is not None:
        raise unwritten
    return 0 if merged.verdict == "ready" else 1


def diff(old: Path, new: Path, fail_on_new: bool, fmt: str) -> int:
    """What changed from OLD to NEW, as text, JSON or Markdown; exit 1 with --fail-on-new when NEW failed anew."""
    from checker.report import diff_runs, load_report, render_diff

    changes = diff_runs(load_report(old), load_report(new))
    if fmt == "json":
        click.echo(json.dumps(changes, indent=2))
    else:
        click.echo(render_diff(changes, markdown=fmt == "md"))
    return 1 if fail_on_new and changes["new_failures"] else 0


def render(source: Path, formats: list[str], output: Path) -> int:
    """A saved report in other formats: `text` printed as `golive check` prints it, the others written."""
    from checker.report import load_report

    run = load_report(source)
    if "text" in formats:
        from checker.packs import load_catalog
        from checker.terminal import Checklist, colour_enabled

        colour = colour_enabled(False, sys.stdout, dict(os.environ))
        sections = tuple(load_catalog()[0].sections)
        Checklist(sys.stdout, colour=colour).render(run, sections, f"golive {run.tool_version} · {run.provider} · {run.environment}")
    if unwritten := write_and_say(run, formats, output):
        raise unwritten
    return 0


def checked_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--by and --note of `report sign`, checked as they are read (an e-mail address; one line of text)."""
    from checker.report.signoff import checked_note, checked_signer

    try:
        return checked_signer(value or "") if param.name == "by" else checked_note(value)  # --by is required: never None here
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def sign(source: Path, by: str, decision: str, note: str | None) -> int:
    """Record the sign-off in `source` and say what was signed."""
    import datetime as dt

    from checker.report.sign import sign as record

    signed_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    block = record(source, by=by, decision=decision, note=note, signed_at=signed_at)
    click.echo(f"Signed {source}: {decision} by {by} at {signed_at} over {block['digest']}")
    click.echo(f"Render it with: golive report render {source} --format html,md")
    return 0
