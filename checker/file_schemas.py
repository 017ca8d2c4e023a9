"""The JSON Schemas of golive's files (`golive schema pack|config`), generated from the models that validate them: above
those models (checker/packfile.py, checker/config.py), so that no model's module knows the files."""

from __future__ import annotations

from typing import Any

from checker.config import ConfigFile
from checker.packfile import PackFile


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a golive file: `pack` (a rule pack) or `config` (golive.yaml), for editors
    (yaml-language-server) and CI linters. The models that validate the files are its source, so it cannot drift."""
    schema = (PackFile if kind == "pack" else ConfigFile).model_json_schema(by_alias=True)
    title = {"pack": "golive rule pack (golive-pack/1)", "config": "golive.yaml (golive check's configuration)"}[kind]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **{k: v for k, v in schema.items() if k != "title"}}
