"""Rule packs: the shared catalog (rules/catalog.yaml) joined with one provider's facts and overrides, a pack built on
another with `extends:`. The parts live in modules of their own, re-exported here: the facts models (checker/facts.py),
the catalog and its text templates (checker/catalog.py), the pack file's models (checker/packfile.py) and each rule's
basis (checker/basis.py)."""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from checker.basis import _basis, _cite, _frozen, _provenance_problems, _reading_scopes, _readings, provenance_of
from checker.catalog import (
    NEUTRAL,
    PLACEHOLDER,
    RULE_ID,
    TEXTS,
    WORDS,
    Catalog,
    CatalogRule,
    data_dir,
    filled,
    load_catalog,
    schema_is,
    shown,
)
from checker.errors import ConfigError, Problem
from checker.facts import (
    PATH_CHARACTERS,
    SANDBOX_FEATURES,
    CreateFacts,
    EndpointPath,
    EnvelopeFacts,
    ErrorFacts,
    Facts,
    FactsModel,
    FileFacts,
    FileSpec,
    IdempotencyFacts,
    KeyFacts,
    KeyFormat,
    MismatchError,
    RateLimitFacts,
    RateLimitHeaders,
    ReadPath,
    RedeliveryFacts,
    RegistrationFacts,
    ReplayFacts,
    RetryFacts,
    SandboxFacts,
    SdkSchedule,
    SerialisationFacts,
    WebhookFacts,
    _fields,
    fact_paths,
    fact_value,
    is_fact_path,
    path_problem,
    size_limit,
)
from checker.linear_regex import LinearPattern
from checker.model import Rule
from checker.packfile import Conflict, Document, PackFile, Provenance, Quote, RuleOverride
from checker.provenance import covers
from checker.providers import BUILTIN_PACKS
from checker.schema import validate
from checker.yamlfile import YamlDocument, load_yaml

__all__ = [
    "BUILTIN_PACKS",
    "NEUTRAL",
    "PATH_CHARACTERS",
    "PLACEHOLDER",
    "RULE_ID",
    "SANDBOX_FEATURES",
    "TEXTS",
    "WORDS",
    "Catalog",
    "CatalogRule",
    "Conflict",
    "CreateFacts",
    "Document",
    "EndpointPath",
    "EnvelopeFacts",
    "ErrorFacts",
    "Facts",
    "FactsModel",
    "FileFacts",
    "FileSpec",
    "IdempotencyFacts",
    "KeyFacts",
    "KeyFormat",
    "MismatchError",
    "Pack",
    "PackFile",
    "Provenance",
    "Quote",
    "RateLimitFacts",
    "RateLimitHeaders",
    "ReadPath",
    "RedeliveryFacts",
    "RegistrationFacts",
    "ReplayFacts",
    "RetryFacts",
    "RuleOverride",
    "SandboxFacts",
    "SdkSchedule",
    "SerialisationFacts",
    "WebhookFacts",
    "_fields",
    "data_dir",
    "doc_error",
    "embedded_id_sample",
    "fact_paths",
    "fact_value",
    "filled",
    "is_fact_path",
    "load_catalog",
    "load_pack",
    "path_problem",
    "provenance_of",
    "resolve_pack_path",
    "shown",
    "size_limit",
]


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    title: str
    path: str
    facts: Facts
    sections: tuple[str, ...]
    rules: tuple[Rule, ...]
    documents: Mapping[str, str] = dataclasses.field(default_factory=dict)  # name -> "Title — URL"

    def cite(self, document: str | None) -> str:
        """A document as a user finds it ("Title — URL"), not the file name a pack knows it by."""
        return self.documents.get(document or "", document or "n/a")

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def is_live_key(self, key: str) -> bool:
        return any(key.startswith(p) for p in self.facts.keys.live_prefixes)

    def is_test_key(self, key: str) -> bool:
        return any(key.startswith(p) for p in self.facts.keys.test_prefixes)


