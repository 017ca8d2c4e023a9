"""Multipart form uploads for the mintfax sandbox: streamed, bounded, files spooled to disk past 1 MB.

Parsing is the `multipart` package's sans-IO push parser (an order of magnitude cheaper per
request than Starlette's form parser here, which the throughput benchmark showed).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO

import multipart
from starlette.requests import Request

from checker.sandbox.deadline import within

MAX_FIELD_BYTES = 64 * 1024
SPOOL_BYTES = 1024 * 1024


class FormError(Exception):
    """The body is not a form we can read: (kind, message) with kind in {invalid, too_large, timeout}."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Upload:
    filename: str
    content_type: str
    # closed by Form.close (or by read_form on an error)
    file: IO[bytes] = field(default_factory=lambda: tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))  # noqa: SIM115
    size: int = 0


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def close(self) -> None:
        for upload in self.files.values():
            upload.file.close()

    def __enter__(self) -> Form:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def read_form(request: Request, *, max_file_bytes: int, timeout_s: float, max_parts: int = 16) -> Form:
    """The form, read while it arrives: refused as soon as a file passes `max_file_bytes` or a field MAX_FIELD_BYTES,
    or when the whole body has not arrived within `timeout_s` (FormError kind `timeout`)."""
    content_type, options = multipart.parse_options_header(request.headers.get("content-type", ""))
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise FormError("invalid", "expected multipart/form-data with a boundary")
    parser = multipart.PushMultipartParser(options["boundary"], max_segment_count=max_parts)
    form = Form()
    try:
        with within(timeout_s):
            await _parse(request, parser, form, max_file_bytes)
    except TimeoutError:
        form.close()
        raise FormError("timeout", f"the body did not arrive within {timeout_s:g} s") from None
    return form


async def _parse(request: Request, parser: multipart.PushMultipartParser, form: Form, max_file_bytes: int) -> None:
    segment: multipart.MultipartSegment | None = None
    value = bytearray()
    upload: Upload | None = None
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            for event in parser.parse(chunk):
                if isinstance(event, multipart.MultipartSegment):
                    segment, value = event, bytearray()
                    upload = Upload(event.filename, event.content_type or "") if event.filename is not None else None
                elif event is None and segment is not None:
                    if upload is not None:
                        upload.file.seek(0)
                        form.files[segment.name] = upload
                    else:
                        form.fields[segment.name] = value.decode("utf-8", "replace")
                    segment, upload = None, None
                elif isinstance(event, (bytes, bytearray)):
                    if upload is not None:
                        upload.size += len(event)
                        if upload.size > max_file_bytes:
                            upload.file.close()
                            raise FormError("too_large", f"the file is over {max_file_bytes} bytes")
                        upload.file.write(event)
                    else:
                        value += event
                        if len(value) > MAX_FIELD_BYTES:
                            raise FormError("invalid", f"field {segment.name if segment else '?'} is over {MAX_FIELD_BYTES} bytes")
        if not parser.closed:
            parser.close()  # end of input: raises if the stream stopped before the closing boundary
    except multipart.MultipartError as exc:
        form.close()
        if upload is not None:
            upload.file.close()
        raise FormError("invalid", str(exc)) from None
    except BaseException:  # FormError, or the timeout's cancellation: nothing spooled is left open
        form.close()
        if upload is not None:
            upload.file.close()
        raise
