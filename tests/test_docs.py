"""The README and the docs/ pages stay true: every relative link between them resolves (to a file, and to a heading
where it names one), every `golive …` command they show is one golive takes (its subcommand, options and their
values, parsed by golive's own command line), and the README's first hour runs as written against the embedded
sandbox."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml

from tests.conftest import ROOT, golive

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(`{3,})(\S*)")
SHELL = {"bash", "sh", "shell", "console", ""}  # console and unlabelled blocks: only the lines after a `$ ` prompt
SHELL_KEYS = {"run", "script", "entry"}  # the YAML keys whose values a shell runs: a workflow step, a GitLab job, a hook


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def fenced(page: Path) -> Iterator[tuple[str, int, list[str]]]:
    """Each fenced block of a page: its language, the line it starts on, its lines."""
    lang: str | None = None
    body: list[str] = []
    start = 0
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if lang is None and (m := FENCE.match(line)):
            lang, start, body = m.group(2), number, []
        elif lang is not None and line.startswith("```"):
            yield lang, start, body
            lang = None
        elif lang is not None:
            body.append(line)


def prose(page: Path) -> str:
    """A page without its fenced blocks (each block's lines left blank, so line numbers hold)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    for _, start, body in fenced(page):
        for i in range(start - 1, start + len(body) + 1):
            lines[i] = ""
    return "\n".join(lines)


def _golive_words(words: list[str]) -> Iterator[list[str]]:
    """The golive invocations in one shell line's words: `golive …` (or `.venv/bin/golive …`) as a command of its own,
    up to `&&`, `;`, `|` or a redirection."""
    current: list[str] | None = None
    first = True
    for word in [*words, "&&"]:
        if word in ("&&", "||", ";", "|", ">", ">>", "<", "2>", "2>&1"):
            if current is not None:
                yield current
            current, first = None, True
            continue
        if first and (word == "golive" or word.endswith("/golive")):
            current = []
        elif current is not None:
            current.append(word)
        first = False


def commands(page: Path) -> Iterator[tuple[str, list[str]]]:
    """Every golive command a page shows in a fenced block: shell lines, `$ ` lines of a console or an unlabelled block,
    and the strings of a YAML block (a CI step's `run:`, a pre-commit hook's `entry:`)."""
    for lang, start, body in fenced(page):
        where = f"{_name(page)}:{start}"
        if lang in SHELL:
            text = "\n".join(body).replace("\\\n", " ")
            for line in text.splitlines():
                if lang in ("console", "") and not line.startswith("$ "):
                    continue
                for argv in _golive_words(shlex.split(line.removeprefix("$ "), comments=True)):
                    yield where, argv
        elif lang in ("yaml", "yml"):
            stack: list[tuple[object, object]] = [(None, yaml.safe_load("\n".join(body)))]
            while stack:
                key, node = stack.pop()
                if isinstance(node, dict):
                    stack.extend(node.items())
                elif isinstance(node, list):
                    stack.extend((key, item) for item in node)
                elif isinstance(node, str) and key in SHELL_KEYS:
                    for argv in _golive_words(shlex.split(node, comments=True)):
                        yield where, argv


def inline_commands(page: Path) -> Iterator[tuple[str, list[str]]]:
    """The `golive …` code spans of a page's text that are one command as typed: not a synopsis (`[--flag]`,
    `a|b`), not elided (`…`), not a placeholder in angle brackets."""
    text = prose(page)
    if page.name == "troubleshooting.md":  # its first column is what golive prints, not what a user types
        text = "\n".join(re.sub(r"^\|[^|]*(\\\|[^|]*)*\|", "|", line) if line.startswith("| ") else line for line in text.split("\n"))
    for m in re.finditer(r"(?<!`)`(golive [^`\n]+)`(?!`)", text):
        span = m.group(1)
        if any(mark in span for mark in ("[", "|", "…", "<", "$(")):
            continue
        line = text[: m.start()].count("\n") + 1
        yield f"{_name(page)}:{line}", shlex.split(span)[1:]


def parse(argv: list[str]) -> None:
    """Parse a golive command line as `golive` would, down to its last subcommand, without running it: an unknown
    command or option, a missing argument or a value its option refuses raises click's UsageError."""
    from checker.cli import cli

    command: click.Command = cli
    ctx = command.make_context("golive", list(argv))
    while isinstance(command, click.Group):
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            return
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        command, ctx = sub, sub.make_context(name, rest, parent=ctx)


def github_anchors(page: Path) -> set[str]:
    """The anchors GitHub makes for a page's headings: lower case, punctuation other than `-` and `_` dropped, spaces
    as `-`; a repeated heading gets `-1`, `-2`…"""
    anchors: set[str] = set()
    lines = prose(page).splitlines()
    for line in lines:
        if m := re.match(r"^#{1,6} (.+?)#*\s*$", line):
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            n, candidate = 0, slug
            while candidate in anchors:
                n += 1
                candidate = f"{slug}-{n}"
            anchors.add(candidate)
    return anchors


def test_every_relative_link_resolves():
    """Every relative link of the README and the docs/ pages names a file of the repository and, with `#anchor`, one
    of its headings (as GitHub makes the anchor); a link into a page that moved is found here, not by a reader."""
    broken = []
    for page in PAGES:
        text = re.sub(r"`[^`\n]*`", lambda m: " " * len(m.group(0)), prose(page))  # `[link](…)` in code is no link
        for m in re.finditer(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)\)", text):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            where = f"{_name(page)}:{text[: m.start()].count(chr(10)) + 1}"
            file, _, anchor = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            if not path.exists() or ROOT not in (path, *path.parents):
                broken.append(f"{where}: {target}: no such file")
            elif anchor and path.suffix == ".md" and anchor not in github_anchors(path):
                broken.append(f"{where}: {target}: no heading #{anchor} in {_name(path)}")
    assert not broken, "\n".join(broken)


