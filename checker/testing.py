"""golive's sandbox, fault proxy and checks for a team's own tests: what the pytest plugin's fixtures hand out
(checker/pytest_plugin.py), usable without pytest as well.

- `Sandbox`: the embedded sandbox of a provider (`sandbox.server.EmbeddedSandbox`, as `golive check` serves it) in a
  background thread on 127.0.0.1; moved and read through its control endpoints, over HTTP like any client.
- `Faults`: the recording proxy the client probes put in front of the sandbox (`harness.proxy.RecordingProxy`), on its
  own event loop in a background thread, playing the faults it is given in order, then forwarding.
- `check`: one `golive check` run (the engine, after the same pre-flight as the command) in a thread of its own, so it
  runs from a test that has an event loop of its own too.

Every wait is bounded: starting (`START_S`), each control request (`CONTROL_S`), a hang (`HANG_S` unless given), a
check (`CHECK_S` unless given), stopping (`STOP_S`).
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from checker.harness.proxy import Action, RecordingProxy
    from checker.model import Result, RunResult
    from checker.packs import Pack

T = TypeVar("T")
START_S = 10.0
STOP_S = 10.0
CONTROL_S = 10.0
HANG_S = 30.0  # how long a "hang" holds a request at most when the client does not give up first
CHECK_S = 900.0


class GoliveTestError(RuntimeError):
    """What a fixture was asked cannot be done (an unknown fault, a provider whose sandbox delivers no webhooks)."""


# ---------------------------------------------------------------- the sandbox


class Sandbox:
    """`Sandbox("stripe")`: the embedded sandbox of a built-in provider, or of any pack by its path, until `stop()`."""

    def __init__(self, provider: str | Path, *, relative_to: Path | None = None) -> None:
        from checker.packs import load_pack
        from checker.probes.context import sandbox_key
        from checker.sandbox.app import SandboxOptions
        from checker.sandbox.server import EmbeddedSandbox

        self.pack: Pack = load_pack(str(provider), relative_to=relative_to or Path.cwd())
        self._options = SandboxOptions()
        self._served = EmbeddedSandbox(self.pack, options=self._options)
        self._served.start_timeout_s = START_S
        self._served.start()
        self.url: str = self._served.url
        # a key of the provider's format (keys.format, the test prefix): one account of the sandbox, whose resources and
        # deliveries `resources()` and `deliver_to` speak of
        self.api_key: str = sandbox_key(self.pack.facts.keys, "pytest")

    def __repr__(self) -> str:
        return f"<golive sandbox {self.pack.name} at {self.url}>"

    def advance(self, seconds: float) -> float:
        """Move the sandbox's clock (every account's) by `seconds`: keys age, lifecycles settle, deliveries fall due.
        The clock's offset after the move."""
        from checker.sandbox.app import CONTROL_TOKEN_HEADER

        answer = self._control(
            "POST", "/_sandbox/clock", json={"advance_s": seconds, "scope": "sandbox"}, headers={CONTROL_TOKEN_HEADER: self._token}
        )
        return float(answer["clock_offset_s"])

    def resources(self) -> list[dict[str, Any]]:
        """Everything the sandbox created, oldest first, each as the provider shows it (as a GET of it answers)."""
        from checker.sandbox.app import CONTROL_TOKEN_HEADER

        data = self._control("GET", "/_sandbox/resources", headers={CONTROL_TOKEN_HEADER: self._token})["data"]
        return list(data)

    def deliver_to(self, url: str, secret: str, events: Iterable[str] | None = None) -> str:
        """Register the receiver at `url` for the events of what `api_key` creates (every event, or `events`): each is
        delivered in the provider's envelope, serialisation and signature, signed with `secret`. The endpoint's id."""
        if self.pack.facts.webhooks is None:
            raise GoliveTestError(f"the {self.pack.name} pack states no webhooks (facts.webhooks): its sandbox delivers none")
        body = {"url": url, "secret": secret, **({"events": list(events)} if events is not None else {})}
        return str(self._control("POST", "/_sandbox/webhooks", json=body, headers=self.auth)["id"])

    @property
    def auth(self) -> dict[str, str]:
        """The headers that carry `api_key` where the provider takes it."""
        from checker.probes.sandbox_api import authorization  # as the contract probes send it (Basic where only Basic)

        header = self.pack.facts.api_key_header
        return {header: self.api_key} if header else {"Authorization": authorization(self.api_key, self.pack.facts.keys.schemes)}

    @property
    def _token(self) -> str:
        return self._options.control_token

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            with httpx.Client(base_url=self.url, timeout=CONTROL_S, trust_env=False, follow_redirects=False) as client:
                response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise GoliveTestError(f"the {self.pack.name} sandbox at {self.url} did not answer {method} {path}: {exc}") from None
        if response.status_code >= 300:
            raise GoliveTestError(f"the {self.pack.name} sandbox refused {method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def stop(self) -> None:
        self._served.stop()


# ---------------------------------------------------------------- the fault proxy


@dataclass(frozen=True)
class Arrival:
    """One request that reached the fault proxy: what it was, what the proxy did, and what the client got. Readable
    as attributes or as a mapping (`arrival["status"]`)."""

    method: str
    path: str
    headers: Mapping[str, str]  # credentials (Authorization, X-API-Key, Cookie) masked
    status: int | None  # what the client got; None after a reset or a hang
    time: float  # seconds since the proxy started, when the request arrived (the kernel's stamp)
    action: str  # what the proxy did: "injected 503 service_unavailable", "connection reset", "forwarded", …
    idempotency_key: str | None = None

    def __getitem__(self, name: str) -> Any:
        if name not in type(self).__dataclass_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def keys(self) -> list[str]:
        return list(type(self).__dataclass_fields__)


_STATUS = re.compile(r"([2-5][0-9]{2})(?::([0-9]+(?:\.[0-9]+)?))?")
_HANG = re.compile(r"hang(?::([0-9]+(?:\.[0-9]+)?))?")


def fault(spec: str, hang_s: float = HANG_S) -> Action:
    """One fault, as the fixture takes it: a status ("503"), a status with Retry-After ("429:2"), "reset" (the
    connection closed with RST after the request was read), "hang" or "hang:SECONDS" (no answer until the client gives
    up, or the bound), "forward"."""
    from checker.harness import proxy
    from checker.probes.client import ERROR_CODES

    text = str(spec).strip().lower()
    if m := _STATUS.fullmatch(text):
        code = int(m.group(1))
        retry_after = float(m.group(2)) if m.group(2) else None
        name = ERROR_CODES.get(code, "rate_limited" if code == 429 else "error")
        return proxy.status(code, name, retry_after=retry_after)
    if m := _HANG.fullmatch(text):
        return proxy.hang(min(float(m.group(1)), hang_s) if m.group(1) else hang_s)
    if text == "reset":
        return proxy.RESET
    if text == "forward":
        return proxy.FORWARD
    raise GoliveTestError(
        f"unknown fault {spec!r}: use a status (503), a status and its Retry-After (429:2), reset, hang, hang:SECONDS or forward"
    )


class Faults:
    """`Faults(upstream, ["503", "reset", "429:2", "hang"])`: a proxy at `url` that answers the first requests with
    those faults in order, then forwards to `upstream`; `requests` is what arrived."""

    def __init__(self, upstream: str, faults: Iterable[str], *, provider: str | Path | None = None, hang_s: float = HANG_S) -> None:
        from checker.harness.proxy import RecordingProxy, Scenario

        scenario = Scenario(tuple(fault(f, hang_s) for f in faults))
        errors: dict[str, Any] = {}
        if provider is not None:  # the injected faults wear the provider's error envelope
            from checker.packs import load_pack

            errors = load_pack(str(provider), relative_to=Path.cwd()).facts.errors.model_dump()
        self.upstream = upstream.rstrip("/")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="golive-faults", daemon=True)
        self._thread.start()

        async def start() -> RecordingProxy:
            return await RecordingProxy(self.upstream, scenario, errors=errors).__aenter__()

        try:
            self._proxy = self._call(start(), START_S)
        except BaseException:
            self._end_loop()
            raise
        self.url: str = self._proxy.url

    def __repr__(self) -> str:
        return f"<golive faults at {self.url} in front of {self.upstream}>"

    @property
    def requests(self) -> list[Arrival]:
        """Every request that arrived so far, in order."""
        return [
            Arrival(a.method, a.path, dict(a.headers), a.status, a.t, a.action, a.key)
            for a in list(self._proxy.attempts)  # a copy: the proxy's loop appends meanwhile
        ]

    def _call(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout_s)

    def stop(self) -> None:
        """Close the proxy (every hang ends, every connection closes), then its loop."""
        try:
            if self._loop.is_running():
                self._call(self._proxy.__aexit__(None, None, None), STOP_S)
        finally:
            self._end_loop()

    def _end_loop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_S)
        if not self._thread.is_alive():
            self._loop.close()


