"""A rule pack's file (golive-pack/1) as it is validated: its facts, the documents it cites, where each fact comes from
(`provenance:`), where its documents disagree (`conflicts:`) and which rules it covers (`rules:`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pydantic

from checker.facts import Facts
from checker.model import Severity
from checker.schema import Strict


class Document(Strict):
    """A provider document a pack cites: how a user finds it, its title and public URL (`site`: the URL, or its
    host and path as the document names them, `https://` understood), never the file name the pack knows it by."""

    title: str = pydantic.Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")
    site: str = pydantic.Field(min_length=1, max_length=500, pattern=r"^\S+$")
    revision: str = ""  # "later revision": which of two versions of one document

    @property
    def url(self) -> str:
        return self.site if "://" in self.site else f"https://{self.site}"

    def cite(self, lines: str | None = None) -> str:
        """ "Title — URL": what `explain`, `rules`, the reports' `cite` and every basis line show (with the lines of a
        source file a fact is read from)."""
        at = f", line{'s' * any(c in lines for c in '-,')} {lines}" if lines else ""
        return f"{self.title}{f' ({self.revision})' if self.revision else ''}{at} — {self.url}"


class Provenance(Strict):
    """Where one fact comes from: a document and the sentence it rests on, or golive's assumption and why."""

    doc: str | None = None
    quote: str | None = None
    assumed: str | None = None
    # where in the document, for a source file: its line numbers ("190-203", "86-87, 164-187"), shown with its title
    lines: Annotated[str, pydantic.StringConstraints(pattern=r"^[0-9]+(-[0-9]+)?(, ?[0-9]+(-[0-9]+)?){0,7}$")] | None = None

    @pydantic.model_validator(mode="after")
    def _documented_or_assumed(self) -> Provenance:
        if bool(self.doc and self.quote) == bool(self.assumed) or bool(self.doc) != bool(self.quote):
            raise ValueError("give either 'doc' and 'quote' (the document and its sentence) or 'assumed' (golive's reading, and why)")
        if self.lines is not None and self.doc is None:
            raise ValueError("'lines' says where in a document the quote is: give it with 'doc' and 'quote'")
        return self


class Quote(Strict):
    doc: str
    quote: str


class Conflict(Strict):
    """Two documents that disagree, and the reading golive takes."""

    about: str
    facts: list[str] = []  # the facts the reading sets
    rules: list[str] = []  # the rules whose verdicts take the reading (else: the rules resting on `facts`)
    # the values of `facts` the documents disagree on (402, where one says a 402 is not retried and another is
    # silent): a failure every one of whose deciding values is undisputed stands under either reading, and is not
    # tagged (Outcome.decided_values); unset: any failure the facts decide takes the reading
    values: list[int | str] = []
    quotes: list[Quote] = pydantic.Field(min_length=2)
    reading: str  # what golive does, and why that reading
    otherwise: str  # how a pack takes the other reading


class RuleOverride(Strict):
    source: str | None = None
    skip: str | None = None
    # the rule applies though no document of the pack says what it expects: golive's reading, and why (IDEM-004's
    # one resource for concurrent requests, where the documents say nothing of concurrency)
    assumed: str | None = None
    severity: Severity | None = None
    params: dict[str, Any] = {}

    @pydantic.model_validator(mode="after")
    def _source_or_skip(self) -> RuleOverride:
        given = [bool(value and value.strip()) for value in (self.source, self.skip, self.assumed)]  # a blank reason is none
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of 'source' (the document that covers the rule), 'assumed' (why golive applies it though "
                "no document says so) or 'skip' (why it does not apply)"
            )
        return self


class PackFile(Strict):
    schema_: Literal["golive-pack/1"] = pydantic.Field(alias="schema")
    # the name is printed in every report's heading and used in file and class names: a plain word
    name: str = pydantic.Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str = pydantic.Field("", max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")
    extends: str | None = None
    documents: dict[str, Document] = {}  # the documents `source`, `provenance` and `conflicts` cite, by name
    facts: Facts
    provenance: dict[str, Provenance] = {}  # fact path ("retry.base_s", "magic.busy") -> where it comes from
    conflicts: list[Conflict] = []
    rules: dict[str, RuleOverride] = {}