def resolve_pack_path(name_or_path: str, relative_to: Path | None = None, named_in: tuple[str, int | None] | None = None) -> Path:
    """The pack file a provider name stands for. `named_in` (file, line) is where the name was written, so
    that an unknown provider is reported there (golive.yaml:2: provider: …)."""

    def problem(message: str, hint: str = "") -> ConfigError:
        if named_in is None:
            return ConfigError.single(name_or_path, message, hint=hint)
        return ConfigError([Problem(named_in[0], named_in[1], "provider", f"{message}: {name_or_path!r}", hint)])

    if name_or_path in BUILTIN_PACKS:
        return data_dir("rules") / f"{name_or_path}.yaml"
    try:
        path = Path(name_or_path).expanduser()
    except RuntimeError:  # "~someone" with no such user
        path = Path(name_or_path)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    if path.suffix not in (".yaml", ".yml"):
        if path.exists():  # never read (and echo) a file that does not even claim to be a pack
            raise problem("a rule pack is a YAML file ending in .yaml or .yml", "see docs/packs.md, 'Writing a rule pack'")
        close = difflib.get_close_matches(name_or_path, BUILTIN_PACKS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"built-in packs: {', '.join(BUILTIN_PACKS)}; or give a path to a pack YAML"
        raise problem("unknown provider", hint)
    if named_in is not None and not path.is_file():
        raise problem("no such pack file", f"looked for {path}")
    return path


def load_pack(name_or_path: str, relative_to: Path | None = None, named_in: tuple[str, int | None] | None = None) -> Pack:
    return _load_pack(resolve_pack_path(name_or_path, relative_to, named_in).resolve())


@cache
def _load_pack(path: Path) -> Pack:
    catalog, _ = load_catalog()
    doc = load_yaml(path, what="rule pack", expect=schema_is("golive-pack/", "a golive rule pack"))
    pack_file = validate(PackFile, _pack_data(path, doc, ()), doc)

    known = {rule.id: rule for rule in catalog.rules}
    problems = []
    for rule_id in pack_file.rules:
        if rule_id not in known:
            close = difflib.get_close_matches(rule_id, known, n=1)
            problems.append(doc.problem(("rules", rule_id), "unknown rule id", f"did you mean '{close[0]}'?" if close else ""))
    problems += _provenance_problems(pack_file, doc)
    problems += _id_shape_problems(pack_file, doc)
    problems += _typed_field_problems(pack_file, doc)
    if problems:
        raise ConfigError(problems)

    rules = []
    for base_rule in catalog.rules:
        override = pack_file.rules.get(base_rule.id)
        skip = f"the {pack_file.name} pack does not cover this rule" if override is None else shown(override.skip or "") or None
        skip = None if base_rule.every_pack else skip
        source = shown(override.source or "") or None if override else None
        words = {name: filled(getattr(base_rule, name), pack_file.facts) for name in TEXTS}
        rules.append(
            Rule(
                id=base_rule.id,
                section=base_rule.section,
                target=base_rule.target,
                settings=tuple(base_rule.settings),
                severity=(override.severity if override and override.severity else base_rule.severity),
                **words,
                source=source,
                cite=(
                    _cite(pack_file, override.source)
                    if override and source
                    else f"assumed (no document of the pack says it): {shown(override.assumed)}"
                    if override and override.assumed
                    else None
                ),
                skip=skip,
                params=_frozen(override.params) if override else {},
                basis=_basis(pack_file, base_rule.facts),
                readings=_readings(pack_file, base_rule.id, base_rule.facts),
                decides=tuple(base_rule.facts if base_rule.decides is None else base_rule.decides),
                reading_scopes=_reading_scopes(pack_file, base_rule.id, base_rule.facts),
            )
        )
    return Pack(
        name=pack_file.name,
        title=shown(pack_file.title) or pack_file.name,
        path=str(path),
        facts=pack_file.facts,
        sections=tuple(catalog.sections),
        rules=tuple(rules),
        documents=_frozen({shown(name): _cite(pack_file, name) for name in pack_file.documents}),  # as `source` names them
    )


MAX_EXTENDS = 8  # how long a chain of packs extending packs may be
_LOADING: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("golive_packs_loading", default=())


def _pack_data(path: Path, doc: YamlDocument, chain: tuple[Path, ...]) -> dict[str, Any]:
    """A pack's data with what it extends merged in (`extends:` a built-in pack, or a pack file relative to this one,
    which may extend another); the documents a base brought keep their titles and URLs, so they cite its provider."""
    data = doc.data
    extends = data.get("extends")
    if extends is None:
        return data
    if not isinstance(extends, str) or not extends:
        raise doc_error(doc, ("extends",), "must name a built-in pack or a pack file")
    if extends in BUILTIN_PACKS:
        base_path = _builtin_path(extends)
    else:
        base_path = (path.parent / Path(extends).expanduser()).resolve()
        if base_path.suffix not in (".yaml", ".yml") or not base_path.is_file():
            hint = f"a built-in pack ({', '.join(BUILTIN_PACKS)}) or a pack file; looked for {base_path}"
            raise doc_error(doc, ("extends",), f"no such pack: {extends!r}", hint)
    if base_path == path or base_path in chain or base_path in _LOADING.get() or len(chain) + len(_LOADING.get()) >= MAX_EXTENDS:
        raise doc_error(doc, ("extends",), f"{extends!r} leads back to this pack (or is more than {MAX_EXTENDS} packs deep)")
    token = _LOADING.set((*_LOADING.get(), path))
    try:
        _load_pack(base_path)  # the base is valid on its own, its problems reported at its own lines
    finally:
        _LOADING.reset(token)
    base_doc = load_yaml(base_path, what="rule pack", expect=schema_is("golive-pack/", "a golive rule pack"))
    base = _pack_data(base_path, base_doc, (*chain, path))
    merged = _deep_merge(_without_what_is_restated(base, data), data)
    own_rules = data.get("rules") or {}
    if isinstance(own_rules, Mapping):
        # a rule the pack names replaces the base's entry whole (source and skip exclude each other)
        merged["rules"] = {**base.get("rules", {}), **own_rules}
    merged.pop("extends", None)
    return merged


def _builtin_path(name: str) -> Path:
    return (data_dir("rules") / f"{name}.yaml").resolve()


def embedded_id_sample(facts: Facts) -> str:
    """An id as golive's embedded sandbox makes it for this pack (checker/sandbox/packed.py, features.py): a UUID for
    `courier_retry`, else `sandbox.id_prefix` and 24 hex digits."""
    if "courier_retry" in facts.sandbox.features:
        return "a1b2c3d4-e5f6-4890-abcd-ef1234567890"
    return facts.sandbox.id_prefix + "0123456789abcdef01234567"


def _id_shape_problems(pack: PackFile, doc: YamlDocument) -> list[Problem]:
    """The embedded sandbox must make ids of the documented shape, or IDEM-001 would fail golive's own emulation."""
    pattern, sample = pack.facts.create.id_pattern, embedded_id_sample(pack.facts)
    if pattern is None or LinearPattern(pattern).fullmatch(sample):
        return []
    return [
        doc.problem(
            ("facts", "create", "id_pattern"),
            f"the embedded sandbox's ids ({sample!r}) do not match the pattern {pattern}",
            "set facts.sandbox.id_prefix so that golive's own sandbox makes ids of the documented shape",
        )
    ]


def _typed_field_problems(pack: PackFile, doc: YamlDocument) -> list[Problem]:
    """A form or multipart request carries every value as text: a required number or boolean there is a field no
    request can satisfy, and the embedded sandbox would refuse every create (IDEM-001 `error`, not the pack's fault
    shown)."""
    encoding = pack.facts.create.encoding
    if encoding == "json":
        return []
    return [
        doc.problem(
            ("facts", "sandbox", "required_types", name),
            f"a {encoding} request carries its fields as text, never as {kind}: the embedded sandbox would refuse every create",
            "required_types is for JSON bodies (create.encoding: json); for a form field, list it in sandbox.required "
            "and give its shape in sandbox.patterns",
        )
        for name, kind in pack.facts.sandbox.required_types.items()
        if kind in ("integer", "number", "boolean")
    ]


def doc_error(doc: YamlDocument, path: tuple[str | int, ...], message: str, hint: str = "") -> ConfigError:
    return ConfigError([doc.problem(path, message, hint)])


def _without_what_is_restated(base: dict[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """The base pack less what no longer holds once `child` restates a fact: the base's provenance of that fact
    (and of its parts) and the conflicts about it. A provenance entry the child gives replaces the base's whole
    (documented and assumed exclude each other); a fact it changes without saying where from is `unstated`."""
    changed = _fact_leaves(child.get("facts") or {})
    own = child.get("provenance") or {}
    provenance = {
        path: entry
        for path, entry in (base.get("provenance") or {}).items()
        if path not in own and not any(path == leaf or path.startswith(leaf + ".") for leaf in changed)
    }
    conflicts = [
        c
        for c in base.get("conflicts") or []
        if not any(covers(leaf, fact) or covers(fact, leaf) for leaf in changed for fact in (c.get("facts") or []))
    ]
    return {**base, "provenance": provenance, "conflicts": conflicts}


def _fact_leaves(facts: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths a pack's `facts:` sets ("webhooks.tolerance_s", "magic.busy")."""
    leaves = []
    for key, value in facts.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        leaves += _fact_leaves(value, path) if isinstance(value, Mapping) and value else [path]
    return leaves


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, mappings merged key by key. A null where the base has an entry removes it (the
    field's default applies): how a pack extending mintfax drops `Idempotency-Replayed` from the replay headers."""
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
