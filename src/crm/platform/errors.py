"""The one error shape of every API: ``{"error": code, "message": text, "fields": {name: problem}}``.

The service layer raises these; the web layer turns them into responses. ``fields`` names each bad input so a
client can show the problem beside its field.
"""

from __future__ import annotations


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Invalid(AppError):
    status, code = 422, "validation_error"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class Unavailable(AppError):
    status, code = 503, "unavailable"
