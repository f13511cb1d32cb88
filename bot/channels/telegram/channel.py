"""Telegram: a second door into the same hub, built on python-telegram-bot.

Updates arrive by webhook (production: Telegram POSTs them to the hub, with the secret token registered by
`setWebhook`) or by long polling (local development, no public URL needed; `UpdatePoller` confirms an update to
Telegram only once it is stored). Each update becomes hub calls,
exactly as the web widget's frames do: a message is stored first and routed after, a button tap reaches the
bot as the button's payload, `/human` goes straight to the queue. What the hub says back goes out through
`TelegramDelivery`, which retries until Telegram accepts it.

Several hubs: one polls at a time (`PollingTurn`), or any serves the webhook. Every hub follows every Telegram
conversation it learns of (at start from SQL, then from the `telegram:chats` announcements on the shared bus), so
whichever hub sees a conversation's event can deliver it; the chat's lease decides which one sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from typing import Any

from telegram import Bot, CallbackQuery, Update, User
from telegram import Message as TelegramMessage
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from bot.channels.telegram.delivery import LEASE_SECONDS, TelegramDelivery, parse_button_data, queue_notice
from bot.channels.telegram.followers import SWEEP_SECONDS, ChatFollowers
from bot.channels.telegram.polling import POLLING_LEASE_SECONDS, PollingTurn, UpdatePoller
from bot.core.hub import HUB_COMMANDS, HUMAN_PAYLOAD, Hub
from bot.core.leases import Leases
from bot.core.settings import TelegramSettings
from bot.domain.vocabulary import State
from bot.store.deliveries import DeliveryLog
from bot.store.feedback import FEEDBACK_SCALES
from bot.store.records import Conversation
from bot.store.records import Message as StoredMessage

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
HELP_TEXT = (
    "I'm the shop's assistant. I can track an order, cancel it or change its delivery address, open a refund, "
    "send an invoice, and answer questions about delivery, payment and your account. Just write what you need, "
    'e.g. "where is order 00123842?".\n\nA person from our team is one tap away: send /human at any time.'
)
HELP_BUTTONS = [
    {"title": "Track my order", "payload": "/track_order"},
    {"title": "Cancel an order", "payload": "/cancel_order"},
    {"title": "Talk to a person", "payload": "/contact_human_agent"},
]
MEDIA_KINDS = ("photo", "sticker", "voice", "audio", "video", "video_note", "document", "animation", "location",
               "contact")  # fmt: skip
LEAVE_MESSAGE_TEXT = "Go ahead and write your message here; the next person from our team will read it."


def webhook_secret(settings: TelegramSettings, channel_secret: str) -> str:
    """The secret Telegram sends back with every update; derived from the token unless configured."""
    if settings.webhook_secret:
        return settings.webhook_secret
    return hmac.new(channel_secret.encode(), settings.token.encode(), hashlib.sha256).hexdigest()


class TelegramChannel:
    """The Telegram side of the hub: turns updates into hub calls and hub events into chat messages."""

    def __init__(
        self,
        hub: Hub,
        settings: TelegramSettings,
        deliveries: DeliveryLog,
        *,
        lease_seconds: float = LEASE_SECONDS,
        polling_lease_seconds: float = POLLING_LEASE_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self._hub = hub
        self._settings = settings
        self.secret = webhook_secret(settings, hub.settings.channel_secret)
        request = HTTPXRequest(connection_pool_size=64, read_timeout=10.0, write_timeout=10.0, connect_timeout=5.0)
        self.bot = Bot(settings.token, base_url=f"{settings.api_url}/bot", request=request)
        self._leases: Leases = hub.leases
        self.delivery = TelegramDelivery(
            self.bot, hub.conversations, deliveries, leases=self._leases, lease_seconds=lease_seconds
        )
        self.followers = ChatFollowers(hub.bus, deliveries, self.delivery, self._leases, sweep_seconds=sweep_seconds)
        self._tasks: list[asyncio.Task[None]] = []
        self._polling_lease_seconds = polling_lease_seconds
        self.polling: PollingTurn | None = None
        self.running = False

    async def start(self) -> None:
        """Connect to the Bot API and start receiving; a refused token turns the channel off, nothing else."""
        try:
            await self.bot.initialize()
        except InvalidToken:
            logger.error("Telegram channel is off: the Bot API refused the token (check TELEGRAM_TOKEN)")
            return
        except TelegramError as exc:
            logger.error("Telegram channel is off: the Bot API at %s is unreachable (%s)", self._settings.api_url, exc)
            return
        self.running = True
        await self.followers.start()
        if self._settings.mode == "webhook":
            self._tasks.append(asyncio.create_task(self._register_webhook()))
        else:
            self.polling = PollingTurn(self._leases, self._poller, lease_seconds=self._polling_lease_seconds)
            self.polling.start()
        logger.info("Telegram channel on: @%s in %s mode", self.bot.username, self._settings.mode)

    def _poller(self) -> UpdatePoller:
        return UpdatePoller(self.bot, self.handle, timeout=self._settings.poll_timeout, allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        if self.polling is not None:
            await self.polling.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.followers.stop()
        await self.delivery.close()
        with contextlib.suppress(Exception):
            await self.bot.shutdown()
        self.running = False

    def secret_matches(self, header: str | None) -> bool:
        return header is not None and hmac.compare_digest(header.encode(), self.secret.encode())

    async def process(self, data: dict[str, Any]) -> None:
        """One update as Telegram documents it (webhook body); stored before this returns."""
        await self.handle(Update.de_json(data, self.bot))

    async def handle(self, update: Update) -> None:
        if update.callback_query is not None:
            await self._on_button(update, update.callback_query)
        elif update.edited_message is not None:
            await self._on_message(update, update.edited_message, edited=True)
        elif update.message is not None:
            await self._on_message(update, update.message)
        else:
            logger.info("telegram update %s of a kind the channel does not use; ignored", update.update_id)

    async def _on_message(self, update: Update, message: TelegramMessage, edited: bool = False) -> None:
        if message.chat.type != "private" or message.from_user is None:
            logger.info("telegram update %s from a %s chat; the bot serves private chats only", update.update_id,
                        message.chat.type)  # fmt: skip
            return
        conversation = await self._conversation(message.chat.id, message.from_user)
        client_id = f"tg:{update.update_id}"
        text = (message.text or "").strip()
        if edited:
            await self._hub.receive(conversation, f"(edited) {text or message.caption or ''}".strip(), client_id,
                                    bot_text=text or None, payload={"edited_message_id": message.message_id},
                                    to_bot=bool(text))  # fmt: skip
            return
        if text.startswith("/"):
            await self._on_command(conversation, text, client_id)
            return
        if text:
            await self._receive(conversation, text, client_id)
            return
        await self._on_attachment(conversation, message, client_id)

    async def _on_command(self, conversation: Conversation, text: str, client_id: str) -> None:
        command = text.split()[0].split("@")[0].lower()
        if command == "/start":
            await self._hub.receive(conversation, text, client_id, bot_text="/greet")
        elif command == "/help":
            _, created = await self._hub.receive(conversation, text, client_id, to_bot=False)
            if created:
                await self._hub.say(conversation, "system", HELP_TEXT, {"buttons": HELP_BUTTONS})
        elif command == "/human":
            await self._on_human(conversation, text, client_id)
        else:
            await self._receive(conversation, text, client_id)

    async def _on_human(self, conversation: Conversation, text: str, client_id: str) -> None:
        """`/human`: to the queue; already waiting, the customer hears their place again (a chat shows no badge)."""
        current = await self._hub.conversations.get(conversation.id)
        if current.state in {"bot", "resolved"}:
            await self._hub.ask_for_person(current, text, client_id)
            return
        _, created = await self._hub.receive(current, text, client_id, to_bot=False)
        if created and current.state == State.QUEUED:
            status = await self._hub.queue.status_of(current)
            notice = queue_notice(None, status.to_json())
            if notice is not None:
                line = notice[1]
            elif not status.agents_online or not status.open_now:
                line = "You're in line. Our team is not available right now; the next person will read your messages."
            else:
                line = "You're in line for a person from our team; they'll be with you soon."
            self.delivery.notify(current.id, line)

    async def _on_attachment(self, conversation: Conversation, message: TelegramMessage, client_id: str) -> None:
        """Photos, voice, stickers: stored for the agents with their file id; the customer hears what the bot reads."""
        kind = next((k for k in MEDIA_KINDS if getattr(message, k, None)), "message")
        described, attachment = _describe(message, kind)
        caption = (message.caption or "").strip()
        stored = f"[{described}]" + (f" {caption}" if caption else "")
        current = await self._hub.conversations.get(conversation.id)
        with_bot = current.state in {"bot", "resolved"}
        _, created = await self._hub.receive(
            conversation, stored, client_id, bot_text=caption or None, payload={"attachment": attachment},
            to_bot=with_bot and bool(caption),
        )  # fmt: skip
        if created and with_bot:
            await self._hub.say(
                conversation,
                "system",
                f"Thanks! I can only read text, so I can't look at {_article(kind)}. Please tell me in words what "
                "you need, or send /human and a person from our team will see it.",
            )

    async def _on_button(self, update: Update, query: CallbackQuery) -> None:
        await _answer(query)
        chat = query.message.chat if query.message is not None else None
        if chat is None or chat.type != "private":
            return
        conversation = await self._conversation(chat.id, query.from_user)
        found = await self._tapped(conversation, query.data or "")
        if found is None:
            logger.info("conversation=%s telegram button %r not recognised", conversation.id, query.data)
            return
        owner, stored, button = found
        await _remove_keyboard(query)
        payload, title = str(button.get("payload") or ""), str(button.get("title") or button.get("payload"))
        rating = _rating(stored.payload or {}, payload)
        if rating is not None:
            await self._hub.feedback.rate(owner, rating[1], None, rating[0], request_id=stored.id)
        elif payload in HUB_COMMANDS:
            await self._hub.command(conversation, payload)
            if payload == "/leave_message":
                await self._hub.say(conversation, "system", LEAVE_MESSAGE_TEXT)
        elif payload == HUMAN_PAYLOAD:
            await self._hub.ask_for_person(conversation, title, f"tg:{update.update_id}")
        else:
            await self._receive(conversation, title, f"tg:{update.update_id}", bot_text=payload)

    async def _tapped(
        self, conversation: Conversation, data: str
    ) -> tuple[Conversation, StoredMessage, dict[str, Any]] | None:
        """The stored message and button a tap refers to, if they belong to this customer."""
        reference = parse_button_data(data)
        stored = await self._hub.conversations.message(reference[0]) if reference else None
        if reference is None or stored is None:
            return None
        owner = await self._hub.conversations.get(stored.conversation_id)
        buttons = (stored.payload or {}).get("buttons") or []
        if owner.customer_id != conversation.customer_id or reference[1] >= len(buttons):
            return None
        return owner, stored, buttons[reference[1]]

    async def _receive(
        self, conversation: Conversation, text: str, client_id: str, bot_text: str | None = None
    ) -> None:
        limit = self._hub.settings.max_message_chars
        payload = {"button": bot_text} if bot_text else None
        await self._hub.receive(conversation, text, client_id, bot_text=(bot_text or text)[:limit], payload=payload)

    async def _conversation(self, chat_id: int, user: User | None) -> Conversation:
        name = user.full_name if user else None
        if user and user.username:
            name = f"{name} (@{user.username})"
        customer = await self._hub.conversations.customer(CHANNEL, str(chat_id), name)
        conversation = await self._hub.conversations.current_conversation(customer)
        await self.followers.track(conversation.id, chat_id)
        return conversation

    async def _register_webhook(self) -> None:
        url = f"{self._settings.webhook_url}{WEBHOOK_PATH}"
        delay = 1.0
        while True:
            try:
                await self.bot.set_webhook(url, secret_token=self.secret, allowed_updates=list(ALLOWED_UPDATES))
                logger.info("Telegram webhook registered at %s", url)
                return
            except TelegramError as exc:
                logger.error("Telegram webhook could not be registered at %s (%s); retrying in %.0f s", url, exc,
                             delay)  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300.0)


def _describe(message: TelegramMessage, kind: str) -> tuple[str, dict[str, Any]]:
    """A line for the agent (with the file id, to fetch it with getFile) and the attachment's details."""
    if kind == "location" and message.location is not None:
        where = f"{message.location.latitude:.5f}, {message.location.longitude:.5f}"
        return f"location {where}", {"type": "location", "latitude": message.location.latitude,
                                     "longitude": message.location.longitude}  # fmt: skip
    if kind == "contact" and message.contact is not None:
        return f"contact {message.contact.first_name} {message.contact.phone_number}", {"type": "contact"}
    media = getattr(message, kind, None)
    if kind == "photo" and media:
        media = media[-1]
    file_id = getattr(media, "file_id", None)
    details: dict[str, Any] = {"type": kind, "file_id": file_id}
    label = kind.replace("_", " ")
    file_name, emoji = getattr(media, "file_name", None), getattr(media, "emoji", None)
    if kind == "document" and file_name:
        details["file_name"] = file_name
        label = f"document {file_name}"
    if kind == "sticker" and emoji:
        label = f"sticker {emoji}"
    return f"{label}, Telegram file id {file_id}", details


def _article(kind: str) -> str:
    return {"photo": "photos", "voice": "voice messages", "audio": "audio", "video": "videos",
            "video_note": "video messages", "document": "documents", "sticker": "stickers", "animation": "GIFs",
            "location": "locations", "contact": "contacts"}.get(kind, "that")  # fmt: skip


async def _answer(query: CallbackQuery) -> None:
    """Stop the button's spinner; Telegram wants an answer to every tap."""
    try:
        await query.answer()
    except TelegramError as exc:
        logger.info("telegram callback %s could not be answered: %s", query.id, exc)


async def _remove_keyboard(query: CallbackQuery) -> None:
    """A tapped choice is done: remove the buttons so an old one is not tapped again."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError as exc:
        logger.info("telegram keyboard could not be removed: %s", exc)


def _rating(request: dict[str, Any], payload: str) -> tuple[str, int] | None:
    """(question, score) when a tap answers a rating request with a score on its scale."""
    question = str(request.get("question", "csat"))
    scale = FEEDBACK_SCALES.get(question)
    if not request.get("rating_request") or scale is None or not (payload.isascii() and payload.isdigit()):
        return None
    return (question, int(payload)) if int(payload) in scale else None
