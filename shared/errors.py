"""Domain errors, each with a stable snake_case `code`; server/api/errors.py maps them to HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the product reports to a user or a client program."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class InvalidInput(DomainError):
    """The request is well-formed but its content breaks a rule (HTTP 422)."""

    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Unauthenticated(DomainError):
    code = "not_authenticated"


class Forbidden(DomainError):
    code = "forbidden"


class TooLarge(DomainError):
    code = "payload_too_large"


class RateLimited(DomainError):
    code = "too_many_requests"

    def __init__(
        self, message: str, *, retry_after_s: int, code: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after_s = retry_after_s
