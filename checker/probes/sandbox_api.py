"""A provider's create endpoint as the pack describes it, driven by the sandbox-contract checks."""

from __future__ import annotations

import asyncio
import base64
import copy
import dataclasses
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

from checker.envelope import form_encode
from checker.errors import ProbeError
from checker.http import MAX_BODY, Exchange, new_client, send
from checker.packs import Facts
from checker.probes.keys import fresh_key
from checker.provenance import untracked
from checker.samples import document

Variant = Literal["valid", "alternate", "invalid"]
MAX_RATE_LIMIT_WAITS = 6
MAX_RETRY_AFTER_S = 10.0


def _fill(template: Any, ref: str) -> Any:
    if isinstance(template, str):
        return template.replace("{ref}", ref)
    if isinstance(template, dict):
        return {k: _fill(v, ref) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, ref) for v in template]
    return template


def authorization(api_key: str, schemes: Sequence[str]) -> str:
    """The Authorization value for the pack's key schemes: Bearer where the provider takes it, else HTTP Basic with the
    key as the user name and no password (Lob takes only that: `curl -u test_…:`)."""
    if "bearer" in schemes or "basic" not in schemes:
        return f"Bearer {api_key}"
    return "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()


class SandboxAPI:
    """Sends the pack's create request in its variants and keeps every exchange as evidence."""

    def __init__(self, base_url: str, api_key: str, facts: Facts, *, started: float, timeout_s: float) -> None:
        self.facts = facts
        self.started = started
        self.timeout_s = timeout_s
        with untracked():  # how the key is sent: a wrong header is a refused request (error), never a verdict's basis
            header = facts.api_key_header
            schemes = facts.keys.schemes
        auth = {header: api_key} if header else {"Authorization": authorization(api_key, schemes)}
        self.client = new_client(base_url, auth, timeout_s)
        self.exchanges: list[Exchange] = []

    async def __aenter__(self) -> SandboxAPI:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.client.aclose()

    # ---------------------------------------------------------------- requests

    async def create(
        self,
        key: str | None,
        variant: Variant = "valid",
        *,
        ref: str = "golive-probe",
        upload: tuple[str, bytes, str] | None = None,
        note: str = "",
    ) -> Exchange:
        """Send the create request; a 429 is waited out (Retry-After, bounded) and sent again."""
        create, idem = self.facts.create, self.facts.idempotency
        headers: dict[str, str] = {}
        kwargs: dict[str, Any] = {}
        if key is not None and idem.key_in == "header":
            headers[idem.name] = key
        with untracked():  # sent so the provider's logs can be matched, judged by no sandbox rule
            correlation = self.facts.correlation_header
        if correlation:
            headers[correlation] = fresh_key("golive-corr")
        if create.encoding == "multipart":
            fields = {
                "valid": create.fields,
                "alternate": {**create.fields, **create.alternate_fields},
                "invalid": {**create.fields, **create.invalid_fields},
            }[variant]
            kwargs["data"] = _fill(fields, ref)
            if create.file is not None:
                kwargs["files"] = {create.file.field: upload or document(create.file.kind)}
        else:
            template = {"valid": create.body, "alternate": create.alternate_body, "invalid": create.invalid_body}[variant]
            if template is None:
                raise ProbeError(f"the pack gives no {variant} request body (facts.create.{variant}_body)")
            body = _fill(copy.deepcopy(template), ref)
            if key is not None and idem.key_in == "body":
                body[idem.name] = key
            if create.encoding == "form":
                kwargs["content"] = form_encode(body)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                kwargs["json"] = body
        for _ in range(MAX_RATE_LIMIT_WAITS):
            exchange = await self._send(create.method, create.path, key=key, headers=headers, note=note, **kwargs)
            if exchange.ok and self.resource_id(exchange) is None:  # every judgement below compares resource ids
                raise ProbeError(
                    f"the sandbox answered {exchange.status} to a create without '{create.id_field}' in a JSON body: "
                    "golive cannot tell which resource it made"
                )
            if exchange.status != 429:
                return exchange
            await asyncio.sleep(self._retry_after(exchange))
        raise ProbeError(f"the sandbox kept answering 429 after {MAX_RATE_LIMIT_WAITS} waits")

    async def get(self, path: str, *, note: str = "") -> Exchange:
        for _ in range(MAX_RATE_LIMIT_WAITS):
            exchange = await self._send("GET", path, note=note)
            if exchange.status != 429:
                return exchange
            await asyncio.sleep(self._retry_after(exchange))
        raise ProbeError(f"the sandbox kept answering 429 after {MAX_RATE_LIMIT_WAITS} waits")

    async def advance_clock(self, seconds: float, *, note: str = "") -> Exchange:
        """Move this account's clock (golive's sandboxes only: POST /_sandbox/clock; a provider's sandbox answers 404)."""
        return await self._send("POST", "/_sandbox/clock", json={"advance_s": seconds, "scope": "account"}, note=note)

    async def balance(self) -> tuple[float, float] | None:
        """(available, held), where the provider has a balance endpoint."""
        if not self.facts.balance_path:
            return None
        exchange = await self.get(self.facts.balance_path, note="balance")
        data = exchange.json()
        if exchange.status != 200 or not isinstance(data, dict) or "held" not in data:
            raise ProbeError(f"could not read the balance: {exchange.status} from {self.facts.balance_path}")
        return float(data.get("available", 0)), float(data["held"])

    def resource_path(self, resource_id: Any) -> str:
        """Where one resource is read (facts.get_path): `{id}` filled with the id the sandbox gave, as one path
        segment whatever it holds (a '/', '?', '#' or '..' in a target's id stays inside the segment)."""
        assert self.facts.get_path
        return self.facts.get_path.replace("{id}", quote(str(resource_id), safe=""))

    def resource_id(self, exchange: Exchange) -> Any:
        """The id of the resource an answer carries: a create's, or the existing one a replay names where the provider
        answers a used key with an error naming it (idempotency.replay.existing_id_at: GoCardless's 409)."""
        replay = self.facts.idempotency.replay
        if replay.existing_id_at is not None and exchange.status == replay.status:
            return exchange.field(replay.existing_id_at)
        return exchange.field(self.facts.create.id_field)

    def answers_resource(self, exchange: Exchange) -> bool:
        """The answer carries a resource's id: a success, or the documented replay error naming the existing one."""
        return exchange.ok or self.names_existing(exchange)

    def names_existing(self, exchange: Exchange) -> bool:
        """The answer is the documented replay error naming the existing resource (GoCardless's 409 with
        links.conflicting_resource_id), not a refusal."""
        replay = self.facts.idempotency.replay
        return replay.existing_id_at is not None and exchange.status == replay.status and self.resource_id(exchange) is not None

    def evidence(self) -> list[dict[str, Any]]:
        with untracked():  # which headers the evidence shows: no verdict's basis
            replay = self.facts.idempotency.replay
            headers = (*replay.headers, *(h for h in (replay.echo_header, "Retry-After") if h))
        return [x.evidence(n, headers=headers) for n, x in enumerate(self.exchanges, 1)]

    # ---------------------------------------------------------------- internals

    async def _send(self, method: str, path: str, *, key: str | None = None, note: str = "", **kwargs: Any) -> Exchange:
        exchange = await send(self.client, method, path, started=self.started, key=key, deadline_s=self.timeout_s, **kwargs)
        if note:
            exchange = dataclasses.replace(exchange, note="; ".join(filter(None, [note, exchange.note])))
        self.exchanges.append(exchange)
        if exchange.truncated:  # an answer golive could not read whole cannot be judged (a huge body, a compression bomb)
            raise ProbeError(f"the sandbox's answer to {method} {path} is over {MAX_BODY // 1024} KB once decoded; golive reads no more")
        if exchange.status in (401, 403) and method == "POST":
            raise ProbeError(f"the sandbox refused the API key: {exchange.status} {exchange.error_code() or ''}".strip())
        return exchange

    @staticmethod
    def _retry_after(exchange: Exchange) -> float:
        try:
            return min(MAX_RETRY_AFTER_S, max(0.0, float(exchange.headers.get("retry-after", "1"))))
        except ValueError:
            return 1.0