# ---------------------------------------------------------------- a check from a test


class RuleStatus(str):
    """A rule's status ("pass", "fail", …), which compares as the plain string and carries the rule's result, so that a
    failed `assert run.status("RETRY-101") == "pass"` can say why (the plugin's pytest_assertrepr_compare)."""

    result: Result

    def __new__(cls, result: Result) -> RuleStatus:
        status = super().__new__(cls, result.status.value)
        status.result = result
        return status

    def explain(self) -> list[str]:
        """The rule, its status and message, its fix and its evidence's first items."""
        from checker.printable import printable

        result = self.result
        lines = [f"{result.rule.id} {result.status.value} ({result.severity.value}): {printable(result.rule.title, one_line=True)}"]
        if result.message:
            lines.append(f"  {printable(result.full_message, one_line=True)}")
        if result.rule.fix and result.status.value in ("fail", "error"):
            lines.append(f"  fix: {printable(result.rule.fix, one_line=True)}")
        for item in result.evidence[:8]:
            lines.append(f"  evidence: {printable(str(dict(item)), one_line=True)[:300]}")
        return lines


class CheckRun:
    """What `golive check` decided: `ready`, each rule's `status(id)`, the `results`, and the checklist's triage (what to
    fix first, and the verdict) in `triage()` and in the text of a failed `assert_ready()`."""

    def __init__(self, run: RunResult, pack: Pack) -> None:
        self.run = run
        self.pack = pack

    @property
    def ready(self) -> bool:
        return self.run.verdict == "ready"

    @property
    def verdict(self) -> str:
        return self.run.verdict

    @property
    def results(self) -> tuple[Result, ...]:
        return self.run.results

    def result(self, rule_id: str) -> Result:
        wanted = rule_id.upper()
        for result in self.run.results:
            if result.rule.id == wanted:
                return result
        raise KeyError(f"{rule_id!r} is not among this run's rules ({', '.join(r.rule.id for r in self.run.results) or 'none'})")

    def status(self, rule_id: str) -> RuleStatus:
        return RuleStatus(self.result(rule_id))

    def triage(self) -> str:
        """What to fix first and the verdict, as `golive check` prints them (no colour)."""
        from checker.terminal import Checklist

        out = io.StringIO()
        checklist = Checklist(out, colour=False)
        checklist.attention(self.run)
        return out.getvalue()

    def assert_ready(self) -> None:
        if not self.ready:
            raise AssertionError(f"golive check: {self.run.verdict_label()}\n{self.triage()}")

    def __repr__(self) -> str:
        counts = " · ".join(f"{n} {status}" for status, n in self.run.summary().items() if n)
        problems = [f"{r.rule.id} {r.status.value}" for r in self.run.results if r.status.value in ("fail", "error")]
        shown = f"; {', '.join(problems[:6])}{' …' if len(problems) > 6 else ''}" if problems else ""
        return f"<golive check {self.run.provider}: {self.run.verdict_label()} ({counts}){shown}>"


