"""Sandbox-contract checks IDEM-001..006 and FILE-003: does the provider keep its idempotency promise?

Each check drives the provider's create endpoint as the pack describes it; the judgements
(`judge_*`) are pure functions of the recorded exchanges and the pack's facts.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import TYPE_CHECKING

from checker.errors import ProbeError
from checker.linear_regex import LinearPattern
from checker.model import Outcome, Rule
from checker.packs import Facts, MismatchError
from checker.probes.context import ProbeContext, account_key, fresh_key
from checker.provenance import untracked
from checker.registry import check
from checker.samples import ELF_EXECUTABLE

if TYPE_CHECKING:
    from checker.http import Exchange
    from checker.probes.sandbox_api import SandboxAPI


def _created(api: SandboxAPI, exchange: Exchange, what: str) -> object:
    """The id of a resource the sandbox must have created; a refusal here means the probe cannot judge."""
    rid = api.resource_id(exchange)
    if not exchange.ok or rid is None:
        raise ProbeError(
            f"could not create a resource for {what}: the sandbox answered {exchange.status} "
            f"{exchange.error_code() or exchange.body[:120].decode('utf-8', 'replace')}"
        )
    return rid


async def _first_create(api: SandboxAPI, rule_id: str) -> tuple[str, Exchange]:
    """A fresh key and the resource created with it: the opening move of the replay checks."""
    key = fresh_key()
    first = await api.create(key, note="first request")
    _created(api, first, rule_id)
    return key, first


# ---------------------------------------------------------------- controls
#
# A replay that returns the first id proves deduplication only if a request with another key would have made another
# resource. A static mock (Prism's default: the example of the lowest 2xx answer, one id for every request) passes every
# replay comparison; a stub that reads no key passes every check that only asks whether a request was accepted. So each
# judgement that compares ids sends its control: the same request with a new key, which must create a new resource.


async def _new_key_control(api: SandboxAPI) -> Exchange:
    """The same create with a new key (and a new reference, so no provider could take it for the first by its content)."""
    return await api.create(fresh_key(), ref=fresh_key("golive-control"), note="control: a new key (must create a new resource)")


def judge_new_key(api: SandboxAPI, control: Exchange, seen: set[object]) -> str | None:
    """Why the control shows the sandbox does not key by the idempotency key (None: the new key made a new resource).
    A refused control leaves the judgement without its control: golive cannot judge (ProbeError)."""
    noun = api.facts.create.noun
    if not control.ok:
        raise ProbeError(
            f"the control request (a new key) was answered {control.status} {control.error_code() or ''}".rstrip()
            + f": golive cannot tell whether a new key creates a new {noun}"
        )
    rid = api.resource_id(control)
    if rid in seen:
        return f"a new key was answered with the same {noun} ({rid!r}): the sandbox answers one {noun} whatever the key (a canned response)"
    return None


NO_PROOF = ", so a replay returning it proves no deduplication"


def judge_id_shape(facts: Facts, rid: object) -> str | None:
    """Why an id a create answered lacks the documented shape (None: it has it, or the pack documents none)."""
    pattern = facts.create.id_pattern
    if pattern is None or LinearPattern(pattern).fullmatch(str(rid)):  # RE2: linear in the target's id
        return None
    return f"the {facts.create.noun}'s {facts.create.id_field} {rid!r} does not have the documented shape ({pattern})"


# ---------------------------------------------------------------- IDEM-001


def judge_replay_resource(
    api: SandboxAPI, first: Exchange, replay: Exchange, balances: tuple[object, object] | None, control: Exchange
) -> Outcome:
    facts = api.facts.create
    evidence = api.evidence()
    first_id = api.resource_id(first)
    shape = judge_id_shape(api.facts, first_id)
    if shape:
        return Outcome.failed(shape, evidence)
    named = api.names_existing(replay)  # the documented error naming the existing resource (GoCardless's 409)
    if not replay.ok and not named:
        return Outcome.failed(
            f"the replay was answered {replay.status} {replay.error_code() or ''}, not the original resource".rstrip(), evidence
        )
    replay_id = api.resource_id(replay)
    if replay_id != first_id:
        return Outcome.failed(
            f"the replay {'named' if named else 'returned'} a different resource ({replay_id!r}, original {first_id!r}): "
            "a duplicate was created",
            evidence,
        )
    if not named and facts.status_field and replay.field(facts.status_field) != first.field(facts.status_field):
        return Outcome.failed(
            f"the replay's {facts.status_field} is {replay.field(facts.status_field)!r}, "
            f"the original's {first.field(facts.status_field)!r}",
            evidence,
        )
    if balances is not None and balances[0] != balances[1]:
        return Outcome.failed(
            f"the replay returned the original id but the balance moved ({balances[0]} -> {balances[1]}): something was billed twice",
            evidence,
        )
    canned = judge_new_key(api, control, {first_id})
    if canned:
        return Outcome.failed(canned + NO_PROOF, evidence)
    new_id = api.resource_id(control)
    shape = judge_id_shape(api.facts, new_id)
    if shape:
        return Outcome.failed(shape, evidence)
    extra = ", and the balance did not move" if balances is not None else ""
    how = f"was answered {replay.status} naming the original resource" if named else "returned the original resource"
    return Outcome.passed(f"the replay {how} {first_id}{extra}; a new key created another ({new_id})", evidence)


@check("IDEM-001", creates=True)
async def replay_returns_original(ctx: ProbeContext, rule: Rule) -> Outcome:
    async with ctx.sandbox_api() as api, ctx.account.exclusive():
        key, first = await _first_create(api, "IDEM-001")
        before = await api.balance()
        replay = await api.create(key, note="replay, same key and body")
        after = await api.balance()
        balances = (before, after) if before is not None and after is not None else None
        control = await _new_key_control(api)
        outcome = judge_replay_resource(api, first, replay, balances, control)
        if outcome.status.value == "pass" and api.facts.get_path:
            got = await api.get(api.resource_path(api.resource_id(first)), note="the resource exists")
            if got.status != 200:
                return Outcome.failed(f"the created resource cannot be read back ({got.status})", api.evidence())
        return outcome


# ---------------------------------------------------------------- IDEM-002


def judge_replay_signal(facts: Facts, first: Exchange, replay: Exchange, key: str) -> list[str]:
    """What is wrong with how the replay is signalled (empty: as documented)."""
    problems: list[str] = []
    expected = facts.idempotency.replay
    created = facts.create.created_status
    if first.status != created:
        problems.append(f"the first request was answered {first.status}, documented {created}")
    want = first.status if expected.status == "same" else expected.status
    if replay.status != want:
        problems.append(f"the replay was answered {replay.status}, documented {want}")
    for header, value in expected.headers.items():
        got = replay.headers.get(header.lower())
        if got != value:
            problems.append(f"the replay lacks {header}: {value}" + (f" (got {got!r})" if got is not None else ""))
        if first.headers.get(header.lower()) is not None:
            problems.append(f"the first (non-replayed) response already carries {header}")
    if expected.echo_header:
        for name, exchange in (("first response", first), ("replay", replay)):
            if exchange.headers.get(expected.echo_header.lower()) != key:
                problems.append(f"the {name} does not echo the key in {expected.echo_header}")
    if expected.code is not None and expected.code not in replay.error_codes():
        got = ", ".join(sorted(replay.error_codes())) or "none"
        problems.append(f"the replay's error is not {expected.code} (its codes: {got})")
    if expected.existing_id_at is not None:
        if replay.field(expected.existing_id_at) != first.field(facts.create.id_field):
            problems.append(f"the replay's {expected.existing_id_at} does not name the original {facts.create.noun}")
    elif facts.create.id_field and replay.field(facts.create.id_field) != first.field(facts.create.id_field):
        problems.append(f"the replay's {facts.create.id_field} differs from the original's")
    return problems


def _documented_signal(facts: Facts) -> str:
    replay = facts.idempotency.replay
    parts = [f"status {'unchanged' if replay.status == 'same' else replay.status}"]
    if replay.code is not None:
        parts.append(f"error {replay.code}")
    parts += [f"{h}: {v}" for h, v in replay.headers.items()]
    if replay.echo_header:
        parts.append(f"{replay.echo_header} echo")
    if replay.echo_header and replay.missing_key_echo:
        parts.append(f"{replay.echo_header}: {replay.missing_key_echo} without a key")
    if replay.existing_id_at is not None:
        parts.append(f"the original {facts.create.id_field} at {replay.existing_id_at}")
    else:
        parts.append(f"the same {facts.create.id_field}")
    return ", ".join(parts)


@check("IDEM-002", creates=True)
async def replay_is_signalled(ctx: ProbeContext, rule: Rule) -> Outcome:
    async with ctx.sandbox_api() as api, ctx.account.exclusive():
        key, first = await _first_create(api, "IDEM-002")
        replay = await api.create(key, note="replay")
        problems = judge_replay_signal(api.facts, first, replay, key)
        control = await _new_key_control(api)
        canned = judge_new_key(api, control, {api.resource_id(first)})
        if canned:
            problems.append(canned + NO_PROOF)
        expected = api.facts.idempotency.replay
        if expected.echo_header and expected.missing_key_echo and api.facts.idempotency.key_in == "header":
            # the echo without a key (mintfax revision 001: "If you omitted it, the header reads not provided;
            # recommended"), on an invalid request: every POST answer carries it, and this one creates nothing
            keyless = await api.create(None, "invalid", note="no key (invalid, creates nothing)")
            got = keyless.headers.get(expected.echo_header.lower())
            if got != expected.missing_key_echo:
                problems.append(
                    f"an answer to a POST without a key has {expected.echo_header}: {got!r}, documented {expected.missing_key_echo!r}"
                )
        if problems:
            return Outcome.failed("; ".join(problems), api.evidence())
        return Outcome.passed(
            f"the replay is signalled as documented ({_documented_signal(api.facts)}); a new key created another "
            f"{api.facts.create.noun} ({api.resource_id(control)})",
            api.evidence(),
        )


# ---------------------------------------------------------------- IDEM-003


def judge_body_mismatch(facts: Facts, first: Exchange, second: Exchange) -> Outcome | str:
    """A failure message, or "" when the answer is the documented one."""
    behaviour = facts.idempotency.on_body_mismatch
    id_field = facts.create.id_field
    if isinstance(behaviour, MismatchError):
        if second.status != behaviour.status or behaviour.code not in second.error_codes():
            created = second.field(id_field) if second.ok else None
            what = f" and a new resource {created!r}" if created not in (None, first.field(id_field)) else ""
            got = f"{second.status} {second.error_code() or ''}".strip()
            return f"a different body with the same key was answered {got}{what}, documented {behaviour.status} {behaviour.code}"
        return ""
    if behaviour == "conflict":
        if second.status != 409:
            created = second.field(id_field)
            what = f" and a new resource {created!r}" if created not in (None, first.field(id_field)) else ""
            return f"a different body with the same key was answered {second.status}{what}, documented 409 Conflict"
        return ""
    if not second.ok:
        return f"a different body with the same key was answered {second.status}, documented: the original response replayed"
    if second.field(id_field) != first.field(id_field):
        return (
            f"a different body with the same key created a new resource ({second.field(id_field)!r}); documented: the original is replayed"
        )
    return ""


@check("IDEM-003", creates=True)
async def body_mismatch_as_documented(ctx: ProbeContext, rule: Rule) -> Outcome:
    behaviour = ctx.pack.facts.idempotency.on_body_mismatch
    if behaviour == "undocumented":
        return Outcome.skipped(f"{ctx.pack.name} documents nothing about a reused key with a different body")
    async with ctx.sandbox_api() as api, ctx.account.exclusive():
        key, first = await _first_create(api, "IDEM-003")
        second = await api.create(key, "alternate", note="same key, different body")
        problem = judge_body_mismatch(api.facts, first, second)
        if not problem and behaviour == "replay":  # the original again: proof only if a new key would have made another
            canned = judge_new_key(api, await _new_key_control(api), {api.resource_id(first)})
            problem = canned + NO_PROOF if canned else ""
        if problem:
            return Outcome.failed(str(problem), api.evidence())
        answer = (
            f"{behaviour.status} {behaviour.code}"
            if isinstance(behaviour, MismatchError)
            else "409 Conflict"
            if behaviour == "conflict"
            else "the original resource replayed"
        )
        return Outcome.passed(f"a different body with the same key got {answer}, as documented", api.evidence())


# ---------------------------------------------------------------- IDEM-004


def judge_concurrent(api: SandboxAPI, burst: list[Exchange], follow_up: Exchange, control: Exchange | None) -> Outcome:
    """`control`: the same request with a new key after the burst (None: not sent, as the replay after it failed)."""
    evidence = api.evidence()
    ids = {api.resource_id(x) for x in burst if api.answers_resource(x)}
    statuses = Counter(x.status for x in burst)
    summary = ", ".join(f"{n}x {s}" for s, n in sorted(statuses.items()))
    if not ids and not api.answers_resource(follow_up):
        raise ProbeError(
            f"every request was refused ({summary}; the replay after the burst {follow_up.status} {follow_up.error_code() or ''}".rstrip()
            + f"): no {api.facts.create.noun} was created, so nothing about concurrent requests was observed"
        )
    unexpected = [x for x in burst if not api.answers_resource(x) and x.status != 409]
    if len(ids) > 1:
        return Outcome.failed(f"{len(burst)} parallel requests with one key created {len(ids)} resources ({summary})", evidence)
    if unexpected:
        return Outcome.failed(f"parallel requests with one key were answered {summary}; only success or 409 is acceptable", evidence)
    if not api.answers_resource(follow_up):
        return Outcome.failed(f"after the burst, a replay of the key was answered {follow_up.status}", evidence)
    final = api.resource_id(follow_up)
    if ids and final not in ids:
        return Outcome.failed(f"after the burst, the replay returned another resource ({final!r}, burst created {ids.pop()!r})", evidence)
    assert control is not None
    canned = judge_new_key(api, control, {*ids, final})
    if canned:
        return Outcome.failed(canned + NO_PROOF, evidence)
    return Outcome.passed(
        f"{len(burst)} parallel requests with one key created exactly one resource ({summary}); a new key created another "
        f"({api.resource_id(control)})",
        evidence,
    )


@check("IDEM-004", creates=True)
async def concurrent_same_key(ctx: ProbeContext, rule: Rule) -> Outcome:
    burst_size = int(rule.param("burst", 10))
    async with ctx.sandbox_api() as api, ctx.account.exclusive():
        key = fresh_key()
        burst = await asyncio.gather(*(api.create(key, note="parallel burst") for _ in range(burst_size)))
        follow_up = await api.create(key, note="replay after the burst")
        control = await _new_key_control(api) if api.answers_resource(follow_up) else None
        return judge_concurrent(api, list(burst), follow_up, control)


# ---------------------------------------------------------------- IDEM-005


async def _why_accepted(api: SandboxAPI, over: str, accepted: Exchange, limit: int, control_id: object) -> str:
    """What an over-long key's acceptance shows, found by asking rather than guessed: the sandbox truncates keys (its first
    `limit` characters replay the resource), keeps them whole (only the same key replays), ignores keys (the same key
    makes another resource), or answers one resource whatever the key (the control with a new key got it already)."""
    noun = api.facts.create.noun
    rid = api.resource_id(accepted)
    if rid == control_id:
        return f"the sandbox answers the same {noun} ({rid!r}) whatever the key (a canned response): see IDEM-001"
    cut = await api.create(over[:limit], note=f"its first {limit} characters as a key")
    if api.answers_resource(cut) and api.resource_id(cut) == rid:
        return (
            f"the sandbox truncates keys: its first {limit} characters, sent as a key, replayed that {noun}, "
            "so two operations whose keys share them collide and one is silently lost"
        )
    again = await api.create(over, note=f"the same {limit + 1}-character key again")
    if api.answers_resource(again) and api.resource_id(again) == rid:
        return f"the sandbox keeps the key whole (only the same key replays): the documented maximum of {limit} is not enforced"
    return f"the sandbox ignores idempotency keys altogether (the same key sent again got {api.resource_id(again)!r}): see IDEM-001"


@check("IDEM-005", creates=True)
async def overlong_key_rejected(ctx: ProbeContext, rule: Rule) -> Outcome:
    limit = ctx.pack.facts.idempotency.max_length
    if limit is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no maximum key length")
    async with ctx.sandbox_api() as api, ctx.account.exclusive():
        # the control: the request with an ordinary key must create, or no answer below says anything about key length
        control = await api.create(fresh_key(), note="control: an ordinary key (must create)")
        control_id = _created(api, control, "IDEM-005")
        stem = fresh_key()
        at_limit = (stem + "x" * limit)[:limit]
        over = (stem + "y" * (limit + 1))[: limit + 1]
        long_answer = await api.create(over, note=f"a key of {limit + 1} characters")
        if long_answer.ok or api.resource_id(long_answer) is not None:
            why = await _why_accepted(api, over, long_answer, limit, control_id)
            return Outcome.failed(
                f"a key of {limit + 1} characters was accepted ({long_answer.status}) instead of rejected: {why}", api.evidence()
            )
        if not 400 <= long_answer.status < 500:
            return Outcome.failed(f"a key of {limit + 1} characters was answered {long_answer.status}, expected a 4xx", api.evidence())
        boundary = await api.create(at_limit, note=f"a key of exactly {limit} characters")
        if not boundary.ok:
            return Outcome.failed(
                f"a key of exactly {limit} characters (the documented maximum) was refused with {boundary.status}", api.evidence()
            )
        return Outcome.passed(
            f"a key of {limit + 1} characters was rejected with {long_answer.status} "
            f"{long_answer.error_code() or ''} and created nothing; {limit} characters are accepted".replace("  ", " "),
            api.evidence(),
        )


# ---------------------------------------------------------------- IDEM-006


@check("IDEM-006", creates=True)
async def key_usable_after_rejection(ctx: ProbeContext, rule: Rule) -> Outcome:
    async with ctx.sandbox_api() as api, ctx.account.exclusive():
        key = fresh_key()
        rejected = await api.create(key, "invalid", note="an invalid request")
        if rejected.status not in (400, 422):
            raise ProbeError(f"the pack's invalid request was answered {rejected.status}, not 400/422; cannot judge")
        retried = await api.create(key, note="corrected request, same key")
        created = api.facts.create.created_status
        if retried.status != created or api.resource_id(retried) is None:
            control = await _new_key_control(api)
            if not control.ok:  # the valid request is refused whatever the key: nothing here is about the key
                raise ProbeError(
                    f"the corrected request was refused ({retried.status}) and so was the same request with a new key "
                    f"({control.status} {control.error_code() or ''}".rstrip()
                    + "): the sandbox refuses the pack's valid request, so whether a rejection burns the key cannot be seen"
                )
            return Outcome.failed(
                f"after a {rejected.status}, the corrected request with the same key was answered "
                f"{retried.status} {retried.error_code() or ''}, not a new resource ({created})".replace("  ", " "),
                api.evidence(),
            )
        # the pass means something only where keys matter: the same key again must replay, a new key must create
        rid = api.resource_id(retried)
        again = await api.create(key, note="corrected request, same key again (must replay)")
        control = await _new_key_control(api)
        vacuous = judge_new_key(api, control, {rid})
        if vacuous is None and api.answers_resource(again) and api.resource_id(again) != rid:
            vacuous = f"the sandbox ignores idempotency keys altogether (the same key sent again created {api.resource_id(again)!r})"
        passed = f"after a {rejected.status}, the same key created the {api.facts.create.noun} ({created})"
        if vacuous:
            return Outcome.passed(f"{passed}; but this says nothing about keys: {vacuous} (IDEM-001 judges that)", api.evidence())
        return Outcome.passed(passed, api.evidence())


# ---------------------------------------------------------------- FILE-003


# ---------------------------------------------------------------- IDEM-007


def judge_window(api: SandboxAPI, first: Exchange, within: Exchange, after: Exchange, hours: float) -> Outcome:
    evidence = api.evidence()
    first_id = api.resource_id(first)
    if not api.answers_resource(within) or api.resource_id(within) != first_id:
        got = api.resource_id(within) if api.answers_resource(within) else f"{within.status} {within.error_code() or ''}".strip()
        return Outcome.failed(
            f"a retry 1 min before the {hours:g} h window ended did not replay the original ({got!r}, original {first_id!r}): "
            "the key expired early",
            evidence,
        )
    if api.answers_resource(after) and api.resource_id(after) == first_id:
        return Outcome.failed(f"the key still replayed {first_id!r} 1 min after the {hours:g} h window: it did not expire", evidence)
    if not after.ok:
        return Outcome.failed(
            f"1 min after the {hours:g} h window the same key was refused ({after.status} {after.error_code() or ''}), "
            "not free for a new request",
            evidence,
        )
    new_id = api.resource_id(after)
    return Outcome.passed(
        f"replayed {first_id!r} 1 min before the {hours:g} h window ended; created {new_id!r} with the same key 1 min after", evidence
    )


@check("IDEM-007", creates=True)
async def key_expires_after_window(ctx: ProbeContext, rule: Rule) -> Outcome:
    """The window on a clock golive moves: one account's own (POST /_sandbox/clock, scope account), so no other
    probe's keys age. Only golive's sandboxes have that clock; against a provider's the rule is skipped."""
    from checker.probes.sandbox_api import SandboxAPI

    hours = ctx.pack.facts.idempotency.ttl_hours
    if hours is None:
        return Outcome.skipped(f"the {ctx.pack.name} pack documents no idempotency window")
    async with ctx.sandbox_api() as probe:
        try:
            moved = await probe.advance_clock(0, note="does this sandbox's clock move?")
        except ProbeError:  # 401/403 on an unknown route: a provider's gateway
            moved = None
        if moved is None or moved.status != 200 or not isinstance(moved.json(), dict) or "clock_offset_s" not in moved.json():
            return Outcome.skipped(
                f"this sandbox's clock cannot be moved (only golive's sandboxes offer POST /_sandbox/clock): the {hours:g} h window "
                "would take that long to observe"
            )
    assert ctx.sandbox_url and ctx.api_key
    with untracked():  # an account of its own: golive's sandboxes open one per key
        account = account_key(ctx.pack.facts.keys, ctx.api_key)
    timeout_s = ctx.config.file.sandbox.timeout
    async with SandboxAPI(ctx.sandbox_url, account, ctx.pack.facts, started=time.monotonic(), timeout_s=timeout_s) as api:
        key, first = await _first_create(api, "IDEM-007")
        await api.advance_clock(hours * 3600 - 60, note=f"this account's clock: {hours:g} h - 1 min later")
        within = await api.create(key, note="same key and body, 1 min before the window ends")
        await api.advance_clock(120, note="2 min later")
        after = await api.create(key, note="same key and body, 1 min after the window")
        return judge_window(api, first, within, after, hours)


@check("FILE-003", creates=True)
async def unsupported_file_rejected(ctx: ProbeContext, rule: Rule) -> Outcome:
    facts = ctx.pack.facts
    if facts.files is None or facts.create.file is None:
        return Outcome.skipped(f"{ctx.pack.name} documents no file uploads")
    async with ctx.sandbox_api() as api, ctx.account.exclusive():
        # the control: a real PDF must be accepted, or a refusal of the executable says nothing about content checks
        _created(api, await api.create(fresh_key(), note="control: a valid document (must be accepted)"), "FILE-003")
        answer = await api.create(
            fresh_key(), upload=("invoice.pdf", ELF_EXECUTABLE, "application/pdf"), note="an ELF executable named invoice.pdf"
        )
        expected = facts.files.unsupported_error
        if answer.status == 422 and answer.error_code() == expected:
            return Outcome.passed(f"an executable named .pdf was refused with 422 {expected}", api.evidence())
        return Outcome.failed(
            f"an executable named .pdf was answered {answer.status} {answer.error_code() or ''}, documented 422 {expected}".replace(
                "  ", " "
            ),
            api.evidence(),
        )
