"""The API's one error shape: {"error": {"code", "message", "fields"}}."""
from __future__ import annotations

from ..core.errors import CODES


class ApiError(Exception):
    """Raised by an API handler to answer with an error; the handler's transaction is rolled back."""

    def __init__(self, status: int, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.fields, self.code = status, message, fields or {}, code or CODES[status]

    def body(self) -> tuple[dict, int]:
        return error(self.code, self.message, self.status, self.fields)


def error(code: str, message: str, status: int, fields: dict | None = None) -> tuple[dict, int]:
    """(body, status) of an error, for handlers that return rather than raise."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}, status
