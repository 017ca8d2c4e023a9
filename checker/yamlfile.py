"""Load YAML keeping where every key stands, so errors can name file, line and key."""

from __future__ import annotations

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


def load_yaml(path: Path, *, what: str = "file") -> YamlDocument:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.single(name, f"{what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError.single(name, f"cannot read {what}: {exc}") from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> YamlDocument:
    try:
        loader = yaml.SafeLoader(text)  # reads ahead: a forbidden character near the start is found here
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, name, exc) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError.single(name, "the file is empty; expected a mapping of keys", line=1)
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
        raise ConfigError.single(name, f"invalid YAML: {message}", line=line) from None
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
