"""traffic.har: what the client sent through golive's fault proxy and what golive delivered to the webhook receiver,
as an HTTP Archive (HAR 1.2), so a developer opens the run in a browser's network panel (Chrome, Firefox: "Import
HAR"). Every entry carries `_golive` (HAR's custom fields start with `_`): the rules it belongs to and the fault golive
injected (the proxy's `503`, `429:2`, `reset`, `hang`) or the delivery it crafted. Secrets are masked as in every
report: the engine passes the traffic through its redactor and `printable` (checker/traffic.py).

HAR 1.2: "HTTP Archive format", Jan Odvarko, http://www.softwareishard.com/blog/har-12-spec/ (the W3C draft,
https://w3c.github.io/web-performance/specs/HAR/Overview.html); failed requests as Chrome's own exports write them
(status 0, `_error`), `_resourceType` as Chrome's (its network panel's type filter).
"""

from __future__ import annotations

import datetime as dt
import http
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from checker.model import RunResult

FILE = "traffic.har"


def render(run: RunResult) -> str:
    titles = {result.rule.id: result.rule.title for result in run.results}
    entries = [_entry(item) for item in run.traffic]
    pages: dict[str, dict[str, Any]] = {}
    for entry in entries:  # one page per rule: viewers group its requests
        rule = entry.get("pageref")
        if rule is not None and rule not in pages:
            pages[rule] = {
                "startedDateTime": entry["startedDateTime"],
                "id": rule,
                "title": f"{rule} {titles.get(rule, '')}".strip(),
                "pageTimings": {},
            }
    comment = f"golive {run.tool_version} · {run.provider} · {run.environment} · started {run.started_at}"
    if not entries:
        comment += " · no client request or webhook delivery in this run (golive records the client's requests and its deliveries)"
    if run.traffic_dropped:
        comment += f" · {run.traffic_dropped} more exchanges were not kept (golive keeps the first {len(entries)})"
    log = {
        "log": {
            "version": "1.2",
            "creator": {"name": "golive", "version": run.tool_version},
            "pages": list(pages.values()),
            "entries": entries,
            "comment": comment,
        }
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _entry(item: Mapping[str, Any]) -> dict[str, Any]:
    golive = dict(item.get("golive") or {})
    rules = list(golive.get("rules") or [])
    status = item.get("status")
    wait_ms = round(max(0.0, float(item.get("wait_s") or 0.0)) * 1000, 3)
    request, response = item.get("request") or {}, item.get("response") or {}
    url = str(item.get("url") or "")
    entry: dict[str, Any] = {
        "startedDateTime": _iso(float(item.get("started") or 0.0)),
        "time": wait_ms,
        "request": {
            "method": str(item.get("method") or ""),
            "url": url,
            "httpVersion": str(item.get("http_version") or "HTTP/1.1"),
            "cookies": [],
            "headers": _headers(request),
            "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
            "headersSize": -1,
            "bodySize": int(request.get("size") or 0),
        },
        "response": _response(status, response, item),
        "cache": {},
        # golive sees a request whole when it arrives and answers it at once: all the time is the wait
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": wait_ms, "receive": 0},
        "_resourceType": "fetch",
        "_golive": {"rule": rules[0] if rules else None, **golive},
    }
    if rules:
        entry["pageref"] = rules[0]
    if request.get("size"):
        entry["request"]["postData"] = {
            "mimeType": _header(request, "content-type") or "",
            "text": str(request.get("body") or ""),
            **_cut(request),
        }
    return entry


def _response(status: Any, response: Mapping[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    if status is None:  # reset, hung, unreachable: as a browser records a request that got no answer
        said = {"_error": str(item.get("error") or "no answer")}
        return {
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            **said,
        }
    content: dict[str, Any] = {"size": int(response.get("size") or 0), "mimeType": _header(response, "content-type") or "x-unknown"}
    if response.get("size"):
        content.update(text=str(response.get("body") or ""), **_cut(response))
    try:
        phrase = http.HTTPStatus(int(status)).phrase
    except ValueError:
        phrase = ""
    return {
        "status": int(status),
        "statusText": phrase,
        "httpVersion": str(item.get("http_version") or "HTTP/1.1"),
        "cookies": [],
        "headers": _headers(response),
        "content": content,
        "redirectURL": _header(response, "location") or "",
        "headersSize": -1,
        "bodySize": int(response.get("size") or 0),
    }


def _headers(part: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"name": str(pair[0]), "value": str(pair[1])} for pair in part.get("headers") or [] if len(pair) == 2]


def _header(part: Mapping[str, Any], name: str) -> str | None:
    return next((str(pair[1]) for pair in part.get("headers") or [] if len(pair) == 2 and str(pair[0]).lower() == name), None)


def _cut(part: Mapping[str, Any]) -> dict[str, str]:
    """A comment on a body golive kept only the start of (traffic.BODY_TEXT bytes)."""
    return {"comment": f"cut: golive keeps the first part of a body of {part.get('size')} bytes"} if part.get("cut") else {}


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