def check(
    config: str | Path = "golive.yaml",
    *,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    provider: str | None = None,
    require: Iterable[str] = (),
    environment: str | None = None,
    fail_on: str = "blocker",
    jobs: int = 16,
    env: Mapping[str, str] | None = None,
    timeout_s: float = CHECK_S,
) -> CheckRun:
    """Run `golive check` on `config` (relative to the current folder) as the command does, pre-flight included (a
    ConfigError names file, line and key); `env` instead of the process's environment for its ${VAR}s."""
    from checker import engine
    from checker.config import load_config
    from checker.engine import RunOptions
    from checker.packs import load_pack
    from checker.preflight import check_before_probing

    loaded = load_config(Path(config), environ=env)
    from_file = provider is None or provider == loaded.file.provider
    pack = load_pack(
        provider or loaded.file.provider,
        relative_to=loaded.base_dir,
        named_in=(loaded.path, loaded.line_of("provider")) if from_file else None,
    )
    options = RunOptions(
        select=tuple(s.strip().upper() for s in select),
        ignore=tuple(s.strip().upper() for s in ignore),
        environment=environment,
        fail_on=fail_on,
        jobs=jobs,
        require=tuple(require),
    )
    checks = engine.registered()
    chosen = engine.select_rules(pack, loaded, options)
    check_before_probing(loaded, {r.id: r.probes for r in chosen if not r.skip and r.id in checks})
    return CheckRun(_in_own_thread(_bounded(engine.run(loaded, pack, options), timeout_s), timeout_s + STOP_S + 60), pack)


async def _bounded(run: Coroutine[Any, Any, RunResult], timeout_s: float) -> RunResult:
    """The run, or, after `timeout_s`, what it gathered by then: cancelled, it cleans up and comes back interrupted."""
    task = asyncio.ensure_future(run)
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        task.cancel()
    return await task


def _in_own_thread(coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
    """`asyncio.run(coro)` in a thread of its own (the caller may be inside an event loop), waited for at most `timeout_s`."""
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=main, name="golive-check", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise GoliveTestError(f"golive check did not end within {timeout_s:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@dataclass
class Started:
    """What one test started, stopped in reverse order when it ends, whatever happened (the plugin's fixtures)."""

    items: list[Any] = field(default_factory=list)

    def add(self, item: T) -> T:
        self.items.append(item)
        return item

    def stop_all(self) -> None:
        problems = []
        while self.items:
            try:
                self.items.pop().stop()
            except Exception as exc:
                problems.append(f"{type(exc).__name__}: {exc}")
        if problems:
            raise GoliveTestError("could not stop everything the test started: " + "; ".join(problems))
