"""Client checks: run the team's client through the fault-injecting proxy and judge the recording.

Each check is a scenario (what the proxy answers), one or more client runs, and a judgement that
is a pure function of the attempts recorded and the process result.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import secrets
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from checker.envelope import spelled
from checker.errors import ProbeError
from checker.model import Outcome, Rule
from checker.packs import RetryFacts, size_limit
from checker.probes.context import ProbeContext
from checker.provenance import untracked
from checker.registry import check
from checker.samples import document

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from checker.backoff import Noise, Schedule, Verdict
    from checker.harness.process import ProcessResult
    from checker.harness.proxy import Attempt, Scenario


@dataclass(frozen=True)
class ClientRun:
    attempts: list[Attempt]
    process: ProcessResult
    origin: float = 0.0  # the monotonic time the attempts' `t` count from

    def delay_ends(self) -> list[float]:
        """When each delay between POSTs ended (the next POST arrived), in monotonic time."""
        return [self.origin + a.t for a in self.posts[1:]]

    @property
    def posts(self) -> list[Attempt]:
        return [a for a in self.attempts if a.method == "POST"]

    def evidence(self, label: str = "") -> list[dict[str, Any]]:
        items = [{**a.evidence(), **({"run": label} if label else {})} for a in self.attempts]
        return [*items, {**self.process.evidence(), **({"run": label} if label else {})}]


def _recipient(ctx: ProbeContext) -> str:
    return ctx.pack.facts.magic.get("delivered", "+15005550000")


# what client.command, batch_command and client.env are filled with (`run`): checker/preflight.py checks against these
PLACEHOLDERS = ("to", "file", "ref", "base_url", "api_key", "python")


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
    with untracked():  # the document a plain run uploads, and what the proxy records for the evidence
        name, content = upload or document(facts.create.file.kind if facts.create.file else "pdf")[:2]
        recording = (facts.idempotency.key_in, facts.idempotency.name, facts.correlation_header, dict(facts.idempotency.replay.headers))
        errors = facts.errors.model_dump()
        recipient = to or _recipient(ctx)
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
        *recording[:3],
        upstream_timeout_s=ctx.config.file.sandbox.timeout,
        replay_signal=recording[3],
        errors=errors,
    )
    async with ctx.client_account(), proxy:
        values = {
            "to": recipient,
            "file": str(path),
            "ref": ref or f"golive-{secrets.token_hex(6)}",
            "base_url": proxy.url,
            "api_key": ctx.client_key() or "",
            "python": sys.executable,
        }
        result = await run_client(
            command or client.command,
            values,
            env=client.env,
            cwd=ctx.config.resolve(client.cwd),
            timeout_s=client.timeout,
            on_start=proxy.watch,
        )
    outcome = ClientRun(list(proxy.attempts), result, proxy.started)
    if not outcome.attempts and result.exit_code not in (0, None) and not may_refuse:
        tail = (result.stderr or result.stdout).strip()[-400:]
        raise ProbeError(f"the client exited {result.exit_code} before sending any request: {tail or '(no output)'}")
    if upload is None:  # golive's own valid document: a refusal of it is the emulation's mismatch, not the client's flaw
        refused_by_sandbox(ctx, outcome)
    return outcome


# ---------------------------------------------------------------- the sandbox refused what the client sent

MEDIA_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded", "multipart": "multipart/form-data"}


def refused_by_sandbox(ctx: ProbeContext, outcome: ClientRun) -> None:
    """A client rule judges what the client does with golive's answers; when the sandbox itself refused the client's
    forwarded request as unauthorised or invalid (401, 400, 415, 422 that no scenario injected), the client never
    met the scenario, and the mismatch is between the client and golive's emulation of the provider (a pack whose
    encoding or auth style is not the client's): the rule is `error`, naming the mismatch, never `fail`.

    A request refused for its idempotency key (none where the pack requires one, or one over its length) is left to
    IDEM-101 and IDEM-104: refusing it is what the provider does."""
    refused = [a for a in outcome.posts if a.refusal is not None and not _refused_for_its_key(ctx, a)]
    if not refused:
        return
    first = refused[0]
    builtin = ctx.config.file.sandbox.url == "builtin"
    where = "the embedded sandbox" if builtin else f"the sandbox at {ctx.sandbox_url}"
    with untracked():  # what golive's emulation expects: the reason for an error, not a verdict's basis
        facts = ctx.pack.facts
        encoding, schemes, key_header = facts.create.encoding, facts.keys.schemes, facts.api_key_header
    sent = (first.headers.get("content-type") or "").partition(";")[0].strip().lower()
    count = f"{len(refused)} of {len(outcome.posts)} forwarded requests answered {first.status}"
    if first.status == 401:
        expected = f"the key in {key_header}" if key_header else f"the key in Authorization ({' or '.join(schemes)})"
        why = f"refused the client's key ({count}): the pack says {expected}; the sandbox said: {first.refusal}"
    elif sent != MEDIA_TYPES[encoding]:
        why = (
            f"refused the client's request as invalid ({count}): the pack says create.encoding {encoding}, "
            f"the client sent {sent or 'no Content-Type'}"
        )
    else:
        why = f"refused the client's request as invalid ({count}): the sandbox said: {first.refusal}"
    fix = "the sandbox's settings" if not builtin else "the pack (or the client's configuration)"
    raise ProbeError(f"{where} {why}. The client never met golive's scenario, so this rule cannot judge it: make {fix} match")


def _refused_for_its_key(ctx: ProbeContext, attempt: Attempt) -> bool:
    """The provider's own refusal of a key rule's flaw (IDEM-101: no key where one is required; IDEM-104: a key over
    the documented length), which those rules judge: not a mismatch of golive's emulation."""
    with untracked():
        idem = ctx.pack.facts.idempotency
        return (attempt.key is None and idem.required) or (attempt.key is not None and len(attempt.key) > (idem.max_length or 255))


