"""The one place an error becomes an HTTP answer: `{"error": {"code", "message"}}` with the error's status.

Every layer raises a `FrontlineError` that says what it means (`ConversationNotFound` is a 404, `NotAllowed` a
409); Sanic's own errors (unknown route, body too large) get the same shape.
"""

from __future__ import annotations

import logging

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, json

from bot.domain.errors import FrontlineError

logger = logging.getLogger(__name__)


def error_response(error: FrontlineError) -> HTTPResponse:
    message = error.public_message or error.message
    if error.status >= 500:
        logger.warning("answered %s %s: %s", error.status, error.code, error.message)
    return json({"error": {"code": error.code, "message": message}}, status=error.status)


def install_error_handlers(app: Sanic) -> None:
    @app.exception(FrontlineError)
    async def frontline_error(request: Request, error: FrontlineError) -> HTTPResponse:
        return error_response(error)

    @app.exception(SanicException)
    async def http_error(request: Request, error: SanicException) -> HTTPResponse:
        status = getattr(error, "status_code", 500) or 500
        return error_response(FrontlineError(str(error), code=f"http_{status}", status=status))
