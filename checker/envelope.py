"""A provider's shapes as its pack states them: error answers, webhook events and the bytes a delivery carries,
form bodies. Pure functions, shared by the checker (injected faults, deliveries it signs) and the embedded sandbox
(its answers and events)."""

from __future__ import annotations

import functools
import itertools
import json
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

# golive's own envelope (mintfax's), where a pack states none: every fault golive injects has a shape
DEFAULT_BODY = {"error": "{code}", "message": "{message}", "action": "{action}"}
DEFAULT_FIELDS_AT = "context.errors"
PLACEHOLDER = re.compile(r"\{(status|code|type|message|action|param)\}")
# a[b][c]: the text before each ']' back to the bracket before it. Tried only right after a bracket (the lookbehind): a
# field name is a client's, and a try from inside a long name without ']' would scan the rest of it each time.
_SUBSCRIPT = re.compile(r"(?<![^\[\]])([^\[\]]*)\]")
MAX_FORM_DEPTH = 8  # a[b][c]…: deeper keys are kept as one flat name


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path ("error.code"; a number indexes a list: "notificationItems.0.item"), or None."""
    if "." not in path and isinstance(data, dict):  # a plain name in a dict: most of a sandbox request's fields
        return data.get(path)
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit():
            data = data[int(part)] if int(part) < len(data) else None
        elif isinstance(data, Mapping):
            data = data.get(part)
        else:
            return None
    return data


def put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path, making the mappings on the way (and a list where the next part is a number:
    Adyen's "notificationItems.0.NotificationRequestItem")."""
    parts = path.split(".")
    node: Any = data
    for part, following in itertools.pairwise(parts):
        kind = list if following.isdigit() else dict
        child = _child(node, part)
        if not isinstance(child, kind):  # a constant where the path goes on: the path wins
            child = kind()
            _place(node, part, child)
        node = child
    _place(node, parts[-1], value)


def _child(node: Any, part: str) -> Any:
    if isinstance(node, list):
        return node[int(part)] if int(part) < len(node) else None
    return node.get(part)


def _place(node: Any, part: str, value: Any) -> None:
    if isinstance(node, list):
        index = int(part)
        node.extend({} for _ in range(index + 1 - len(node)))
        node[index] = value
    else:
        node[part] = value


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return values.get(whole.group(1))
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or ""), template)
    if isinstance(template, Mapping):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


def error_headers(headers: Mapping[str, Mapping[str, str]], status: int) -> dict[str, str]:
    """The extra headers a pack puts on an error of `status`: its class's ("5xx"), then the status's own."""
    return {**headers.get(f"{status // 100}xx", {}), **headers.get(str(status), {})}


def spelled(errors: Mapping[str, Any], code: str) -> str:
    """golive's name for an error (`rate_limited`) as the provider spells it (a pack's `errors.codes`, else its
    `errors.code_case`: Square's codes are upper case, `RATE_LIMITED`)."""
    named = (errors.get("codes") or {}).get(code)
    if named:
        return str(named)
    return code.upper() if errors.get("code_case") == "upper" else code


def error_answer(
    errors: Mapping[str, Any],
    status: int,
    code: str,
    message: str,
    action: str = "",
    fields: Iterable[tuple[str, str]] = (),
    extra: Mapping[str, Any] | None = None,
) -> tuple[bytes, dict[str, str]]:
    """An error in the provider's envelope (`errors` as a pack's `facts.errors` dumps it): the JSON body and the
    headers (content type and the pack's per-status headers). `extra` puts values at dotted paths of the body (the
    existing resource's id a replay names: GoCardless's `error.errors.0.links.conflicting_resource_id`)."""
    fields = list(fields)
    code = spelled(errors, code)
    types = {int(k): v for k, v in (errors.get("types") or {}).items()}
    values = {
        "status": status,
        "code": code,
        "type": code if code in types.values() else types.get(status, code),  # a code that names a type is of that type
        "message": message,
        "action": action,
        "param": fields[0][0] if fields else None,
    }
    body = _fill(errors.get("body") or DEFAULT_BODY, values)
    body = {k: v for k, v in body.items() if v is not None} if isinstance(body, dict) else body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):  # Stripe's nested error: no nulls inside either
        body["error"] = {k: v for k, v in body["error"].items() if v is not None}
    fields_at = errors.get("fields_at", DEFAULT_FIELDS_AT)
    if fields and fields_at:
        put(body, str(fields_at), [{"field": f, "message": m} for f, m in fields])
    if isinstance(body, dict):
        for path, value in (extra or {}).items():
            put(body, path, value)
    headers = {"Content-Type": "application/json", **error_headers(errors.get("headers") or {}, status)}
    return json.dumps(body).encode(), headers


