"""The HTML report a reviewer signs off: one self-contained file (CSS and script inline, CSP-hashed)."""

from __future__ import annotations

import json
import math
from typing import Any

from checker.model import Documented, Result, RunContext, RunResult, Status
from checker.report.common import Obj, counts, not_covered, safe, sections, sign_off, templates
from checker.terminal import BLOCK_LINES, by_severity, triage

FILE = "report.html"

CUT = 120  # characters of any one value shown in an HTML table cell
MAX_ITEMS = 12  # evidence rows shown per rule in HTML (the timeline draws all; report.json has all)
COLUMNS = {
    "attempt": ("run", "n", "t", "answered_t", "method", "path", "idempotency_key", "status", "proxy", "correlation_id"),
    "request": ("n", "t", "method", "path", "idempotency_key", "status", "headers", "body", "body_excerpt", "note"),
    "delivery": ("label", "event_id", "t", "status", "latency_s", "error", "answer", "location"),
    "process": ("run", "exit_code", "timed_out", "duration_s", "stdout_tail", "stderr_tail"),
    "receiver_output": ("delivery", "receiver_stderr_tail"),  # the webhook receiver's stderr after a delivery it failed
    "note": ("text",),
}


SHORTENED = {"idempotency_key", "event_id", "correlation_id"}  # long ids: the ends tell them apart; report.json has them whole
# column headers as people read them; any other column is its name with spaces, and a trailing _s says "(s)"
HEADERS = {"n": "#", "t": "t (s)", "answered_t": "answered at (s)", "latency_s": "latency (s)", "duration_s": "duration (s)"}


def header(column: str) -> str:
    """A column's header: `exit_code` -> "exit code", `latency_s` -> "latency (s)"."""
    if column in HEADERS:
        return HEADERS[column]
    if column.endswith("_s") and len(column) > 2:
        return f"{column[:-2].replace('_', ' ')} (s)"
    return column.replace("_", " ")


def _cell(value: object, column: str = "") -> Obj:
    """One table cell: its text, cut, and whether it is multi-line text (an output tail, a body) shown with its lines."""
    if value is None:
        return Obj({"text": "", "block": False})
    if column in SHORTENED and isinstance(value, str) and len(value) > 20:
        return Obj({"text": f"{value[:8]}…{value[-6:]}", "block": False})
    if isinstance(value, dict):  # headers, a parsed body: one name=value a line
        text = "\n".join(f"{k}={v}" for k, v in value.items())
    else:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if "\n" in text.strip():
        return Obj({"text": _block(text, tail=column.endswith("_tail")), "block": True})
    return Obj({"text": text if len(text) <= CUT else f"{text[:CUT]}… ({len(text)} characters; all in report.json)", "block": False})


def _block(text: str, *, tail: bool) -> str:
    """Multi-line text kept as lines, as the terminal's -v shows it: at most BLOCK_LINES lines (the last ones of an
    output's tail, where a traceback ends; the first ones of anything else), each cut at CUT characters."""
    lines = text.strip("\n").splitlines()
    keep = len(lines) if len(lines) <= BLOCK_LINES + 1 else BLOCK_LINES  # never "… 1 more line" instead of the line
    shown = lines[-keep:] if tail else lines[:keep]
    shown = [line if len(line) <= CUT else f"{line[:CUT]}…" for line in shown]
    more = len(lines) - len(shown)
    if more and tail:
        return f"… {more} earlier line{'s' * (more != 1)} (all in report.json)\n" + "\n".join(shown)
    return "\n".join(shown) + (f"\n… {more} more line{'s' * (more != 1)} (all in report.json)" if more else "")


