"""The terminal checklist: grouped by section, coloured on a TTY, plain in CI and with NO_COLOR."""

from __future__ import annotations

import sys
from typing import TextIO

import click

from checker.model import Result, Rule, RunResult, Status
from checker.printable import printable

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
        self.out.write(text + "\n")

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
        self.line(self.verdict(run))

    def _section(self, results: list[Result]) -> None:
        """Each result on its lines; outside -v, skips sharing one reason fold into a single line."""
        folded: dict[str, list[Result]] = {}
        if not self.verbose:
            for result in results:
                if result.status is Status.SKIP:
                    folded.setdefault(result.message, []).append(result)
            folded = {reason: group for reason, group in folded.items() if len(group) >= FOLD_AT}
        shown: set[str] = set()
        for result in results:
            group = folded.get(result.message) if result.status is Status.SKIP else None
            if group is None:
                self._result(result)
            elif result.message not in shown:
                shown.add(result.message)
                symbol = self.style(self.symbols[Status.SKIP], fg=COLOURS[Status.SKIP])
                ids = ", ".join(r.rule.id for r in group)
                self.line(f"  {symbol} {self.style(f'{ids}: skip: {result.message}', dim=True)}")

    def _result(self, result: Result) -> None:
        status = result.status
        symbol = self.style(self.symbols[status], fg=COLOURS[status], bold=True)
        dim = status is Status.SKIP
        title = self.style(printable(result.rule.title, one_line=True), dim=dim)
        self.line(f"  {symbol} {result.rule.id:<9} {result.severity.value:<8}{title}")
        label = "" if status in (Status.PASS, Status.FAIL) else f"{status.value}: "
        if result.message:  # printable again: a report read back (`golive report render`) did not pass the engine's seam
            message = printable(label + result.message, one_line=True)
            self.line("              " + self.style(message, fg=COLOURS[status] if status is not Status.PASS else None, dim=dim))
        if self.verbose and status in (Status.FAIL, Status.ERROR, Status.WAIVED) and result.rule.fix:
            self.line("              " + self.style("fix: " + result.rule.fix, fg="yellow"))
        if self.verbose and result.evidence:
            for item in result.evidence:  # one line each: a target's newline must not start a line of ours
                self.line("              " + self.style(printable(_evidence_line(item), one_line=True), dim=True))

    def verdict(self, run: RunResult) -> str:
        counts = run.summary()
        summary = " · ".join(f"{n} {s}" for s, n in counts.items() if n)
        ready = run.verdict == "ready"
        word = (
            self.style(" READY " if ready else " NOT READY ", fg="white", bg="green" if ready else "red", bold=True)
            if self.colour
            else ("READY" if ready else "NOT READY")
        )
        interrupted = " (interrupted)" if run.interrupted else ""
        return f"Verdict: {word}{interrupted}  {summary}  in {run.duration_s:.1f} s{_not_probed(run.not_probed())}"


def _not_probed(ids: list[str]) -> str:
    if not ids:
        return ""
    shown = ", ".join(ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
    return f"\n  not probed: {len(ids)} blocker{'s' * (len(ids) > 1)} the pack covers ({shown}): see their skip reasons"


def _evidence_line(item: dict[str, object] | object) -> str:
    if not isinstance(item, dict):
        return str(item)
    if item.get("kind") == "request":
        parts = [f"#{item.get('n')}", f"t={item.get('t')}s", f"{item.get('method')} {item.get('path')}", f"-> {item.get('status')}"]
        if item.get("idempotency_key"):
            parts.append(f"key={item['idempotency_key']}")
        body = item.get("body")
        if isinstance(body, dict):
            parts.append(" ".join(f"{k}={v}" for k, v in body.items() if k in ("id", "status", "error", "submissionId")))
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
    if item.get("kind") == "note":
        return str(item.get("text", ""))
    return ", ".join(f"{k}={v}" for k, v in item.items())


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


def colour_enabled(no_colour: bool, stream: TextIO, environ: dict[str, str]) -> bool:
    if no_colour or environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    return stream.isatty()
