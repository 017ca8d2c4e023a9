"""Reading a saved report.json back (`golive report render|merge|diff`): located errors, never a traceback."""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

from checker.model import ReportFile, RunResult, Target

T = TypeVar("T")

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
        report: ReportFile = report_adapter().validate_python(data)
    except pydantic.ValidationError as exc:
        raise ConfigError([problem(tuple(e["loc"]), e["msg"]) for e in exc.errors()[:10]]) from None
    problems = [problem(loc, message) for loc, message in _unreadable(data)][:10]
    if problems:
        raise ConfigError(problems)
    import dataclasses

    from checker.printable import printable_deep
    from checker.report.signoff import signature_of

    signature = signature_of(data)  # over the file as it is: a change since the signing shows
    # a report from before coverage and context were recorded wrote them as {} (or not at all): none to speak of
    report = dataclasses.replace(
        report, coverage=report.coverage if data.get("coverage") else None, context=report.context if data.get("context") else None
    )
    return dataclasses.replace(_run_of(_printable_tree(report)), signature=printable_deep(signature) if signature else None)


@cache
def report_adapter() -> Any:
    """The validator of report.json, from the types the writer writes (model.ReportFile): pydantic loads only when a
    report is read back or its schema asked for. Unknown keys are ignored (a newer golive's report reads)."""
    import pydantic

    return pydantic.TypeAdapter(ReportFile)


def report_schema() -> dict[str, Any]:
    """The JSON Schema of report.json (`golive schema report`), generated from the same types."""
    schema: dict[str, Any] = report_adapter().json_schema(mode="validation")
    title = "golive report.json (golive-report/1)"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **{k: v for k, v in schema.items() if k != "title"}}


def _printable_tree(value: T) -> T:
    """`value` with `printable` over every string in it (dataclasses, tuples, lists and dicts, keys too; enums kept): a
    saved report is anyone's file."""
    import dataclasses
    import enum

    from checker.printable import printable

    found: Any = value
    if isinstance(found, enum.Enum):
        return value
    if isinstance(found, str):
        return cast(T, printable(found))
    if dataclasses.is_dataclass(found) and not isinstance(found, type):
        return cast(T, dataclasses.replace(found, **{f.name: _printable_tree(getattr(found, f.name)) for f in dataclasses.fields(found)}))
    if isinstance(found, dict):
        return cast(T, {printable(str(k)): _printable_tree(v) for k, v in found.items()})
    if isinstance(found, tuple):
        return cast(T, tuple(_printable_tree(v) for v in found))
    if isinstance(found, list):
        return cast(T, [_printable_tree(v) for v in found])
    return value


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


def _run_of(report: ReportFile) -> RunResult:
    """The report as a RunResult (every string already printable: `_printable_tree`), what is one line in a run (ids,
    titles, names, messages) on one line, as the engine's seam leaves them; the rules' texts from the catalog."""
    import dataclasses

    from checker.model import Result, Rule
    from checker.packs import BUILTIN_PACKS, TEXTS, filled, load_catalog, load_pack
    from checker.printable import printable

    def line(text: str) -> str:
        return printable(text, one_line=True)

    def optional(text: str | None) -> str | None:
        return None if text is None else line(text)

    facts = load_pack(report.provider).facts if report.provider in BUILTIN_PACKS else None  # a pack path may be gone
    catalog = {r.id: r.model_copy(update={n: filled(getattr(r, n), facts) for n in TEXTS}) for r in load_catalog()[0].rules}
    results = []
    for entry in report.results:
        known = catalog.get(entry.id)
        rule = Rule(
            id=line(entry.id),
            title=line(entry.title),
            section=line(entry.section),
            target=cast(Target, line(entry.target)),  # as the report says: shown, never probed
            severity=entry.severity,
            checks=known.checks if known else line(entry.title),
            why=known.why if known else "",
            probe=known.probe if known else "",
            fix=entry.fix,
            source=optional(entry.source),
            cite=entry.cite,
            basis=entry.basis,
            readings=entry.readings,
        )
        # report.json keeps the qualifiers' text after the message, for readers of the text alone; here they are data
        qualifiers = tuple(dataclasses.replace(q, text=line(q.text)) for q in entry.qualifiers)
        results.append(
            Result(
                rule=rule,
                status=entry.status,
                severity=entry.severity,
                message=line(entry.own_message),
                qualifiers=qualifiers if entry.own_message != entry.message else (),
                duration_s=entry.duration_s,
                started_s=entry.started_s,
                uncovered=entry.not_covered,
                evidence=entry.evidence,
                waiver=entry.waiver,
                attestation=entry.attestation,
            )
        )
    return RunResult(
        provider=line(report.provider),
        environment=line(report.environment),
        started_at=line(report.started_at),
        duration_s=report.duration_s,
        verdict=report.verdict,
        interrupted=report.interrupted,
        results=tuple(results),
        tool_version=line(report.tool.version),
        fail_on=report.fail_on,
        waivers=report.waivers,
        config_file=optional(report.config_file),
        coverage=report.coverage,
        context=report.context,
        locations={line(name): number for name, number in report.locations.items()},
    )
