"""The customer's WebSocket: the protocol the web widget speaks (documented in README.md).

Every frame is JSON. The first must be `hello`; the hub answers `welcome` with the customer's token (kept by
the widget to come back to the same conversation) and the messages after `last_id`, so a reconnecting
widget misses nothing. A `message` is acknowledged (`ack`) only after it is stored; a resent `client_id`
is acknowledged again and stored once. A client that stops reading is closed with 4408 (socket_outbox.py):
it reconnects, and what it missed comes in the welcome.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

from sanic import Request
from sanic.server.websockets.impl import WebsocketImplProtocol as Websocket

from bot.channels.socket_outbox import SocketOutbox
from bot.core.events import conversation_topic
from bot.core.hub import HUB_COMMANDS, Hub
from bot.domain.errors import FrontlineError
from bot.domain.tokens import digest, new_token, sign_customer_id
from bot.store.database import DATABASE_UNAVAILABLE
from bot.store.feedback import FEEDBACK_SCALES
from bot.store.records import Conversation

logger = logging.getLogger(__name__)

CHANNEL = "web"
HUMAN_TEXT = "Talk to a person"
UNAVAILABLE_TEXT = "We cannot save messages for a moment; yours will be sent again when the chat reconnects."


class ProtocolError(FrontlineError, ValueError):
    """A frame the protocol does not allow; the client gets `{"type": "error", "code": ...}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class CustomerSocket:
    """One open widget: reads its frames, and forwards the conversation's events to it."""

    def __init__(self, hub: Hub, ws: Websocket) -> None:
        self._hub = hub
        self._ws = ws
        self._outbox = SocketOutbox(ws)
        self._conversation: Conversation | None = None
        self._metadata: dict[str, Any] = {}

    async def serve(self) -> None:
        self._outbox.start()
        try:
            await self._outbox.until_closed(self._converse())
        except DATABASE_UNAVAILABLE as exc:
            # Nothing unacknowledged was stored for sure: closing makes the widget reconnect and resend it.
            conversation = self._conversation.id if self._conversation else None
            logger.warning("conversation=%s socket closed, database unavailable: %s", conversation, type(exc).__name__)
            self._send_error("unavailable", UNAVAILABLE_TEXT)
        finally:
            await self._outbox.finish()

    async def _converse(self) -> None:
        """The socket's life until the client leaves (or the outbox closes it: a slow client)."""
        hello = await self._first_frame()
        if hello is None:
            return
        self._conversation = await self._welcome(hello)
        subscription = self._hub.bus.subscribe(conversation_topic(self._conversation.id))
        forward = asyncio.create_task(self._forward(subscription))
        try:
            await self._hub.publish_state(self._conversation)
            await self._read()
        finally:
            forward.cancel()
            subscription.close()

    async def _first_frame(self) -> dict[str, Any] | None:
        while True:
            frame = await self._receive()
            if frame is None:
                return None
            if frame.get("type") == "hello":
                return frame
            self._send_error("hello_first", 'The first frame must be {"type": "hello"}.')

    async def _welcome(self, hello: dict[str, Any]) -> Conversation:
        token = hello.get("token")
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            token = new_token()
        customer = await self._hub.conversations.customer(CHANNEL, digest(token))
        conversation = await self._hub.conversations.current_conversation(customer)
        self._metadata = self._vouched_customer(hello.get("shop_customer"))
        last_id = hello.get("last_id") if isinstance(hello.get("last_id"), int) else 0
        history = await self._hub.conversations.messages(conversation.id, after_id=max(last_id, 0))
        self._outbox.put(
            {
                "type": "welcome",
                "token": token,
                "conversation_id": conversation.id,
                "state": conversation.state,
                "limits": {"max_message_chars": self._hub.settings.max_message_chars},
                "history": [m.to_json() for m in history],
            }
        )
        logger.info("conversation=%s web customer connected resumed_after=%s", conversation.id, last_id)
        return conversation

    async def _read(self) -> None:
        while True:
            frame = await self._receive()
            if frame is None:
                return
            try:
                await self._handle(frame)
            except ProtocolError as error:
                self._send_error(error.code, error.message, frame.get("client_id"))

    async def _handle(self, frame: dict[str, Any]) -> None:
        assert self._conversation is not None
        kind = frame.get("type")
        client_id = _client_id(frame)
        if kind == "message":
            await self._message(self._text(frame.get("text")), client_id)
        elif kind == "button":
            title = self._text(frame.get("title") or frame.get("payload"))
            payload = frame.get("payload")
            if not isinstance(payload, str) or not payload.strip():
                raise ProtocolError("bad_button", "A button needs its payload.")
            if payload in HUB_COMMANDS:
                await self._hub.command(self._conversation, payload)
                self._ack(client_id, None)
            else:
                await self._message(title, client_id, bot_text=payload[: self._hub.settings.max_message_chars])
        elif kind == "human":
            stored = await self._hub.ask_for_person(self._conversation, HUMAN_TEXT, client_id, self._metadata)
            self._ack(client_id, stored[0].id if stored else None, duplicate=bool(stored) and not stored[1])
        elif kind == "rating":
            question = frame.get("question", "csat")
            scale = FEEDBACK_SCALES.get(question) if isinstance(question, str) else None
            if scale is None:
                raise ProtocolError("bad_rating", "The question is csat (1 to 5) or nps (0 to 10).")
            score = frame.get("score")
            if not isinstance(score, int) or isinstance(score, bool) or score not in scale:
                raise ProtocolError("bad_rating", f"A rating is a whole number from {scale[0]} to {scale[-1]}.")
            request_id = frame.get("message_id")
            if request_id is not None and (not isinstance(request_id, int) or isinstance(request_id, bool)):
                raise ProtocolError("bad_rating", "message_id is the id of the rating request answered.")
            comment = frame.get("comment")
            comment = self._text(comment) if comment else None
            rating = await self._hub.feedback.rate(self._conversation, score, comment, question, request_id)
            self._outbox.put({"type": "rated", "accepted": rating is not None})
        elif kind == "ping":
            self._outbox.put({"type": "pong"})
        else:
            raise ProtocolError("unknown_type", f"Unknown frame type {kind!r}.")

    async def _message(self, text: str, client_id: str | None, bot_text: str | None = None) -> None:
        assert self._conversation is not None
        message, created = await self._hub.receive(
            self._conversation,
            text,
            client_id,
            bot_text=bot_text,
            payload={"button": bot_text} if bot_text else None,
            metadata=self._metadata,
        )
        self._ack(client_id, message.id, duplicate=not created)

    def _ack(self, client_id: str | None, message_id: int | None, duplicate: bool = False) -> None:
        """Acknowledge a frame; `id` is None for frames that store no message (a hub command)."""
        if client_id:
            self._outbox.put({"type": "ack", "client_id": client_id, "id": message_id, "duplicate": duplicate})

    def _text(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ProtocolError("bad_text", "The text must be a string.")
        text = value.replace("\x00", "").strip()
        if not text:
            raise ProtocolError("empty", "The message is empty.")
        limit = self._hub.settings.max_message_chars
        if len(text) > limit:
            raise ProtocolError("too_long", f"A message can be at most {limit} characters.")
        return text

    def _vouched_customer(self, value: Any) -> dict[str, Any]:
        """A shop page may vouch for its logged-in customer with an HMAC of the id (see README)."""
        if not isinstance(value, dict):
            return {}
        customer_id, signature = value.get("id"), value.get("signature")
        if not isinstance(customer_id, str) or not isinstance(signature, str):
            return {}
        expected = sign_customer_id(customer_id, self._hub.settings.channel_secret)
        if not secrets.compare_digest(expected.encode(), signature.encode()):
            self._send_error("bad_signature", "The shop customer's signature is wrong; continuing as a guest.")
            return {}
        return {"customer_id": customer_id, "customer_signature": signature}

    async def _receive(self) -> dict[str, Any] | None:
        while True:
            raw = await self._ws.recv()
            if raw is None:
                return None
            try:
                frame = json.loads(raw)
            except (TypeError, ValueError):
                self._send_error("bad_json", "Frames must be JSON objects.")
                continue
            if not isinstance(frame, dict):
                self._send_error("bad_json", "Frames must be JSON objects.")
                continue
            return frame

    async def _forward(self, subscription: Any) -> None:
        async for event in subscription:
            self._outbox.put(event)

    def _send_error(self, code: str, message: str, client_id: str | None = None) -> None:
        error: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if client_id:
            error["client_id"] = client_id
        self._outbox.put(error)


async def customer_socket(request: Request, ws: Websocket) -> None:
    await CustomerSocket(request.app.ctx.hub, ws).serve()


def _client_id(frame: dict[str, Any]) -> str | None:
    value = frame.get("client_id")
    if isinstance(value, str) and 0 < len(value) <= 64:
        return value
    return None
