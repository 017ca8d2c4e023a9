"""The terminal checklist: grouped by section, coloured on a TTY, plain in CI and with NO_COLOR."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

import click

from checker.model import Result, Rule, RunResult, Status
from checker.printable import no_command, printable, printable_line

SYMBOLS = {
    Status.PASS: "✓",
    Status.FAIL: "✗",
    Status.ERROR: "!",
    Status.SKIP: "-",
    Status.WAIVED: "~",
    Status.MANUAL: "?",
    Status.ATTESTED: "✓",
}
ASCII = {
    Status.PASS: "+",
    Status.FAIL: "x",
    Status.ERROR: "!",
    Status.SKIP: "-",
    Status.WAIVED: "~",
    Status.MANUAL: "?",
    Status.ATTESTED: "+",
}
COLOURS = {
    Status.PASS: "green",
    Status.FAIL: "red",
    Status.ERROR: "magenta",
    Status.SKIP: "bright_black",
    Status.WAIVED: "yellow",
    Status.MANUAL: "cyan",
    Status.ATTESTED: "green",
}


FOLD_AT = 3


class Checklist:
    def __init__(self, out: TextIO, *, colour: bool, verbose: bool = False, quiet: bool = False) -> None:
        self.out, self.colour, self.verbose, self.quiet = out, colour, verbose, quiet
        encoding = (getattr(out, "encoding", None) or "ascii").lower()
        self.symbols = SYMBOLS if "utf" in encoding else ASCII

    def style(self, text: str, **kwargs: object) -> str:
        return click.style(text, **kwargs) if self.colour else text  # type: ignore[arg-type]

    def line(self, text: str = "") -> None:
        self.out.write(no_command(text) + "\n")  # a CI runner reads no line of ours as a workflow command

    def render(self, run: RunResult, sections: tuple[str, ...], header: str) -> None:
        if not self.quiet:
            self.line(self.style(printable(header, one_line=True), bold=True))
            by_section: dict[str, list[Result]] = {}
            for result in run.results:
                by_section.setdefault(result.rule.section, []).append(result)
            for section in sorted(by_section, key=lambda s: sections.index(s) if s in sections else len(sections)):
                self.line()
                self.line(self.style(printable(section, one_line=True), bold=True, underline=True))
                self._section(by_section[section])
            self.line()
            self._triage(run)
        self.line(self.verdict(run))

    def _section(self, results: list[Result]) -> None:
        """Each result on its lines; outside -v, skips or errors sharing one reason (a target not configured, a client
        that cannot start) fold into a single line."""
        folded: dict[tuple[Status, str], list[Result]] = {}
        if not self.verbose:
            for result in results:
                if result.status in (Status.SKIP, Status.ERROR):
                    folded.setdefault((result.status, result.full_message), []).append(result)
            folded = {key: group for key, group in folded.items() if len(group) >= FOLD_AT}
        shown: set[tuple[Status, str]] = set()
        for result in results:
            key = (result.status, result.full_message)
            group = folded.get(key)
            if group is None:
                self._result(result)
            elif key not in shown:
                shown.add(key)
                status = result.status
                symbol = self.style(self.symbols[status], fg=COLOURS[status], bold=status is Status.ERROR)
                said = printable(f"{', '.join(r.rule.id for r in group)}: {status.value}: {result.full_message}", one_line=True)
                self.line(
                    f"  {symbol} {self.style(said, dim=status is Status.SKIP, fg=COLOURS[status] if status is Status.ERROR else None)}"
                )

    def _result(self, result: Result) -> None:
        status = result.status
        symbol = self.style(self.symbols[status], fg=COLOURS[status], bold=True)
        dim = status is Status.SKIP
        title = self.style(printable(result.rule.title, one_line=True), dim=dim)
        self.line(f"  {symbol} {result.rule.id:<9} {result.severity.value:<8}{title}")
        label = "" if status in (Status.PASS, Status.FAIL) else f"{status.value}: "
        if result.message:  # printable again: a run built elsewhere (golive used as a library) did not pass the engine's seam
            message = printable(label + result.full_message, one_line=True)
            self.line("              " + self.style(message, fg=COLOURS[status] if status is not Status.PASS else None, dim=dim))
        if self.verbose and status in (Status.FAIL, Status.ERROR, Status.WAIVED) and result.rule.fix:
            self.line("              " + self.style("fix: " + printable(result.rule.fix, one_line=True), fg="yellow"))
        if self.verbose and result.evidence:
            for item in result.evidence:
                head, block = evidence_lines(item)
                self.line("              " + self.style(head, dim=True))
                for text in block:  # a target's multi-line text, indented under its line: never a line of ours
                    self.line("                │ " + self.style(text, dim=True))

    def _triage(self, run: RunResult) -> None:
        """What to fix first: the blockers that hold the verdict back, then the warnings, each with its fix; rules that
        failed for one and the same reason (a target not configured, a client that cannot start) are one entry."""
        groups = triage(run)
        if not groups:
            return
        self.line(self.style("What to fix first", bold=True, underline=True))
        for severity, entries in groups:
            self.line(f"  {severity}s:")
            for n, (results, message) in enumerate(entries, 1):
                first = results[0]
                symbol = self.style(self.symbols[first.status], fg=COLOURS[first.status], bold=True)
                label = "" if first.status is Status.FAIL else f"{first.status.value}: "
                said = _cut(printable(label + _plain(message, first), one_line=True))
                if len(results) == 1:
                    self.line(f"  {n:>2}. {symbol} {first.rule.id}  {printable(first.rule.title, one_line=True)}")
                    self.line("        " + self.style(said, fg=COLOURS[first.status]))
                    if first.rule.fix and first.status is not Status.MANUAL:
                        self.line("        " + self.style("fix: " + printable(first.rule.fix, one_line=True), fg="yellow"))
                else:  # one cause: the message says what to do; each rule's own fix is for when it runs
                    self.line(f"  {n:>2}. {symbol} {len(results)} rules: {_ids(results)}")
                    self.line("        " + self.style(said, fg=COLOURS[first.status]))
        self.line()

    def attention(self, run: RunResult) -> None:
        """What to fix first and the verdict, without the checklist above them (the pytest plugin's failure text)."""
        self._triage(run)
        self.line(self.verdict(run))

    def verdict(self, run: RunResult) -> str:
        counts = run.summary()
        summary = " · ".join(f"{n} {s}" for s, n in counts.items() if n)
        ready = run.verdict == "ready"
        label = run.verdict_label()
        word = self.style(f" {label} ", fg="white", bg="green" if ready else "red", bold=True) if self.colour else label
        interrupted = " (interrupted)" if run.interrupted else ""
        lines = [f"Verdict: {word}{interrupted}  {summary}  in {run.duration_s:.1f} s"]
        if severities := by_severity(run):
            lines.append(f"  {severities}")
        if coverage := run.coverage_line():
            lines.append(f"  {coverage}")
            if run.coverage and run.coverage.not_configured and not run.coverage.required:
                lines.append("  (require: [sandbox, client, webhook, repo] in golive.yaml, or --require, makes a missing target fail)")
        return "\n".join(lines) + _not_probed(run.not_probed())


PROBLEMS = (Status.FAIL, Status.ERROR, Status.MANUAL)
TRIAGE_CUT = 240  # characters of a message in the triage list; the checklist above and the reports have it whole


def triage(run: RunResult) -> list[tuple[str, list[tuple[list[Result], str]]]]:
    """The results to act on, by severity (blockers first), failures before errors; rules that share one error message
    (one cause: a target not configured, a client that cannot start) are one entry, under the gravest severity among
    them. Manual items are listed where they hold the verdict back (a live blocker). Each entry's message is without
    its qualifiers: the results carry them (`Result.qualifiers`)."""
    from checker.model import BLOCKING, Severity

    order = (Severity.BLOCKER, Severity.WARNING)
    holding = [r for r in run.results if r.status in BLOCKING and r.severity in order]
    holding = [r for r in holding if not (r.status is Status.MANUAL and r.severity is not Severity.BLOCKER)]
    holding.sort(key=lambda r: (order.index(r.severity), PROBLEMS.index(r.status)))
    entries: dict[tuple[Status, str], list[Result]] = {}
    for result in holding:
        key = (result.status, result.full_message if result.status is Status.ERROR else result.rule.id)
        entries.setdefault(key, []).append(result)
    groups = []
    for severity in order:
        chosen = [(results, results[0].message) for results in entries.values() if results[0].severity is severity]
        if chosen:
            groups.append((severity.value, chosen))
    return groups


def by_severity(run: RunResult) -> str:
    """Counts of what went wrong by severity: "blockers: 2 failed, 1 error · warnings: 3 failed"."""
    parts = []
    for severity in ("blocker", "warning", "info"):
        counts = {status: sum(1 for r in run.results if r.severity.value == severity and r.status is status) for status in PROBLEMS}
        words = [f"{n} {WORDS[status]}" for status, n in counts.items() if n and (status is not Status.MANUAL or severity == "blocker")]
        if words:
            parts.append(f"{'info' if severity == 'info' else severity + 's'}: {', '.join(words)}")
    return " · ".join(parts)


WORDS = {Status.FAIL: "failed", Status.ERROR: "error", Status.MANUAL: "to attest"}


def _ids(results: list[Result]) -> str:
    return _first_ids([r.rule.id for r in results])


def _first_ids(ids: list[str]) -> str:
    """ "A, B, C, D and 3 more": a list of rule ids kept to one readable line."""
    return ", ".join(ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")


def _plain(message: str, result: Result) -> str:
    """The message for the triage list: its qualifiers named (the checklist and the rule's card carry them whole), with
    where to read them."""
    names = [q.words for q in result.qualifiers]
    return message + f" ({'; '.join(names)}: golive explain {result.rule.id})" if names else message


def _cut(text: str) -> str:
    return text if len(text) <= TRIAGE_CUT else text[: TRIAGE_CUT - 1] + "…"


def _not_probed(ids: list[str]) -> str:
    if not ids:
        return ""
    return f"\n  not probed: {len(ids)} blocker{'s' * (len(ids) > 1)} the pack covers ({_first_ids(ids)}): see their skip reasons"


BLOCK_FIELDS = (
    "body_sent",
    "stderr_tail",
    "stdout_tail",
    "receiver_stderr_tail",
    "answer",
    "text",
)  # multi-line text shown as an indented block
BLOCK_LINES = 8  # lines of such a block in the terminal; report.json has them all


def evidence_lines(item: object) -> tuple[str, list[str]]:
    """One evidence item for `-v`: a line saying what it is, and the lines of any multi-line text it carries (a body,
    a process's output), each made printable and cut, so nothing a target sent can break the layout."""
    head = printable(_evidence_line(item), one_line=True)
    if not isinstance(item, dict):
        return head, []
    block: list[str] = []
    for name in BLOCK_FIELDS:
        value = item.get(name)
        if isinstance(value, str) and "\n" in value.strip():
            lines = value.strip().splitlines()
            if not block:
                head = _cut(head)
            block.append(f"{name.replace('_', ' ')}:")
            block += [_cut(printable(line, one_line=True)) for line in lines[:BLOCK_LINES]]
            if len(lines) > BLOCK_LINES:
                block.append(f"… {len(lines) - BLOCK_LINES} more lines (all in report.json)")
    return head, block


def _named(value: object) -> object:
    """A nested error by its code (Stripe's {"error": {…}}, Square's {"errors": [{…}]}); anything else as it is."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        return value.get("code") or value.get("type") or value.get("category") or value
    return value


def _evidence_line(item: dict[str, object] | object) -> str:
    if not isinstance(item, dict):
        return str(item)
    if item.get("kind") == "request":
        parts = [f"#{item.get('n')}", f"t={item.get('t')}s", f"{item.get('method')} {item.get('path')}", f"-> {item.get('status')}"]
        if item.get("idempotency_key"):
            parts.append(f"key={item['idempotency_key']}")
        body = item.get("body")
        if isinstance(body, dict):
            parts.append(" ".join(f"{k}={_named(v)}" for k, v in body.items() if k in ("id", "status", "error", "errors", "submissionId")))
        if item.get("note"):
            parts.append(f"({item['note']})")
        return "  ".join(str(p) for p in parts if p)
    if item.get("kind") == "attempt":
        run = f"[{item['run']}] " if item.get("run") else ""
        answered = item.get("status") if item.get("status") is not None else "-"
        key = f"  key={item['idempotency_key']}" if item.get("idempotency_key") else "  (no key)"
        return f"{run}#{item.get('n')} t={item.get('t')}s {item.get('method')} {item.get('path')} -> {answered}  ({item.get('proxy')}){key}"
    if item.get("kind") == "process":
        run = f"[{item['run']}] " if item.get("run") else ""
        ended = "killed at the timeout" if item.get("timed_out") else f"exit {item.get('exit_code')}"
        tail = str(item.get("stderr_tail") or item.get("stdout_tail") or "").strip().splitlines()
        return f"{run}client {ended} after {item.get('duration_s')} s" + (f"; last output: {tail[-1][:160]}" if tail else "")
    if item.get("kind") == "delivery":
        answered = item.get("status") if item.get("status") is not None else item.get("error", "no answer")
        line = f"t={item.get('t')}s {item.get('label')}  {item.get('event_id')} -> {answered} in {item.get('latency_s')} s"
        if item.get("location"):
            line += f"  Location: {item['location']}"
        if item.get("answer"):
            line += f"  answer: {str(item['answer'])[:120]}"
        return line
    if item.get("kind") == "receiver_output":
        said = str(item.get("receiver_stderr_tail") or "").strip()
        head = f"the receiver's stderr after {item.get('delivery')}"
        return head + (":" if "\n" in said else f": {said}")
    if item.get("kind") == "note":
        text = str(item.get("text", ""))
        return text.strip().splitlines()[0] + " …" if "\n" in text.strip() else text
    if item.get("kind") == "backoff_windows":
        windows = item.get("windows") or []
        shown = ", ".join(f"{w[0]:g}–{w[1]:g} s" for w in windows if isinstance(w, (list, tuple)) and len(w) == 2)  # type: ignore[union-attr]
        return f"expected retry delays ({item.get('model')}): {shown}"
    kind = item.get("kind")
    present = {str(k): v for k, v in item.items() if k != "kind" and v not in (None, "", [], {})}
    present = {k: v for k, v in present.items() if not (k in BLOCK_FIELDS and isinstance(v, str) and "\n" in v.strip())}  # below it
    fields = "  ".join(f"{k.replace('_', ' ')}: {_short(v)}" for k, v in present.items())
    return f"{kind}: {fields}" if kind else fields


def _short(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    first = text.strip().splitlines()[0] if text.strip() else text
    return _cut(first) + (" …" if first != text.strip() else "")


class ProgressLine:
    """A one-line live status on a TTY (stderr); silent elsewhere."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.running = total, 0, set[str]()
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, event: str, rule: Rule, result: Result | None) -> None:
        if not self.enabled:
            return
        if event == "start":
            self.running.add(rule.id)
        else:
            self.running.discard(rule.id)
            self.done += 1
        names = ", ".join(sorted(self.running)[:4]) + (" …" if len(self.running) > 4 else "")
        self.stream.write(f"\r\x1b[2K  [{self.done}/{self.total}] running {names}")
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()

    def stop(self) -> None:
        """Clear the line for good (the run is being interrupted: nothing more to show here)."""
        self.clear()
        self.enabled = False


class ProgressLines:
    """A line on stderr per rule as it finishes, in the order they finish, with the run's elapsed time: in CI (no TTY)
    a log that moves, never a line on stdout (where the checklist and the printed formats go). Each line is made
    printable and never a workflow command (the messages come redacted from the engine's seam)."""

    MESSAGE = 160  # characters of a failure's or an error's message on its line; the checklist has it whole

    def __init__(self, total: int, stream: TextIO = sys.stderr, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.done, self.stream, self.clock = total, 0, stream, clock
        self.started = clock()
        self.enabled = True
        self._say(f"golive: {total} rule{'s' * (total != 1)} to check; a line as each finishes (--progress none for none)")

    def __call__(self, event: str, rule: Rule, result: Result | None) -> None:
        if event != "done" or result is None:
            return
        self.done += 1
        status = result.status.value
        said = ""
        if result.status in (Status.FAIL, Status.ERROR) and result.message:
            said = ": " + _cut_to(result.full_message, self.MESSAGE)
        self._say(
            f"golive: [{self.done}/{self.total}] {self.clock() - self.started:.1f} s  {rule.id} {status} "
            f"({result.duration_s:.1f} s)  {rule.title}{said}"
        )

    def _say(self, line: str) -> None:
        if not self.enabled:
            return
        try:
            self.stream.write(printable_line(line) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: the run goes on without its log
            self.enabled = False

    def clear(self) -> None:
        pass

    def stop(self) -> None:
        """The run is being interrupted: the lines so far stand; nothing is cleared."""


class NoProgress:
    """--progress none: nothing while probing."""

    def __call__(self, event: str, rule: Rule, result: Result | None) -> None:
        pass

    def clear(self) -> None:
        pass

    def stop(self) -> None:
        pass


def progress_for(mode: str, total: int, stream: TextIO | None = None) -> ProgressLine | ProgressLines | NoProgress:
    """What `--progress` asks for: `lines`, `none`, or `auto`: the live status line on a terminal, lines elsewhere
    (a CI log, a file, a pipe)."""
    stream = stream if stream is not None else sys.stderr
    if mode == "none":
        return NoProgress()
    if mode == "lines" or not _isatty(stream):
        return ProgressLines(total, stream)
    return ProgressLine(total, stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def _cut_to(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def colour_enabled(no_colour: bool, stream: TextIO, environ: dict[str, str]) -> bool:
    if no_colour or environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    return stream.isatty()
