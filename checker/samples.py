"""Tiny real documents the probes upload: a valid one per accepted kind, and an unsupported one."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
# the first bytes of a 64-bit Linux ELF executable, padded: unsupported by every fax API
ELF_EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(200)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def document(kind: str) -> tuple[str, bytes, str]:
    """(file name, content, media type) of a small valid document of `kind`."""
    if kind == "pdf":
        return "golive-probe.pdf", MINIMAL_PDF, "application/pdf"
    if kind == "png":
        return "golive-probe.png", png(), "image/png"
    if kind == "txt":
        return "golive-probe.txt", b"golive readiness probe\n", "text/plain"
    if kind == "html":
        return "golive-probe.html", b"<!doctype html><html><body>golive probe</body></html>", "text/html"
    raise ValueError(f"no sample document of kind {kind!r}")


def write_padded_pdf(path: Path, size: int) -> None:
    """A valid PDF padded with a comment to `size` bytes, written a megabyte at a time (a 10 MB probe
    file never sits in golive's memory whole)."""
    chunk = b"0" * (1024 * 1024)
    with path.open("wb") as out:
        out.write(MINIMAL_PDF + b"%")
        left = size - len(MINIMAL_PDF) - 1
        while left > 0:
            out.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
