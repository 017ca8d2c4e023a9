"""golive.yaml: read, expand ${VAR}s, validate once into frozen models (docs/design.md §3)."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml

from checker.errors import ConfigError, Problem
from checker.model import ProbedTarget, Severity
from checker.redact import remember, url_credentials
from checker.schema import Strict, validate
from checker.yamlfile import Path_, YamlDocument, dotted, load_yaml, parse_yaml, top_level_keys

ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class SandboxSection(Strict):
    url: str = "builtin"
    api_key: str | None = None
    timeout: float = pydantic.Field(default=30, gt=0, le=600)  # seconds for one whole answer of the sandbox (body included)


class ClientSection(Strict):
    command: str
    env: dict[str, str] = {}
    cwd: str = "."
    timeout: float = pydantic.Field(60, gt=0, le=3600)
    batch_command: str | None = None


class WebhookSection(Strict):
    url: str | None = None  # may hold {port}: golive then picks a free port for the receiver it starts
    secret: str | None = None
    start: str | None = None
    env: dict[str, str] = {}  # for `start` and `processed_count`; placeholders {port} {url} {secret} {workdir} {python}
    cwd: str = "."
    start_timeout: float = pydantic.Field(20, gt=0, le=600)  # seconds to wait for the receiver's port
    events: list[str] = []
    processed_count: str | None = None
    # the integration's own command that registers its endpoint with the provider (placeholders {base_url}
    # {api_key} {url} {python} {workdir}): with the embedded sandbox, golive runs it against an account of its own
    # and HOOK-212 and BAL-001 read back what it registered instead of taking webhook.events on trust
    registration: str | None = pydantic.Field(None, alias="register")  # ("register" itself is a pydantic name)


class RepoSection(Strict):
    paths: list[str] = ["."]
    production_paths: list[str] = []


class BalanceSection(Strict):
    poll: bool = False


class RulesSection(Strict):
    select: list[str] = []
    ignore: list[str] = []
    severity: dict[str, Severity] = {}


class Waiver(Strict):
    rule: str
    reason: str = pydantic.Field(min_length=1)
    expires: dt.date
    by: str = pydantic.Field(min_length=1)


class Attestation(Strict):
    by: str = pydantic.Field(min_length=1)
    date: dt.date
    evidence: str = ""


class ConfigFile(Strict):
    provider: str
    environment: Literal["sandbox", "live"] = "sandbox"
    sandbox: SandboxSection = SandboxSection()
    client: ClientSection | None = None
    webhook: WebhookSection | None = None
    repo: RepoSection = RepoSection()
    documents: list[str] = []
    balance: BalanceSection = BalanceSection()
    require: list[ProbedTarget] = []  # targets that must be configured and probed
    rules: RulesSection = RulesSection()
    waivers: list[Waiver] = []
    attestations: dict[str, Attestation] = {}


@dataclass(frozen=True, slots=True)
class Config:
    """A validated golive.yaml: the file's settings, where it lives, and where each secret came from."""

    file: ConfigFile
    path: str
    base_dir: Path
    secrets: tuple[str, ...]
    # key path ("sandbox.api_key") -> True when the file wrote a literal instead of a ${VAR}
    literal_secrets: Mapping[str, bool]
    lines: Mapping[Path_, int]

    def line_of(self, *path: str | int) -> int | None:
        return YamlDocument(self.path, {}, dict(self.lines)).line_of(tuple(path))

    def resolve(self, relative: str) -> Path:
        try:
            path = Path(relative).expanduser()
        except RuntimeError:  # "~someone" with no such user: taken literally
            path = Path(relative)
        return path if path.is_absolute() else self.base_dir / path


SECRET_KEYS: tuple[Path_, ...] = (("sandbox", "api_key"), ("webhook", "secret"))
# the settings whose values name, count or select things (a provider, an environment, rule ids, folders, numbers): a
# ${VAR} there holds no credential, and masking its value ("live", "sandbox", a folder) wherever it stands would mask
# golive's own words. A ${VAR} anywhere else (a command, a URL, an env entry, a setting added later) is a secret.
NAMING_SETTINGS = (
    "provider",
    "environment",
    "require",
    "rules",
    "waivers",
    "attestations",
    "repo",
    "documents",
    "balance",
    "sandbox.timeout",
    "client.cwd",
    "client.timeout",
    "webhook.cwd",
    "webhook.start_timeout",
    "webhook.events",
)


def find_config(start: Path) -> Path | None:
    """golive.yaml in `start` or, inside a git repository, in the nearest parent up to the repository's root (a folder
    holding `.git`); outside a repository only `start` is looked at."""
    folders = [start, *start.parents]
    root = next((i for i, folder in enumerate(folders) if (folder / ".git").exists()), 0)
    return next((folder / "golive.yaml" for folder in folders[: root + 1] if (folder / "golive.yaml").is_file()), None)


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    doc = load_yaml(path, what="config file", expect=_looks_like_config)
    return _build(doc, path, os.environ if environ is None else environ)


