"""The HTML report a reviewer signs off: one self-contained file (CSS and script inline, CSP-hashed)."""

from __future__ import annotations

import json
import math
from typing import Any

from checker.model import RunResult
from checker.report.common import Obj, counts, safe, sections, templates

FILE = "report.html"

CUT = 120  # characters of any one value shown in an HTML table cell
MAX_ITEMS = 12  # evidence rows shown per rule in HTML (the timeline draws all; report.json has all)
COLUMNS = {
    "attempt": ("run", "n", "t", "answered_t", "method", "path", "idempotency_key", "status", "proxy", "correlation_id"),
    "request": ("n", "t", "method", "path", "idempotency_key", "status", "headers", "body", "body_excerpt", "note"),
    "delivery": ("label", "event_id", "t", "status", "latency_s", "error", "answer", "location"),
    "process": ("run", "exit_code", "timed_out", "duration_s", "stdout_tail", "stderr_tail"),
    "note": ("text",),
}


SHORTENED = {"idempotency_key", "event_id", "correlation_id"}  # long ids: the ends tell them apart; report.json has them whole


def _cell(value: object, column: str = "") -> str:
    if value is None:
        return ""
    if column in SHORTENED and isinstance(value, str) and len(value) > 20:
        return f"{value[:8]}…{value[-6:]}"
    if isinstance(value, dict):
        text = " ".join(f"{k}={v}" for k, v in value.items())
    else:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= CUT else f"{text[:CUT]}… ({len(text)} characters; all in report.json)"


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
        tables.append({"kind": kind, "columns": columns, "rows": [[_cell(i.get(c), c) for c in columns] for i in items]})
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


def _view(result: dict[str, Any]) -> dict[str, Any]:
    evidence = result.get("evidence") or []
    shown = evidence[:MAX_ITEMS]
    return {
        "waiver": None,
        "attestation": None,
        **result,
        "tables": _tables(shown),
        "svg": timeline_svg(evidence),
        "evidence_count": len(evidence),
        "hidden_items": max(0, len(evidence) - MAX_ITEMS),
        "documented": [Obj(b) for b in result.get("basis") or [] if "documented" in b],
        "assumed": [Obj(b) for b in result.get("basis") or [] if "assumed" in b],
        "readings": [Obj(r) for r in result.get("readings") or []],
    }


def render(run: RunResult) -> str:
    import base64
    import hashlib

    from checker.packs import data_dir

    data = run.to_json()
    folder = data_dir("reports")
    script = (folder / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    attestations = [{"id": r["id"], **r["attestation"]} for r in data["results"] if r.get("attestation")]
    return str(
        templates("html")
        .get_template("report.html")
        .render(
            run=Obj(data, tool_version=run.tool_version),
            verdict_word="READY" if data["verdict"] == "ready" else "NOT READY",
            counts=counts(data),
            sections=[(name, [Obj(_view(r)) for r in results]) for name, results in sections(data["results"])],
            waivers=[Obj(w) for w in data.get("waivers", [])],
            attestations=[Obj(a) for a in attestations],
            css=safe((folder / "report.css").read_text(encoding="utf-8")),
            script=safe(script),
            script_hash=f"sha256-{digest}",
            cut=CUT,
        )
    )
