"""Client checks: run the team's client through the fault-injecting proxy and judge the recording.

Each check is a scenario (what the proxy answers), one or more client runs, and a judgement that
is a pure function of the attempts recorded and the process result.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from checker.errors import ProbeError
from checker.model import Outcome, Rule
from checker.probes.context import ProbeContext
from checker.registry import check
from checker.samples import document

if TYPE_CHECKING:
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


async def run(ctx: ProbeContext, scenario: Scenario, *, ref: str | None = None, to: str | None = None) -> ClientRun:
    """One client run through a fresh proxy that plays `scenario` in front of the upstream sandbox."""
    from checker.harness.process import run_client
    from checker.harness.proxy import RecordingProxy

    client = ctx.config.file.client
    if client is None or not ctx.sandbox_url or not ctx.api_key:
        raise ProbeError("the client target is not configured")
    ctx.refuse_live_key()
    facts = ctx.pack.facts
    name, content, _ = document(facts.create.file.kind if facts.create.file else "pdf")
    folder = ctx.workdir
    if folder is None:
        raise ProbeError("no working folder for sample documents")
    path = folder / name
    if not path.exists():
        path.write_bytes(content)
    async with RecordingProxy(
        ctx.sandbox_url, scenario, facts.idempotency.key_in, facts.idempotency.name, facts.correlation_header
    ) as proxy:
        values = {
            "to": to or _recipient(ctx),
            "file": str(path),
            "ref": ref or f"golive-{secrets.token_hex(6)}",
            "base_url": proxy.url,
            "api_key": ctx.api_key,
        }
        result = await run_client(client.command, values, env=client.env, cwd=ctx.config.resolve(client.cwd), timeout_s=client.timeout)
    outcome = ClientRun(list(proxy.attempts), result)
    if not outcome.attempts and result.exit_code not in (0, None):
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
