"""`golive report sign`: record a reviewer's sign-off in a saved report, whole or not at all. Apart from
report/signoff.py (the digest and the block, which report/load.py reads back) so that nothing the loader imports
imports the report package back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from checker.errors import ConfigError, OutputError
from checker.report import reason_of, write_atomically
from checker.report.load import load_report
from checker.report.signoff import checked_note, checked_signer, digest


def sign(path: Path, *, by: str, decision: str, note: str | None, signed_at: str) -> dict[str, Any]:
    """Record the sign-off in the report file itself, whole or not at all; the block written. The report is read as
    `report render` reads it first (a file that is not a golive report is refused, naming where)."""
    load_report(path)  # a ConfigError (exit 2) naming file, line and key for anything that is not a readable report
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):  # load_report refused it already; for the type checker
        raise ConfigError.single(str(path), "not a golive report")
    block = {"by": checked_signer(by), "decision": decision, "note": checked_note(note), "signed_at": signed_at, "digest": digest(data)}
    data["signature"] = block
    try:
        write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {reason_of(exc, path)}") from None
    return block
