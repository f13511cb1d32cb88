"""The action server's process entry, `python -m actions`: rasa-sdk's own app, answering only Rasa.

`rasa run actions` listens on every interface and runs whatever tracker it is sent, so anyone who can reach the
port could fill in `order_id` and `verified_customer_id` and read or cancel a stranger's order. Here the same
app (rasa_sdk.endpoint.create_app) refuses every request without `Authorization: Bearer <ACTIONS_TOKEN>`, which
Rasa sends from endpoints.yml, and listens on ACTIONS_HOST (127.0.0.1 unless set). /health stays open for the
hub's health check: it says nothing but "ok".
"""

from __future__ import annotations

import hmac
import logging
import os
import sys

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.settings import Settings
from bot.domain.errors import ConfigurationError
from bot.domain.production_guard import check_action_server

OPEN_PATHS = frozenset({"/health"})

logger = logging.getLogger("actions")


def build_app(token: str) -> Sanic:
    """rasa-sdk's Sanic app for the `actions` package, behind the bearer token."""
    app = create_app("actions", cors_origins=[])
    expected = f"Bearer {token}".encode()

    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(given, expected):
            return None
        return response.json(
            {"error": {"code": "not_authenticated", "message": "The action server answers only Rasa."}}, status=401
        )

    app.register_middleware(require_token, "request")
    return app


def main() -> int:
    try:
        settings = Settings.from_env()
        check_action_server(host=settings.actions_host)
    except ConfigurationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    utils.configure_colored_logging(os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    app = build_app(settings.actions_token)
    logger.info("action server listening on http://%s:%d", settings.actions_host, settings.actions_port)
    app.run(settings.actions_host, settings.actions_port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