def _plain(ctx: ProbeContext, ref: str, repeat: int = 1) -> Any:
    """Forwarded run number `repeat` of the operation `ref`, shared by the checks that only read keys from it."""
    from checker.harness.proxy import Scenario

    return ctx.shared(f"plain:{ref}:{repeat}", lambda: run(ctx, Scenario(), ref=ref))


def _exit(process: ProcessResult) -> str:
    if process.timed_out:
        return "was killed at the timeout"
    return f"crashed ({process.crash})" if process.crash else f"exited {process.exit_code}"


def _attempts(n: int) -> str:
    return f"{n} attempt{'s' * (n != 1)}"


def _crashed(outcome: ClientRun, answer: str) -> ProbeError:
    """A client that crashed on an answer made no decision about it: the rules that judge its decision cannot."""
    return ProbeError(
        f"the client crashed on the {answer} answer ({outcome.process.crash}): whether it would have retried cannot be judged; "
        "an error answer must not crash the client (see ERR-101)"
    )


NO_KEY = "no idempotency key was sent (see IDEM-101)"


async def _working_client(ctx: ProbeContext) -> None:
    """A refusal means something only from a client that sends a valid request otherwise."""
    plain = await _plain(ctx, "golive-ref-a")
    if not plain.posts:
        raise ProbeError(
            f"the client sends no request even with a valid document (it {_exit(plain.process)}; see IDEM-101): "
            "a refusal here means nothing"
        )


def _no_request(outcome: ClientRun) -> ProbeError:
    return ProbeError(f"the client sent no POST (it {_exit(outcome.process)}); nothing to judge")


def _completed(*outcomes: ClientRun) -> None:
    """The key rules vouch for an integration whose creates complete: a client that crashed on the sandbox's
    successful answer never finished one (however good the key it sent), so they cannot pass it."""
    for outcome in outcomes:
        if outcome.process.crash and any(a.status is not None and a.status < 300 for a in outcome.posts):
            raise ProbeError(
                f"the client crashed on the sandbox's successful answer ({outcome.process.crash}): no create completed, so "
                "its keys cannot be vouched for; a successful answer must not crash the client"
            )


# ---------------------------------------------------------------- idempotency keys


@check("IDEM-101", creates=True)
async def every_post_has_a_key(ctx: ProbeContext, rule: Rule) -> Outcome:
    outcome = await _plain(ctx, "golive-ref-a")
    posts = outcome.posts
    if not posts:
        raise _no_request(outcome)
    _completed(outcome)
    missing = [a.n for a in posts if not a.key]
    where = "header" if ctx.pack.facts.idempotency.key_in == "header" else "body field"
    if missing:
        return Outcome.failed(
            f"{len(missing)} of {len(posts)} POSTs carry no {ctx.pack.facts.idempotency.name} {where}", outcome.evidence()
        )
    return Outcome.passed(f"every POST carries {ctx.pack.facts.idempotency.name} ({len(posts)} sent)", outcome.evidence())


@check("IDEM-104", creates=True)
async def key_within_length(ctx: ProbeContext, rule: Rule) -> Outcome:
    limit = ctx.pack.facts.idempotency.max_length
    if limit is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no maximum key length")
    outcome = await _plain(ctx, "golive-ref-a")
    if not outcome.posts:
        raise _no_request(outcome)
    _completed(outcome)
    keys = [a.key for a in outcome.posts if a.key]
    if not keys:
        return Outcome.failed(NO_KEY, outcome.evidence())
    longest = max(len(k) for k in keys)
    if longest > limit:
        return Outcome.failed(f"a key of {longest} characters; the limit is {limit}", outcome.evidence())
    return Outcome.passed(f"keys are {longest} characters at most (limit {limit})", outcome.evidence())