def _tables(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence as one table per kind, in order of first appearance; columns that are empty throughout are left out."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in evidence:
        if item.get("kind") != "backoff_windows":
            groups.setdefault(str(item.get("kind", "item")), []).append(item)
    tables = []
    for kind, items in groups.items():
        known = COLUMNS.get(kind)
        columns = [c for c in known if any(i.get(c) not in (None, "", [], {}) for i in items)] if known else []
        for item in items:
            columns += [k for k in item if k != "kind" and k not in columns and not known]
        tables.append(
            {
                "kind": kind,
                "columns": columns,
                "headers": [header(c) for c in columns],
                "rows": [[_cell(i.get(c), c) for c in columns] for i in items],
            }
        )
    return tables


def timeline_svg(evidence: list[dict[str, Any]]) -> str | None:
    """The attempts as marks on a time axis, one row per run, with the expected backoff windows shaded."""
    from markupsafe import Markup, escape

    attempts = [e for e in evidence if e.get("kind") == "attempt" and isinstance(e.get("t"), (int, float))]
    if not attempts:
        return None
    runs: dict[str, list[dict[str, Any]]] = {}
    for attempt in attempts:
        runs.setdefault(str(attempt.get("run", "")), []).append(attempt)
    windows = next((e.get("windows") for e in evidence if e.get("kind") == "backoff_windows"), None) or []
    ends = [float(a.get("answered_t") or a["t"]) for a in attempts]
    span = max([*ends, 1.0])
    posts = [a for a in next(iter(runs.values())) if a.get("method") == "POST"]
    for n, window in enumerate(windows[: max(0, len(posts) - 1)]):
        span = max(span, float(posts[n].get("answered_t") or posts[n]["t"]) + float(window[1]))
    left, width, row_h = 90, 640, 34
    height = 26 + row_h * len(runs)

    def x(t: float) -> int:
        return round(left + width * t / span)

    # presentation lives in report.css (svg.timeline .g, .k, .w, .ok, .bad, .none): the marks stay short
    parts = [f'<svg class="timeline" viewBox="0 0 {left + width + 20} {height}" role="img" aria-label="attempt timeline">']
    step = _tick_step(span)
    tick = 0.0
    while tick <= span + 1e-9:
        parts.append(f'<path class="g" d="M{x(tick)} 14V{height - 4}"/><text class="k" x="{x(tick)}" y="10">{tick:g} s</text>')
        tick += step
    for row, (label, items) in enumerate(runs.items()):
        y = 26 + row * row_h + row_h // 2 - 6
        parts.append(f'<text x="4" y="{y + 4}">{escape(label or "attempts")}</text>')
        row_posts = [a for a in items if a.get("method") == "POST"]
        for n, window in enumerate(windows[: max(0, len(row_posts) - 1)]):
            start = float(row_posts[n].get("answered_t") or row_posts[n]["t"])
            lo, hi = start + float(window[0]), start + float(window[1])
            parts.append(
                f'<rect class="w" x="{x(lo)}" y="{y - 9}" width="{max(2, x(hi) - x(lo))}" height="18">'
                f"<title>expected window for retry {n + 1}: {lo:.2f}–{hi:.2f} s</title></rect>"
            )
        for item in items:
            status = item.get("status")
            kind = "none" if status is None else "ok" if 200 <= int(status) < 300 else "bad"
            t = float(item["t"])
            tip = escape(f"#{item.get('n')} t={t:.2f} s {item.get('method')} → {status if status is not None else item.get('proxy')}")
            parts.append(
                f'<circle class="{kind}" cx="{x(t)}" cy="{y}" r="5"><title>{tip}</title></circle>'
                f'<text class="k" x="{x(t)}" y="{y + 17}">{escape(str(status or "–"))}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _tick_step(span: float) -> float:
    """A round step that puts at most ten ticks on an axis `span` seconds long, however long (a pack may
    declare a backoff base of hours)."""
    for step in (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600):
        if span / step <= 10:
            return step
    magnitude = 10.0 ** math.floor(math.log10(span / 10))
    return next(m * magnitude for m in (1, 2, 5, 10) if span / (m * magnitude) <= 10)


def _card(result: Result) -> Obj:
    """A rule's card: the result, its evidence as tables and a timeline, and what its verdict rests on by kind."""
    evidence = [dict(e) for e in result.evidence]
    shown = evidence[:MAX_ITEMS]
    return Obj(
        {
            "result": result,
            "tables": _tables(shown),
            "svg": timeline_svg(evidence),
            "windows": any(e.get("kind") == "backoff_windows" and e.get("windows") for e in evidence),
            "evidence_count": len(evidence),
            "hidden_items": max(0, len(evidence) - MAX_ITEMS),
            "documented": [b for b in result.rule.basis if isinstance(b, Documented)],
            "assumed": result.rule.assumptions,
            "readings": list(result.rule.readings),
        }
    )


def attention(run: RunResult) -> list[Obj]:
    """The "Needs attention" block: the terminal's triage (blockers, then warnings; one entry per cause), each entry
    with the rules it covers (linked to their cards), its message without the qualifiers the cards carry, and a fix."""
    groups = []
    for severity, entries in triage(run):
        items = []
        for results, message in entries:
            first = results[0]
            items.append(
                Obj(
                    {
                        "ids": [r.rule.id for r in results],
                        "status": first.status.value,
                        "title": first.rule.title if len(results) == 1 else f"{len(results)} rules, one cause",
                        "message": message,
                        "notes": [q.words for q in first.qualifiers],
                        # one cause across rules: the message says what to do; each rule's own fix is for when it runs
                        "fix": first.rule.fix if len(results) == 1 and first.status is not Status.MANUAL else "",
                    }
                )
            )
        groups.append(Obj({"severity": severity, "entries": items, "rules": sum(len(i.ids) for i in items)}))
    return groups


NOT_CONFIGURED = "not configured"


def checked(run: RunResult) -> list[tuple[str, str, str]]:
    """What was checked, for the reviewer who signs off: (label, value, css class) rows. A setting that is absent says
    so (class "none") rather than being left out; the context's secrets were masked when the run recorded it."""
    context = run.context or RunContext()
    recorded = run.context is not None

    def value(text: object, missing: str = NOT_CONFIGURED) -> tuple[str, str]:
        if text in (None, ""):
            return (missing if recorded else "not recorded in this report", "none")
        return (str(text), "mono")

    git = context.git
    if git:
        state = f"uncommitted changes in {git.changed_files} file{'s' * (git.changed_files != 1)}" if git.dirty else "clean"
        commit = (f"{git.commit[:12]} ({state})", "mono") if git.commit else (f"no commits yet ({state})", "none")
    else:
        why = "no git repository, or git did not answer" if context.config else "no config file, so no repository"
        commit = value(None, f"not recorded: {why}")
    pack = context.pack
    pack_text = f"{pack.name} — {pack.title} ({pack.path})" if pack else None
    rows = [
        ("config file", *value(context.config, "none: no golive.yaml (settings from the command line)")),
        ("git commit", *commit),
        ("provider pack", *value(pack_text)),
        ("pack sha256", *value(pack.sha256 if pack else None, "not recorded")),
        ("environment", run.environment, ""),
        ("sandbox", *value(context.sandbox)),
        ("client command", *value(context.client)),
        ("receiver command", *value(context.receiver)),
        ("webhook url", *value(context.webhook_url)),
    ]
    if context.register:
        rows.append(("webhook registration", *value(context.register)))
    rules = "blocker or warning" if run.fail_on == "warning" else "blocker"
    live = ", or a LIVE item is not attested" if run.environment == "live" else ""
    rows += [
        ("verdict rule", f"not ready when a {rules} fails or cannot be checked{live}", ""),
        ("started", f"{run.started_at} · took {run.duration_s:.1f} s", ""),
        ("tool", f"golive {run.tool_version}", ""),
    ]
    return rows


def identity(run: RunResult) -> str:
    """One line under the title naming what was checked (the full list is in "What was checked")."""
    context = run.context
    if context is None:
        return ""
    git, pack = context.git, context.pack
    parts = [context.config or "no golive.yaml"]
    if git:
        named = f"commit {git.commit[:12]}" if git.commit else "no commits yet"
        parts.append(f"{named}{' with uncommitted changes' if git.dirty else ' (clean)'}")
    if pack:
        parts.append(f"pack {pack.name} {pack.sha256 or ''}".strip())
    return " · ".join(parts)


def render(run: RunResult) -> str:
    import base64
    import hashlib

    from checker.packs import data_dir

    folder = data_dir("reports")
    script = (folder / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    attestations = [{"id": r.rule.id, **r.attestation} for r in run.results if r.attestation]
    return str(
        templates("html")
        .get_template("report.html")
        .render(
            run=run,
            verdict_word=run.verdict_label(),
            severities=by_severity(run),
            coverage=run.coverage_line(),
            not_probed=run.not_probed(),
            attention=attention(run),
            checked=checked(run),
            uncovered=not_covered(run),
            signed=sign_off(run),
            identity=identity(run),
            counts=counts(run),
            total=len(run.results),
            sections=[(name, [_card(r) for r in results]) for name, results in sections(run.results)],
            waivers=list(run.waivers),
            attestations=attestations,
            css=safe((folder / "report.css").read_text(encoding="utf-8")),
            script=safe(script),
            script_hash=f"sha256-{digest}",
            cut=CUT,
            block_lines=BLOCK_LINES,
        )
    )