def test_every_page_is_linked_from_the_readme():
    """The README's "Where to go next" names every docs/ page: none is left for a reader to stumble on."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    where = readme[readme.index("## Where to go next") :]
    assert [p for p in PAGES[1:] if f"](docs/{p.name})" not in where] == []


def test_the_pages_show_golive_commands():
    """The collectors find what the pages show (a change that hid every block from them would pass vacuously)."""
    shown = {argv[0] for page in PAGES for _, argv in commands(page)}
    assert {"demo", "init", "check", "explain", "sandbox", "trigger", "report"} <= shown, shown
    assert len([argv for page in PAGES for _, argv in inline_commands(page)]) > 20


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_yaml_block_parses(page: Path):
    """A YAML block is copied into a workflow, a pack or a golive.yaml: it must be YAML (the README's workflow once
    had `run: echo "golive: $VERDICT"`, which no YAML parser takes: a plain value cannot hold `: `)."""
    for lang, start, body in fenced(page):
        if lang in ("yaml", "yml"):
            try:
                yaml.safe_load("\n".join(body))
            except yaml.YAMLError as exc:
                pytest.fail(f"{_name(page)}:{start}: {exc}")


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_golive_command_shown_parses(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Each command in a fenced block parses with golive's own command line (a path it must find, a report to render,
    is the only thing allowed to be missing: the page's files are the reader's). A command named in the text may
    stop short (`golive sandbox --port`, `golive explain`), but what it does name must exist: its subcommands,
    options and their values."""
    monkeypatch.chdir(tmp_path)
    refused = []
    for inline, (where, argv) in [*((False, c) for c in commands(page)), *((True, c) for c in inline_commands(page))]:
        try:
            parse(argv)
        except (click.MissingParameter, click.exceptions.NoArgsIsHelpError) as exc:
            if not inline:
                refused.append(f"{where}: golive {shlex.join(argv)}: {exc.format_message()}")
        except click.BadParameter as exc:
            if "does not exist" not in exc.format_message():
                refused.append(f"{where}: golive {shlex.join(argv)}: {exc.format_message()}")
        except click.BadOptionUsage as exc:
            if not (inline and "requires an argument" in exc.format_message()):
                refused.append(f"{where}: golive {shlex.join(argv)}: {exc.format_message()}")
        except click.UsageError as exc:
            refused.append(f"{where}: golive {shlex.join(argv)}: {exc.format_message()}")
        except click.exceptions.Exit:  # --help, --version: parsed, and they would exit there
            pass
    assert not refused, "\n".join(refused)


def test_the_parser_refuses_what_golive_refuses():
    """`parse` is golive's command line: an unknown command, an unknown option and a value an option refuses fail it."""
    parse(["check", "--select", "IDEM-004", "-v", "--progress", "lines"])
    for wrong in (["chekc"], ["check", "--selekt", "IDEM"], ["check", "--progress", "sometimes"], ["report", "rendr", "r.json"]):
        with pytest.raises(click.UsageError):
            parse(wrong)


# the commands shown in shell blocks that a test does not run here: `golive demo` (tests/test_demo.py runs it, about
# 20 s) and `golive sandbox` (it serves until stopped: tests/test_sandbox.py)
NOT_RUN_HERE = {"demo", "sandbox"}


@pytest.mark.parametrize(
    "page, start", [(p, start) for p in PAGES for lang, start, _ in fenced(p) if lang in ("bash", "sh", "shell")], ids=str
)
def test_every_shell_block_runs_as_written(page: Path, start: int, tmp_path: Path):
    """The golive commands of each shell block, run in order as a reader would, in a new git repository with nothing
    else: golive's embedded sandbox is all they need. None is a usage or config error (2) or a crash (3); the
    README's first hour (`init`, `check`, `explain`, `check --select … -v`) among them."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, timeout=60)
    ran = []
    for where, argv in commands(page):
        if where != f"{_name(page)}:{start}" or argv[0] in NOT_RUN_HERE:
            continue
        done = golive(*argv, cwd=tmp_path, timeout=300)
        assert done.returncode in (0, 1), f"{where}: golive {shlex.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        if argv[0] in ("init", "explain", "schema", "rules"):
            assert done.returncode == 0, f"{where}: golive {shlex.join(argv)}:\n{done.stdout}\n{done.stderr}"
        if argv[0] == "check":
            assert "Verdict:" in done.stdout, done.stdout
        ran.append(argv[0])
    if _name(page) == "README.md" and "init" in ran:
        assert ran == ["init", "check", "explain", "check"], ran


def test_the_readmes_ci_example_is_docs_ci_md_s():
    """The README's CI section keeps the GitHub workflow of docs/ci.md as its example: the two stay one text."""
    readme, ci = (ROOT / "README.md").read_text(encoding="utf-8"), (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## CI\n") : readme.index("\n## ", readme.index("\n## CI\n") + 1)]
    blocks = re.findall(r"```yaml\n.*?```", section, re.S)
    assert blocks and all(block in ci for block in blocks)
