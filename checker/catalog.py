"""golive's rule catalog (rules/catalog.yaml): every rule's words, as templates a pack's facts fill, and the facts
each rule's verdict rests on."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import pydantic
import yaml

from checker.errors import ConfigError
from checker.facts import Facts, fact_value, is_fact_path
from checker.model import Severity, Target
from checker.printable import printable
from checker.provenance import covers
from checker.schema import Strict, validate
from checker.yamlfile import Expect, YamlDocument, load_yaml, top_level_keys

RULE_ID = re.compile(r"^[A-Z]{2,8}-\d{3}$")


def data_dir(name: str) -> Path:
    """`rules/` or `reports/`: inside the installed package, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"golive's {name}/ folder is missing from the installation ({here})")


# ---------------------------------------------------------------- the catalog


class CatalogRule(Strict):
    id: str
    title: str
    section: str
    target: Target
    # the golive.yaml settings its check reads instead of probing its target running (HOOK-212: webhook.events): the
    # rule starts nothing; it is not configured while none of their sections is in golive.yaml (Rule.probes)
    settings: list[str] = []
    severity: Severity
    checks: str
    why: str
    probe: str
    fix: str
    facts: list[str] = []  # the provider facts its verdict rests on (paths into a pack's facts: "retry.base_s", "magic")
    # which of `facts` decide its verdict: had one of them been otherwise, the same integration could get another
    # verdict (the rest only shape how golive asks: the body it sends, its test values, a delivery's event); unset:
    # all of `facts`. Only an assumed or contested fact in here tags a failure "rests on golive's assumptions" or
    # "documents disagree" (checker/engine.py); a check may narrow it for one outcome (Outcome.decided_by)
    decides: list[str] | None = None
    # golive's own rule: it judges golive.yaml, not the provider, so it applies whatever a pack's documents say (KEY-004)
    every_pack: bool = False

    @pydantic.model_validator(mode="after")
    def _decides_among_facts(self) -> CatalogRule:
        stray = [path for path in self.decides or () if not any(covers(fact, path) for fact in self.facts)]
        if stray:
            raise ValueError(f"decides names facts the rule does not rest on: {', '.join(stray)} (add them to facts)")
        return self


class Catalog(Strict):
    schema_: Literal["golive-catalog/1"] = pydantic.Field(alias="schema")
    sections: list[str]
    rules: list[CatalogRule]


# ---------------------------------------------------------------- rule texts: templates filled from a pack's facts

TEXTS = ("title", "checks", "why", "probe", "fix")
WORDS = ("create.noun",)  # facts that only word the rules' texts: no verdict rests on them
NEUTRAL = {"create.noun": "resource"}  # else a placeholder reads <retry.max_attempts>: the pack's value goes there
# {retry.max_attempts} or {idempotency.max_length|255}: a fact of the pack, or the words after | when it is unset;
# ${VAR} (an environment variable in a config example) is text
PLACEHOLDER = re.compile(r"(?<!\$)\{([a-z_][a-z0-9_.]*)(?:\|([^{}]*))?\}")


def shown(text: str) -> str:
    """Text a pack wrote, as every output receives it: one printable line. The seam for pack text, as the engine's
    `_result` is for a target's: a pack is a file users download from a third party, so its words (the facts that
    fill a rule's texts, skip reasons, sources, document titles, quotes, assumptions, readings, its title) pass
    here once, when the pack is loaded, and no output receives a control character, a terminal escape or a line
    break from one; each renderer still escapes for its format (Markdown, HTML, workflow commands, YAML)."""
    return printable(text.strip(), one_line=True)


def filled(text: str, facts: Facts | None) -> str:
    """A rule's text in the pack's own numbers and words: "at most 3 attempts" for a provider documenting 3. Without
    a pack (the catalog on its own: `golive rules`, `explain` without --provider), every placeholder's fallback.
    A pack's value goes in as `shown` makes it: the rule's text stays one printable line."""

    def one(match: re.Match[str]) -> str:
        if facts is None:
            return match.group(2) if match.group(2) is not None else NEUTRAL.get(match.group(1), f"<{match.group(1)}>")
        value = fact_value(facts, match.group(1))
        if value is None or value == [] or value == {}:
            return match.group(2) if match.group(2) is not None else "the documented value"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, list):
            return shown(", ".join(str(v) for v in value))
        return f"{value:,}" if isinstance(value, int) and value >= 10_000 else shown(str(value))

    return PLACEHOLDER.sub(one, text)


@cache
def load_catalog() -> tuple[Catalog, YamlDocument]:
    doc = load_yaml(data_dir("rules") / "catalog.yaml", what="rule catalog", expect=schema_is("golive-catalog/", "golive's rule catalog"))
    catalog = validate(Catalog, doc.data, doc)
    problems = []
    seen: set[str] = set()
    for index, rule in enumerate(catalog.rules):
        where = ("rules", index, "id")
        if not RULE_ID.match(rule.id):
            problems.append(doc.problem(where, f"rule id {rule.id!r} is not of the form ABC-123"))
        if rule.id in seen:
            problems.append(doc.problem(where, f"rule id {rule.id} is defined twice"))
        if rule.section not in catalog.sections:
            problems.append(doc.problem(("rules", index, "section"), f"unknown section {rule.section!r}"))
        for n, path in enumerate(rule.facts):
            if not is_fact_path(path):
                problems.append(doc.problem(("rules", index, "facts", n), f"no such fact: {path!r}"))
        for name in TEXTS:
            for match in PLACEHOLDER.finditer(getattr(rule, name)):
                if not is_fact_path(match.group(1)):
                    problems.append(doc.problem(("rules", index, name), f"no such fact in a placeholder: {match.group(0)}"))
        seen.add(rule.id)
    if problems:
        raise ConfigError(problems)
    return catalog, doc


def schema_is(prefix: str, kind: str) -> Expect:
    """A check that the file says what it is (`schema: golive-pack/1`) before anything in it is reported:
    a file named as a pack by mistake is refused without echoing its lines."""

    def expect(node: yaml.MappingNode) -> str | None:
        schema = top_level_keys(node).get("schema")
        if isinstance(schema, yaml.ScalarNode) and str(schema.value).startswith(prefix):
            return None
        return f"not {kind}: its top level has no 'schema: {prefix}1'"

    return expect
