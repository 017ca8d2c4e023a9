"""Report files: one renderer per format, each `render(run) -> text`, written atomically."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from checker.model import Result, RunResult, Severity, Status
from checker.printable import printable

FILES = {"json": "report.json", "html": "report.html", "md": "report.md", "junit": "junit.xml", "sarif": "report.sarif"}


def render_json(run: RunResult) -> str:
    return json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n"


SARIF_LEVEL = {Severity.BLOCKER: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def basis_lines(rule: Any) -> list[str]:
    """What a rule's verdict rests on, one line per fact and per reading (SARIF's help, Markdown's notes)."""
    lines = []
    for item in rule.basis:
        if "documented" in item:
            lines.append(f'documented: {item["fact"]} = {item["value"]} ({item["documented"]}: "{item["quote"]}")')
        elif "assumed" in item:
            lines.append(f"assumed: {item['fact']} = {item['value']} ({item['assumed']})")
    for reading in rule.readings:
        lines.append(f"the documents disagree on {reading['about']}; golive's reading: {reading['reading']}")
    return lines


def _basis_text(rule: Any, bullet: str = "", escape: Callable[[str], str] = printable) -> str:
    lines = basis_lines(rule)
    return "\n\nWhat the verdict rests on:\n" + "\n".join(bullet + escape(line) for line in lines) if lines else ""


