"""`golive init` and `golive schema`: the files a project starts with — a commented golive.yaml for one provider
(`checker.starter` writes it) and the JSON Schemas editors check it with."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from checker.commands.output import write_file


def schema(kind: str, output: Path | None) -> int:
    """The JSON Schema of a pack, of golive.yaml or of report.json, printed or written to `output`."""
    from checker.file_schemas import json_schema
    from checker.report.load import report_schema

    text = json.dumps(report_schema() if kind == "report" else json_schema(kind), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        write_file(output, text)
    return 0


def init(provider: str, output: Path, force: bool) -> int:
    """Write golive.yaml (and its JSON Schema beside it, in .golive/) and say what to do next."""
    from checker.file_schemas import json_schema
    from checker.packs import BUILTIN_PACKS, load_pack
    from checker.printable import printable
    from checker.starter import Starter, production_paths

    if output.exists() and not force:
        raise click.UsageError(f"{output} exists; use --force to overwrite it")
    pack = load_pack(provider)  # a pack path is checked before anything is written
    if provider not in BUILTIN_PACKS:  # as the config will read it: relative to the config's folder
        provider = os.path.relpath(Path(provider).resolve(), output.resolve().parent)
    starter = Starter(pack, provider, tuple(production_paths(output.resolve().parent)))
    # editors that speak yaml-language-server (VS Code's YAML extension, Neovim, JetBrains) check the file as it is typed
    schema_file = output.parent / ".golive" / "golive.schema.json"
    write_file(schema_file, json.dumps(json_schema("config"), indent=2) + "\n")
    relative = os.path.relpath(schema_file, output.parent).replace(os.sep, "/")
    write_file(output, f"# yaml-language-server: $schema={relative}\n{starter.render()}")
    click.echo(f"Wrote {output} (and its JSON Schema, {schema_file}) for {pack.title}: its documents cover {', '.join(starter.targets)}.")
    click.echo(f"Next: `golive check` probes golive's embedded {pack.name} sandbox, which needs no key. require: names every")
    others = [t for t in starter.targets if t not in ("sandbox", "repo")]
    if others:
        click.echo(f"target, so the verdict stays NOT READY until you uncomment and fill in your integration's {' and '.join(others)}.")
    else:
        click.echo("target: a missing one makes the verdict NOT READY.")
    example = f" ({printable(starter.key_example, one_line=True)})" if starter.key_example else ""  # a pack's prefix: its words
    click.echo(f"For the provider's own sandbox instead: set sandbox.url to it, and ${starter.env}_API_KEY to your sandbox key{example}.")
    if not starter.applies("KEY-003"):
        pass  # the pack recognises no sandbox key by its prefix: production paths would be scanned for nothing
    elif starter.production_paths:
        click.echo(f"KEY-003 scans these production paths for sandbox keys: {', '.join(starter.production_paths)} (repo.production_paths)")
    else:
        click.echo("KEY-003 is not probed until repo.production_paths names where production code and config live")
    return 0
