"""The Telegram Bot API double, checked with the real python-telegram-bot client.

The Telegram channel's tests trust the double to behave like Telegram, so these tests hold it to what Telegram
does for the calls the channel makes, including the failures (flood control, markup errors, conflicts).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.helpers import escape_markdown

from tests.telegram_api import (
    DEFAULT_TOKEN,
    DEFAULT_USER,
    MarkupError,
    TelegramApiServer,
    make_user,
    parse_html,
    parse_markdown_v2,
    post_update,
)

T = TypeVar("T")
CUSTOMER = DEFAULT_USER["id"]


@pytest.fixture(scope="module")
def offline_bot() -> Bot:
    """A client only for `Update.de_json`; it never connects."""
    return Bot(DEFAULT_TOKEN, base_url="http://127.0.0.1:9/bot")


@pytest.fixture
def telegram() -> Iterator[TelegramApiServer]:
    with TelegramApiServer(max_poll_seconds=0.5) as api:
        yield api


def with_bot(api: TelegramApiServer, work: Callable[[Bot], Awaitable[T]], token: str | None = None) -> T:
    """Run `work` with an initialised python-telegram-bot client pointed at the double."""

    async def run() -> T:
        async with Bot(token or api.token, base_url=api.base_url) as bot:
            return await work(bot)

    return asyncio.run(run())


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.title(), callback_data=d) for d in data]])


def call_raw(api: TelegramApiServer, method: str, body: bytes = b"", content_type: str = "", query: str = "") -> Any:
    """One request with urllib, for the encodings python-telegram-bot does not use."""
    url = f"{api.base_url}{api.token}/{method}" + (f"?{query}" if query else "")
    request = urllib.request.Request(url, data=body or None, method="POST" if body else "GET")
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def test_get_me_describes_the_bot(telegram: TelegramApiServer) -> None:
    me = with_bot(telegram, lambda bot: bot.get_me())

    assert me.is_bot
    assert me.username == "frontline_test_bot"
    assert me.first_name == "Frontline"
    assert me.id == int(telegram.token.partition(":")[0])


def test_send_message_returns_a_full_message_and_records_the_decoded_keyboard(telegram: TelegramApiServer) -> None:
    async def send(bot: Bot) -> tuple[Any, Any]:
        first = await bot.send_message(CUSTOMER, "Was this helpful?", reply_markup=keyboard("yes", "no"))
        second = await bot.send_message(CUSTOMER, "Thanks!")
        return first, second

    telegram.text_update("hello")  # introduces the customer's chat
    first, second = with_bot(telegram, send)

    assert second.message_id > first.message_id
    assert first.from_user.is_bot and first.from_user.username == "frontline_test_bot"
    assert first.chat.id == CUSTOMER and first.chat.first_name == "Ada"
    assert first.text == "Was this helpful?"
    assert first.reply_markup == keyboard("yes", "no")
    assert abs(first.date - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(seconds=5)
    call = telegram.calls("sendMessage")[0]
    assert call.params["chat_id"] == CUSTOMER
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}]]
    }
    assert call.headers["user-agent"].startswith("python-telegram-bot")
    assert telegram.sent_texts(CUSTOMER) == ["Was this helpful?", "Thanks!"]
    assert telegram.sent_texts(str(CUSTOMER)) == telegram.sent_texts(CUSTOMER)


def test_message_length_is_counted_in_utf16_code_units_after_parsing(telegram: TelegramApiServer) -> None:
    async def send(bot: Bot) -> None:
        await bot.send_message(CUSTOMER, "x" * 4096)
        await bot.send_message(CUSTOMER, "😀" * 2048)  # 2 code units each
        await bot.send_message(CUSTOMER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(CUSTOMER, "x" * 4097)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(CUSTOMER, "😀" * 2049)
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(CUSTOMER, " \n ")

    with_bot(telegram, send)
    assert [len(t) for t in telegram.sent_texts(CUSTOMER)] == [4096, 2048, 4096]
    assert [c.failed for c in telegram.calls("sendMessage")] == [False, False, False, True, True, True]


def test_unescaped_html_is_refused_and_escaped_html_passes(telegram: TelegramApiServer) -> None:
    product = "Mugs <2 for 1> & more"

    async def send(bot: Bot) -> Any:
        for raw in (f"<b>{product}</b>", "Fish & chips", "<b>bold</i>"):
            with pytest.raises(BadRequest, match="Can't parse entities"):
                await bot.send_message(CUSTOMER, raw, parse_mode="HTML")
        return await bot.send_message(CUSTOMER, f"<b>{html.escape(product)}</b> ok", parse_mode="HTML")

    message = with_bot(telegram, send)

    assert message.text == f"{product} ok"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, len(product))]
    assert "Unsupported start tag" in telegram.calls("sendMessage")[0].error


def test_unescaped_markdown_v2_is_refused_and_escaped_markdown_passes(telegram: TelegramApiServer) -> None:
    text = "Order #A-1001 (2 items) costs 12.50 EUR!"

    async def send(bot: Bot) -> Any:
        with pytest.raises(BadRequest, match="is reserved and must be escaped"):
            await bot.send_message(CUSTOMER, f"*{text}*", parse_mode="MarkdownV2")
        return await bot.send_message(CUSTOMER, f"*{escape_markdown(text, version=2)}*", parse_mode="MarkdownV2")

    message = with_bot(telegram, send)

    assert message.text == text
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, len(text))]


def test_markup_errors_use_telegrams_words() -> None:
    cases = {
        "Version 1.0": "Character '.' is reserved and must be escaped with the preceding '\\'",
        "*bold": "Can't find end of Bold entity at byte offset 0",
        "ü _x": "Can't find end of Italic entity at byte offset 3",
        "[link](https://example.com": "Can't find end of a URL at byte offset 7",
    }
    for text, message in cases.items():
        with pytest.raises(MarkupError) as refused:
            parse_markdown_v2(text)
        assert str(refused.value) == message
    html_cases = {
        "1 < 2": 'Unsupported start tag "" at byte offset 2',
        "<foo>x</foo>": 'Unsupported start tag "foo" at byte offset 0',
        "<b>x</i>": 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
        "<b>x": "Can't find end tag corresponding to start tag b",
        "x</b>": "Unexpected end tag at byte offset 1",
    }
    for text, message in html_cases.items():
        with pytest.raises(MarkupError) as refused:
            parse_html(text)
        assert str(refused.value) == message
    assert parse_markdown_v2("😀 *b* [a](https://x.test/a\\)b) `c_d`") == (
        "😀 b a c_d",
        [
            {"type": "bold", "offset": 3, "length": 1},
            {"type": "text_link", "offset": 5, "length": 1, "url": "https://x.test/a)b"},
            {"type": "code", "offset": 7, "length": 3},
        ],
    )
    assert parse_html('<a href="https://x.test/?a=1&amp;b=2">here</a> &lt;3 &#128512;') == (
        "here <3 😀",
        [{"type": "text_link", "offset": 0, "length": 4, "url": "https://x.test/?a=1&b=2"}],
    )


def test_flood_control_raises_retry_after_then_the_retry_succeeds(telegram: TelegramApiServer) -> None:
    telegram.fail_next("sendmessage", retry_after=3)

    async def send(bot: Bot) -> None:
        with pytest.raises(RetryAfter) as flooded:
            await bot.send_message(CUSTOMER, "hello")
        assert flooded.value.retry_after in (3, dt.timedelta(seconds=3))
        await bot.send_message(CUSTOMER, "hello")

    with_bot(telegram, send)

    first, second = telegram.calls("sendMessage")
    assert (first.failed, first.injected, first.status) == (True, True, 429)
    assert first.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert (second.failed, second.status) == (False, 200)
    assert telegram.sent_texts(CUSTOMER) == ["hello"]


def test_server_errors_and_dropped_connections_are_network_errors(telegram: TelegramApiServer) -> None:
    telegram.error_next("sendMessage", status=502)
    telegram.error_next("sendMessage", status=500, raw_body=b"<html>oops</html>")
    telegram.drop_next("sendMessage")
    telegram.drop_next("sendMessage", after_acting=True)

    async def send(bot: Bot) -> None:
        for _ in range(4):
            with pytest.raises(NetworkError):
                await bot.send_message(CUSTOMER, "hello")

    with_bot(telegram, send)

    calls = telegram.calls("sendMessage")
    assert [(c.status, c.dropped, c.failed) for c in calls] == [
        (502, False, True),
        (500, False, True),
        (None, True, True),
        (None, True, True),
    ]
    assert calls[0].error == "Bad Gateway"
    assert telegram.sent_texts(CUSTOMER) == ["hello"]  # only the one acted on before its answer was lost


def test_slow_answers_time_out_on_the_client(telegram: TelegramApiServer) -> None:
    telegram.delay_next("sendChatAction", 1.0)

    async def act(bot: Bot) -> None:
        with pytest.raises(NetworkError):  # telegram.error.TimedOut
            await bot.send_chat_action(CUSTOMER, "typing", read_timeout=0.2)

    with_bot(telegram, act)


def test_get_updates_long_polls_and_confirms_with_offset(telegram: TelegramApiServer) -> None:
    async def poll(bot: Bot) -> None:
        started = time.monotonic()
        assert await bot.get_updates(timeout=0) == ()
        threading.Timer(0.2, telegram.push_update, [telegram.text_update("first")]).start()
        (first,) = await bot.get_updates(timeout=5)
        assert 0.15 < time.monotonic() - started < 1.0
        assert first.message.text == "first"
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in again] == [first.update_id]  # not confirmed yet
        telegram.push_update(telegram.text_update("second"))
        telegram.push_update(telegram.command_update("/help"))
        later = await bot.get_updates(offset=first.update_id + 1, timeout=0, limit=1)
        assert [u.message.text for u in later] == ["second"]
        rest = await bot.get_updates(offset=later[0].update_id + 1, timeout=0)
        assert [u.message.text for u in rest] == ["/help"]
        waited = time.monotonic()
        assert await bot.get_updates(offset=rest[0].update_id + 1, timeout=30) == ()
        assert 0.4 < time.monotonic() - waited < 1.5  # held, but only for max_poll_seconds

    with_bot(telegram, poll)
    assert telegram.pending_updates == []


def test_get_updates_while_a_webhook_is_set_is_a_conflict(telegram: TelegramApiServer) -> None:
    async def run(bot: Bot) -> None:
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        assert await bot.set_webhook("https://hub.example.com/webhooks/telegram", secret_token="s3cret-Token_1")
        with pytest.raises(Conflict, match="terminated by setWebhook request"):
            await poll
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        assert info.url == "https://hub.example.com/webhooks/telegram"
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates() == ()

    with_bot(telegram, run)
    assert telegram.webhook is None


def test_set_webhook_stores_its_settings_and_refuses_bad_secrets(telegram: TelegramApiServer) -> None:
    async def run(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="Secret token contains unallowed characters"):
            await bot.set_webhook("https://hub.example.com/tg", secret_token="not/base64+ok=")
        with pytest.raises(BadRequest, match="Secret token is too long"):
            await bot.set_webhook("https://hub.example.com/tg", secret_token="a" * 257)
        with pytest.raises(BadRequest, match=r"(?i)an https url must be provided"):
            await bot.set_webhook("http://hub.example.com/tg")
        await bot.set_webhook(
            "https://hub.example.com/tg",
            secret_token="a" * 256,
            allowed_updates=["message", "callback_query"],
            drop_pending_updates=True,
        )

    telegram.push_update(telegram.text_update("queued before the webhook"))
    with_bot(telegram, run)

    hook = telegram.webhook
    assert hook is not None
    assert (hook.url, hook.secret_token, hook.drop_pending_updates) == ("https://hub.example.com/tg", "a" * 256, True)
    assert hook.allowed_updates == ["message", "callback_query"]
    assert telegram.calls("setWebhook")[-1].params["allowed_updates"] == ["message", "callback_query"]
    assert telegram.pending_updates == []


def test_a_wrong_token_is_an_invalid_token(telegram: TelegramApiServer) -> None:
    with pytest.raises(InvalidToken):
        with_bot(telegram, lambda bot: bot.get_me(), token="999:wrong-token")
    assert telegram.calls()[0].response == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_unknown_methods_are_not_found(telegram: TelegramApiServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as missing:
        call_raw(telegram, "sendTelepathy")
    assert missing.value.code == 404
    assert json.loads(missing.value.read()) == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_answer_callback_query_accepts_only_issued_ids_once(telegram: TelegramApiServer) -> None:
    async def run(bot: Bot) -> None:
        sent = await bot.send_message(CUSTOMER, "Rate us", reply_markup=keyboard("good", "bad"))
        pressed = telegram.callback_update("good", message=sent.to_dict())
        assert await bot.answer_callback_query(pressed["callback_query"]["id"], text="Thanks!")
        for query_id in (pressed["callback_query"]["id"], "123456789"):
            with pytest.raises(BadRequest, match="Query is too old"):
                await bot.answer_callback_query(query_id)
        with pytest.raises(ValueError, match="no button"):
            telegram.callback_update("ugly", message=sent.to_dict())

    telegram.text_update("hi")
    with_bot(telegram, run)


def test_edit_message_reply_markup_edits_only_the_bots_messages(telegram: TelegramApiServer) -> None:
    async def run(bot: Bot) -> Any:
        sent = await bot.send_message(CUSTOMER, "Pick one", reply_markup=keyboard("a", "b"))
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_reply_markup(CUSTOMER, sent.message_id, reply_markup=keyboard("a", "b"))
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_reply_markup(CUSTOMER, sent.message_id + 100)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_reply_markup(CUSTOMER + 1, sent.message_id)
        return await bot.edit_message_reply_markup(CUSTOMER, sent.message_id)

    edited = with_bot(telegram, run)

    assert edited.reply_markup is None and edited.edit_date is not None
    assert telegram.messages(CUSTOMER)[0].get("reply_markup") is None


def test_blocked_users_and_bad_buttons_are_refused(telegram: TelegramApiServer) -> None:
    telegram.block(CUSTOMER)

    async def run(bot: Bot) -> None:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(CUSTOMER, "hello")
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(CUSTOMER + 1, "hello", reply_markup=too_long)
        with pytest.raises(BadRequest, match="Wrong parameter action"):
            await bot.send_chat_action(CUSTOMER + 1, "dancing")
        assert await bot.send_chat_action(CUSTOMER + 1, "typing")

    with_bot(telegram, run)


@pytest.mark.parametrize(
    ("build", "check"),
    [
        (lambda api: api.text_update("Where is my order?"), lambda u: u.message.text == "Where is my order?"),
        (
            lambda api: api.command_update("/start", args="order-1001"),
            lambda u: u.message.text == "/start order-1001" and u.message.entities[0].type == "bot_command",
        ),
        (lambda api: api.photo_update(caption="broken"), lambda u: len(u.message.photo) == 3),
        (lambda api: api.sticker_update(), lambda u: u.message.sticker.emoji == "👍"),
        (lambda api: api.voice_update(duration=4), lambda u: u.message.voice.duration in (4, dt.timedelta(seconds=4))),
        (lambda api: api.document_update(), lambda u: u.message.document.file_name == "receipt.pdf"),
        (lambda api: api.location_update(), lambda u: u.message.location.latitude == pytest.approx(52.520008)),
        (lambda api: api.edited_text_update("fixed"), lambda u: u.edited_message.text == "fixed"),
    ],
)
def test_builders_make_updates_python_telegram_bot_parses(
    telegram: TelegramApiServer,
    offline_bot: Bot,
    build: Callable[[TelegramApiServer], dict[str, Any]],
    check: Callable[[Update], bool],
) -> None:
    update = Update.de_json(build(telegram), offline_bot)

    assert check(update)
    assert update.effective_user.to_dict() == DEFAULT_USER
    assert update.effective_chat.type == "private" and update.effective_chat.id == CUSTOMER
    assert Update.de_json(json.loads(json.dumps(update.to_dict())), offline_bot) == update


def test_callback_and_edit_builders_refer_to_real_messages(telegram: TelegramApiServer, offline_bot: Bot) -> None:
    grace = make_user(7001, "Grace", "Hopper", "grace", "de")
    said = telegram.text_update("hello", user=grace)
    sent = with_bot(telegram, lambda bot: bot.send_message(7001, "Choose", reply_markup=keyboard("refund")))
    pressed = Update.de_json(telegram.callback_update("refund", user=grace), offline_bot)
    edited = Update.de_json(telegram.edited_text_update("hello!", message=said["message"]), offline_bot)

    assert pressed.callback_query.data == "refund"
    assert pressed.callback_query.message.message_id == sent.message_id
    assert pressed.callback_query.from_user.language_code == "de"
    assert edited.edited_message.message_id == said["message"]["message_id"]
    assert said["update_id"] < pressed.update_id < edited.update_id


def test_parameters_decode_from_json_query_and_multipart(telegram: TelegramApiServer) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "url": "https://shop.example.com"}]]}
    body = json.dumps({"chat_id": CUSTOMER, "text": "json", "reply_markup": markup}).encode()
    assert call_raw(telegram, "sendMessage", body, "application/json")["result"]["text"] == "json"
    assert call_raw(telegram, "SENDMESSAGE", query=f"chat_id={CUSTOMER}&text=query")["ok"]
    httpx.post(
        f"{telegram.base_url}{telegram.token}/sendMessage",
        data={"chat_id": str(CUSTOMER), "text": "multipart", "reply_markup": json.dumps(markup)},
        files={"unused": ("note.txt", b"file body", "text/plain")},
    ).raise_for_status()

    calls = telegram.calls("sendMessage")
    assert [c.params["chat_id"] for c in calls] == [CUSTOMER] * 3
    assert calls[0].params["reply_markup"] == calls[2].params["reply_markup"] == markup
    assert calls[1].method == "sendMessage"
    assert calls[2].params["unused"].data == b"file body"
    assert calls[2].headers["content-type"].startswith("multipart/form-data")
    assert telegram.sent_texts(CUSTOMER) == ["json", "query", "multipart"]


def test_wait_for_returns_a_matching_call_or_reports_what_it_saw(telegram: TelegramApiServer) -> None:
    def later() -> None:
        time.sleep(0.1)
        with_bot(telegram, lambda bot: bot.send_message(CUSTOMER, "found you"))

    sender = threading.Thread(target=later)
    sender.start()
    call = telegram.wait_for("sendMessage", lambda c: c.result is not None, timeout=5)
    sender.join(timeout=5)
    assert call.result["text"] == "found you"

    with pytest.raises(AssertionError, match=r"(?s)no matching sendMessage call.*found you"):
        telegram.wait_for("sendMessage", lambda c: False, timeout=0.1)
    with pytest.raises(AssertionError):
        telegram.wait_for("sendMessage", timeout=0.1, after=call)


def test_post_update_sends_the_secret_header_like_telegram() -> None:
    seen: list[tuple[str | None, dict[str, Any]]] = []

    class Hub(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"), json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with TelegramApiServer() as api, ThreadingHTTPServer(("127.0.0.1", 0), Hub) as hub:
        threading.Thread(target=hub.serve_forever, args=(0.02,), daemon=True).start()
        try:
            update = api.text_update("hi")
            status, body = post_update(f"http://127.0.0.1:{hub.server_address[1]}/telegram", update, "s3cret")
        finally:
            hub.shutdown()

    assert (status, body) == (200, "ok")
    assert seen == [("s3cret", update)]
