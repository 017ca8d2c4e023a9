"""Identify a document's type by its content, not its name (shared by the sandbox and FILE-001)."""

from __future__ import annotations

import zipfile
from typing import IO

import filetype

HEAD = 8192
# the accepted binary kinds (and zip, for DOCX/XLSX) are tried first, those known by their first bytes before those
# that search a zip's entries (their magic numbers are disjoint: the order changes no answer); the full list only for
# the rest
_FIRST = sorted(
    (m for m in filetype.types if m.extension in {"pdf", "png", "jpg", "tif", "docx", "xlsx", "zip"}),
    key=lambda m: m.extension in {"docx", "xlsx", "zip"},
)
# filetype's names -> ours
_NAMES = {"jpg": "jpg", "png": "png", "tif": "tiff", "pdf": "pdf", "docx": "docx", "xlsx": "xlsx"}
EXTENSIONS = {
    "pdf": {".pdf"},
    "docx": {".docx"},
    "xlsx": {".xlsx"},
    "jpg": {".jpg", ".jpeg"},
    "png": {".png"},
    "tiff": {".tif", ".tiff"},
    "html": {".html", ".htm"},
    "txt": {".txt", ".text", ".csv", ".md"},
}


def sniff(stream: IO[bytes]) -> str:
    """The document kind (pdf, docx, xlsx, jpg, png, tiff, html, txt) or another name (elf, exe, zip, binary)."""
    stream.seek(0)
    head = stream.read(HEAD)
    stream.seek(0)
    if not head:
        return "empty"
    kind = filetype.match(head, _FIRST) or filetype.guess(head)
    if kind is not None:
        if kind.extension in {"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub", "jar"} and head.startswith(b"PK"):
            return _office_kind(stream)
        return str(_NAMES.get(kind.extension, kind.extension))
    return _text_kind(head)


def _office_kind(stream: IO[bytes]) -> str:
    # DOCX and XLSX are zip files; the parts inside tell which (filetype only sees the first bytes)
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "zip"
    finally:
        stream.seek(0)
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return "zip"


def _text_kind(head: bytes) -> str:
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    for encoding in ("utf-8", "utf-16"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and exc.start >= len(head) - 4:  # a character cut at the head's end
                text = head[: exc.start].decode("utf-8")
                break
    else:
        return "binary"
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text[:4096]):
        return "binary"
    start = text.lstrip("\ufeff \t\r\n").lower()[:1024]
    if start.startswith(("<!doctype html", "<html")) or "<html" in start or "<body" in start:
        return "html"
    return "txt"
