"""Load YAML keeping where every key stands, so errors can name file, line and key."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from checker.errors import ConfigError, Problem

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML mapping and the line of every key path in it."""

    file: str
    data: dict[str, Any]
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def problem(self, path: Path_, message: str, hint: str = "") -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), message, hint)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


MAX_FILE_BYTES = 1024 * 1024  # a golive.yaml or a pack is a few KB; anything larger is not one
# nodes a document may expand to, aliases counted each time they are used: far above any real config or
# pack, far below what a nested-alias "billion laughs" file expands to
MAX_NODES = 50_000

# a check of the top-level mapping before any problem inside the file is reported (and its content
# echoed): the file's kind, or None when it is of the expected kind
Expect = Callable[[yaml.MappingNode], "str | None"]


def load_yaml(path: Path, *, what: str = "file", expect: Expect | None = None) -> YamlDocument:
    """A YAML file of at most MAX_FILE_BYTES, read only when it is a regular file (not a FIFO, a device
    or a folder, which could block or never end)."""
    name = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError.single(name, f"{what} not found") from None
    except OSError as exc:
        raise ConfigError.single(name, f"cannot read {what}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError.single(name, f"cannot read {what}: not a regular file (a folder, a device or a pipe)")
    if info.st_size > MAX_FILE_BYTES:
        raise ConfigError.single(name, f"cannot read {what}: it is {info.st_size:,} bytes; a golive file is at most {MAX_FILE_BYTES:,}")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError.single(name, f"cannot read {what}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:  # it grew after the stat
        raise ConfigError.single(name, f"cannot read {what}: it is over {MAX_FILE_BYTES:,} bytes; a golive file is not")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise ConfigError.single(name, f"cannot read {what}: not UTF-8 text (byte 0x{byte})", line=line) from None
    return parse_yaml(text, name, expect=expect)


def parse_yaml(text: str, name: str, *, expect: Expect | None = None) -> YamlDocument:
    try:
        loader = yaml.SafeLoader(text)  # reads ahead: a forbidden character near the start is found here
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, name, exc) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError.single(name, "the file is empty; expected a mapping of keys", line=1)
        if expect is not None and isinstance(node, yaml.MappingNode) and (wrong := expect(node)):
            raise ConfigError.single(name, wrong, line=1)
        _bounded(node, name)
        problems: list[Problem] = []
        lines: dict[Path_, int] = {(): node.start_mark.line + 1}
        _walk(node, (), lines, problems, name)
        if problems:
            raise ConfigError(problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        raise ConfigError.single(name, f"invalid YAML: {message}", line=line, hint=_brace_hint(text, exc)) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, name, exc) from None
    except yaml.YAMLError as exc:
        raise ConfigError.single(name, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError.single(name, "invalid YAML: nested too deeply", line=1) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError.single(name, f"expected a mapping of keys at the top, found {type(data).__name__}", line=1)
    return YamlDocument(name, data, lines)


def top_level_keys(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    """The scalar keys of a mapping node and their values (for an `Expect` check)."""
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _bounded(root: yaml.Node, name: str) -> None:
    """Refuse a document whose aliases expand it past MAX_NODES, or that contains itself. Each node's
    expanded size is computed once (an alias is the same node object), so this costs the file's own size."""
    sizes: dict[int, int] = {}
    path: set[int] = set()  # the nodes entered and not finished: the ancestors of the one on top
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_NODES:
                raise ConfigError.single(
                    name,
                    f"invalid YAML: its aliases expand it to over {MAX_NODES:,} values (nested anchors and aliases: not a golive file)",
                    line=node.start_mark.line + 1,
                )
            continue
        if key in sizes:
            continue
        if key in path:
            raise ConfigError.single(name, "invalid YAML: an alias refers to a node that contains it", line=node.start_mark.line + 1)
        path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _reader_error(text: str, name: str, exc: yaml.reader.ReaderError) -> ConfigError:
    """A character YAML does not allow (a control character, a lone surrogate), at its line."""
    line = text[: exc.position].count("\n") + 1
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    return ConfigError.single(name, f"invalid YAML: character U+{code:04X} is not allowed in YAML", line=line)


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], problems: list[Problem], name: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(name, line, dotted((*path, key)), f"duplicate key (first defined on line {seen[key]})"))
                continue
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems, name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, problems, name)


FLOW_START = re.compile(r"^\s*(?:-\s+)?[\w.-]+:\s+(\{[^{}]*\}\s*[^\s#,}].*)$")  # key: {word} more text


def _brace_hint(text: str, exc: yaml.MarkedYAMLError) -> str:
    """A value that starts with `{` is a YAML mapping, so `command: {python} send.py` does not parse: say to quote it
    (the commonest YAML error in a golive.yaml, where placeholders are written in braces)."""
    for mark in (exc.context_mark, exc.problem_mark):
        if mark is None:
            continue
        lines = text.splitlines()
        for number in (mark.line, mark.line - 1):
            if 0 <= number < len(lines) and FLOW_START.match(lines[number]):
                return 'a value that starts with { is read as a YAML mapping: put the whole value in quotes ("{python} send.py …")'
    return ""
