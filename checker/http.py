"""The one seam between golive and httpx: bounded requests, recorded exchanges, translated errors.

Every request golive makes goes through `send`: it never follows redirects, reads at most
`MAX_BODY` bytes of a body, and turns httpx's exceptions into ProbeError / TargetUnreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import ssl
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from checker.envelope import dig
from checker.errors import ProbeError, TargetUnreachable

MAX_BODY = 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# the whole exchange, answer body included: a target that trickles a byte now and then never trips the
# per-read timeout, so every request also has this deadline
REQUEST_DEADLINE_S = 30.0


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the answer to it, as evidence."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: bytes
    t: float  # seconds since the probe's start (monotonic)
    elapsed_s: float
    idempotency_key: str | None = None
    truncated: bool = False
    note: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):  # RecursionError: a body of 100,000 '['
            return None

    def field(self, name: str | None) -> Any:
        """A field of the JSON answer; a dotted name reaches into it (Square's `payment.id`)."""
        data = self.json()
        if not name or not isinstance(data, dict):
            return None
        if name in data:
            return data[name]
        return dig(data, name) if "." in name else None

    def _error(self) -> Any:
        """`error` (mintfax's string, Stripe's object), else the first of an `errors` list (Square's)."""
        value = self.field("error")
        if value is None and isinstance(errors := self.field("errors"), list) and errors:
            value = errors[0]
        return value

    def error_code(self) -> str | None:
        """The error's code: `error` when it is a string (mintfax), else its `code` or `type` (Stripe's nested error;
        Square's `errors[0]`, whose `category` stands for the type)."""
        value = self._error()
        if isinstance(value, dict):
            value = value.get("code") or value.get("type") or value.get("category")
        return value if isinstance(value, str) else None

    def error_codes(self) -> set[str]:
        """Every name the error goes by: the code, and for a nested error its type (or category) too."""
        value = self._error()
        if isinstance(value, dict):
            names = {v for v in (value.get("code"), value.get("type"), value.get("category")) if isinstance(v, str)}
            # GoCardless's error: {"type": "invalid_state", "errors": [{"reason": "idempotent_creation_conflict", …}]}
            inner = value.get("errors")
            reasons = (e.get("reason") for e in inner if isinstance(e, dict)) if isinstance(inner, list) else ()
            return names | {r for r in reasons if isinstance(r, str)}
        return {value} if isinstance(value, str) else set()

    def evidence(self, n: int, *, headers: tuple[str, ...] = ()) -> dict[str, Any]:
        item: dict[str, Any] = {
            "kind": "request",
            "n": n,
            "t": round(self.t, 3),
            "method": self.method,
            "path": self.path,
            "idempotency_key": _short(self.idempotency_key),
            "status": self.status,
        }
        shown = {h: self.headers[h.lower()] for h in headers if h.lower() in self.headers}
        if shown:
            item["headers"] = shown
        body = self.json()
        if isinstance(body, dict):
            item["body"] = bounded(body)  # nested values kept: Stripe's error is all inside {"error": {…}}
        elif self.body:
            item["body_excerpt"] = self.body[:200].decode("utf-8", "replace")
        if self.note:
            item["note"] = self.note
        return item


EVIDENCE_DEPTH = 4  # levels of a JSON answer shown in evidence; deeper values become "…"
EVIDENCE_ITEMS = 20  # entries of an object or list shown; the rest are counted
EVIDENCE_TEXT = 300  # characters of a string shown


def bounded(value: Any, depth: int = EVIDENCE_DEPTH) -> Any:
    """A JSON value as evidence shows it: nested objects and lists kept to `depth` levels, EVIDENCE_ITEMS entries
    each and EVIDENCE_TEXT characters a string, so that an answer of any size stays a readable excerpt."""
    if isinstance(value, str):
        return value if len(value) <= EVIDENCE_TEXT else value[:EVIDENCE_TEXT] + f"… ({len(value)} chars)"
    if not isinstance(value, (dict, list)):
        return value
    if depth <= 0:
        return "…"
    if isinstance(value, dict):
        shown: Any = {str(k): bounded(v, depth - 1) for k, v in list(value.items())[:EVIDENCE_ITEMS]}
        if len(value) > EVIDENCE_ITEMS:
            shown["…"] = f"{len(value) - EVIDENCE_ITEMS} more"
        return shown
    items = [bounded(v, depth - 1) for v in value[:EVIDENCE_ITEMS]]
    return [*items, f"… {len(value) - EVIDENCE_ITEMS} more"] if len(value) > EVIDENCE_ITEMS else items


def _short(key: str | None) -> str | None:
    if key is None or len(key) <= 64:
        return key
    return f"{key[:24]}…{key[-8:]} ({len(key)} chars)"


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn httpx's exceptions into golive's, naming what was being reached."""
    try:
        yield
    except httpx.ConnectError as exc:
        raise TargetUnreachable(f"cannot connect to {what}: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise ProbeError(f"{what} did not answer in time ({type(exc).__name__})") from exc
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
        raise ProbeError(f"{what} closed the connection without a complete answer ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise ProbeError(f"request to {what} failed: {type(exc).__name__}: {exc}") from exc


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    started: float,
    key: str | None = None,
    max_body: int = MAX_BODY,
    deadline_s: float = REQUEST_DEADLINE_S,
    **kwargs: Any,
) -> Exchange:
    """One request, never a redirect followed, at most `max_body` bytes of the answer read, all within `deadline_s`."""
    t0 = time.monotonic()
    with translated(str(client.base_url or url)):
        request = _to_base(client, method, url, **kwargs)
    # the URL as the request goes there (a webhook's as it is signed and delivered), not the base URL, to which httpx
    # adds a trailing slash that no request has
    what = str(request.url)
    with translated(what):
        try:
            async with asyncio.timeout(deadline_s):
                response = await client.send(request, stream=True, follow_redirects=False)
                try:
                    chunks, size, truncated = [], 0, False
                    async for chunk in response.aiter_raw():
                        size += len(chunk)
                        if size > max_body:
                            truncated = True
                            chunks.append(chunk[: max_body - (size - len(chunk))])
                            break
                        chunks.append(chunk)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise ProbeError(f"{what} did not complete its answer within {deadline_s:g} s") from None
    body, truncated, note = decoded(b"".join(chunks), response.headers.get("content-encoding", ""), max_body, truncated)
    return Exchange(
        method=method,
        path=request.url.raw_path.decode("ascii", "replace"),
        status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=body,
        t=t0 - started,
        elapsed_s=time.monotonic() - t0,
        idempotency_key=key,
        truncated=truncated,
        note=note,
    )


def _to_base(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Request:
    """The request, if it goes where the client's base URL does (its scheme, host and port). A path from a pack or a
    target that is really a URL (`http://other-host/…`, which httpx sends there whatever the base) is refused here
    too, after the pack's own check (checker/packs.py, `path_problem`): the API key goes to the configured sandbox only."""
    base = client.base_url
    try:
        request = client.build_request(method, url, **kwargs)
    except httpx.InvalidURL as exc:  # not an httpx.HTTPError: a control character in a path, a port out of range
        raise ProbeError(f"golive cannot send {method} {url[:120]!r}: {exc}") from None
    if not base.host or _origin(request.url) != _origin(base):
        raise ProbeError(
            f"golive sends requests only to {_origin_text(base) or 'a configured base URL'}; "
            f"it refused {method} {url[:120]!r}, which names {_origin_text(request.url)}"
        )
    return request


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme.lower(), url.host.lower(), url.port  # httpx leaves out a scheme's default port


def _origin_text(url: httpx.URL) -> str:
    scheme, host, port = _origin(url)
    if not host:
        return ""
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def decoded(body: bytes, encoding: str, max_body: int, truncated: bool) -> tuple[bytes, bool, str]:
    """The body with its Content-Encoding undone, layer by layer, each layer's output cut at `max_body`:
    a few KB of nested gzip that would expand to gigabytes stops at the cap (the caps count decoded bytes).
    An encoding golive does not decode is kept as it came, with a note."""
    layers = [e.strip().lower() for e in encoding.split(",") if e.strip() and e.strip().lower() != "identity"]
    for layer in reversed(layers):  # the last encoding applied is undone first
        wbits = {"gzip": 31, "x-gzip": 31, "deflate": 15}.get(layer)
        if wbits is None:
            return body, truncated, f"the answer's content-encoding {encoding!r} is not decoded"
        body, cut = _inflate(body, wbits, max_body)
        if cut:
            return body, True, f"the answer decompresses to over {max_body // 1024} KB; golive read that much of it"
    return body, truncated, ""


def _inflate(data: bytes, wbits: int, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of `data` decompressed, and whether there was more."""
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        if wbits != 15:
            return data, False
        try:  # "deflate" is often sent raw, without the zlib header
            out = zlib.decompressobj(-15).decompress(data, limit + 1)
        except zlib.error:
            return data, False
    return (out[:limit], True) if len(out) > limit else (out, False)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (certifi's roots, as httpx's default) for every client golive makes. httpx builds a new one
    per client otherwise, loading the whole CA bundle on the event loop each time: tens of milliseconds of a loaded
    CPU for every proxy, during which no timestamp of any probe is taken."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def new_client(base_url: str, headers: dict[str, str] | None = None, timeout_s: float | None = None) -> httpx.AsyncClient:
    """A client for one target; `timeout_s` bounds each phase (connect, each read) below the default."""
    return httpx.AsyncClient(
        base_url=base_url,
        verify=tls_context(),
        # only what golive decodes itself, under its caps (see `decoded`)
        headers={"Accept-Encoding": "gzip, deflate", **(headers or {})},
        timeout=DEFAULT_TIMEOUT if timeout_s is None else httpx.Timeout(min(10.0, timeout_s), connect=min(5.0, timeout_s)),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        trust_env=False,
    )
