"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding, on the golive.yaml
line or the file it belongs to (printed to stdout, where the runner reads them; no file is written)."""

from __future__ import annotations

from checker.model import Result, RunResult, Severity
from checker.printable import printable
from checker.report.places import places, reported, what_happened

FILE = None  # printed, not written: the runner turns stdout lines into annotations

LEVEL = {Severity.BLOCKER: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
ORDER = (Severity.BLOCKER, Severity.WARNING, Severity.INFO)


def escape_data(text: str) -> str:
    """A command's message, as @actions/core's escapeData writes it: `%`, CR and LF percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (file, title), as @actions/core's escapeProperty: also `:` and `,`, which end a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: object) -> str:
    shown = ",".join(f"{name}={escape_property(str(value))}" for name, value in properties.items() if value is not None)
    return f"::{level}{' ' + shown if shown else ''}::{escape_data(message)}"


def render(run: RunResult) -> str:
    """The verdict first (GitHub shows at most 10 annotations of each level per step), then blockers, warnings and
    notes, each at its place with the rule's id and title as its title and the fix after the message."""
    verdict = run.verdict_label()
    lines = [command("notice" if run.verdict == "ready" else "error", run.coverage_line() or verdict, title=f"golive: {verdict}")]
    findings: list[Result] = sorted(reported(run), key=lambda r: ORDER.index(r.severity))
    for result in findings:
        rule = result.rule
        # the rule's words are a pack's (and a saved report's, rendered again): printable, as the message came from the
        # engine; the log shows no terminal escape of theirs
        message = f"{what_happened(result)}\n\nHow to fix: {printable(rule.fix)}"
        title = printable(f"{rule.id} {rule.title}", one_line=True)
        for place in places(run, result):
            line = place.line if place.uri else None
            lines.append(command(LEVEL[result.severity], message, file=place.uri, line=line, title=title))
    return "\n".join(lines) + "\n"
