"""Client checks: run the team's client through the fault-injecting proxy and judge the recording.

Each check is a scenario (what the proxy answers), one or more client runs, and a judgement that
is a pure function of the attempts recorded and the process result.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from checker.errors import ProbeError
from checker.model import Outcome, Rule
from checker.probes.context import ProbeContext
from checker.registry import check
from checker.samples import document

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from checker.harness.process import ProcessResult
    from checker.harness.proxy import Attempt, Scenario


@dataclass(frozen=True)
class ClientRun:
    attempts: list[Attempt]
    process: ProcessResult

    @property
    def posts(self) -> list[Attempt]:
        return [a for a in self.attempts if a.method == "POST"]

    def evidence(self, label: str = "") -> list[dict[str, Any]]:
        items = [{**a.evidence(), **({"run": label} if label else {})} for a in self.attempts]
        return [*items, {**self.process.evidence(), **({"run": label} if label else {})}]


def _recipient(ctx: ProbeContext) -> str:
    return ctx.pack.facts.magic.get("delivered", "+15005550000")


async def run(
    ctx: ProbeContext,
    scenario: Scenario,
    *,
    ref: str | None = None,
    to: str | None = None,
    upload: tuple[str, bytes | Callable[[Path], None]] | None = None,  # content, or what writes it
    may_refuse: bool = False,
    command: str | None = None,
) -> ClientRun:
    """One client run through a fresh proxy that plays `scenario` in front of the upstream sandbox.

    A client that exits non-zero before any request is an `error` (it crashed), unless `may_refuse`:
    refusing a bad document before sending it is what FILE-101/102 hope for."""
    from checker.harness.process import run_client
    from checker.harness.proxy import RecordingProxy

    client = ctx.config.file.client
    if client is None or not ctx.sandbox_url or not ctx.api_key:
        raise ProbeError("the client target is not configured")
    ctx.refuse_live_key()
    facts = ctx.pack.facts
    name, content = upload or document(facts.create.file.kind if facts.create.file else "pdf")[:2]
    if ctx.workdir is None:
        raise ProbeError("no working folder for sample documents")
    folder = ctx.workdir / ("upload-" + secrets.token_hex(4) if upload else "")
    folder.mkdir(exist_ok=True)
    path = folder / name
    if not path.exists():
        if callable(content):
            content(path)
        else:
            path.write_bytes(content)
    proxy = RecordingProxy(
        ctx.sandbox_url,
        scenario,
        facts.idempotency.key_in,
        facts.idempotency.name,
        facts.correlation_header,
        upstream_timeout_s=ctx.config.file.sandbox.timeout,
    )
    async with ctx.client_account(), proxy:
        values = {
            "to": to or _recipient(ctx),
            "file": str(path),
            "ref": ref or f"golive-{secrets.token_hex(6)}",
            "base_url": proxy.url,
            "api_key": ctx.api_key,
            "python": sys.executable,
        }
        result = await run_client(
            command or client.command, values, env=client.env, cwd=ctx.config.resolve(client.cwd), timeout_s=client.timeout
        )
    outcome = ClientRun(list(proxy.attempts), result)
    if not outcome.attempts and result.exit_code not in (0, None) and not may_refuse:
        tail = (result.stderr or result.stdout).strip()[-400:]
        raise ProbeError(f"the client exited {result.exit_code} before sending any request: {tail or '(no output)'}")
    return outcome


def _plain(ctx: ProbeContext, ref: str, repeat: int = 1) -> Any:
    """Forwarded run number `repeat` of the operation `ref`, shared by the checks that only read keys from it."""
    from checker.harness.proxy import Scenario

    return ctx.shared(f"plain:{ref}:{repeat}", lambda: run(ctx, Scenario(), ref=ref))


def _exit(process: ProcessResult) -> str:
    return "was killed at the timeout" if process.timed_out else f"exited {process.exit_code}"


def _no_request(outcome: ClientRun) -> ProbeError:
    return ProbeError(f"the client sent no POST (it {_exit(outcome.process)}); nothing to judge")


# ---------------------------------------------------------------- idempotency keys


@check("IDEM-101", target="client", creates=True)
async def every_post_has_a_key(ctx: ProbeContext, rule: Rule) -> Outcome:
    outcome = await _plain(ctx, "golive-ref-a")
    posts = outcome.posts
    if not posts:
        raise _no_request(outcome)
    missing = [a.n for a in posts if not a.key]
    where = "header" if ctx.pack.facts.idempotency.key_in == "header" else "body field"
    if missing:
        return Outcome.failed(
            f"{len(missing)} of {len(posts)} POSTs carry no {ctx.pack.facts.idempotency.name} {where}", outcome.evidence()
        )
    return Outcome.passed(f"every POST carries {ctx.pack.facts.idempotency.name} ({len(posts)} sent)", outcome.evidence())


@check("IDEM-104", target="client", creates=True)
async def key_within_length(ctx: ProbeContext, rule: Rule) -> Outcome:
    limit = ctx.pack.facts.idempotency.max_length
    if limit is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no maximum key length")
    outcome = await _plain(ctx, "golive-ref-a")
    keys = [a.key for a in outcome.posts if a.key]
    if not keys:
        raise ProbeError("the client sent no key to measure (see IDEM-101)")
    longest = max(len(k) for k in keys)
    if longest > limit:
        return Outcome.failed(f"a key of {longest} characters; the limit is {limit}", outcome.evidence())
    return Outcome.passed(f"keys are {longest} characters at most (limit {limit})", outcome.evidence())


@check("IDEM-103", target="client", creates=True)
async def distinct_operations_distinct_keys(ctx: ProbeContext, rule: Rule) -> Outcome:
    first, second = await asyncio.gather(_plain(ctx, "golive-ref-a"), _plain(ctx, "golive-ref-b"))
    a, b = first.posts[0].key if first.posts else None, second.posts[0].key if second.posts else None
    evidence = [*first.evidence("reference golive-ref-a"), *second.evidence("reference golive-ref-b")]
    if not a or not b:
        raise ProbeError("a run sent no key to compare (see IDEM-101)")
    if a == b:
        return Outcome.failed(
            f"two different operations (references golive-ref-a and golive-ref-b) were sent with the same key {a!r}", evidence
        )
    return Outcome.passed("different operations were sent with different keys", evidence)


@check("IDEM-105", target="client", creates=True)
async def same_operation_same_key(ctx: ProbeContext, rule: Rule) -> Outcome:
    first, again = await asyncio.gather(_plain(ctx, "golive-ref-a"), _plain(ctx, "golive-ref-a", repeat=2))
    a, b = first.posts[0].key if first.posts else None, again.posts[0].key if again.posts else None
    evidence = [*first.evidence("first run"), *again.evidence("same operation, new process")]
    if not a or not b:
        raise ProbeError("a run sent no key to compare (see IDEM-101)")
    if a != b:
        return Outcome.failed(
            "re-running the same operation in a new process sent a new key: a restart after a lost response would create a duplicate",
            evidence,
        )
    return Outcome.passed("the same operation sends the same key across process restarts", evidence)


@check("IDEM-102", target="client", creates=True)
async def retry_reuses_key(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario, status

    retryable = ctx.pack.facts.retry.retryable_statuses[0]
    outcome = await ctx.shared(f"first-{retryable}", lambda: run(ctx, Scenario((status(retryable, "service_unavailable"),))))
    posts = outcome.posts
    if len(posts) < 2:
        raise ProbeError(f"the client did not retry after {retryable}, so key reuse cannot be judged (see RETRY-102)")
    keys = [a.key for a in posts]
    if len(set(keys)) > 1 or not keys[0]:
        return Outcome.failed(f"the retry after {retryable} changed the key ({' -> '.join(str(k) for k in keys)})", outcome.evidence())
    return Outcome.passed(f"{len(posts) - 1} retr{'y' if len(posts) == 2 else 'ies'} after {retryable} reused the key", outcome.evidence())


# ---------------------------------------------------------------- retries

ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    402: "insufficient_balance",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "validation_failed",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def _once_then_forward(ctx: ProbeContext, code: int) -> Any:
    from checker.harness.proxy import Scenario, status

    return ctx.shared(f"first-{code}", lambda: run(ctx, Scenario((status(code, ERROR_CODES.get(code, "error")),))))


def _always(ctx: ProbeContext, code: int, repeat: int = 1) -> Any:
    from checker.harness.proxy import Scenario, status

    return ctx.shared(f"always-{code}:{repeat}", lambda: run(ctx, Scenario(then=status(code, ERROR_CODES.get(code, "error")))))


def _delays(outcome: ClientRun) -> list[float]:
    from checker.backoff import delays_of

    posts = outcome.posts
    return delays_of([a.answered_at for a in posts], [a.t for a in posts])


@check("RETRY-102", target="client", creates=True)
async def retries_retryable_statuses(ctx: ProbeContext, rule: Rule) -> Outcome:
    codes = ctx.pack.facts.retry.retryable_statuses
    runs = await asyncio.gather(*(_once_then_forward(ctx, code) for code in codes))
    evidence = [item for code, outcome in zip(codes, runs, strict=True) for item in outcome.evidence(f"first answer {code}")]
    problems = []
    for code, outcome in zip(codes, runs, strict=True):
        if len(outcome.posts) < 2:
            problems.append(f"{code} was not retried (the client {_exit(outcome.process)})")
        elif outcome.process.exit_code != 0:
            problems.append(f"after retrying {code} the client {_exit(outcome.process)}")
    if problems:
        return Outcome.failed("; ".join(problems), evidence)
    return Outcome.passed(f"each retryable status ({', '.join(map(str, codes))}) was retried and the client succeeded", evidence)


@check("RETRY-103", target="client", creates=True)
async def retries_after_reset(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import RESET, Scenario

    outcome = await run(ctx, Scenario((RESET,)))
    posts = outcome.posts
    if len(posts) < 2:
        return Outcome.failed(
            f"the connection was reset after the request and the client did not retry (it {_exit(outcome.process)})", outcome.evidence()
        )
    if len({a.key for a in posts}) > 1:
        return Outcome.failed(
            "the client retried after the reset with a different key: the first request may have gone through", outcome.evidence()
        )
    if outcome.process.exit_code != 0:
        return Outcome.failed(f"the client retried after the reset but {_exit(outcome.process)}", outcome.evidence())
    return Outcome.passed("after a connection reset the client retried with the same key and succeeded", outcome.evidence())


@check("RETRY-105", target="client", creates=True)
async def no_retry_of_client_errors(ctx: ProbeContext, rule: Rule) -> Outcome:
    codes = ctx.pack.facts.retry.non_retryable_statuses
    runs = await asyncio.gather(*(_always(ctx, code) for code in codes))
    evidence = [item for code, outcome in zip(codes, runs, strict=True) for item in outcome.evidence(f"always {code}")]
    problems = []
    for code, outcome in zip(codes, runs, strict=True):
        if len(outcome.posts) > 1:
            problems.append(f"{code} was retried ({len(outcome.posts)} requests)")
        elif outcome.process.exit_code == 0:
            problems.append(f"after {code} the client exited 0 as if it had succeeded")
    if problems:
        return Outcome.failed("; ".join(problems), evidence)
    return Outcome.passed(f"each non-retryable status ({', '.join(map(str, codes))}) got exactly one request and a non-zero exit", evidence)


@check("RETRY-108", target="client", creates=True)
async def gives_up_on_persistent_failure(ctx: ProbeContext, rule: Rule) -> Outcome:
    limit = int(rule.param("max_attempts", ctx.pack.facts.retry.max_attempts))
    code = ctx.pack.facts.retry.retryable_statuses[0]
    outcome = await _always(ctx, code)
    count = len(outcome.posts)
    if outcome.process.timed_out:
        return Outcome.failed(f"still retrying when client.timeout ran out ({count} requests so far)", outcome.evidence())
    if count > limit:
        return Outcome.failed(f"{count} attempts on a persistent {code}; at most {limit}", outcome.evidence())
    if outcome.process.exit_code == 0:
        return Outcome.failed(f"the client gave up after {count} attempts but exited 0 as if it had succeeded", outcome.evidence())
    return Outcome.passed(f"gave up after {count} attempts (at most {limit}) and {_exit(outcome.process)}", outcome.evidence())


# ---------------------------------------------------------------- rate limits

RETRY_AFTER_S = 2.0
TIMING_TOLERANCE_S = 0.05  # scheduling noise on a loaded machine


@check("RATE-101", target="client", creates=True)
async def waits_retry_after(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario, status

    outcome = await run(ctx, Scenario((status(429, "rate_limited", retry_after=RETRY_AFTER_S),)))
    posts = outcome.posts
    if len(posts) < 2:
        return Outcome.failed(
            f"after 429 with Retry-After: {RETRY_AFTER_S:g} the client did not retry (it {_exit(outcome.process)})", outcome.evidence()
        )
    answered = posts[0].answered_at if posts[0].answered_at is not None else posts[0].t
    waited = posts[1].t - answered
    if waited < RETRY_AFTER_S - TIMING_TOLERANCE_S:
        return Outcome.failed(f"retried {waited:.2f} s after a 429 with Retry-After: {RETRY_AFTER_S:g}", outcome.evidence())
    return Outcome.passed(f"waited {waited:.2f} s after a 429 with Retry-After: {RETRY_AFTER_S:g}", outcome.evidence())


# ---------------------------------------------------------------- error handling

FIELD_MESSAGE = "is not a valid E.164 number (golive probe)"


@check("ERR-101", target="client", creates=True)
async def surfaces_error_code(ctx: ProbeContext, rule: Rule) -> Outcome:
    outcome = await _always(ctx, 400)
    code = ERROR_CODES[400]
    if outcome.process.exit_code == 0:
        return Outcome.failed("after a 400 the client exited 0 as if it had succeeded", outcome.evidence())
    if code not in outcome.process.output:
        return Outcome.failed(
            f"after a 400 the client's output does not name the error code {code!r} from the envelope", outcome.evidence()
        )
    return Outcome.passed(f"after a 400 the client printed the error code {code!r} and {_exit(outcome.process)}", outcome.evidence())


@check("ERR-102", target="client", creates=True)
async def surfaces_field_errors(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario, status

    field = "to"
    outcome = await run(ctx, Scenario(then=status(422, "validation_failed", field_errors=((field, FIELD_MESSAGE),))))
    if FIELD_MESSAGE not in outcome.process.output:
        return Outcome.failed(f"after a 422 the client's output lacks the field error ({field}: {FIELD_MESSAGE})", outcome.evidence())
    return Outcome.passed("after a 422 the client printed the field-level error from context.errors", outcome.evidence())


@check("ERR-103", target="client", creates=True)
async def balance_error_alerts(ctx: ProbeContext, rule: Rule) -> Outcome:
    outcome = await _always(ctx, 402)
    if len(outcome.posts) > 1:
        return Outcome.failed(f"402 insufficient_balance was retried ({len(outcome.posts)} requests)", outcome.evidence())
    if "insufficient_balance" not in outcome.process.output and "balance" not in outcome.process.output.lower():
        return Outcome.failed(
            "after 402 insufficient_balance the client raised no alert (its output does not mention the balance)", outcome.evidence()
        )
    if outcome.process.exit_code == 0:
        return Outcome.failed("after 402 the client exited 0 as if it had succeeded", outcome.evidence())
    return Outcome.passed("402 was not retried and the client surfaced the balance alert", outcome.evidence())


# ---------------------------------------------------------------- backoff


@check("RETRY-106", target="client", creates=True)
async def exponential_backoff(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.backoff import judge_backoff, windows

    retry = ctx.pack.facts.retry
    outcome = await _always(ctx, retry.retryable_statuses[0])
    delays = _delays(outcome)
    verdict = judge_backoff(delays, base=retry.base_s, cap=retry.max_delay_s, jitter=retry.jitter_s)
    if verdict.schedule == "none" and len(outcome.posts) < 3:
        raise ProbeError(f"the client made {len(outcome.posts)} attempts on a persistent failure: too few to judge (see RETRY-108)")
    model = verdict.schedule if verdict.ok else "documented"
    expected = {
        "kind": "backoff_windows",
        "model": model,
        "windows": [list(windows(model, n, retry.base_s, retry.max_delay_s, retry.jitter_s)) for n in range(len(delays))],
    }
    return (Outcome.passed if verdict.ok else Outcome.failed)(verdict.message, [*outcome.evidence(), expected])


@check("RETRY-107", target="client", creates=True)
async def delays_carry_jitter(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.backoff import judge_jitter

    code = ctx.pack.facts.retry.retryable_statuses[0]
    first, second = await asyncio.gather(_always(ctx, code), _always(ctx, code, repeat=2))
    if len(first.posts) < 2 or len(second.posts) < 2:
        raise ProbeError("the client did not retry a persistent failure, so jitter cannot be judged (see RETRY-102)")
    verdict = judge_jitter(_delays(first), _delays(second))
    evidence = [*first.evidence("first run"), *second.evidence("second run")]
    return (Outcome.passed if verdict.ok else Outcome.failed)(verdict.message, evidence)


@check("RETRY-101", target="client", creates=True)
async def recovers_from_transient_magic_number(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario

    magic = ctx.pack.facts.magic.get("transient")
    if magic is None:
        return Outcome.skipped(f"the {ctx.pack.name} pack names no transient-failure magic recipient for {{to}}")
    outcome = await run(ctx, Scenario(), to=magic)
    posts = outcome.posts
    if not posts:
        raise _no_request(outcome)
    if posts[0].status is not None and posts[0].status < 500:
        raise ProbeError(f"the sandbox answered the magic number {magic} with {posts[0].status}, not a transient failure")
    if len(posts) < 2:
        return Outcome.failed(
            f"the sandbox failed the first attempt for {magic} and the client did not retry (it {_exit(outcome.process)})",
            outcome.evidence(),
        )
    if outcome.process.exit_code != 0:
        why = " (each attempt carried a new key, so the sandbox failed each as a first attempt)" if len({a.key for a in posts}) > 1 else ""
        return Outcome.failed(f"the client retried {magic} but {_exit(outcome.process)}{why}", outcome.evidence())
    return Outcome.passed(f"recovered from {magic}: {len(posts) - 1} retr{'y' if len(posts) == 2 else 'ies'}, exit 0", outcome.evidence())


# ---------------------------------------------------------------- hung requests


@check("RETRY-104", target="client", creates=True)
async def gives_up_on_hung_request(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario, hang

    bound = float(rule.param("request_timeout_s", ctx.pack.facts.retry.request_timeout_s or 30))
    outcome = await run(ctx, Scenario((hang(bound + 5),)))
    posts = outcome.posts
    if len(posts) < 2:
        what = "was killed at client.timeout" if outcome.process.timed_out else f"{_exit(outcome.process)} without retrying"
        return Outcome.failed(f"the first request got no answer and the client {what}", outcome.evidence())
    waited = posts[1].t - posts[0].t
    if waited > bound + 1:
        return Outcome.failed(
            f"the client waited {waited:.1f} s on a request that never answered (bound {bound:g} s): it has no request timeout",
            outcome.evidence(),
        )
    return Outcome.passed(f"gave up on the hung request after {waited:.1f} s (bound {bound:g} s) and retried", outcome.evidence())


# ---------------------------------------------------------------- files


@check("FILE-101", target="client", creates=True)
async def refuses_unsupported_file(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario
    from checker.samples import ELF_EXECUTABLE

    if ctx.pack.facts.files is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no file uploads")
    outcome = await run(ctx, Scenario(), upload=("invoice.pdf", ELF_EXECUTABLE), may_refuse=True)
    posts = outcome.posts
    if outcome.process.exit_code == 0:
        return Outcome.failed("given an executable named invoice.pdf the client exited 0", outcome.evidence())
    if not posts:
        return Outcome.passed("the client refused the executable named invoice.pdf before sending it", outcome.evidence())
    if len(posts) > 1:
        return Outcome.failed(f"the client retried the refused file ({len(posts)} requests)", outcome.evidence())
    return Outcome.passed(f"the client sent the file once, got {posts[0].status} and failed cleanly", outcome.evidence())


@check("FILE-102", target="client", creates=True)
async def refuses_oversized_file(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario
    from checker.samples import write_padded_pdf

    files = ctx.pack.facts.files
    if files is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no file uploads")
    size = files.max_bytes + 1024 * 1024
    outcome = await run(ctx, Scenario(), upload=("scan.pdf", lambda path: write_padded_pdf(path, size)), may_refuse=True)
    uploaded = [a for a in outcome.posts if a.body_bytes > files.max_bytes]
    mb = size / (1024 * 1024)
    if uploaded:
        return Outcome.failed(
            f"the client uploaded a {mb:.0f} MB file ({len(uploaded)} time{'s' * (len(uploaded) > 1)}); "
            f"the limit is {files.max_bytes / (1024 * 1024):g} MB",
            outcome.evidence(),
        )
    if outcome.process.exit_code == 0:
        return Outcome.failed(f"given a {mb:.0f} MB file the client exited 0 without sending it", outcome.evidence())
    return Outcome.passed(f"the client refused the {mb:.0f} MB file before uploading it", outcome.evidence())


# ---------------------------------------------------------------- observability


@check("OBS-101", target="client", creates=True)
async def correlation_id_on_every_request(ctx: ProbeContext, rule: Rule) -> Outcome:
    header = ctx.pack.facts.correlation_header
    if header is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no correlation header")
    outcome = await _once_then_forward(ctx, ctx.pack.facts.retry.retryable_statuses[0])
    if not outcome.attempts:
        raise _no_request(outcome)
    missing = [a.n for a in outcome.attempts if not a.correlation_id]
    if missing:
        return Outcome.failed(f"{len(missing)} of {len(outcome.attempts)} requests carry no {header}", outcome.evidence())
    return Outcome.passed(f"every request carries {header} ({len(outcome.attempts)} requests, retries included)", outcome.evidence())


# ---------------------------------------------------------------- bulk sends


def busiest_second(times: list[float]) -> int:
    """The most requests that started within any one-second window."""
    times = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


@check("RATE-102", target="client", creates=True)
async def bulk_send_throttled(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario

    limit = ctx.pack.facts.rate_limit
    batch = ctx.config.file.client.batch_command if ctx.config.file.client else None
    if limit is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no rate limit")
    if not batch:
        return Outcome.skipped("no bulk command configured (client.batch_command in golive.yaml)")
    outcome = await run(ctx, Scenario(), command=batch)
    if not outcome.attempts:
        raise _no_request(outcome)
    peak = busiest_second([a.t for a in outcome.attempts])
    limited = sum(1 for a in outcome.attempts if a.status == 429)
    summary = f"{len(outcome.attempts)} requests, at most {peak} in one second (limit {limit.requests_per_s:g}/s)"
    if peak > limit.requests_per_s:
        extra = f"; the sandbox answered {limited} of them with 429" if limited else ""
        return Outcome.failed(f"the bulk send bursts: {summary}{extra}", outcome.evidence())
    return Outcome.passed(f"the bulk send stays under the rate limit: {summary}", outcome.evidence())
