"""What `golive init` writes: a commented golive.yaml for the targets one pack's documents cover, in its own words."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from checker.model import PROBED_TARGETS
from checker.packs import BUILTIN_PACKS, Pack, data_dir
from checker.printable import printable

PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/*-]*")  # (whole) a YAML scalar that may need no quotes


# where production code and its configuration live in common layouts (not tests, examples or docs)
PRODUCTION_LAYOUTS = ("src", "app", "lib", "server", "api", "config", "deploy", "k8s", "helm", "infra", "terraform")


def production_paths(root: Path) -> list[str]:
    """The common production folders that exist under `root`, as globs for repo.production_paths."""
    return [f"{name}/**" for name in PRODUCTION_LAYOUTS if (root / name).is_dir()]


@dataclass(frozen=True, slots=True)
class Starter:
    """A pack's starting config: the targets its documents cover and the words its sections are written in."""

    pack: Pack
    provider: str  # as golive.yaml names it: a built-in's name, or the pack file's path relative to the config
    production_paths: tuple[str, ...] = ()

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets at least one rule of the pack applies to: the one place init knows which sections to write."""
        covered = {rule.target for rule in self.pack.rules if rule.skip is None}
        return tuple(target for target in PROBED_TARGETS if target in covered)  # in golive.yaml's order

    def applies(self, *rule_ids: str) -> bool:
        return any(self.pack.rule(rule_id).skip is None for rule_id in rule_ids)

    def example_rule(self, *rule_ids: str) -> str | None:
        """The first of these rules the pack covers: an example in a comment names a rule that means something here."""
        return next((rule_id for rule_id in rule_ids if self.applies(rule_id)), None)

    @property
    def env(self) -> str:
        """The prefix of the environment variables the config reads (MINTFAX_API_KEY)."""
        return re.sub(r"[^A-Z0-9]+", "_", self.pack.name.upper()).strip("_") or "PROVIDER"

    @property
    def client_command(self) -> str:
        """An example client command whose options carry the pack's own field names: `--to {to} --file {file}` for a
        fax, `--reference {ref}` for a label; golive fills the placeholders (docs/configuration.md)."""
        facts = self.pack.facts
        words = [f"python {re.sub(r'[^a-z0-9]+', '_', 'create ' + facts.create.noun.lower()).strip('_')}.py"]
        if facts.sandbox.magic_field and "delivered" in facts.magic:  # golive passes the sandbox's magic values as {to}
            words.append(f"--{_option(facts.sandbox.magic_field)} {{to}}")
        if facts.create.file is not None:
            words.append(f"--{_option(facts.create.file.field)} {{file}}")
        words.append(f"--{_option(_ref_field(facts.create.model_dump()) or 'ref')} {{ref}}")
        return " ".join(words)

    @property
    def placeholders(self) -> list[str]:
        """What the command's placeholders stand for, one comment line each."""
        facts = self.pack.facts
        said = []
        if facts.sandbox.magic_field and "delivered" in facts.magic:
            said.append(f"{{to}}        a `{facts.sandbox.magic_field}` golive picks from the sandbox's test values")
        if facts.create.file is not None:
            said.append("{file}      the path of a document to send")
        said.append(f"{{ref}}       your reference for one logical {facts.create.noun} (the same on every retry and re-run)")
        said.append("{base_url}  golive's proxy, to send through; {api_key}: the key to send with")
        return said

    @property
    def events(self) -> list[str]:
        hooks = self.pack.facts.webhooks
        if hooks is None:
            return []
        return list(hooks.required_events or hooks.event_types or ([hooks.created_event] if hooks.created_event else []))

    @property
    def secret_recipe(self) -> str:
        """A shell line that makes a webhook secret in the form the pack's signing scheme takes (signing.fresh_secret):
        for golive's checks the secret is the user's own choice, shared by golive and their receiver."""
        hooks = self.pack.facts.webhooks
        scheme = hooks.scheme if hooks else ""
        make = {
            "adyen": "import secrets; print(secrets.token_hex(32).upper())",  # an HMAC key: 64 hex digits
            "standard": "import base64, secrets; print('whsec_' + base64.b64encode(secrets.token_bytes(24)).decode())",
        }.get(scheme, "import secrets; print('whsec_' + secrets.token_hex(24))")
        return f'export {self.env}_WEBHOOK_SECRET=$(python3 -c "{make}")'

    @property
    def key_example(self) -> str | None:
        """How a sandbox key of this provider starts (fx_test_…), where its documents say."""
        prefixes = self.pack.facts.keys.test_prefixes
        return f"{prefixes[0]}…" if prefixes else None

    def render(self) -> str:
        import jinja2

        environment = jinja2.Environment(
            # golive.yaml's own ${VAR} and {placeholder} syntax stays as it is: the template speaks in << >> and <% %>
            block_start_string="<%",
            block_end_string="%>",
            variable_start_string="<<",
            variable_end_string=">>",
            comment_start_string="<#",
            comment_end_string="#>",
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            # a pack is a third party's file: whatever of it goes into golive.yaml stays on the line, and in the comment
            # or the value, it was written into (values are quoted by `scalar`, whose output this leaves as it is)
            finalize=on_its_line,
        )
        environment.filters["flow"] = flow
        environment.filters["scalar"] = scalar
        environment.filters["strings"] = lambda values: "[" + ", ".join(json.dumps(v) for v in values) + "]"
        template = environment.from_string((data_dir("rules") / "golive.template.yaml").read_text(encoding="utf-8"))
        return template.render(s=self, pack=self.pack, targets=self.targets, builtins=BUILTIN_PACKS)


def on_its_line(value: object) -> str:
    """What a `<< >>` of the template writes: one printable line, so that a pack's words (its noun, magic field, paths,
    key prefixes) cannot end the comment they are in and write a key of their own, nor hold a character YAML refuses."""
    return _NOT_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", printable(str(value), one_line=True))


_NOT_YAML = re.compile("[\ufeff\ufffe\uffff]")  # printable leaves these; a YAML stream cannot hold them (BOM: only first)


def flow(values: Iterable[str]) -> str:
    """A YAML flow sequence, quoting only what needs it: [fax.delivered, "a b"]."""
    return "[" + ", ".join(scalar(v) for v in values) + "]"


def scalar(value: str) -> str:
    """`value` as a YAML scalar that reads back as this very string: plain where it can be, else double-quoted with
    every character that is not printable ASCII escaped (one line, whatever the value holds)."""
    if PLAIN.fullmatch(value) and _reads_back(value):  # not `yes`, `null`, `1.0` or `x:`, which read back as others
        return value
    return str(yaml.safe_dump(value, default_style='"', allow_unicode=False, width=2**31)).rstrip("\n")


def _reads_back(plain: str) -> bool:
    try:
        return bool(yaml.safe_load(plain) == plain)
    except yaml.YAMLError:
        return False


def _option(field: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", field.lower()).strip("-")


def _ref_field(create: Mapping[str, Any]) -> str | None:
    """The field of the pack's example create request that carries `{ref}` (flexforward's `reference`)."""
    for part in ("fields", "body"):
        found = _holding(create.get(part) or {}, "{ref}")
        if found:
            return found
    return None


def _holding(data: Mapping[str, Any], value: str) -> str | None:
    for key, item in data.items():
        if item == value:
            return str(key)
        if isinstance(item, Mapping) and (inner := _holding(item, value)):
            return inner
    return None
