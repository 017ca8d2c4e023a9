"""A reviewer's sign-off on a saved report.json (`golive report sign`): who decided what, over which content.

The signature block records the report's digest: the SHA-256 of its canonical content (the JSON without the
`signature` block, keys sorted, no spaces, UTF-8), so a reformatted file is the same report and a changed field is
not. It is a record of a decision, not a cryptographic signature: anyone who can write the file can sign it again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

DECISIONS = ("approve", "reject")
EMAIL = re.compile(r"[^@\s<>\"'`]+@[^@\s<>\"'`]+\.[^@\s<>\"'`.]+")  # loose: someone@somewhere.tld, nothing that is markup
MAX_EMAIL = 254  # RFC 5321's limit on a path
MAX_NOTE = 2000
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")  # a note may span lines and tabs


def digest(report: Mapping[str, Any]) -> str:
    """sha256:<hex> of the report's canonical content, its signature block left out."""
    content = {key: value for key, value in report.items() if key != "signature"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def signature_of(report: Mapping[str, Any]) -> dict[str, Any] | None:
    """The report's signature block as the renderers show it, with `intact`: whether the report is still what was signed
    (False: changed after it was signed). None for an unsigned report or a block that is not one."""
    block = report.get("signature")
    if not isinstance(block, dict):
        return None
    fields = {name: block.get(name) for name in ("by", "decision", "note", "signed_at", "digest")}
    if not all(isinstance(fields[name], str) for name in ("by", "decision", "signed_at", "digest")):
        return None
    if fields["note"] is not None and not isinstance(fields["note"], str):
        fields["note"] = None
    return {**fields, "intact": fields["digest"] == digest(report)}


def checked_signer(by: str) -> str:
    """`--by`: an e-mail address, loosely (one @, a dot in the domain, no spaces or markup); ValueError otherwise."""
    by = by.strip()
    if len(by) > MAX_EMAIL or not EMAIL.fullmatch(by):
        raise ValueError(f"{by[:80]!r} is not an e-mail address (name@example.com)")
    return by


def checked_note(note: str | None) -> str | None:
    """`--note`: text of at most MAX_NOTE characters, lines and tabs allowed, no other control character (it is shown
    in the HTML and Markdown renders, escaped there); ValueError otherwise."""
    if note is None:
        return None
    if len(note) > MAX_NOTE:
        raise ValueError(f"it is {len(note)} characters; at most {MAX_NOTE}")
    if found := _CONTROL.search(note):
        raise ValueError(f"it holds a control character (U+{ord(found.group()):04X}); write plain text")
    return note