def event(envelope: Mapping[str, Any], event_id: str, type_: str, created: float, data: Any) -> dict[str, Any]:
    """A webhook event in the provider's envelope (a pack's `webhooks.envelope`): the delivery's body, the event inside
    a list where the provider sends several per delivery (`batch`)."""
    body: dict[str, Any] = {}
    for name, value in (envelope.get("constant") or {}).items():
        put(body, name, value)
    put(body, envelope.get("id") or "event_id", event_id)
    put(body, envelope.get("type") or "type", type_)
    put(body, envelope.get("created") or "created_at", stamp(envelope.get("created_format") or "iso", created))
    where = envelope.get("data") or "data"
    there = dig(body, where)
    if isinstance(there, dict) and isinstance(data, Mapping):  # the data is the rest of an object the id is in (Adyen's item)
        data = {**there, **data}
    put(body, where, data)
    batch = envelope.get("batch")
    return {batch: [body]} if batch else body  # several events per delivery: GoCardless's {"events": [...]}


def field_path(envelope: Mapping[str, Any], name: str) -> str:
    """Where an envelope field (`id`, `type`, `created`, `data`) sits in a delivery `event` built: inside the first
    event of a batch ("events.0.id") where the pack names one."""
    path = envelope.get(name) or {"id": "event_id", "type": "type", "created": "created_at", "data": "data"}[name]
    batch = envelope.get("batch")
    return f"{batch}.0.{path}" if batch else str(path)


def serialise(event: Any, body_format: Mapping[str, Any] | None = None) -> bytes:
    """A delivery's body as the provider writes it (a pack's `webhooks.serialisation`, as `model_dump` gives it):
    indented by `indent` spaces, or on one line, `compact` ({"a":1,"b":2}) or `spaced` ({"a": 1, "b": 2}); non-ASCII
    as \\uXXXX escapes (`ascii`) or UTF-8; "/" as "\\/" (`escape_slash`); keys in the order the event was built or
    sorted. No format given: compact JSON in UTF-8, the keys as built."""
    fmt = body_format or {}
    indent = fmt.get("indent")
    one_line = (", ", ": ") if fmt.get("separators") == "spaced" else (",", ":")
    text = json.dumps(
        event,
        indent=indent,
        separators=(",", ": ") if indent is not None else one_line,
        ensure_ascii=bool(fmt.get("ascii", False)),
        sort_keys=fmt.get("key_order") == "sorted",
    )
    if fmt.get("escape_slash"):  # a "/" only ever stands inside a string in JSON text: every one is a string's
        text = text.replace("/", "\\/")
    return text.encode()


def describe_format(body_format: Mapping[str, Any] | None = None) -> str:
    """A format in a user's words: "compact JSON", "JSON indented by 2 spaces, keys sorted, '/' escaped"."""
    fmt = body_format or {}
    indent = fmt.get("indent")
    if indent is not None:
        words = [f"JSON indented by {indent} space{'s' * (indent != 1)}"]
    else:
        words = [f"{fmt.get('separators') or 'compact'} JSON"]
    if fmt.get("key_order") == "sorted":
        words.append("keys sorted")
    if fmt.get("ascii"):
        words.append("non-ASCII as \\u escapes")
    if fmt.get("escape_slash"):
        words.append("'/' escaped")
    return ", ".join(words)


@functools.lru_cache(maxsize=64)
def _iso_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


def iso(ts: float) -> str:
    """A unix time as ISO 8601 in UTC, to the second ("2026-11-26T10:00:00Z")."""
    return _iso_second(int(ts))


def stamp(created_format: str, ts: float) -> str | int:
    """A time as a provider writes it: ISO 8601 (`iso`) or whole unix seconds (`unix`)."""
    return iso(ts) if created_format == "iso" else int(ts)


def form_encode(data: Mapping[str, Any]) -> str:
    """A form body the way Stripe's SDK writes one: nested objects as a[b]=c, lists as a[0]=x."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{prefix}[{k}]" if prefix else str(k), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        elif value is not None:
            pairs.append((prefix, "true" if value is True else "false" if value is False else str(value)))

    walk("", data)
    return urlencode(pairs)


def form_decode(text: str) -> dict[str, Any]:
    """The nested object a form body stands for (a[b]=c → {"a": {"b": "c"}}); every value a string."""
    data: dict[str, Any] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=1000):
        head, _, rest = name.partition("[")
        parts = [head, *_SUBSCRIPT.findall("[" + rest)] if rest else [head]
        if len(parts) > MAX_FORM_DEPTH:
            parts = [name]
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        last = parts[-1] if parts[-1] or len(parts) == 1 else str(len(node))  # a[]=x&a[]=y: items 0, 1
        node[last] = value
    return data
