"""`POST /telegram/webhook`: where Telegram delivers updates in webhook mode.

Only requests carrying the secret token registered with `setWebhook` are processed (403 otherwise, and
the body is not even parsed). The answer is 200 once the update is stored, so Telegram retries anything the hub could
not take; a retried update is stored once (its `update_id` is the message's client id).
"""

from __future__ import annotations

import json
import logging

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.channels.telegram.channel import SECRET_HEADER
from bot.domain.errors import RequestRefused

logger = logging.getLogger(__name__)


async def telegram_webhook(request: Request) -> HTTPResponse:
    channel = request.app.ctx.telegram
    if channel is None or not channel.running:
        raise RequestRefused(404, "telegram_off", "The Telegram channel is not switched on.")
    if not channel.secret_matches(request.headers.get(SECRET_HEADER)):
        logger.warning("telegram webhook: refused a request without the right secret token from %s", request.ip)
        raise RequestRefused(403, "forbidden", "Wrong or missing secret token.")
    try:
        update = json.loads(request.body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestRefused(400, "bad_json", "The body must be a Telegram Update in JSON.") from exc
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise RequestRefused(400, "bad_update", "An update needs its integer update_id.")
    await channel.process(update)
    return json_response({"ok": True})
