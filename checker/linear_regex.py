"""Regular expressions that come from a pack (`sandbox.patterns`), run by RE2: time linear in the text, whatever the pattern.

A pack is a file users download from a third party, and the text the sandbox matches is a client's request: with a
backtracking engine `^(a+)+$` against forty `a` and a `!` never ends (and holds the GIL, so not even SIGTERM gets
through). RE2 has no backtracking; what it cannot run in linear time (backreferences, lookarounds) it refuses to
compile, so such a pack is refused when it loads (`PatternError`, named with the pack's file, line and key).
Its syntax is Python's but for those, `\\z` for the end of the text (not `\\Z`), and `\\d`, `\\w`, `\\s` stand for
ASCII only (https://github.com/google/re2/wiki/Syntax).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import re2  # type: ignore[import-untyped]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print a pattern it refuses to stderr: the refusal is a config error instead


class PatternError(ValueError):
    """RE2 cannot compile the pattern: the reason, in RE2's words."""


class LinearPattern:
    """A compiled pack pattern: `fullmatch` in time linear in the text."""

    __slots__ = ("_compiled", "_whole", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        try:
            self._compiled: Any = re2.compile(pattern, _OPTIONS)
        except re2.error as exc:
            reason = exc.args[0] if exc.args else "not a regular expression"
            raise PatternError(reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)) from None
        except UnicodeEncodeError:  # a lone surrogate from a YAML escape
            raise PatternError("it holds a character that is not Unicode text (a lone surrogate)") from None
        self._whole = _whole_match(self._compiled)

    def fullmatch(self, text: str) -> bool:
        """Whether the whole text matches (text that is not valid Unicode never does)."""
        try:
            return self._whole(text)
        except UnicodeEncodeError:  # a lone surrogate: RE2 matches UTF-8
            return False


def _whole_match(compiled: Any) -> Callable[[str], bool]:
    """RE2's own match of the whole text (its UTF-8), without the wrapper's generator of match objects, which costs
    several times the match itself on the sandbox's request path; the wrapper's `fullmatch` where the binding differs."""
    regexp, anchor = getattr(compiled, "_regexp", None), getattr(getattr(re2, "_Anchor", None), "ANCHOR_BOTH", None)
    if regexp is None or anchor is None or not hasattr(regexp, "Match"):
        return lambda text: compiled.fullmatch(text) is not None

    def whole(text: str) -> bool:
        encoded = text.encode("utf-8")
        return bool(regexp.Match(anchor, encoded, 0, len(encoded))[0] != (-1, -1))

    return whole
