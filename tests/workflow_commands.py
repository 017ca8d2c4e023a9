"""GitHub Actions workflow commands read back as the runner reads them (actions/runner's ActionCommand.TryParseV2:
`::name key=value,key=value::data`, leading whitespace ignored, properties split on `,` and their first `=`, then
unescaped), so that tests can check what an annotation will say on GitHub."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class WorkflowCommand:
    name: str
    properties: dict[str, str] = field(default_factory=dict)
    data: str = ""


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_line(line: str) -> WorkflowCommand | None:
    """One stdout line as the runner sees it; None when it is no command (the runner prints it as it is)."""
    text = line.lstrip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    head, data = text[2:end], text[end + 2 :]
    name, _, props = head.partition(" ")
    if not name:
        return None
    properties = {}
    for pair in props.split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            properties[key.strip()] = unescape_property(value)
    return WorkflowCommand(name, properties, unescape_data(data))


def runner_lines(stdout: str) -> list[str]:
    """A step's output as the runner reads it, line by line as .NET's ReadLine splits it (LF, CR, CRLF; not
    str.splitlines' other separators)."""
    return re.split(r"\r\n|\r|\n", stdout.removesuffix("\n"))


def parse(stdout: str) -> list[WorkflowCommand]:
    """Every command in a step's output, in order."""
    commands = []
    for line in runner_lines(stdout):
        command = parse_line(line)
        if command is not None:
            commands.append(command)
    return commands
