"""A Telegram Bot API double for tests: the documented HTTP API (https://core.telegram.org/bots/api) on a real socket.

python-telegram-bot, or any other client, is pointed at it with its base URL
(`telegram.Bot(token, base_url=api.base_url)`) and talks to it as to api.telegram.org. It answers the
methods the Telegram channel uses with the shapes and errors Telegram gives, including the markup parser's
"can't parse entities" errors (ported from tdlib's rules, which is what makes escaping tests mean something),
records every call, builds real Update JSON for the hub, and can be told to fail: 429 with retry_after, 5xx,
a dropped connection, or a slow answer.

Deliberate differences from Telegram, so that tests catch more, never less:
- HTML: a bare `&` that does not start an entity is refused. Telegram passes it through, but its
  documentation says every `&` must be escaped, and a channel that escapes only sometimes is a bug.
- Methods the double does not model answer 404 like unknown ones (the call is still recorded).
- Webhooks are only stored: the double never delivers updates itself; tests POST them (see `post_update`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import email.parser
import email.policy
import hmac
import json
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_TOKEN = "123456789:AAHfrontline-test-token_0123456789abc"
MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_SECRET_TOKEN_LENGTH = 256
JsonDict = dict[str, Any]

METHODS = (
    "getMe",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "getUpdates",
    "sendMessage",
    "sendChatAction",
    "answerCallbackQuery",
    "editMessageReplyMarkup",
    "editMessageText",
)
_CANONICAL = {name.lower(): name for name in METHODS}

# Telegram delivers every update type except these unless they are asked for in allowed_updates.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
_INTEGER = re.compile(r"[+-]?\d+")
_BOT_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)

# How form values (always strings) are read; JSON bodies already carry typed values.
_INT_PARAMS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "max_connections", "reply_to_message_id", "message_thread_id"}
)
_NUMBER_PARAMS = frozenset({"timeout", "cache_time"})
_BOOL_PARAMS = frozenset(
    {"drop_pending_updates", "disable_notification", "protect_content", "show_alert", "disable_web_page_preview"}
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
    }
)

DEFAULT_USER: JsonDict = {
    "id": 5550001,
    "is_bot": False,
    "first_name": "Ada",
    "last_name": "Lovelace",
    "username": "ada_lovelace",
    "language_code": "en",
}


class ApiError(Exception):
    """An error answer of the Bot API: `{"ok": false, "error_code": status, "description": ...}`."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, f"Bad Request: {message}")

    def body(self) -> JsonDict:
        data: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            data["parameters"] = self.parameters
        return data


@dataclasses.dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as recorded in `Call.params`."""

    filename: str | None
    content_type: str
    data: bytes


@dataclasses.dataclass
class Call:
    """One request to a Bot API method, recorded when it arrived and completed when it was answered.

    `params` are the parameters as Telegram reads them, whatever the encoding: numbers and booleans sent as
    form strings are converted, and JSON-encoded fields (`reply_markup`, `allowed_updates`, `entities`, ...)
    are decoded. `status` and `response` stay None while the call is pending (a long poll) and when its
    connection was dropped.
    """

    method: str
    params: JsonDict
    headers: dict[str, str]
    seq: int = 0
    status: int | None = None
    response: JsonDict | None = None
    injected: bool = False
    dropped: bool = False

    @property
    def failed(self) -> bool:
        """The call got no successful answer: an error (real or injected) or a dropped connection."""
        return self.dropped or (self.status is not None and self.status != 200)

    @property
    def result(self) -> Any:
        """The `result` of a successful answer, else None."""
        if self.response is None or not self.response.get("ok"):
            return None
        return self.response.get("result")

    @property
    def error(self) -> str | None:
        """The `description` of an error answer, else None."""
        return None if self.response is None or self.response.get("ok") else self.response.get("description")


@dataclasses.dataclass(frozen=True)
class Webhook:
    """What the last successful setWebhook stored."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    drop_pending_updates: bool
    max_connections: int


@dataclasses.dataclass(frozen=True)
class _Fault:
    error: ApiError | None = None
    raw_body: bytes | None = None
    drop: bool = False
    act_first: bool = False
    delay: float = 0.0


@dataclasses.dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def of(cls, status: int, data: JsonDict, delay: float = 0.0) -> _Reply:
        return cls(status, json.dumps(data, ensure_ascii=False).encode(), delay)


@dataclasses.dataclass
class _Described:
    """A result that Telegram sends with a `description` (the webhook methods do)."""

    result: Any
    description: str


def make_user(
    user_id: int = DEFAULT_USER["id"],
    first_name: str = DEFAULT_USER["first_name"],
    last_name: str | None = DEFAULT_USER["last_name"],
    username: str | None = DEFAULT_USER["username"],
    language_code: str | None = "en",
) -> JsonDict:
    """A Telegram User object for a human customer, for the update builders' `user`."""
    user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
    for name, value in (("last_name", last_name), ("username", username), ("language_code", language_code)):
        if value is not None:
            user[name] = value
    return user


def private_chat(user: JsonDict) -> JsonDict:
    """The private Chat object Telegram gives for a conversation between the bot and `user`."""
    chat: JsonDict = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    for name in ("last_name", "username"):
        if name in user:
            chat[name] = user[name]
    return chat


def post_update(url: str, update: JsonDict, secret_token: str | None = None, timeout: float = 10.0) -> tuple[int, str]:
    """POST an update to a webhook the way Telegram does; returns the HTTP status and the body text.

    Args:
        url: The webhook URL (the hub's Telegram endpoint).
        update: An Update, e.g. from `TelegramApiServer.text_update`.
        secret_token: Sent as `X-Telegram-Bot-Api-Secret-Token` when given, as Telegram does when the webhook
            was set with one.
        timeout: Seconds to wait for the answer.
    """
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