@check("IDEM-103", creates=True)
async def distinct_operations_distinct_keys(ctx: ProbeContext, rule: Rule) -> Outcome:
    first, second = await asyncio.gather(_plain(ctx, "golive-ref-a"), _plain(ctx, "golive-ref-b"))
    a, b = first.posts[0].key if first.posts else None, second.posts[0].key if second.posts else None
    evidence = [*first.evidence("reference golive-ref-a"), *second.evidence("reference golive-ref-b")]
    if not first.posts or not second.posts:
        raise _no_request(first if not first.posts else second)
    _completed(first, second)
    if not a or not b:
        return Outcome.failed(NO_KEY, evidence)
    if a == b:
        return Outcome.failed(
            f"two different operations (references golive-ref-a and golive-ref-b) were sent with the same key {a!r}", evidence
        )
    return Outcome.passed("different operations were sent with different keys", evidence)


@check("IDEM-105", creates=True)
async def same_operation_same_key(ctx: ProbeContext, rule: Rule) -> Outcome:
    first, again = await asyncio.gather(_plain(ctx, "golive-ref-a"), _plain(ctx, "golive-ref-a", repeat=2))
    a, b = first.posts[0].key if first.posts else None, again.posts[0].key if again.posts else None
    evidence = [*first.evidence("first run"), *again.evidence("same operation, new process")]
    if not first.posts or not again.posts:
        raise _no_request(first if not first.posts else again)
    _completed(first, again)
    if not a or not b:
        return Outcome.failed(f"{NO_KEY}: a restart after a lost response cannot reuse a key it never sent", evidence)
    if a != b:
        return Outcome.failed(
            "re-running the same operation in a new process sent a new key: a restart after a lost response would create a duplicate",
            evidence,
        )
    return Outcome.passed("the same operation sends the same key across process restarts", evidence)


@check("IDEM-102", creates=True)
async def retry_reuses_key(ctx: ProbeContext, rule: Rule) -> Outcome:
    # the retryable statuses in the pack's order until the client retries one (curl's --retry retries 5xx, not 409):
    # the runs are RETRY-102's (`_once_then_forward`), shared
    skipped: list[str] = []
    evidence: list[dict[str, Any]] = []
    crashed: list[tuple[int, ClientRun]] = []
    for retryable in ctx.pack.facts.retry.retryable_statuses:
        outcome = await _once_then_forward(ctx, retryable)
        evidence += outcome.evidence(f"first answer {retryable}")
        if len(outcome.posts) >= 2:
            break
        skipped.append(str(retryable))
        if outcome.posts and outcome.process.crash:
            crashed.append((retryable, outcome))
    else:
        if crashed:
            raise _crashed(crashed[0][1], str(crashed[0][0]))
        raise ProbeError(f"the client did not retry after {' or '.join(skipped)}, so key reuse cannot be judged (see RETRY-102)")
    _completed(outcome)
    before = f"{', '.join(skipped)} {'was' if len(skipped) == 1 else 'were'} not retried; " if skipped else ""
    posts = outcome.posts
    keys = [a.key for a in posts]
    if not any(keys):
        return Outcome.failed(f"{before}{NO_KEY}: the retry after {retryable} cannot be matched to its first attempt", evidence)
    if len(set(keys)) > 1:
        return Outcome.failed(f"{before}the retry after {retryable} changed the key ({' -> '.join(str(k) for k in keys)})", evidence)
    return Outcome.passed(f"{before}{len(posts) - 1} retr{'y' if len(posts) == 2 else 'ies'} after {retryable} reused the key", evidence)


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


STAGGER_S = 0.37  # runs of the same scenario start this far apart: a deterministic client's runs then never wake together


def _always(ctx: ProbeContext, code: int, repeat: int = 1) -> Any:
    from checker.harness.proxy import Scenario, status

    async def staggered() -> ClientRun:
        # side by side, a fixed schedule's runs would retry at the same instants and queue for the CPU behind
        # each other: the last one served would look jittered
        await asyncio.sleep(STAGGER_S * (repeat - 1))
        return await run(ctx, Scenario(then=status(code, ERROR_CODES.get(code, "error"))))

    return ctx.shared(f"always-{code}:{repeat}", staggered)


def _delays(outcome: ClientRun) -> list[float]:
    from checker.backoff import delays_of

    posts = outcome.posts
    return delays_of([a.answered_at for a in posts], [a.t for a in posts], [_queued(a, b) for a, b in itertools.pairwise(posts)])