def parse_config(text: str, name: str = "golive.yaml", environ: Mapping[str, str] | None = None) -> Config:
    return _build(parse_yaml(text, name, expect=_looks_like_config), Path(name), os.environ if environ is None else environ)


def minimal_config(provider: str, api_key: str, *, base_dir: Path | None = None) -> Config:
    """A config made in code (for `golive demo` and `check --provider` without a file)."""
    file = ConfigFile(provider=provider, sandbox=SandboxSection(url="builtin", api_key=api_key))
    remember([api_key])
    return Config(file, "(built-in)", base_dir or Path.cwd(), (api_key,), {}, {})


def _looks_like_config(node: yaml.MappingNode) -> str | None:
    """A file none of whose keys is (nor is close to) a golive setting is some other file: say so without
    listing its keys, which could be anything (a password file named by mistake)."""
    known = list(ConfigFile.model_fields)
    keys = [str(k) for k in top_level_keys(node)]
    if not keys or any(k in known or difflib.get_close_matches(k, known, n=1) for k in keys):
        return None
    return f"not a golive.yaml: none of its top-level keys is a golive setting ({', '.join(known[:4])}, …)"


def _build(doc: YamlDocument, path: Path, environ: Mapping[str, str]) -> Config:
    problems: list[Problem] = []
    literal: dict[str, bool] = {}
    substituted: dict[str, list[str]] = {}
    data = _expand(doc.data, (), doc, environ, problems, literal, substituted)
    # a problem with any value that came from the environment shows it masked: a secret exported for one
    # key and written into another (`sandbox: ${MINTFAX_API_KEY}`) must not be printed in full
    from_environment = {path for path in doc.lines if dotted(path) in literal and _refers(doc.data, path)}
    try:
        model = validate(ConfigFile, data, doc, secrets={*SECRET_KEYS, *from_environment})
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    secrets = _secrets(model, substituted)
    remember(secrets)
    return Config(
        file=model,
        path=str(path),
        base_dir=path.resolve().parent,
        secrets=secrets,
        literal_secrets={k: v for k, v in literal.items() if k in {dotted(p) for p in SECRET_KEYS}},
        lines=dict(doc.lines),
    )


def _secrets(model: ConfigFile, substituted: Mapping[str, list[str]]) -> tuple[str, ...]:
    """What every output masks: the key and the webhook secret, every value a ${VAR} put into a setting that can hold
    a credential, and the credentials of the configured URLs (a password, every query value)."""
    webhook = model.webhook
    found = [model.sandbox.api_key, webhook.secret if webhook else None]
    found += [v for key, values in substituted.items() if not any(_within(key, n) for n in NAMING_SETTINGS) for v in values]
    found += [*url_credentials(model.sandbox.url), *url_credentials(webhook.url if webhook and webhook.url else "")]
    return tuple(dict.fromkeys(value for value in found if value))


def _within(key: str, setting: str) -> bool:
    return key == setting or key.startswith((setting + ".", setting + "["))


def _refers(data: Any, path: Path_) -> bool:
    """Whether the raw value at `path` refers to an environment variable."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(data, str) and any(m.group(0) != "$$" for m in ENV_REF.finditer(data))


def _expand(
    value: Any,
    path: Path_,
    doc: YamlDocument,
    environ: Mapping[str, str],
    problems: list[Problem],
    literal: dict[str, bool],
    substituted: dict[str, list[str]],
) -> Any:
    """`value` with its ${VAR}s filled; `literal` records which values were written in the file, `substituted` each
    value a ${VAR} (or its default) put in, by key."""
    if isinstance(value, dict):
        return {k: _expand(v, (*path, k), doc, environ, problems, literal, substituted) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, (*path, i), doc, environ, problems, literal, substituted) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    # from the environment only when the value is one ${VAR} (or ${VAR:-}): a default, a `$$` or any other
    # text around it is written in the file itself (KEY-004)
    whole = ENV_REF.fullmatch(value)
    literal[dotted(path)] = whole is None or whole.group(0) == "$$" or bool(whole.group(2))

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in environ and environ[name] != "":
            substituted.setdefault(dotted(path), []).append(environ[name])
            return environ[name]
        if default is not None:
            substituted.setdefault(dotted(path), []).append(default)
            return default
        problems.append(doc.problem(path, f"environment variable {name} is not set", _unset_hint(path, name)))
        return ""

    return ENV_REF.sub(substitute, value)


def _unset_hint(path: Path_, name: str) -> str:
    """What to do about an unset variable, in the words of the setting it fills: a secret is never given a literal
    default (KEY-004 flags one), and a webhook secret for golive's checks is the user's own choice."""
    if path == ("webhook", "secret"):
        return (
            f"set it to the secret your receiver verifies with: for golive's checks (the embedded sandbox too) any value you "
            f"choose, e.g. export {name}=$(python3 -c \"import secrets; print('whsec_' + secrets.token_hex(24))\") "
            "(golive init's comment gives the form your provider's scheme takes)"
        )
    if path == ("sandbox", "api_key"):
        return f"set it to your sandbox key, or write ${{{name}:-}} (empty: the embedded sandbox makes its own key)"
    return f"set it, or write ${{{name}:-default}}"