class TelegramApiServer:
    """The Bot API for one bot; serve with `start()` (or `with`), end with `stop()`."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        username: str = "frontline_test_bot",
        first_name: str = "Frontline",
        *,
        max_poll_seconds: float = 2.0,
        known_chats_only: bool = False,
    ) -> None:
        """Set up the double; nothing listens until `start()`.

        Args:
            token: The only token accepted; like Telegram, the bot's id is the number before the colon.
            username: The bot's username (getMe, `from` of its messages).
            first_name: The bot's first name.
            max_poll_seconds: Longest a getUpdates long poll is held, whatever `timeout` asks for, so that
                tests stay fast.
            known_chats_only: Answer "chat not found" for chats no update builder introduced, as Telegram does
                for users who never wrote to the bot.
        """
        self.token = token
        bot_id = token.partition(":")[0]
        self.bot_user: JsonDict = {
            "id": int(bot_id) if bot_id.isdigit() else 123456789,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self.max_poll_seconds = max_poll_seconds
        self.known_chats_only = known_chats_only
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._updates: list[JsonDict] = []
        self._allowed_updates: list[str] | None = None
        self._webhook: Webhook | None = None
        self._webhook_generation = 0
        self._poll_generation = 0
        self._next_update_id = 800_000_001
        self._next_message_id = 1
        self._next_callback_id = 4_391_872_044_160_000_001
        self._next_file = 1
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._bot_messages: list[tuple[int, int]] = []
        self._sent: list[tuple[int, str]] = []
        self._callback_ids: set[str] = set()
        self._chats: dict[int, JsonDict] = {}
        self._users: dict[int, JsonDict] = {}
        self._blocked: set[int] = set()
        self._httpd = _HttpServer(("127.0.0.1", 0), _RequestHandler, api=self)
        self._serve_thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="telegram-api", daemon=True
        )
        self._handlers: dict[str, Callable[[JsonDict], Any]] = {
            "getMe": self._get_me,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageText": self._edit_message_text,
        }

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Where the double listens, e.g. `http://127.0.0.1:40123`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        """The `base_url` for `telegram.Bot` (it appends the token)."""
        return f"{self.url}/bot"

    def start(self) -> TelegramApiServer:
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release held long polls and delayed answers."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._serve_thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> TelegramApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what happened -----------------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """The calls so far, oldest first; only those to `method` (any case) when given."""
        name = _canonical(method) if method else None
        with self._cond:
            return [c for c in self._calls if name is None or c.method == name]

    def clear_calls(self) -> None:
        """Forget the calls so far (a test's setup traffic, say)."""
        with self._cond:
            self._calls.clear()

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 10.0,
        after: Call | None = None,
    ) -> Call:
        """Wait for the first call to `method` that matches `predicate`.

        The predicate is tried again whenever a call arrives or is answered, so it may look at `call.result`.

        Args:
            method: The Bot API method, any case.
            predicate: Extra condition on the call; any call to `method` when None.
            timeout: Seconds to wait.
            after: Only consider calls recorded after this one.

        Raises:
            AssertionError: No such call within `timeout`; the message lists the calls seen.
        """
        name = _canonical(method)
        first = after.seq + 1 if after is not None else 0
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for call in self._calls:
                    if call.seq >= first and call.method == name and (predicate is None or predicate(call)):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = "\n".join(f"  {_describe(c)}" for c in self._calls) or "  (none)"
                    raise AssertionError(f"no matching {name} call within {timeout}s; calls seen:\n{seen}")
                self._cond.wait(remaining)

    def messages(self, chat_id: int | str) -> list[JsonDict]:
        """The messages the bot sent to `chat_id`, oldest first, as they are now (after edits)."""
        chat = _chat_key(chat_id)
        with self._cond:
            return [copy.deepcopy(self._messages[key]) for key in self._bot_messages if key[0] == chat]

    def sent_texts(self, chat_id: int | str) -> list[str]:
        """The texts sendMessage delivered to `chat_id`, oldest first.

        These are the texts as the customer sees them: after markup parsing (no tags, no escapes) and before
        any later edit. A message whose answer `drop_next(after_acting=True)` lost is included: it was sent.
        """
        chat = _chat_key(chat_id)
        with self._cond:
            return [text for sent_to, text in self._sent if sent_to == chat]

    @property
    def webhook(self) -> Webhook | None:
        """The webhook set now, if any."""
        with self._cond:
            return self._webhook

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates queued with `push_update` and not yet confirmed by a getUpdates offset."""
        with self._cond:
            return copy.deepcopy(self._updates)

    # -- steering ----------------------------------------------------------------------------------------------

    def fail_next(self, method: str, times: int = 1, status: int = 429, retry_after: int = 1) -> None:
        """Answer the next `times` calls to `method` with flood control, without acting on them.

        The answer is Telegram's: `{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after
        N", "parameters": {"retry_after": N}}`.
        """
        error = ApiError(status, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        self._add_faults(method, (_Fault(error=error) for _ in range(times)))

    def error_next(
        self,
        method: str,
        times: int = 1,
        status: int = 500,
        description: str | None = None,
        raw_body: bytes | None = None,
    ) -> None:
        """Answer the next `times` calls to `method` with a server error, without acting on them.

        Args:
            method: The Bot API method, any case.
            times: How many calls fail.
            status: The HTTP status and `error_code`, e.g. 500 or 502.
            description: The error's description; the status's reason phrase ("Bad Gateway") when None.
            raw_body: Send exactly these bytes instead of the JSON error (e.g. a proxy's HTML page).
        """
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Server Error"
        error = ApiError(status, description or phrase)
        self._add_faults(method, (_Fault(error=error, raw_body=raw_body) for _ in range(times)))

    def drop_next(self, method: str, times: int = 1, after_acting: bool = False) -> None:
        """Close the connection of the next `times` calls to `method` without answering (a network error).

        Args:
            method: The Bot API method, any case.
            times: How many calls are dropped.
            after_acting: Carry the call out first (the message is sent), then lose the answer: the case where a
                client that retries sends a message twice.
        """
        self._add_faults(method, (_Fault(drop=True, act_first=after_acting) for _ in range(times)))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Carry out the next `times` calls to `method` normally but answer each only after `seconds`."""
        self._add_faults(method, (_Fault(delay=seconds) for _ in range(times)))

    def block(self, chat_id: int) -> None:
        """From now on, answer calls aimed at `chat_id` as Telegram does when the user blocked the bot (403)."""
        with self._cond:
            self._blocked.add(int(chat_id))

    def unblock(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.discard(int(chat_id))

    def push_update(self, update: JsonDict) -> JsonDict:
        """Queue an update for getUpdates (an `update_id` is added if it has none); returns it."""
        with self._cond:
            if "update_id" not in update:
                update = {"update_id": self._take_update_id(), **update}
            self._updates.append(copy.deepcopy(update))
            self._cond.notify_all()
        return update

    # -- update builders ---------------------------------------------------------------------------------------

    def text_update(self, text: str, *, user: JsonDict | None = None, chat: JsonDict | None = None) -> JsonDict:
        """A customer's text message; bot commands in it get `bot_command` entities, as Telegram adds them."""
        message = self._user_message(user, chat, text=text)
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        return self._update(message=message)

    def command_update(
        self, command: str = "/start", *, args: str = "", user: JsonDict | None = None, chat: JsonDict | None = None
    ) -> JsonDict:
        """A customer's command such as `/start` (with `args` after a space, e.g. a deep-link payload)."""
        if not _BOT_COMMAND.fullmatch(command):
            raise ValueError(f"{command!r} is not a bot command like /start")
        text = f"{command} {args}" if args else command
        message = self._user_message(user, chat, text=text)
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        return self._update(message=message)

    def callback_update(
        self,
        data: str,
        *,
        message: JsonDict | None = None,
        user: JsonDict | None = None,
        strict: bool = True,
    ) -> JsonDict:
        """A customer pressing an inline button with `data` under a message the bot sent.

        Args:
            data: The button's callback_data.
            message: The bot's message (a sendMessage result); the bot's latest message to `user` when None.
            user: Who pressed; the private chat's user (else the default user) when None.
            strict: Require a button with this callback_data on the message, as only such a press can happen.

        Raises:
            ValueError: There is no such message or, with `strict`, no such button.
        """
        with self._cond:
            if message is None:
                wanted = (user or DEFAULT_USER)["id"]
                keys = [key for key in self._bot_messages if key[0] == wanted]
                if not keys:
                    raise ValueError(f"the bot has sent no message to chat {wanted} to press a button under")
                message = self._messages[keys[-1]]
            else:
                message = self._messages.get((message["chat"]["id"], message["message_id"]), message)
            message = copy.deepcopy(message)
            chat = message["chat"]
            if user is None:
                user = self._users.get(chat["id"], DEFAULT_USER) if chat["type"] == "private" else DEFAULT_USER
            if strict and data not in _callback_data(message):
                raise ValueError(f"message {message['message_id']} has no button with callback_data {data!r}")
            query_id = str(self._next_callback_id)
            self._next_callback_id += 1
            self._callback_ids.add(query_id)
            self._remember(user, None)
        query = {
            "id": query_id,
            "from": copy.deepcopy(user),
            "message": message,
            "chat_instance": str(-(abs(chat["id"]) * 7919 + 13)),
            "data": data,
        }
        return self._update(callback_query=query)

    def photo_update(
        self, *, caption: str | None = None, user: JsonDict | None = None, chat: JsonDict | None = None
    ) -> JsonDict:
        """A customer's photo: three sizes, as Telegram sends them, and an optional caption."""
        unique = self._file_ids("photo")
        sizes = [
            {
                "file_id": f"{unique[0]}-{width}",
                "file_unique_id": f"{unique[1]}{index}",
                "file_size": width * height // 8,
                "width": width,
                "height": height,
            }
            for index, (width, height) in enumerate(((90, 67), (320, 240), (1280, 960)))
        ]
        return self._update(message=self._user_message(user, chat, photo=sizes, **_caption(caption)))

    def sticker_update(
        self, emoji: str = "👍", *, user: JsonDict | None = None, chat: JsonDict | None = None
    ) -> JsonDict:
        """A customer's (static, regular) sticker."""
        file_id, unique_id = self._file_ids("sticker")
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FrontlineTestStickers",
            "file_size": 24_576,
        }
        return self._update(message=self._user_message(user, chat, sticker=sticker))

    def voice_update(
        self, duration: int = 3, *, user: JsonDict | None = None, chat: JsonDict | None = None
    ) -> JsonDict:
        """A customer's voice note (OGG/Opus, as Telegram clients record them)."""
        file_id, unique_id = self._file_ids("voice")
        voice = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": 4_000 * duration,
        }
        return self._update(message=self._user_message(user, chat, voice=voice))

    def document_update(
        self,
        file_name: str = "receipt.pdf",
        mime_type: str = "application/pdf",
        *,
        caption: str | None = None,
        user: JsonDict | None = None,
        chat: JsonDict | None = None,
    ) -> JsonDict:
        """A customer's file sent as a document."""
        file_id, unique_id = self._file_ids("document")
        document = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 48_213,
        }
        return self._update(message=self._user_message(user, chat, document=document, **_caption(caption)))

    def location_update(
        self,
        latitude: float = 52.520008,
        longitude: float = 13.404954,
        *,
        user: JsonDict | None = None,
        chat: JsonDict | None = None,
    ) -> JsonDict:
        """A customer's shared (static) location."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._update(message=self._user_message(user, chat, location=location))

    def edited_text_update(
        self,
        text: str,
        *,
        message: JsonDict | None = None,
        user: JsonDict | None = None,
        chat: JsonDict | None = None,
    ) -> JsonDict:
        """A customer editing a text message they sent.

        Args:
            text: The new text.
            message: The original message (the `message` of an earlier `text_update`); a new id when None.
            user: The author, when `message` is None.
            chat: The chat, when `message` is None.
        """
        if message is None:
            edited = self._user_message(user, chat, text=text)
        else:
            edited = {key: copy.deepcopy(message[key]) for key in ("message_id", "from", "chat", "date")}
            edited["text"] = text
        edited["edit_date"] = max(int(time.time()), edited["date"])
        entities = _command_entities(text)
        if entities:
            edited["entities"] = entities
        return self._update(edited_message=edited)

    # -- serving -----------------------------------------------------------------------------------------------

    def handle(self, http_method: str, target: str, headers: dict[str, str], body: bytes) -> _Reply:
        """The answer to one HTTP request; called from the request's thread."""
        split = urlsplit(target)
        match = re.fullmatch(r"/bot([^/]*)/([^/]+)", split.path)
        if match is None or http_method not in {"GET", "POST"}:
            return _Reply.of(404, ApiError(404, "Not Found").body())
        token, raw_method = match.groups()
        method = _CANONICAL.get(raw_method.lower(), raw_method)
        try:
            params = _normalise(_read_params(split.query, headers, body))
        except ApiError as exc:
            params, early = {}, exc
        else:
            early = None
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            early = ApiError(401, "Unauthorized")
        elif method not in self._handlers:
            early = ApiError(404, "Not Found")
        with self._cond:
            call = Call(method, params, headers, seq=len(self._calls))
            self._calls.append(call)
            self._cond.notify_all()
            queue = self._faults.get(method) if early is None else None
            fault = queue.pop(0) if queue else _Fault()
        if early is not None:
            return self._answer(call, _Reply.of(early.status, early.body()))
        if fault.drop and not fault.act_first:
            return self._answer(call, _Reply(0, b"", drop=True), injected=True)
        if fault.error is not None:
            reply = _Reply.of(fault.error.status, fault.error.body())
            if fault.raw_body is not None:
                reply = _Reply(fault.error.status, fault.raw_body)
            return self._answer(call, reply, injected=True)
        try:
            outcome = self._handlers[method](params)
        except ApiError as exc:
            reply = _Reply.of(exc.status, exc.body(), fault.delay)
        else:
            data: JsonDict = {"ok": True, "result": outcome}
            if isinstance(outcome, _Described):
                data = {"ok": True, "result": outcome.result, "description": outcome.description}
            reply = _Reply.of(200, data, fault.delay)
        if fault.drop:
            return self._answer(call, _Reply(0, b"", drop=True), injected=True)
        return self._answer(call, reply)

    def hold(self, seconds: float) -> None:
        """Wait before answering, but no longer than until the double stops."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def _answer(self, call: Call, reply: _Reply, injected: bool = False) -> _Reply:
        with self._cond:
            call.injected = injected
            if reply.drop:
                call.dropped = True
            else:
                call.status = reply.status
                try:
                    call.response = json.loads(reply.body)
                except ValueError:
                    call.response = {"ok": False, "error_code": reply.status, "description": reply.body.decode()}
            self._cond.notify_all()
        return reply

    def _add_faults(self, method: str, faults: Iterable[_Fault]) -> None:
        name = _canonical(method)
        with self._cond:
            self._faults.setdefault(name, []).extend(faults)

    # -- methods -----------------------------------------------------------------------------------------------

    def _get_me(self, params: JsonDict) -> JsonDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_webhook(self, params: JsonDict) -> _Described:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        secret = str(secret) if secret not in (None, "") else None
        if secret is not None:
            if len(secret) > MAX_SECRET_TOKEN_LENGTH:
                raise ApiError.bad_request("secret token is too long")
            if not _SECRET_TOKEN.fullmatch(secret):
                raise ApiError.bad_request("secret token contains unallowed characters")
        if url:
            parts = urlsplit(url)
            if parts.scheme.lower() != "https" or not parts.hostname:
                raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if (parts.port or 443) not in _WEBHOOK_PORTS:
                raise ApiError.bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        allowed = _allowed_updates(params.get("allowed_updates"))
        max_connections = params.get("max_connections", 40)
        if not isinstance(max_connections, int) or not 1 <= max_connections <= 100:
            raise ApiError.bad_request("bad webhook: max_connections must be between 1 and 100")
        drop = params.get("drop_pending_updates") is True
        with self._cond:
            before = self._webhook
            if drop:
                self._updates.clear()
            if allowed is not None:
                self._allowed_updates = allowed or None
            if not url:
                self._webhook = None
                description = "Webhook was deleted" if before else "Webhook is already deleted"
            else:
                self._webhook = Webhook(url, secret, self._allowed_updates, drop, max_connections)
                description = "Webhook is already set" if before and before.url == url else "Webhook was set"
            self._webhook_generation += 1
            self._cond.notify_all()
        return _Described(True, description)

    def _delete_webhook(self, params: JsonDict) -> _Described:
        with self._cond:
            before = self._webhook
            self._webhook = None
            if params.get("drop_pending_updates") is True:
                self._updates.clear()
        return _Described(True, "Webhook was deleted" if before else "Webhook is already deleted")

    def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        with self._cond:
            hook = self._webhook
            info: JsonDict = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}
            if hook is not None:
                info.update(url=hook.url, max_connections=hook.max_connections, ip_address="149.154.167.220")
                if hook.allowed_updates:
                    info["allowed_updates"] = list(hook.allowed_updates)
        return info

    def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = params.get("timeout", 0)
        if not isinstance(timeout, (int, float)):
            raise ApiError.bad_request("wrong parameter timeout")
        wait = min(max(float(timeout), 0.0), self.max_poll_seconds)
        allowed = _allowed_updates(params.get("allowed_updates"))
        deadline = time.monotonic() + wait
        with self._cond:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if allowed is not None:
                self._allowed_updates = allowed or None
            self._poll_generation += 1
            mine, webhook_generation = self._poll_generation, self._webhook_generation
            self._cond.notify_all()
            if offset < 0:
                del self._updates[: max(len(self._updates) + offset, 0)]
            elif offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while True:
                if self._poll_generation != mine:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if self._webhook_generation != webhook_generation:
                    raise ApiError(409, "Conflict: terminated by setWebhook request")
                ready = [u for u in self._updates if self._wanted(u)][:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._stopping.is_set():
                    return copy.deepcopy(ready)
                self._cond.wait(remaining)

    def _send_message(self, params: JsonDict) -> JsonDict:
        text, entities = _message_text(params)
        markup = _reply_markup(params.get("reply_markup"))
        with self._cond:
            chat = self._chat(params)
            message: JsonDict = {
                "message_id": self._take_message_id(),
                "from": dict(self.bot_user),
                "chat": copy.deepcopy(chat),
                "date": int(time.time()),
                "text": text,
            }
            if entities:
                message["entities"] = entities
            if markup is not None and "inline_keyboard" in markup:
                message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
            key = (chat["id"], message["message_id"])
            self._messages[key] = message
            self._bot_messages.append(key)
            self._sent.append((chat["id"], text))
            return copy.deepcopy(message)

    def _send_chat_action(self, params: JsonDict) -> bool:
        action = params.get("action")
        with self._cond:
            self._chat(params)
        if action not in _CHAT_ACTIONS:
            raise ApiError.bad_request("wrong parameter action in request")
        return True

    def _answer_callback_query(self, params: JsonDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError.bad_request("MESSAGE_TOO_LONG")
        with self._cond:
            if query_id not in self._callback_ids:
                raise ApiError.bad_request("query is too old and response timeout expired or query ID is invalid")
            self._callback_ids.discard(query_id)
        return True

    def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict:
        markup = _reply_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise ApiError.bad_request("inline keyboard expected")
        with self._cond:
            message = self._editable(params)
            if message.get("reply_markup") == markup:
                raise ApiError.bad_request(_NOT_MODIFIED)
            return self._edited(message, markup, message["text"], message.get("entities"))

    def _edit_message_text(self, params: JsonDict) -> JsonDict:
        text, entities = _message_text(params)
        markup = _reply_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise ApiError.bad_request("inline keyboard expected")
        with self._cond:
            message = self._editable(params)
            same = (message["text"], message.get("entities"), message.get("reply_markup"))
            if same == (text, entities or None, markup):
                raise ApiError.bad_request(_NOT_MODIFIED)
            return self._edited(message, markup, text, entities)

    # -- state helpers (callers hold self._cond) ---------------------------------------------------------------

    def _chat(self, params: JsonDict) -> JsonDict:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError.bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise ApiError.bad_request("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        chat = self._chats.get(chat_id)
        if chat is not None:
            return chat
        if self.known_chats_only:
            raise ApiError.bad_request("chat not found")
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Customer"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Support group"}

    def _editable(self, params: JsonDict) -> JsonDict:
        if params.get("inline_message_id"):
            raise ApiError.bad_request("message to edit not found")
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError.bad_request("message identifier is not specified")
        if isinstance(chat_id, int) and chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        message = self._messages.get((chat_id, message_id)) if isinstance(chat_id, int) else None
        if message is None:
            raise ApiError.bad_request("message to edit not found")
        return message

    def _edited(
        self, message: JsonDict, markup: JsonDict | None, text: str, entities: list[JsonDict] | None
    ) -> JsonDict:
        message["text"] = text
        message.pop("entities", None)
        message.pop("reply_markup", None)
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        message["edit_date"] = max(int(time.time()), message["date"])
        return copy.deepcopy(message)

    def _wanted(self, update: JsonDict) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATE_TYPES
        return kind in self._allowed_updates

    def _user_message(self, user: JsonDict | None, chat: JsonDict | None, **content: Any) -> JsonDict:
        user = copy.deepcopy(user) if user is not None else dict(DEFAULT_USER)
        chat = copy.deepcopy(chat) if chat is not None else private_chat(user)
        with self._cond:
            self._remember(user, chat)
            message_id = self._take_message_id()
        return {"message_id": message_id, "from": user, "chat": chat, "date": int(time.time()), **content}

    def _remember(self, user: JsonDict, chat: JsonDict | None) -> None:
        self._users[user["id"]] = copy.deepcopy(user)
        if chat is not None:
            self._chats[chat["id"]] = copy.deepcopy(chat)

    def _update(self, **body: JsonDict) -> JsonDict:
        with self._cond:
            return {"update_id": self._take_update_id(), **body}

    def _take_update_id(self) -> int:
        self._next_update_id += 1
        return self._next_update_id - 1

    def _take_message_id(self) -> int:
        self._next_message_id += 1
        return self._next_message_id - 1

    def _file_ids(self, kind: str) -> tuple[str, str]:
        with self._cond:
            number = self._next_file
            self._next_file += 1
        return f"AgACAgIAAxkBAAI{kind}{number:06d}", f"AQAD{number:06d}{kind[:2]}"


# -- request decoding ------------------------------------------------------------------------------------------


def _read_params(query: str, headers: dict[str, str], body: bytes) -> JsonDict:
    """Parameters from the query string and the body, whichever of the four encodings Telegram accepts."""
    params: JsonDict = {name: values[-1] for name, values in parse_qs(query, keep_blank_values=True).items()}
    content_type = headers.get("content-type", "").lower()
    if not body:
        return params
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            raise ApiError.bad_request("can't parse JSON encoded request") from None
        if not isinstance(data, dict):
            raise ApiError.bad_request("JSON object expected as request body")
        params.update(data)
    elif content_type.startswith("multipart/form-data"):
        params.update(_multipart(headers["content-type"], body))
    else:
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({name: values[-1] for name, values in form.items()})
    return params


def _multipart(content_type: str, body: bytes) -> JsonDict:
    parser = email.parser.BytesParser(policy=email.policy.HTTP)
    message = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    params: JsonDict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None or part.get_content_type() not in {"text/plain"}:
            params[str(name)] = UploadedFile(filename, part.get_content_type(), payload)
        else:
            params[str(name)] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return params


def _normalise(params: JsonDict) -> JsonDict:
    """Form values are strings; read them as Telegram does (numbers, booleans, JSON-encoded objects)."""
    result: JsonDict = {}
    for name, value in params.items():
        if isinstance(value, str):
            text = value.strip()
            if name in _JSON_PARAMS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif name in _INT_PARAMS and _INTEGER.fullmatch(text):
                value = int(text)
            elif name in _NUMBER_PARAMS:
                try:
                    number = float(text)
                except ValueError:
                    pass
                else:
                    value = int(number) if number.is_integer() else number
            elif name in _BOOL_PARAMS and text.lower() in {"true", "false", "1", "0"}:
                value = text.lower() in {"true", "1"}
        result[name] = value
    return result


def _int_param(params: JsonDict, name: str, default: int) -> int:
    value = params.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError.bad_request(f"wrong parameter {name}")
    return value


def _allowed_updates(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError.bad_request("can't parse allowed updates: expected an Array of String")
    return list(value)


def _reply_markup(value: Any) -> JsonDict | None:
    """Check a reply_markup the way Telegram does for the mistakes clients make; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in value:
        if not {"keyboard", "remove_keyboard", "force_reply"} & value.keys():
            raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
        return value
    rows = value["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise ApiError.bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            if not _INLINE_BUTTON_ACTIONS & button.keys():
                raise ApiError.bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError.bad_request("BUTTON_DATA_INVALID")
    return {"inline_keyboard": rows}


def _callback_data(message: JsonDict) -> set[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {button["callback_data"] for row in rows for button in row if "callback_data" in button}


def _caption(caption: str | None) -> JsonDict:
    if caption is None:
        return {}
    entities = _command_entities(caption)
    return {"caption": caption, "caption_entities": entities} if entities else {"caption": caption}


def _command_entities(text: str) -> list[JsonDict]:
    return [
        {"type": "bot_command", "offset": _utf16_len(text[: m.start()]), "length": _utf16_len(m.group())}
        for m in _BOT_COMMAND.finditer(text)
    ]


# -- message text ----------------------------------------------------------------------------------------------


def _message_text(params: JsonDict) -> tuple[str, list[JsonDict]]:
    """The text as Telegram stores it (markup parsed, ends trimmed) and its entities, or the 400 it gives."""
    raw = params.get("text")
    if raw is None or raw == "":
        raise ApiError.bad_request("message text is empty")
    text = str(raw)
    mode = str(params.get("parse_mode") or "")
    explicit = params.get("entities")
    try:
        if mode.lower() == "html":
            text, entities = parse_html(text)
        elif mode.lower() == "markdownv2":
            text, entities = parse_markdown_v2(text)
        elif mode.lower() == "markdown":
            text, entities = parse_markdown(text)
        elif mode:
            raise ApiError.bad_request("unsupported parse_mode")
        else:
            entities = list(explicit) if isinstance(explicit, list) else []
    except MarkupError as exc:
        raise ApiError.bad_request(f"can't parse entities: {exc}") from None
    text, entities = _trim(text, entities)
    if not text:
        raise ApiError.bad_request("message text is empty")
    if _utf16_len(text) > MAX_MESSAGE_LENGTH:
        raise ApiError.bad_request("message is too long")
    return text, entities


def _trim(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Telegram drops leading and trailing whitespace; entities move and shrink with the text."""
    stripped = text.strip(_WHITESPACE)
    if stripped == text:
        return text, entities
    shift = _utf16_len(text[: len(text) - len(text.lstrip(_WHITESPACE))])
    size = _utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


_WHITESPACE = "".join(chr(code) for code in range(33))


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and of its 4096 limit."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class MarkupError(ValueError):
    """Telegram's reason for refusing a text's markup (what follows "can't parse entities: ")."""


class _Out:
    """The text being built by a markup parser, with its length in UTF-16 code units."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, chars: str) -> None:
        self.parts.append(chars)
        self.length += _utf16_len(chars)

    def text(self) -> str:
        return "".join(self.parts)


def _entity(kind: str, offset: int, length: int, **extra: Any) -> JsonDict:
    return {"type": kind, "offset": offset, "length": length, **extra}


def _sorted(entities: list[JsonDict]) -> list[JsonDict]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji", "span", "pre"}
    | {"code", "blockquote"}
)
_HTML_ENTITY = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([a-zA-Z]+));?")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}


def _html_entity(text: str, index: int) -> tuple[str, int] | None:
    """The character an HTML entity at `index` stands for and where it ends; None if it is not one."""
    match = _HTML_ENTITY.match(text, index)
    if match is None:
        return None
    hexadecimal, decimal, name = match.groups()
    if name is not None:
        char = _HTML_NAMED.get(name)
        return None if char is None else (char, match.end())
    digits = hexadecimal or decimal
    if len(match.group().rstrip(";")) >= 10:
        return None
    code = int(digits, 16 if hexadecimal else 10)
    if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def parse_html(text: str) -> tuple[str, list[JsonDict]]:
    """Telegram's HTML parse mode: the plain text and its entities (offsets in UTF-16 code units).

    Raises:
        MarkupError: With Telegram's message (tdlib's rules), or, for a bare `&`, the double's own.
    """
    out = _Out()
    entities: list[JsonDict] = []
    open_tags: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, index into out.parts
    size = len(text)
    i = 0
    while i < size:
        ch = text[i]
        if ch == "&":
            decoded = _html_entity(text, i)
            if decoded is None:
                raise MarkupError(f'Unescaped "&" at byte offset {_byte_offset(text, i)}; write it as "&amp;"')
            out.add(decoded[0])
            i = decoded[1]
            continue
        if ch != "<":
            out.add(ch)
            i += 1
            continue
        begin = i
        i += 1
        if i < size and text[i] == "/":
            i += 1
            while i < size and not text[i].isspace() and text[i] != ">":
                i += 1
            name = text[begin + 2 : i].lower()
            if not open_tags:
                raise MarkupError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
            while i < size and text[i].isspace():
                i += 1
            if i >= size or text[i] != ">":
                raise MarkupError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            i += 1
            tag, argument, offset, begin_part = open_tags.pop()
            if name and name != tag:
                raise MarkupError(
                    f'Unmatched end tag at byte offset {_byte_offset(text, begin)}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            _close_html_tag(entities, tag, argument, offset, out, begin_part)
            continue
        while i < size and not text[i].isspace() and text[i] != ">":
            i += 1
        if i >= size:
            raise MarkupError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        tag = text[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise MarkupError(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}')
        argument, i = _html_attributes(text, i, tag, begin)
        if tag == "span" and argument != "spoiler":
            raise MarkupError(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}')
        open_tags.append((tag, argument, out.length, len(out.parts)))
    if open_tags:
        raise MarkupError(f"Can't find end tag corresponding to start tag {open_tags[-1][0]}")
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return out.text(), _sorted(entities)


def _html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[str, int]:
    """Read a start tag's attributes from `i` to past its `>`; the argument that matters for `tag`."""
    size = len(text)
    argument = ""
    where = _byte_offset(text, begin)
    while True:
        while i < size and text[i].isspace():
            i += 1
        if i >= size:
            raise MarkupError(f"Unclosed start tag at byte offset {where}")
        if text[i] == ">":
            return argument, i + 1
        start = i
        while i < size and not text[i].isspace() and text[i] not in "=>":
            i += 1
        name = text[start:i]
        if not name:
            raise MarkupError(f'Empty attribute name in the tag "{tag}" at byte offset {where}')
        while i < size and text[i].isspace():
            i += 1
        if tag == "blockquote" and name == "expandable" and (i >= size or text[i] != "="):
            argument = "expandable"
            continue
        if i >= size or text[i] != "=":
            raise MarkupError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {where}'
            )
        i += 1
        while i < size and text[i].isspace():
            i += 1
        if i >= size:
            raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {where}')
        if text[i] in "'\"":
            quote = text[i]
            i += 1
            value: list[str] = []
            while i < size and text[i] != quote:
                decoded = _html_entity(text, i) if text[i] == "&" else None
                if decoded is not None:
                    value.append(decoded[0])
                    i = decoded[1]
                else:
                    value.append(text[i])
                    i += 1
            i += 1
            attribute = "".join(value)
        else:
            start = i
            while i < size and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            attribute = text[start:i].lower()
            if i < size and not text[i].isspace() and text[i] != ">":
                raise MarkupError(f"Unexpected end of name token at byte offset {_byte_offset(text, start)}")
        if (tag == "a" and name == "href") or (tag == "tg-emoji" and name == "emoji-id"):
            argument = attribute
        elif tag == "code" and name == "class" and attribute.startswith("language-"):
            argument = attribute.removeprefix("language-")
        elif tag == "span" and name == "class" and attribute.startswith("tg-"):
            argument = attribute.removeprefix("tg-")


def _close_html_tag(entities: list[JsonDict], tag: str, argument: str, offset: int, out: _Out, begin_part: int) -> None:
    length = out.length - offset
    if length <= 0:
        return
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag in _HTML_SIMPLE or tag == "span":
        entities.append(_entity(_HTML_SIMPLE.get(tag, "spoiler"), offset, length))
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise MarkupError("Invalid custom emoji identifier specified")
        entities.append(_entity("custom_emoji", offset, length, custom_emoji_id=argument))
    elif tag == "a":
        url = argument or "".join(out.parts[begin_part:])
        if url:
            entities.append(_entity("text_link", offset, length, url=url))
    elif tag == "pre":
        if last is not None and same_span and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        else:
            entities.append(_entity("pre", offset, length))
    elif tag == "code":
        if last is not None and same_span and last["type"] == "pre" and argument:
            last["language"] = argument
        else:
            entities.append(_entity("code", offset, length, **({"language": argument} if argument else {})))
    else:
        kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
        entities.append(_entity(kind, offset, length))


_MD2_RESERVED = "_*[]()~`>#+-=|{}.!\n"
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


@dataclasses.dataclass
class _Open:
    kind: str
    offset: int
    byte_offset: int
    begin_part: int
    language: str = ""


def parse_markdown_v2(text: str) -> tuple[str, list[JsonDict]]:
    """Telegram's MarkdownV2 parse mode (a port of tdlib's rules): the plain text and its entities.

    Raises:
        MarkupError: With Telegram's message, e.g. "Character '.' is reserved and must be escaped with the
            preceding '\\'".
    """
    out = _Out()
    entities: list[JsonDict] = []
    nested: list[_Open] = []
    size = len(text)
    have_blockquote = False

    def at(index: int) -> str:
        return text[index] if index < size else ""

    def reserved(ch: str) -> MarkupError:
        return MarkupError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")

    i = 0
    while i < size:
        ch = text[i]
        if ch == "\\" and "\x00" < at(i + 1) <= "~":
            out.add(text[i + 1])
            i += 2
            continue
        in_code = bool(nested) and nested[-1].kind in {"code", "pre"}
        if ch not in ("`" if in_code else _MD2_RESERVED):
            out.add(ch)
            i += 1
            continue
        ends = False
        if nested:
            top = nested[-1].kind
            if have_blockquote and ch == "\n" and at(i + 1) != ">":
                ends = True
            elif top == "bold":
                ends = ch == "*"
            elif top == "italic":
                ends = ch == "_" and at(i + 1) != "_"
            elif top == "code":
                ends = ch == "`"
            elif top == "pre":
                ends = text.startswith("```", i)
            elif top in {"text_link", "custom_emoji"}:
                ends = ch == "]"
            elif top == "underline":
                ends = text.startswith("__", i)
            elif top == "strikethrough":
                ends = ch == "~"
            elif top == "spoiler":
                ends = text.startswith("||", i)
        if not ends:
            start = i
            language = ""
            if ch == "_":
                kind = "underline" if at(i + 1) == "_" else "italic"
                i += 2 if kind == "underline" else 1
            elif ch == "*":
                kind, i = "bold", i + 1
            elif ch == "~":
                kind, i = "strikethrough", i + 1
            elif ch == "|":
                if at(i + 1) != "|":
                    raise reserved(ch)
                kind, i = "spoiler", i + 2
            elif ch == "[":
                kind, i = "text_link", i + 1
            elif ch == "`":
                if text.startswith("```", i):
                    kind, i = "pre", i + 3
                    end = i
                    while end < size and not text[end].isspace() and text[end] != "`":
                        end += 1
                    if end != i and end < size and text[end] != "`":
                        language, i = text[i:end], end
                    if at(i) in {"\n", "\r"}:
                        i += 2 if at(i + 1) in {"\n", "\r"} and at(i + 1) != at(i) else 1
                else:
                    kind, i = "code", i + 1
            elif ch == "!":
                if at(i + 1) != "[":
                    raise reserved(ch)
                kind, i = "custom_emoji", i + 2
            elif ch == "\n":
                out.add("\n")
                i += 1
                if at(i) == ">":
                    i += 1
                    if not have_blockquote:
                        have_blockquote = True
                        nested.append(_Open("blockquote", out.length, _byte_offset(text, start), len(out.parts)))
                continue
            elif ch == ">" and start == 0:
                kind, i = "blockquote", i + 1
                have_blockquote = True
            else:
                raise reserved(ch)
            nested.append(_Open(kind, out.length, _byte_offset(text, start), len(out.parts), language))
            continue
        top_entity = nested[-1]
        kind = top_entity.kind
        if ch == "\n" and kind != "blockquote":
            raise MarkupError(f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {top_entity.byte_offset}")
        extra: JsonDict = {}
        skip = out.length == top_entity.offset
        if kind in {"bold", "italic", "code", "strikethrough"}:
            i += 1
        elif kind in {"underline", "spoiler"}:
            i += 2
        elif kind == "pre":
            i += 3
            if top_entity.language:
                extra["language"] = top_entity.language
        elif kind in {"text_link", "custom_emoji"}:
            i += 1
            if at(i) != "(":
                if kind == "custom_emoji":
                    raise MarkupError("Custom emoji entity must contain a tg://emoji URL")
                url = "".join(out.parts[top_entity.begin_part :])
            else:
                i += 1
                url_begin = i
                chars: list[str] = []
                while i < size and text[i] != ")":
                    if text[i] == "\\" and "\x00" < at(i + 1) <= "~":
                        chars.append(text[i + 1])
                        i += 2
                    else:
                        chars.append(text[i])
                        i += 1
                if i >= size:
                    what = "a custom emoji URL" if kind == "custom_emoji" else "a URL"
                    raise MarkupError(f"Can't find end of {what} at byte offset {_byte_offset(text, url_begin)}")
                i += 1
                url = "".join(chars)
            if kind == "custom_emoji":
                emoji_id = url.removeprefix("tg://emoji?id=")
                if emoji_id == url or not emoji_id.isdigit():
                    raise MarkupError("Custom emoji URL must have an emoji identifier")
                extra["custom_emoji_id"] = emoji_id
            elif url:
                extra["url"] = url
            else:
                skip = True
        else:  # the newline that ends a blockquote
            have_blockquote = False
            out.add("\n")
            i += 1
        if not skip:
            length = out.length - top_entity.offset
            if kind == "blockquote":
                length -= 1  # the entity ends before the newline
            if length > 0:
                entities.append(_entity(kind, top_entity.offset, length, **extra))
        nested.pop()
    if have_blockquote and nested and nested[-1].kind == "blockquote":
        top_entity = nested.pop()
        if out.length > top_entity.offset:
            entities.append(_entity("blockquote", top_entity.offset, out.length - top_entity.offset))
    if nested:
        top_entity = nested[-1]
        raise MarkupError(
            f"Can't find end of {_MD2_NAMES[top_entity.kind]} entity at byte offset {top_entity.byte_offset}"
        )
    return out.text(), _sorted(entities)


def parse_markdown(text: str) -> tuple[str, list[JsonDict]]:
    """Telegram's legacy Markdown parse mode: `*bold*`, `_italic_`, `` `code` ``, ```` ```pre``` ````, `[text](url)`.

    Raises:
        MarkupError: "Can't find end of the entity starting at byte offset N", as Telegram says.
    """
    out = _Out()
    entities: list[JsonDict] = []
    size = len(text)
    i = 0
    while i < size:
        ch = text[i]
        if ch == "\\" and i + 1 < size and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.add(ch)
            i += 1
            continue
        start = i
        is_pre = text.startswith("```", i)
        end_char = "]" if ch == "[" else ch
        i += 3 if is_pre else 1
        language = ""
        if is_pre:
            end = i
            while end < size and not text[end].isspace() and text[end] != "`":
                end += 1
            if end != i and end < size and text[end] != "`":
                language, i = text[i:end], end
            if i < size and text[i] == "\n":
                i += 1
        close = text.find("```" if is_pre else end_char, i)
        if close < 0:
            raise MarkupError(f"Can't find end of the entity starting at byte offset {_byte_offset(text, start)}")
        inner = text[i:close]
        offset = out.length
        out.add(inner)
        i = close + (3 if is_pre else 1)
        if ch == "[":
            url = ""
            if i < size and text[i] == "(":
                close = text.find(")", i)
                if close >= 0:
                    url, i = text[i + 1 : close], close + 1
            if url and inner:
                entities.append(_entity("text_link", offset, _utf16_len(inner), url=url))
            continue
        if not inner:
            continue
        kind = {"*": "bold", "_": "italic", "`": "pre" if is_pre else "code"}[ch]
        extra = {"language": language} if language else {}
        entities.append(_entity(kind, offset, _utf16_len(inner), **extra))
    return out.text(), _sorted(entities)


def _canonical(method: str) -> str:
    name = _CANONICAL.get(method.lower())
    if name is None:
        raise ValueError(f"the double does not model Bot API method {method!r}; it knows {', '.join(METHODS)}")
    return name


def _chat_key(chat_id: int | str) -> int | str:
    if isinstance(chat_id, str) and _INTEGER.fullmatch(chat_id.strip()):
        return int(chat_id)
    return chat_id


def _describe(call: Call) -> str:
    status = "dropped" if call.dropped else ("pending" if call.status is None else str(call.status))
    shown = {k: v for k, v in call.params.items() if not isinstance(v, UploadedFile)}
    return f"#{call.seq} {call.method} [{status}{', injected' if call.injected else ''}] {shown}"


class _HttpServer(ThreadingHTTPServer):
    """One thread per connection; handler threads never keep the test process alive."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: TelegramApiServer) -> None:
        super().__init__(address, handler)
        self.api = api

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client gave up on a held answer (long polls and delays make that normal)."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Calls are recorded by `TelegramApiServer.calls`; stderr stays clean."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        api = self.server.api
        reply = api.handle(self.command, self.path, headers, body)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        api.hold(reply.delay)
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