def render_sarif(run: RunResult) -> str:
    """SARIF 2.1.0 for code scanning: one result per failed (or waived) rule and file location."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for result in run.results:
        rule = result.rule
        source = rule.cite or rule.source or "n/a"
        index[rule.id] = len(rules)
        rules.append(
            {
                "id": rule.id,
                "name": "".join(word.capitalize() for word in rule.title.replace("-", " ").split() if word.isalnum())[:64] or rule.id,
                "shortDescription": {"text": rule.title},
                "fullDescription": {"text": rule.checks},
                "help": {
                    "text": f"{rule.why}\n\nHow to fix: {rule.fix}{_basis_text(rule)}",
                    # a pack's words (its document titles, quotes, assumptions) are text, never markup
                    "markdown": f"{rule.why}\n\n**How to fix:** {rule.fix}\n\nSource: {md_text(source)}{_basis_text(rule, '- ', md_text)}",
                },
                "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
                "properties": {"section": rule.section, "target": rule.target, "tags": [rule.section, rule.target]},
            }
        )
    results, notifications = [], []
    for result in run.results:
        if result.status is Status.ERROR:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": f"{result.rule.id}: {result.message}"},
                    "associatedRule": {"id": result.rule.id, "index": index[result.rule.id]},
                }
            )
        if result.status not in (Status.FAIL, Status.WAIVED):
            continue
        places: list[tuple[str | None, object]] = [
            (str(e["file"]), e.get("line")) for e in result.evidence if isinstance(e.get("file"), str)
        ]
        if not places:  # a finding about the configuration as a whole: point at the config file
            places = [(run.config_file, None)]
        for file, line in places:
            item: dict[str, Any] = {
                "ruleId": result.rule.id,
                "ruleIndex": index[result.rule.id],
                "level": SARIF_LEVEL[result.severity],
                "message": {"text": result.message},
            }
            if file:
                start = line if isinstance(line, int) and line > 0 else 1
                item["locations"] = [
                    {"physicalLocation": {"artifactLocation": {"uri": file, "uriBaseId": "%SRCROOT%"}, "region": {"startLine": start}}}
                ]
            if result.status is Status.WAIVED:
                item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": result.message}]
            results.append(item)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "golive",
                        "version": run.tool_version,
                        "semanticVersion": run.tool_version,
                        "informationUri": "https://github.com/golive/golive",
                        "rules": rules,
                    }
                },
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
                "results": results,
                "properties": {"provider": run.provider, "environment": run.environment, "verdict": run.verdict},
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- HTML, Markdown, JUnit (Jinja2 templates in reports/)

STATUS_ORDER = ("fail", "error", "manual", "waived", "pass", "attested", "skip")
ICONS = {"pass": "✅", "fail": "❌", "error": "⚠️", "skip": "➖", "waived": "🟪", "manual": "✋", "attested": "☑️"}
CUT = 120  # characters of any one value shown in an HTML table cell
MAX_ITEMS = 12  # evidence rows shown per rule in HTML (the timeline draws all; report.json has all)
COLUMNS = {
    "attempt": ("run", "n", "t", "answered_t", "method", "path", "idempotency_key", "status", "proxy", "correlation_id"),
    "request": ("n", "t", "method", "path", "idempotency_key", "status", "headers", "body", "body_excerpt", "note"),
    "delivery": ("label", "event_id", "t", "status", "latency_s", "error", "answer", "location"),
    "process": ("run", "exit_code", "timed_out", "duration_s", "stdout_tail", "stderr_tail"),
    "note": ("text",),
}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#!])")


@cache
def _templates(kind: str) -> Any:
    """The Jinja2 environment for one kind of template. Every `{{ value }}` passes through `finalize` for
    that kind, so no field of any template (a pack's name, a section, a target's message) can carry markup
    or characters its format cannot hold, whoever wrote the template: HTML and XML are autoescaped, XML
    also loses what XML 1.0 forbids, Markdown is escaped and kept on one line, and control characters are
    shown as escapes everywhere."""
    import jinja2
    from markupsafe import Markup

    from checker.packs import data_dir

    def finalize(value: Any) -> Any:
        if isinstance(value, Markup):  # golive's own CSS, script and SVG
            return value
        if kind == "md":
            return md_text(value)
        if not isinstance(value, str):
            return value
        text = printable(value)
        return _XML_INVALID.sub("?", text) if kind == "xml" else text

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("reports"))),
        autoescape=kind in ("html", "xml"),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
    )
    return env


def md_text(value: object) -> str:
    """Text from anywhere, safe in a Markdown table cell: one line, markup characters escaped."""
    text = re.sub(r"\s+", " ", printable(str(value)))  # one line; a template's own " · " keeps its spaces
    text = _MD_SPECIAL.sub(lambda m: "&lt;" if m.group(1) == "<" else "&gt;" if m.group(1) == ">" else "\\" + m.group(1), text)
    return text[:500] + ("…" if len(text) > 500 else "")


def _counts(data: dict[str, Any]) -> list[tuple[str, int]]:
    return [(status, data["summary"].get(status, 0)) for status in STATUS_ORDER if data["summary"].get(status, 0)]


def _sections(results: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    sections: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        sections.setdefault(result["section"], []).append(result)
    return list(sections.items())


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
        "documented": [_Obj(b) for b in result.get("basis") or [] if "documented" in b],
        "assumed": [_Obj(b) for b in result.get("basis") or [] if "assumed" in b],
        "readings": [_Obj(r) for r in result.get("readings") or []],
    }


def render_html(run: RunResult) -> str:
    import base64
    import hashlib

    from checker.packs import data_dir

    data = run.to_json()
    folder = data_dir("reports")
    script = (folder / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    attestations = [{"id": r["id"], **r["attestation"]} for r in data["results"] if r.get("attestation")]
    return str(
        _templates("html")
        .get_template("report.html")
        .render(
            run=_Obj(data, tool_version=run.tool_version),
            verdict_word="READY" if data["verdict"] == "ready" else "NOT READY",
            counts=_counts(data),
            sections=[(name, [_Obj(_view(r)) for r in results]) for name, results in _sections(data["results"])],
            waivers=[_Obj(w) for w in data.get("waivers", [])],
            attestations=[_Obj(a) for a in attestations],
            css=_safe((folder / "report.css").read_text(encoding="utf-8")),
            script=_safe(script),
            script_hash=f"sha256-{digest}",
            cut=CUT,
        )
    )


def render_markdown(run: RunResult) -> str:
    data = run.to_json()
    results = [_Obj(r) for r in data["results"]]
    attention = [r for r in results if r["status"] in ("fail", "error", "waived", "manual")]
    attention.sort(key=lambda r: STATUS_ORDER.index(r["status"]))
    # the failures that rest on golive's assumptions rather than the provider's documents, and what is assumed
    assumed = [(r["id"], [b for b in r.get("basis") or [] if "assumed" in b]) for r in attention if r["status"] == "fail"]
    assumed = [(rule_id, [_Obj(b) for b in items]) for rule_id, items in assumed if items]
    expired = [_Obj(w) for w in data.get("waivers", []) if w["state"] == "expired"]
    template = _templates("md").get_template("report.md")
    return str(
        template.render(
            run=_Obj({**data, "results": results}, tool_version=run.tool_version),
            counts=_counts(data),
            attention=attention,
            assumed=assumed,
            expired=expired,
            icons=ICONS,
        )
    )


def render_junit(run: RunResult) -> str:
    data = run.to_json()
    blocking = {"fail", "error"} | ({"manual"} if data["environment"] == "live" else set())
    suites = []
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for name, results in _sections(data["results"]):
        counts = {"failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        items = []
        for result in results:
            status = result["status"]
            kind = (
                "error" if status == "error" else "failure" if status in blocking else "skipped" if status in ("skip", "manual") else "pass"
            )
            key = {"failure": "failures", "error": "errors", "skipped": "skipped"}.get(kind)
            if key:
                counts[key] += 1
                totals[key] += 1
            counts["time"] += result["duration_s"]
            items.append(_Obj({**result, "kind": kind}))
        suites.append((name, items, _Obj(counts)))
    template = _templates("xml").get_template("junit.xml")
    return str(template.render(run=_Obj(data, tool_version=run.tool_version), suites=suites, totals=_Obj(totals)))


class _Obj(dict):  # type: ignore[type-arg]
    """A dict whose keys templates can also read as attributes."""

    def __init__(self, data: dict[str, Any], **extra: Any) -> None:
        super().__init__(data, **extra)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _safe(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)  # golive's own CSS/JS, never a target's text


RENDERERS: dict[str, Callable[[RunResult], str]] = {
    "json": render_json,
    "sarif": render_sarif,
    "html": render_html,
    "md": render_markdown,
    "junit": render_junit,
}


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # readable like any file the user writes (mkstemp makes it 0600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(run: RunResult, formats: list[str], out_dir: Path) -> list[Path]:
    written = []
    for fmt in formats:
        if fmt == "text":
            continue
        path = out_dir / FILES[fmt]
        write_atomically(path, RENDERERS[fmt](run))
        written.append(path)
    return written


# ---------------------------------------------------------------- reading reports back: render, merge, diff


MAX_REPORT_BYTES = 256 * 1024 * 1024


def load_report(path: Path) -> RunResult:
    """A saved report.json as a RunResult (rule texts from the catalog); a ConfigError naming file, line and key
    otherwise: not JSON, not a golive report, or evidence the renderers could not draw."""
    import pydantic

    from checker.errors import ConfigError, Problem

    name = str(path)
    try:
        if not path.is_file():
            raise ConfigError.single(name, "cannot read the report: not a regular file")
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise ConfigError.single(name, f"cannot read the report: it is over {MAX_REPORT_BYTES // (1024 * 1024)} MB")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError.single(name, f"cannot read the report: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError.single(name, f"cannot read the report: not UTF-8 text ({exc.reason})") from None
    try:
        data, positions = _parse_located(text)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        if isinstance(exc, _BadNumber) and (at := text.find(exc.token)) >= 0:
            line = text.count("\n", 0, at) + 1
        raise ConfigError([Problem(name, line, "", f"not JSON: {getattr(exc, 'msg', exc)}")]) from None

    def problem(loc: tuple[str | int, ...], message: str) -> Problem:
        return Problem(name, _line_of(text, data, positions, loc), ".".join(str(p) for p in loc), message, "is this a golive report.json?")

    try:
        report = _report_model().model_validate(data)
    except pydantic.ValidationError as exc:
        raise ConfigError([problem(tuple(e["loc"]), e["msg"]) for e in exc.errors()[:10]]) from None
    problems = [problem(loc, message) for loc, message in _unreadable(data)][:10]
    if problems:
        raise ConfigError(problems)
    return _run_of(report)


def _parse_located(text: str) -> tuple[Any, dict[int, int]]:
    """JSON with the offset where each object and array starts (by id), so a problem deep in a report can
    name its line. NaN, Infinity and numbers too large for a float are not JSON golive writes: refused."""
    import json.decoder
    import json.scanner

    positions: dict[int, int] = {}
    internals: Any = json.decoder  # JSONObject and JSONArray are not in the type stubs
    decoder: Any = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        value, end = internals.JSONObject(s_and_end, *args)
        positions[id(value)] = s_and_end[1] - 1
        return value, end

    def parse_array(s_and_end: tuple[str, int], scan_once: Any) -> tuple[Any, int]:
        value, end = internals.JSONArray(s_and_end, scan_once)
        positions[id(value)] = s_and_end[1] - 1
        return value, end

    decoder.parse_object = parse_object
    decoder.parse_array = parse_array
    scanner: Any = json.scanner
    decoder.scan_once = scanner.py_make_scanner(decoder)  # the Python scanner calls the two above
    return decoder.decode(text), positions


class _BadNumber(ValueError):
    def __init__(self, token: str, message: str) -> None:
        super().__init__(message)
        self.token = token


def _refuse_constant(name: str) -> Any:
    raise _BadNumber(name, f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(text, f"{text[:20]} is too large for a number")
    return value


def _line_of(text: str, data: Any, positions: dict[int, int], loc: tuple[str | int, ...]) -> int | None:
    """The line of the innermost object or array on `loc` that the parse located."""
    offset = positions.get(id(data))
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            break
        offset = positions.get(id(data), offset)
    return text.count("\n", 0, offset) + 1 if offset is not None else None


def _unreadable(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """What the model lets through but the renderers could not use: evidence fields of the wrong type, waivers
    and attestations without their fields, strings that are not text (a lone surrogate)."""
    import pydantic

    adapters = _evidence_adapters()
    found: list[tuple[tuple[str | int, ...], str]] = []

    def check(adapter: Any, value: Any, loc: tuple[str | int, ...]) -> None:
        try:
            adapter.validate_python(value)
        except pydantic.ValidationError as exc:
            found.extend(((*loc, *error["loc"]), error["msg"]) for error in exc.errors())

    for index, waiver in enumerate(data.get("waivers") or []):
        check(adapters["waiver_state"], waiver, ("waivers", index))
    for index, result in enumerate(data["results"]):
        for n, item in enumerate(result.get("evidence") or []):
            if isinstance(item, dict) and item.get("kind") in adapters:  # the kinds the timeline computes with
                check(adapters[item["kind"]], item, ("results", index, "evidence", n))
        if result.get("waiver") is not None:
            check(adapters["waiver"], result["waiver"], ("results", index, "waiver"))
        if result.get("attestation") is not None:
            check(adapters["attestation"], result["attestation"], ("results", index, "attestation"))
    found.extend((loc, "not text: a lone surrogate (\\ud800-\\udfff) is not a character") for loc in _surrogates(data, ()))
    return found


def _surrogates(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if any("\ud800" <= c <= "\udfff" for c in value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _surrogates(key, (*loc, key))
            yield from _surrogates(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _surrogates(item, (*loc, index))


@cache
def _evidence_adapters() -> dict[str, Any]:
    """Checks of the parts of a report.json that renderers compute with (the timeline's attempts and backoff
    windows, waiver and attestation fields); other evidence is shown as text, whatever it holds."""
    from typing import Annotated, Literal

    import pydantic

    number = Annotated[float, pydantic.Field(allow_inf_nan=False)]

    class Open(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow")

    class Attempt(Open):
        t: number | None = None
        answered_t: number | None = None
        status: int | None = None

    class BackoffWindows(Open):
        windows: list[tuple[number, number]] = []

    class WaiverState(Open):
        rule: str
        reason: str
        by: str
        expires: str
        state: Literal["applied", "unused", "expired"]

    class ResultWaiver(Open):
        rule: str
        reason: str
        by: str
        expires: str
        expired: bool

    class ResultAttestation(Open):
        by: str
        date: str
        evidence: str = ""

    return {
        "attempt": pydantic.TypeAdapter(Attempt),
        "backoff_windows": pydantic.TypeAdapter(BackoffWindows),
        "waiver_state": pydantic.TypeAdapter(WaiverState),
        "waiver": pydantic.TypeAdapter(ResultWaiver),
        "attestation": pydantic.TypeAdapter(ResultAttestation),
    }


def _run_of(report: Any) -> RunResult:
    from checker.model import Result, Rule
    from checker.packs import BUILTIN_PACKS, TEXTS, filled, load_catalog, load_pack

    facts = load_pack(report.provider).facts if report.provider in BUILTIN_PACKS else None  # a pack path may be gone
    catalog = {r.id: r.model_copy(update={n: filled(getattr(r, n), facts) for n in TEXTS}) for r in load_catalog()[0].rules}
    results = []
    for entry in report.results:
        known = catalog.get(entry.id)
        rule = Rule(
            id=entry.id,
            title=entry.title,
            section=entry.section,
            target=entry.target,
            severity=entry.severity,
            checks=known.checks if known else entry.title,
            why=known.why if known else "",
            probe=known.probe if known else "",
            fix=entry.fix,
            source=entry.source,
            cite=entry.cite,
            basis=tuple(entry.basis),
            readings=tuple(entry.readings),
        )
        results.append(
            Result(
                rule=rule,
                status=entry.status,
                severity=entry.severity,
                message=entry.message,
                duration_s=entry.duration_s,
                evidence=tuple(entry.evidence),
                waiver=entry.waiver,
                attestation=entry.attestation,
            )
        )
    return RunResult(
        provider=report.provider,
        environment=report.environment,
        started_at=report.started_at,
        duration_s=report.duration_s,
        verdict=report.verdict,
        interrupted=report.interrupted,
        results=tuple(results),
        tool_version=report.tool.version,
        fail_on=report.fail_on,
        waivers=tuple(report.waivers),
        config_file=report.config_file,
    )


@cache
def _report_model() -> Any:
    """The report.json model, built on first use (pydantic loads only when a report is read back)."""
    import pydantic

    class Lenient(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="ignore", frozen=True)

    class Tool(Lenient):
        name: str = "golive"
        version: str

    class Entry(Lenient):
        id: str
        title: str
        section: str
        target: str
        severity: Severity
        status: Status
        duration_s: float = 0.0
        message: str
        evidence: list[dict[str, Any]] = []
        fix: str = ""
        source: str | None = None
        cite: str | None = None
        basis: list[dict[str, Any]] = []
        readings: list[dict[str, Any]] = []
        waiver: dict[str, Any] | None = None
        attestation: dict[str, Any] | None = None

    class ReportFile(Lenient):
        schema_: str = pydantic.Field(alias="schema", pattern=r"^golive-report/1$")
        tool: Tool
        provider: str
        environment: str
        started_at: str
        duration_s: float
        verdict: str
        interrupted: bool = False
        fail_on: str = "blocker"
        config_file: str | None = None
        waivers: list[dict[str, Any]] = []
        results: list[Entry]

    return ReportFile


# how bad a status is, when two runs judged the same rule
SEVERITY_OF_STATUS = {"fail": 6, "error": 5, "manual": 4, "waived": 3, "pass": 2, "attested": 2, "skip": 1}


def merge_runs(runs: list[RunResult], fail_on: str | None = None) -> RunResult:
    """One report from the reports of parallel jobs: every rule once, the worst verdict on a rule two jobs ran."""
    from checker.engine import verdict_of
    from checker.errors import ConfigError, Problem

    providers = {(r.provider, r.environment) for r in runs}
    if len(providers) > 1:
        found = ", ".join(f"{p} ({e})" for p, e in sorted(providers))
        raise ConfigError([Problem("report merge", None, "provider", f"the reports are of different runs: {found}")])
    chosen: dict[str, Result] = {}
    order: list[str] = []
    for run in runs:
        for result in run.results:
            current = chosen.get(result.rule.id)
            if current is None:
                order.append(result.rule.id)
                chosen[result.rule.id] = result
            elif SEVERITY_OF_STATUS[result.status.value] > SEVERITY_OF_STATUS[current.status.value]:
                chosen[result.rule.id] = result
    results = tuple(chosen[i] for i in order)
    threshold = fail_on or ("warning" if any(r.fail_on == "warning" for r in runs) else "blocker")
    waivers = {json.dumps(dict(w), sort_keys=True): w for run in runs for w in run.waivers}
    return RunResult(
        provider=runs[0].provider,
        environment=runs[0].environment,
        started_at=min(r.started_at for r in runs),
        duration_s=max(r.duration_s for r in runs),
        verdict=verdict_of(results, threshold) if not any(r.verdict != "ready" and r.interrupted for r in runs) else "not ready",
        interrupted=any(r.interrupted for r in runs),
        results=results,
        tool_version=runs[0].tool_version,
        fail_on=threshold,
        waivers=tuple(waivers.values()),
        config_file=runs[0].config_file,
    )


BAD = {"fail", "error"}


def diff_runs(old: RunResult, new: RunResult) -> dict[str, Any]:
    before = {r.rule.id: r for r in old.results}
    after = {r.rule.id: r for r in new.results}
    new_failures, fixed, changed = [], [], []
    for rule_id, result in after.items():
        was = before.get(rule_id)
        was_status = was.status.value if was else None
        now = result.status.value
        entry = {"id": rule_id, "title": result.rule.title, "severity": result.severity.value, "old": was_status, "new": now}
        if now in BAD and was_status not in BAD:
            new_failures.append({**entry, "message": result.message})
        elif was_status in BAD and now not in BAD:
            fixed.append(entry)
        elif was_status != now:
            changed.append(entry)
    gone = [{"id": i, "title": r.rule.title, "old": r.status.value, "new": None} for i, r in before.items() if i not in after]
    return {
        "old": {"verdict": old.verdict, "started_at": old.started_at},
        "new": {"verdict": new.verdict, "started_at": new.started_at},
        "new_failures": new_failures,
        "fixed": fixed,
        "changed": changed + gone,
    }


def render_diff(changes: dict[str, Any], *, markdown: bool = False) -> str:
    lines = [f"verdict: {changes['old']['verdict']} -> {changes['new']['verdict']}"]
    for title, key in (("New failures", "new_failures"), ("Fixed", "fixed"), ("Changed", "changed")):
        items = changes[key]
        lines.append(f"\n{'### ' if markdown else ''}{title} ({len(items)})")
        for item in items:
            text = f"{item['id']} {item['title']}: {item['old'] or 'absent'} -> {item['new'] or 'absent'}"
            if item.get("message"):
                text += f" — {item['message']}"
            lines.append(f"- {md_text(text)}" if markdown else f"  {text}")
    return "\n".join(lines)
