"""The command line's argument types, and the names it takes from golive's registries: the report formats
(`checker.report.FORMATS`) and the built-in packs (`checker.packs.BUILTIN_PACKS`). Both are read when they are needed
(an argument is converted, a help text shown), never at start-up, so `golive --version` imports neither."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import click

from checker.model import PROBED_TARGETS as REQUIRABLE  # --require: the targets golive.yaml configures

PROGRESS = ("auto", "lines", "none")

TEXT = "text"  # the checklist printed on the terminal: a format of the command line's own, beside the report files


def formats() -> tuple[str, ...]:
    """Every format `--format` takes: the terminal's checklist, then each report format's registry name."""
    from checker.report import FORMATS

    return (TEXT, *FORMATS)


def recorded() -> Mapping[str, str]:
    """The formats only a run writes (what they show is recorded while it runs, not kept in report.json), and why."""
    from checker.report import RECORDED

    return RECORDED


def built_in() -> str:
    """The built-in packs, as the help texts name them (checker/providers.py: their names without loading a pack)."""
    from checker.providers import BUILTIN_PACKS

    return ", ".join(BUILTIN_PACKS)


class PackOption(click.Option):
    """An option whose help names the built-in packs where it says `{built_in}`: filled from the packs' registry when
    the help is read (`--help`, shell completion), not when the command line is imported."""

    @property  # type: ignore[override]
    def help(self) -> str | None:
        return self._help.replace("{built_in}", built_in()) if self._help and "{built_in}" in self._help else self._help

    @help.setter
    def help(self, value: str | None) -> None:
        self._help = value


class CsvChoice(click.ParamType):  # type: ignore[type-arg]
    """A comma-separated list of choices: --format text,json. The choices (and those refused, with why) are read
    when a value is converted."""

    name = "list"

    def __init__(self, choices: Callable[[], Sequence[str]], refused: Callable[[], Mapping[str, str]] = dict) -> None:
        self._choices = choices
        self._refused = refused  # choices this command does not take, and why

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        if isinstance(value, list):
            return value
        refused = self._refused()
        choices = tuple(c for c in self._choices() if c not in refused)
        items = [v.strip() for v in str(value).split(",") if v.strip()]
        if bad := next((v for v in items if v in refused), None):
            self.fail(f"{bad}: {refused[bad]}", param, ctx)
        wrong = [v for v in items if v not in choices]
        if wrong or not items:
            self.fail(f"{', '.join(wrong) or 'nothing'} is not one of {', '.join(choices)}", param, ctx)
        return items


class RequireList(CsvChoice):
    """--require: targets among REQUIRABLE, comma-separated; `none` (or an empty value) requires nothing, whatever
    golive.yaml's require: names."""

    name = "targets"

    def __init__(self) -> None:
        super().__init__(lambda: (*REQUIRABLE, "none"))

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        if isinstance(value, list):
            return value
        items = super().convert(value, param, ctx) if str(value).strip(" ,") else ["none"]
        if "none" in items and len(set(items)) > 1:
            self.fail(f"none requires nothing: it cannot be combined with {', '.join(i for i in items if i != 'none')}", param, ctx)
        return items


class IdList(click.ParamType):  # type: ignore[type-arg]
    """Rule ids or prefixes, comma-separated and repeatable: --select IDEM-001,RETRY."""

    name = "ids"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        return [v.strip().upper() for v in str(value).split(",") if v.strip()]


class ReplayStyle(click.Choice):  # type: ignore[type-arg]
    """How the embedded sandbox signals a replay, named by what a user sees; the revision numbers it was first
    spelt with (000, 001: the guide's two revisions) are still taken."""

    STYLES = {"replayed-header": "000", "key-echo": "001"}  # name -> the sandbox's option value

    def __init__(self) -> None:
        super().__init__(list(self.STYLES))

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        older = {code: name for name, code in self.STYLES.items()}
        return self.STYLES[super().convert(older.get(str(value), value), param, ctx)]
