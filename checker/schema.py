"""Validate parsed YAML into frozen pydantic models; every problem named by file, line and key."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Collection
from typing import Any, TypeVar

import pydantic

from checker.errors import ConfigError, Problem
from checker.redact import looks_like_secret, mask
from checker.yamlfile import Path_, YamlDocument

M = TypeVar("M", bound=pydantic.BaseModel)


class Strict(pydantic.BaseModel):
    """Base of every config and pack model: immutable, no unknown keys."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def validate(model: type[M], data: Any, doc: YamlDocument, base: Path_ = (), secrets: Collection[Path_] = ()) -> M:
    """`data` as `model`, or every problem with file and line; a value at one of the `secrets` paths is shown masked."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ConfigError([_problem(model, err, doc, base, secrets) for err in exc.errors()]) from None


def _problem(model: type[pydantic.BaseModel], err: Any, doc: YamlDocument, base: Path_, secrets: Collection[Path_]) -> Problem:
    loc: Path_ = tuple(part for part in err["loc"] if not _is_union_tag(part))
    path = (*base, *loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        known = _field_names_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else (f"known keys: {', '.join(known)}" if known else "")
        return doc.problem(path, "unknown key", hint)
    if kind == "missing":
        return doc.problem(path, "required key is missing")
    value = err.get("input")
    if isinstance(value, (dict, list)):
        shown = ""
    elif path in secrets or looks_like_secret(str(value)):  # a problem with a key or a secret never prints its value
        shown = f" (got {mask(str(value))!r})"
    else:
        shown = f" (got {value!r})"
    # a validator's own words, without pydantic's "Value error, " before them
    said = str(err["ctx"]["error"]) if kind == "value_error" and "error" in err.get("ctx", {}) else err["msg"]
    message = said[0].lower() + said[1:]
    return doc.problem(path, f"{message}{shown}")


def _is_union_tag(part: str | int) -> bool:
    # pydantic puts the union member's type name into loc ("str", "int", "function-after[...]")
    return isinstance(part, str) and (part in {"str", "int", "float", "bool", "list", "dict"} or "[" in part)


def _field_names_at(model: type[pydantic.BaseModel], loc: Path_) -> list[str]:
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, pydantic.BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            args = typing.get_args(current)
            current = args[-1] if args else None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, pydantic.BaseModel):
        return sorted(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in members if isinstance(a, type) and issubclass(a, pydantic.BaseModel)]
        return models[0] if models else (members[0] if len(members) == 1 else annotation)
    return annotation
