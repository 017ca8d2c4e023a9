"""The sandbox's errors: each a non-2xx answer in the provider's envelope (a pack's facts.errors)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from checker.envelope import error_answer


class ApiError(Exception):
    """A non-2xx answer in the provider's error envelope."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        action: str = "",
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.action = status, error, message, action
        self.errors, self.headers = errors, headers or {}
        self.extra = extra or {}  # values at dotted paths of a pack's envelope (a replay's existing resource id)

    def response(self, envelope: dict[str, Any] | None = None) -> Response:
        """The error in `envelope`'s shape (a pack's facts.errors), or golive's default (mintfax's) without one."""
        if not envelope:
            body: dict[str, Any] = {"error": self.error, "message": self.message, "action": self.action}
            if self.errors:
                body["context"] = {"errors": self.errors}
            return JSONResponse(body, status_code=self.status, headers=self.headers)
        fields = [(e["field"], e["message"]) for e in self.errors or ()]
        payload, headers = error_answer(envelope, self.status, self.error, self.message, self.action, fields, self.extra)
        return Response(payload, status_code=self.status, headers={**headers, **self.headers}, media_type="application/json")


def validation_error(field_name: str, message: str, status: int = 422, code: str = "validation_failed") -> ApiError:
    return ApiError(
        status,
        code,
        f"{field_name}: {message}",
        "Fix the invalid fields and send the request again.",
        errors=[{"field": field_name, "message": message}],
    )
