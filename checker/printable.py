"""Text from a target, safe to print and to write: every character that could move a terminal's cursor,
change its title, reorder text (bidi overrides) or break an encoder (lone surrogates) is shown as an escape.

One seam: the engine passes every message and every piece of evidence through `printable` before any
renderer sees it (checker/engine.py, `_result`), so the terminal, the reports and the step summary all
get the same clean text; a saved report read back passes it too (checker/report/load.py), and a pack's words
pass it when the pack is loaded (checker/packs.py, `shown`). File names that are not UTF-8 (decoded with
surrogateescape) show their bytes as `\\xNN`. A line of output never starts a CI workflow command (`no_command`),
whatever text from elsewhere begins it.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates, line/paragraph
# separators, and every surrogate (only a broken decoding leaves one in a str)
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char == "\n":
        return " ⏎ "
    if char == "\t":
        return " "
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` with every unsafe character escaped; with `one_line`, newlines shown as ' ⏎ ' too."""
    return (_UNSAFE_ONE_LINE if one_line else _UNSAFE).sub(_escape, text)


# what a CI runner reads as a command when a line starts with it (leading whitespace ignored): GitHub's `::name::`,
# and `##[name]` (Azure Pipelines, and GitHub's older form)
WORKFLOW_COMMAND_STARTS = ("::", "##[")


def printable_line(text: str) -> str:
    """`text` as one printable line a CI runner does not read as a command: `printable(one_line=True)`, then
    `no_command`."""
    return no_command(printable(text, one_line=True))


def printable_deep(value: Any) -> Any:
    """`printable` over every string in a JSON-like value (dict keys included)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(str(k)): printable_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_deep(v) for v in value]
    return value


# a line a CI runner reads as a workflow command: GitHub's `::cmd::` and its older `##[cmd]`, after leading blanks
_COMMAND = re.compile(r"(^|[\r\n])([^\S\r\n]*)(::|##\[)")


def no_command(text: str) -> str:
    """`text` with no line a CI runner would run as a workflow command (`::add-mask::…`, `##[error]…`): the marker at
    such a line's start is broken with a space (`: :`, `# #[`). For what golive prints to stdout outside the
    annotations it means to write: the checklist, `explain`, `rules`."""
    return _COMMAND.sub(lambda m: m.group(1) + m.group(2) + (": :" if m.group(3) == "::" else "# #["), text)