def _queued(earlier: Attempt, later: Attempt) -> float:
    """How long the client waited for a CPU between golive's answer to `earlier` (or its arrival, for a reset)
    and sending `later`: the machine's share of that gap, not the client's (harness/runqueue.py)."""
    from checker.harness.runqueue import waited

    since = earlier.queued_answer if earlier.answered_at is not None else earlier.queued_read
    return waited(since, later.queued_read, slack=(later.read_at or later.t) - later.t)


def _gap(earlier: Attempt, later: Attempt) -> float:
    """The client's own wait between golive's answer to `earlier` and its request `later`."""
    from checker.backoff import delays_of

    return delays_of([earlier.answered_at], [earlier.t, later.t], [_queued(earlier, later)])[0]


@check("RETRY-102", creates=True)
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


@check("RETRY-103", creates=True)
async def retries_after_reset(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import RESET, Scenario

    outcome = await run(ctx, Scenario((RESET,)))
    posts = outcome.posts
    if len(posts) < 2:
        return Outcome.failed(
            f"the connection was reset after the request and the client did not retry (it {_exit(outcome.process)})", outcome.evidence()
        )
    if not any(a.key for a in posts):
        return Outcome.failed(
            f"the client retried after the reset without a key ({NO_KEY}): the first request may have gone through", outcome.evidence()
        )
    if len({a.key for a in posts}) > 1:
        return Outcome.failed(
            "the client retried after the reset with a different key: the first request may have gone through", outcome.evidence()
        )
    if outcome.process.exit_code != 0:
        return Outcome.failed(f"the client retried after the reset but {_exit(outcome.process)}", outcome.evidence())
    return Outcome.passed("after a connection reset the client retried with the same key and succeeded", outcome.evidence())


UNLISTED_4XX = 410  # a client error no built-in pack lists: where a provider says every 4xx stops retrying, it must


@check("RETRY-105", creates=True)
async def no_retry_of_client_errors(ctx: ProbeContext, rule: Rule) -> Outcome:
    retry = ctx.pack.facts.retry
    codes = list(retry.non_retryable_statuses)
    if retry.stop_on_4xx and UNLISTED_4XX not in (*codes, *retry.retryable_statuses):
        codes.append(UNLISTED_4XX)  # "stop after any 4xx": one the pack does not list must stop the client too
    runs = await asyncio.gather(*(_always(ctx, code) for code in codes))
    evidence = [item for code, outcome in zip(codes, runs, strict=True) for item in outcome.evidence(f"always {code}")]
    problems = []
    for code, outcome in zip(codes, runs, strict=True):
        if not outcome.posts:
            raise _no_request(outcome)
        if len(outcome.posts) > 1:
            problems.append(f"{code} was retried ({len(outcome.posts)} requests)")
    if problems:
        # decided by the statuses the client retried: the pack's list, and stop_on_4xx only where its unlisted 4xx
        # was one of them (a reading disputing only other statuses — mintfax's 402 — did not decide it)
        retried = tuple(code for code, outcome in zip(codes, runs, strict=True) if len(outcome.posts) > 1)
        return dataclasses.replace(
            Outcome.failed("; ".join(problems), evidence),
            decided_by=frozenset({"retry.non_retryable_statuses", *(("retry.stop_on_4xx",) if UNLISTED_4XX in retried else ())}),
            decided_values={"retry.non_retryable_statuses": tuple(code for code in retried if code != UNLISTED_4XX)},
        )
    crashed = [(code, outcome) for code, outcome in zip(codes, runs, strict=True) if outcome.process.crash]
    if crashed:
        raise _crashed(crashed[0][1], str(crashed[0][0]))
    # the exit status is ERR-101's and RETRY-108's business: this rule's text is about not retrying
    return Outcome.passed(f"each non-retryable status ({', '.join(map(str, codes))}) got exactly one request", evidence)


@check("RETRY-108", creates=True)
async def gives_up_on_persistent_failure(ctx: ProbeContext, rule: Rule) -> Outcome:
    limit = int(rule.param("max_attempts", ctx.pack.facts.retry.max_attempts))
    code = ctx.pack.facts.retry.retryable_statuses[0]
    outcome = await _always(ctx, code)
    count = len(outcome.posts)
    if outcome.process.timed_out:
        return Outcome.failed(f"still retrying when client.timeout ran out ({count} requests so far)", outcome.evidence())
    if count > limit:
        return Outcome.failed(f"{count} attempts on a persistent {code}; at most {limit}", outcome.evidence())
    if not count:
        raise _no_request(outcome)
    if outcome.process.crash and count < 2:  # it crashed on the first answer: it never decided whether to retry
        raise _crashed(outcome, str(code))
    if outcome.process.exit_code == 0:
        return Outcome.failed(f"the client gave up after {_attempts(count)} but exited 0 as if it had succeeded", outcome.evidence())
    return Outcome.passed(f"gave up after {_attempts(count)} (at most {limit}) and {_exit(outcome.process)}", outcome.evidence())


# ---------------------------------------------------------------- rate limits

RETRY_AFTER_S = 2.0
RATE_LIMITS = 3  # 429s in a row: each wait is judged, so one wait stretched by a stall of the machine cannot pass a client


@check("RATE-101", creates=True)
async def waits_retry_after(ctx: ProbeContext, rule: Rule) -> Outcome:
    """Noise only ever lengthens a wait (the client wakes late, golive reads late), never shortens it: a wait
    shorter than Retry-After is the client's own, whatever the machine's load; a client that ignores
    Retry-After passes only if a stall stretched every one of its waits, so RATE_LIMITS of them are judged."""
    from checker.backoff import EARLY_S
    from checker.harness.proxy import Scenario, status

    limited = status(429, "rate_limited", retry_after=RETRY_AFTER_S)
    outcome = await run(ctx, Scenario((limited,) * RATE_LIMITS))
    posts = outcome.posts
    if len(posts) < 2:
        return Outcome.failed(
            f"after 429 with Retry-After: {RETRY_AFTER_S:g} the client did not retry (it {_exit(outcome.process)})", outcome.evidence()
        )
    # a client run sends one operation: its next POST is a retry of it, whatever key it carries (a new key per
    # attempt is IDEM-102's to judge, not a reason to pass or fail this rule)
    waits = [_gap(earlier, later) for earlier, later in itertools.pairwise(posts) if earlier.status == 429]
    shown = ", ".join(f"{w:.2f}" for w in waits)
    short = [n for n, w in enumerate(waits, 1) if w < RETRY_AFTER_S - EARLY_S]
    if short:
        # retrying before the wait fails under every reading of whether a 429 is retried at all (to retry it only
        # after Retry-After, or not to retry it): no reading decided this failure
        return dataclasses.replace(
            Outcome.failed(
                f"retried {waits[short[0] - 1]:.2f} s after a 429 with Retry-After: {RETRY_AFTER_S:g} "
                f"({len(short)} of {len(waits)} waits too short: {shown} s)",
                outcome.evidence(),
            ),
            readings_decide=False,
        )
    return Outcome.passed(
        f"waited {shown} s after each of {len(waits)} 429{'s' * (len(waits) != 1)} with Retry-After: {RETRY_AFTER_S:g}", outcome.evidence()
    )


# ---------------------------------------------------------------- error handling

FIELD_MESSAGE = "is not a valid E.164 number (golive probe)"


def names(output: str, word: str) -> bool:
    """Whether `output` names `word` as a whole token: not as part of another word (`invalid_request` inside
    `invalid_request_error`, a Node SDK's `rawType`, is not the code). A token is bounded by characters that cannot be
    part of an identifier (a letter, a digit or `_`, as regex's \\w): `code=invalid_request`, `"invalid_request"`,
    `(invalid_request)` and `low-balance` name theirs. Repeated str.find, linear in the output."""

    def inside(char: str) -> bool:
        return char.isalnum() or char == "_"

    start = output.find(word) if word else -1
    while start >= 0:
        end = start + len(word)
        if not (start and inside(output[start - 1])) and not (end < len(output) and inside(output[end])):
            return True
        start = output.find(word, start + 1)
    return False


@check("ERR-101", creates=True)
async def surfaces_error_code(ctx: ProbeContext, rule: Rule) -> Outcome:
    outcome = await _always(ctx, 400)
    with untracked():  # the code as the injected answer spelled it (the envelope golive's faults wear, as `run` reads it)
        code = spelled(ctx.pack.facts.errors.model_dump(), ERROR_CODES[400])
    if not outcome.posts:
        raise _no_request(outcome)
    if outcome.process.crash:
        return Outcome.failed(
            f"the client crashed on the 400 answer ({outcome.process.crash}) instead of surfacing its error code", outcome.evidence()
        )
    if outcome.process.exit_code == 0:
        return Outcome.failed("after a 400 the client exited 0 as if it had succeeded", outcome.evidence())
    if not names(outcome.process.output, code):
        return Outcome.failed(
            f"after a 400 the client's output does not name the error code {code!r} from the envelope (as a word of its own)",
            outcome.evidence(),
        )
    return Outcome.passed(f"after a 400 the client printed the error code {code!r} and {_exit(outcome.process)}", outcome.evidence())


@check("ERR-102", creates=True)
async def surfaces_field_errors(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario, status

    field = "to"
    outcome = await run(ctx, Scenario(then=status(422, "validation_failed", field_errors=((field, FIELD_MESSAGE),))))
    if not outcome.posts:
        raise _no_request(outcome)
    if outcome.process.crash:
        return Outcome.failed(
            f"the client crashed on the 422 answer ({outcome.process.crash}) instead of surfacing its field errors", outcome.evidence()
        )
    if not names(outcome.process.output, FIELD_MESSAGE):
        return Outcome.failed(f"after a 422 the client's output lacks the field error ({field}: {FIELD_MESSAGE})", outcome.evidence())
    return Outcome.passed("after a 422 the client printed the field-level error from context.errors", outcome.evidence())


@check("ERR-103", creates=True)
async def balance_error_alerts(ctx: ProbeContext, rule: Rule) -> Outcome:
    outcome = await _always(ctx, 402)
    if not outcome.posts:
        raise _no_request(outcome)
    if outcome.process.crash:
        return Outcome.failed(
            f"the client crashed on the 402 answer ({outcome.process.crash}) instead of raising a balance alert", outcome.evidence()
        )
    if len(outcome.posts) > 1:
        return Outcome.failed(f"402 insufficient_balance was retried ({len(outcome.posts)} requests)", outcome.evidence())
    if not names(outcome.process.output, "insufficient_balance") and not names(outcome.process.output.lower(), "balance"):
        return Outcome.failed(
            "after 402 insufficient_balance the client raised no alert (its output does not mention the balance)", outcome.evidence()
        )
    if outcome.process.exit_code == 0:
        return Outcome.failed("after 402 the client exited 0 as if it had succeeded", outcome.evidence())
    return Outcome.passed("402 was not retried and the client surfaced the balance alert", outcome.evidence())


# ---------------------------------------------------------------- backoff


TIMING_RUNS = 3  # runs of a persistent failure the timing judges start from (they run side by side)
MAX_TIMING_RUNS = 6  # ... and at most this many, one more each time the evidence is inconclusive


def _schedules(ctx: ProbeContext) -> tuple[Schedule, ...]:
    return pack_schedules(ctx.pack.facts.retry)


def pack_schedules(retry: RetryFacts) -> tuple[Schedule, ...]:
    """The schedules a pack accepts: the documented one and its variants, or, where the pack takes the schedule
    from the provider's official SDKs (retry.sdk_schedules), each SDK's under its name."""
    from checker.backoff import Schedule, accepted_schedules

    first = retry.immediate_first_retry
    sdks = [
        Schedule(s.model, s.base_s or retry.base_s, s.max_delay_s or retry.max_delay_s, 0.0, first, s.shift, name)
        for name, s in retry.sdk_schedules.items()
    ]
    if sdks:  # no documented schedule, so no documented jitter to read
        return accepted_schedules(retry.base_s, retry.max_delay_s, 0.0, retry.variants, first, sdks)
    return accepted_schedules(retry.base_s, retry.max_delay_s, retry.jitter_s, retry.variants, first)


async def _timed(ctx: ProbeContext, judge: Callable[[list[list[float]], Noise, bool], Verdict]) -> tuple[Verdict, list[ClientRun], Noise]:
    """Runs of the persistent failure, judged together with the noise measured meanwhile: TIMING_RUNS at
    first, then one more at a time while the judge finds the evidence too thin (at most MAX_TIMING_RUNS)."""
    code = ctx.pack.facts.retry.retryable_statuses[0]
    meter = await ctx.noise_meter()
    count = TIMING_RUNS
    while True:
        runs = list(await asyncio.gather(*(_always(ctx, code, repeat=n) for n in range(1, count + 1))))
        retried = [run for run in runs if len(run.posts) >= 2]
        await meter.ready()
        noise = meter.noise([run.delay_ends() for run in retried])
        # off the loop: the simulations behind a verdict take a while for long runs, and other probes' proxies
        # timestamp their traffic on this loop
        verdict = await asyncio.to_thread(judge, [_delays(run) for run in retried], noise, count >= MAX_TIMING_RUNS)
        if verdict.ok is not None or count >= MAX_TIMING_RUNS:
            return verdict, runs, noise
        count += 1


def _timing_evidence(runs: list[ClientRun], noise: Noise) -> list[dict[str, Any]]:
    items = [item for n, run in enumerate(runs, 1) for item in run.evidence(f"run {n}")]
    local = max((max(run, default=0.0) for run in noise.local), default=0.0)
    text = f"noise: {noise.describe()}; scheduling latency up to {local:.3f} s around the delays"
    notes = [{"kind": "note", "text": text if noise.samples else f"noise: {noise.describe()}"}]
    lost = {n: [_queued(a, b) for a, b in itertools.pairwise(run.posts)] for n, run in enumerate(runs, 1)}
    if any(w >= 0.001 for waits in lost.values() for w in waits):
        shown = "; ".join(f"run {n}: {', '.join(f'{w:.3f}' for w in waits)}" for n, waits in lost.items() if waits)
        notes.append({"kind": "note", "text": f"subtracted from the delays, the client's waits for a CPU (s): {shown}"})
    return [*items, *notes]


def _timing_outcome(verdict: Verdict, evidence: list[dict[str, Any]]) -> Outcome:
    if verdict.ok is None:
        raise ProbeError(f"inconclusive after {MAX_TIMING_RUNS} runs: {verdict.message}")
    return (Outcome.passed if verdict.ok else Outcome.failed)(verdict.message, evidence)


@check("RETRY-106", creates=True)
async def exponential_backoff(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.backoff import judge_backoff

    schedules = _schedules(ctx)
    verdict, runs, noise = await _timed(ctx, lambda delays, noise, final: judge_backoff(delays, schedules, noise, final=final))
    if max(len(run.posts) for run in runs) < 3:
        raise ProbeError(
            f"the client made {max(len(r.posts) for r in runs)} attempts on a persistent failure: too few to judge (see RETRY-108)"
        )
    schedule = next((s for s in schedules if s.label == verdict.schedule), schedules[0])
    longest = max(len(_delays(run)) for run in runs)
    expected = {"kind": "backoff_windows", "model": schedule.label, "windows": [list(schedule.window(n)) for n in range(longest)]}
    return _timing_outcome(verdict, [*_timing_evidence(runs, noise), expected])


@check("RETRY-107", creates=True)
async def delays_carry_jitter(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.backoff import judge_jitter

    schedules = _schedules(ctx)
    verdict, runs, noise = await _timed(ctx, lambda delays, noise, final: judge_jitter(delays, schedules, noise))
    if sum(len(run.posts) >= 2 for run in runs) < 2:
        raise ProbeError("the client did not retry a persistent failure, so jitter cannot be judged (see RETRY-102)")
    return _timing_outcome(verdict, _timing_evidence(runs, noise))


@check("RETRY-101", creates=True)
async def recovers_from_transient_magic_number(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario

    magic = ctx.pack.facts.magic.get("transient")
    if magic is None:
        return Outcome.skipped(f"the {ctx.pack.name} pack names no transient-failure magic recipient for {{to}}")
    outcome = await run(ctx, Scenario(), to=magic)
    posts = outcome.posts
    if not posts:
        raise _no_request(outcome)
    # a replay of what an earlier attempt of this run created with the same key is the contract at work (a client
    # that retried after a success); a replay of anything else means the key names another operation
    created = {a.key for a in posts if not a.replayed and a.status is not None and a.status < 300}
    replayed = [a for a in posts if a.replayed and a.status is not None and a.status < 300 and a.key not in created]
    if replayed:  # the key names another operation's resource: this operation was never sent on
        return Outcome.failed(
            f"attempt {replayed[0].n} was answered with a replay of an earlier resource, "
            f"not with a {ctx.pack.facts.create.noun} for this operation: the key is shared with another operation (see IDEM-103)",
            outcome.evidence(),
        )
    if posts[0].status is not None and posts[0].status < 500:
        raise ProbeError(f"the sandbox answered the magic number {magic} with {posts[0].status}, not a transient failure")
    if len(posts) < 2:
        return Outcome.failed(
            f"the sandbox failed the first attempt for {magic} and the client did not retry (it {_exit(outcome.process)})",
            outcome.evidence(),
        )
    why = " (each attempt carried a new key, so the sandbox failed each as a first attempt)" if len({a.key for a in posts}) > 1 else ""
    if not any(a.status is not None and a.status < 300 for a in posts):  # an exit 0 after giving up is no recovery
        return Outcome.failed(
            f"the client retried {magic} but none of its {len(posts)} attempts succeeded{why}; it {_exit(outcome.process)}",
            outcome.evidence(),
        )
    if outcome.process.exit_code != 0:
        return Outcome.failed(f"the client retried {magic} but {_exit(outcome.process)}{why}", outcome.evidence())

    return Outcome.passed(f"recovered from {magic}: {len(posts) - 1} retr{'y' if len(posts) == 2 else 'ies'}, exit 0", outcome.evidence())


# ---------------------------------------------------------------- hung requests


@check("RETRY-104", creates=True)
async def gives_up_on_hung_request(ctx: ProbeContext, rule: Rule) -> Outcome:
    """The hung request alone: from its start until the client abandons it (closes or resets its connection),
    not counting the backoff before the next attempt (a client following flexforward's 30 s timeout, then 1 s
    wait, is within the document)."""
    from checker.harness.proxy import Scenario, hang

    stated = rule.param("request_timeout_s", ctx.pack.facts.retry.request_timeout_s)
    bound = float(stated or 30)
    # where the bound comes from (documented, or assumed) is the rule's basis, shown with every verdict
    basis = f"bound {bound:g} s" if stated else f"bound {bound:g} s, golive's default: the pack states no request timeout"
    outcome = await run(ctx, Scenario((hang(bound + 5),)))
    posts = outcome.posts
    if not posts:
        return Outcome.failed(f"the client {_exit(outcome.process)} without sending a request", outcome.evidence())
    hung = posts[0]
    # both ends as golive's event loop saw them (the close carries no kernel stamp): a late loop shifts both
    start = hung.read_at if hung.read_at is not None else hung.t
    gave_up = None if hung.abandoned_at is None else hung.abandoned_at - start
    if gave_up is None or gave_up > bound + 1:
        held = f"{gave_up:.1f} s" if gave_up is not None else f"the {bound + 5:g} s golive held it"
        return Outcome.failed(
            f"the client waited {held} on a request that never answered ({basis}): it has no request timeout, or a longer one",
            outcome.evidence(),
        )
    if len(posts) < 2:
        what = "was killed at client.timeout" if outcome.process.timed_out else f"{_exit(outcome.process)} without retrying"
        return Outcome.failed(f"the client gave up on the hung request after {gave_up:.1f} s, then {what}", outcome.evidence())
    then = max(0.0, posts[1].t - hung.abandoned_at)  # type: ignore[operator]
    return Outcome.passed(
        f"gave up on the hung request after {gave_up:.1f} s ({basis}; from the request to the client closing its connection) "
        f"and retried {then:.1f} s later",
        outcome.evidence(),
    )


# ---------------------------------------------------------------- files


@check("FILE-101", creates=True)
async def refuses_unsupported_file(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario
    from checker.samples import ELF_EXECUTABLE

    if ctx.pack.facts.files is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no file uploads")
    await _working_client(ctx)
    outcome = await run(ctx, Scenario(), upload=("invoice.pdf", ELF_EXECUTABLE), may_refuse=True)
    posts = outcome.posts
    if outcome.process.crash:
        return Outcome.failed(f"given an executable named invoice.pdf the client crashed ({outcome.process.crash})", outcome.evidence())
    if outcome.process.exit_code == 0:
        return Outcome.failed("given an executable named invoice.pdf the client exited 0", outcome.evidence())
    if not posts:
        return Outcome.passed("the client refused the executable named invoice.pdf before sending it", outcome.evidence())
    if len(posts) > 1:
        return Outcome.failed(f"the client retried the refused file ({len(posts)} requests)", outcome.evidence())
    return Outcome.passed(f"the client sent the file once, got {posts[0].status} and failed cleanly", outcome.evidence())


@check("FILE-102", creates=True)
async def refuses_oversized_file(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario
    from checker.samples import write_padded_pdf

    files = ctx.pack.facts.files
    if files is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no file uploads")
    # one byte over the limit: a client that reads "under 10 MB" as 10 MiB (10,485,760 bytes) uploads it
    size = files.max_bytes + 1
    await _working_client(ctx)
    outcome = await run(ctx, Scenario(), upload=("scan.pdf", lambda path: write_padded_pdf(path, size)), may_refuse=True)
    uploaded = [a for a in outcome.posts if a.body_bytes > files.max_bytes]
    what = f"a file of {size:,} bytes"  # (not "a 8,000,000-byte file": the article would follow the number)
    if uploaded:
        return Outcome.failed(
            f"the client uploaded {what} ({len(uploaded)} time{'s' * (len(uploaded) > 1)}); files must be {size_limit(files.max_bytes)}",
            outcome.evidence(),
        )
    if outcome.process.crash:
        return Outcome.failed(f"given {what} the client crashed ({outcome.process.crash})", outcome.evidence())
    if outcome.process.exit_code == 0:
        return Outcome.failed(f"given {what} the client exited 0 without sending it", outcome.evidence())
    return Outcome.passed(f"the client refused {what} before uploading it: files must be {size_limit(files.max_bytes)}", outcome.evidence())


# ---------------------------------------------------------------- observability


@check("OBS-101", creates=True)
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


@check("RATE-102", creates=True)
async def bulk_send_throttled(ctx: ProbeContext, rule: Rule) -> Outcome:
    from checker.harness.proxy import Scenario

    limit = ctx.pack.facts.rate_limit
    batch = ctx.config.file.client.batch_command if ctx.config.file.client else None
    if limit is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no rate limit")
    if not batch:
        return Outcome.not_set("no bulk command configured (client.batch_command in golive.yaml)")
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
