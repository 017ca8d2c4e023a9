"""golive's own exceptions: each carries its exit code, a stable kind and a hint.

    GoliveError                 exit 3 unless a subclass says otherwise
    ├── ConfigError             exit 2  golive.yaml or a pack is invalid (file:line: key)
    ├── OutputError             exit 2  a file golive was asked to write cannot be written there (the folder, the reason)
    └── ProbeError              a probe could not do its job -> the rule's status is `error`
        └── TargetUnreachable   the target did not answer
Command-line mistakes are click's UsageError (exit 2). Third-party exceptions (httpx, yaml)
are translated into these at one seam each (checker/http.py, checker/yamlfile.py).
"""

from __future__ import annotations

from dataclasses import dataclass


class GoliveError(Exception):
    exit_code = 3
    kind = "internal"


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: where it is and what is wrong."""

    file: str
    line: int | None
    key: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key}:" if self.key else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}:{key} {self.message}{hint}"


class ConfigError(GoliveError):
    """Every problem found while loading one file; exit 2."""

    exit_code = 2
    kind = "config"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, file: str, message: str, *, line: int | None = None, key: str = "", hint: str = "") -> ConfigError:
        return cls([Problem(file, line, key, message, hint)])


class OutputError(GoliveError):
    """What golive was asked to write cannot be written (a folder under a file, read-only, a full disk); exit 2."""

    exit_code = 2
    kind = "output"


class ProbeError(GoliveError):
    """The probe could not judge its target; the rule becomes `error`, never `fail` or `pass`."""

    kind = "probe"


class TargetUnreachable(ProbeError):
    kind = "unreachable"
