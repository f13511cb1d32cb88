"""One error base for everything Frontline refuses: a stable code for programs, a status for HTTP.

The API renders any `FrontlineError` the same way (`{"error": {"code", "message"}}` with `status`), so a
layer below raises what it means and never builds a response itself.
"""

from __future__ import annotations

from typing import ClassVar


class FrontlineError(Exception):
    """Base of Frontline's own errors; subclasses set the defaults, a raise may override them.

    `public_message`, when a subclass sets it, is what a caller over HTTP reads instead of the raise's own
    message (which may name internal hosts or files and goes to the log only).
    """

    status: ClassVar[int] = 400
    code: str = "error"
    public_message: ClassVar[str | None] = None

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status  # type: ignore[misc]


class RequestRefused(FrontlineError):
    """A request over HTTP that cannot be served as sent (not signed in, bad JSON, too long, ...)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code, status=status)


class ConfigurationError(FrontlineError, ValueError):
    """An environment variable holds a value Frontline cannot use."""

    status = 500
    code = "configuration"
