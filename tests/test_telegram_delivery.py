"""Getting the hub's messages into Telegram chats: cut to Telegram's limit, in order, retried until accepted.

The pure helpers are checked directly; `TelegramDelivery` is checked with the real python-telegram-bot client
against the Bot API double, over a real SQLite conversation store and delivery cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import event
from telegram import Bot, InlineKeyboardButton

from bot.channels.telegram.delivery import (
    MESSAGE_LIMIT,
    QueueNotice,
    TelegramDelivery,
    button_data,
    keyboard_for,
    parse_button_data,
    queue_notice,
    split_text,
    utf16_length,
)
from bot.core.leases import Lease, LocalLeases
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine
from bot.store.deliveries import DeliveryLog
from bot.store.records import Conversation, Message, NewMessage
from tests.telegram_api import TelegramApiServer

T = TypeVar("T")
CHAT = 5550001
OTHER_CHAT = 5550002
SENTENCE = "Your order 10234 left our warehouse this morning and should arrive on Thursday. "


def sentences(length: int) -> str:
    """Plain sentences, at least `length` characters long."""
    return (SENTENCE * (length // len(SENTENCE) + 1)).strip()


def stored(message_id: int = 42, payload: dict[str, Any] | None = None, text: str = "Pick one") -> Message:
    return Message(message_id, "c-1", None, "bot", None, text, payload, dt.datetime(2026, 1, 5, 12, 0))


# -- split_text ---------------------------------------------------------------------------------------------------


def test_utf16_length_counts_emoji_outside_the_bmp_twice():
    assert utf16_length("hello") == 5
    assert utf16_length("café") == 4
    assert utf16_length("😀") == 2
    assert utf16_length("ok 👍") == 5


def test_a_long_reply_is_cut_after_a_sentence_under_the_limit_and_nothing_is_lost():
    text = sentences(5000)
    assert len(text) >= 5000

    pieces = split_text(text)

    assert len(pieces) == 2
    assert all(utf16_length(piece) <= MESSAGE_LIMIT for piece in pieces)
    assert pieces[0].endswith("Thursday.")
    assert pieces[1].startswith("Your order")
    assert " ".join(pieces).split() == text.split()


def test_a_long_reply_is_cut_after_a_paragraph_before_a_line_or_a_sentence():
    paragraph = "\n".join([sentences(400)] * 3)  # three lines of sentences, 1,439 characters
    text = "\n\n".join([paragraph] * 5)  # two paragraphs fit, the third's first lines would too

    pieces = split_text(text)

    assert pieces == ["\n\n".join([paragraph] * 2), "\n\n".join([paragraph] * 2), paragraph]


def test_a_long_reply_is_cut_after_a_line_when_there_is_no_paragraph():
    line = sentences(300)
    text = "\n".join([line] * 20)

    pieces = split_text(text)

    assert all(utf16_length(piece) <= MESSAGE_LIMIT for piece in pieces)
    assert all(piece.endswith("Thursday.") for piece in pieces)
    assert "\n".join(pieces) == text


def test_a_long_reply_without_sentences_is_cut_after_a_word():
    words = [f"item{n}" for n in range(1000)]
    text = " ".join(words)

    pieces = split_text(text)

    assert len(pieces) == 2
    assert all(utf16_length(piece) <= MESSAGE_LIMIT for piece in pieces)
    assert " ".join(pieces).split() == words


def test_a_text_without_spaces_is_cut_hard_at_the_limit():
    text = "x" * 5000

    assert split_text(text) == ["x" * MESSAGE_LIMIT, "x" * (5000 - MESSAGE_LIMIT)]


def test_a_separator_only_near_the_start_does_not_leave_a_tiny_piece():
    text = "Hi " + "x" * 5000

    pieces = split_text(text)

    assert utf16_length(pieces[0]) == MESSAGE_LIMIT
    assert "".join(pieces) == text


def test_emoji_count_twice_so_three_thousand_of_them_do_not_fit_in_one_message():
    text = "😀" * 3000

    pieces = split_text(text)

    assert pieces == ["😀" * 2048, "😀" * 952]
    assert all(utf16_length(piece) <= MESSAGE_LIMIT for piece in pieces)


def test_a_short_text_is_one_piece_without_its_surrounding_whitespace():
    assert split_text("Your order is on its way.") == ["Your order is on its way."]
    assert split_text("  Thanks!\n") == ["Thanks!"]
    assert split_text("x" * MESSAGE_LIMIT) == ["x" * MESSAGE_LIMIT]


def test_whitespace_only_gives_no_pieces():
    assert split_text("") == []
    assert split_text(" \n\t ") == []


# -- buttons ------------------------------------------------------------------------------------------------------


def test_button_data_names_the_message_and_the_button_and_parses_back():
    assert parse_button_data(button_data(42, 3)) == (42, 3)
    assert parse_button_data(button_data(0, 0)) == (0, 0)


@pytest.mark.parametrize("data", ["", "x", "b:1", "b:a:b", "b:1:2:3", "c:1:2", "b:-1:2", "b:1:2 ", "b::1", "b:1.5:2"])
def test_garbage_or_forged_button_data_parses_to_none(data):
    assert parse_button_data(data) is None


@pytest.mark.parametrize("data", ["b:²:1", "b:1:①"])
def test_button_data_with_unicode_digits_parses_to_none(data):
    assert parse_button_data(data) is None


def test_callback_data_fits_telegrams_64_bytes_even_for_huge_ids():
    data = button_data(2**63 - 1, 10_000)

    assert len(data.encode()) <= 64
    assert parse_button_data(data) == (2**63 - 1, 10_000)


def test_buttons_become_one_row_each_pointing_at_the_message_and_the_button():
    message = stored(
        payload={
            "buttons": [
                {"title": "Track my order", "payload": "/track_order"},
                {"title": "Talk to a person", "payload": "/human"},
            ]
        }
    )

    markup = keyboard_for(message)

    assert markup is not None
    assert markup.inline_keyboard == (
        (InlineKeyboardButton("Track my order", callback_data="b:42:0"),),
        (InlineKeyboardButton("Talk to a person", callback_data="b:42:1"),),
    )
    assert [parse_button_data(row[0].callback_data) for row in markup.inline_keyboard] == [(42, 0), (42, 1)]


def test_a_rating_request_puts_its_buttons_on_one_row():
    buttons = [{"title": "⭐" * n, "payload": str(n)} for n in range(1, 6)]
    markup = keyboard_for(stored(payload={"rating_request": True, "buttons": buttons}))

    assert markup is not None
    assert len(markup.inline_keyboard) == 1
    assert [key.text for key in markup.inline_keyboard[0]] == ["⭐", "⭐⭐", "⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐⭐⭐"]
    assert [key.callback_data for key in markup.inline_keyboard[0]] == [f"b:42:{n}" for n in range(5)]


def test_a_button_without_a_title_shows_its_payload_and_an_empty_one_is_skipped_keeping_the_index():
    markup = keyboard_for(stored(payload={"buttons": [{"title": ""}, "junk", {"payload": "/affirm"}]}))

    assert markup is not None
    assert markup.inline_keyboard == ((InlineKeyboardButton("/affirm", callback_data="b:42:2"),),)


@pytest.mark.parametrize("payload", [None, {}, {"buttons": []}, {"buttons": [{"title": ""}]}, {"rating_request": True}])
def test_a_message_without_buttons_has_no_keyboard(payload):
    assert keyboard_for(stored(payload=payload)) is None


# -- queue notices ------------------------------------------------------------------------------------------------


def line(position: int | None, wait_seconds: float | None = 600, **extra: Any) -> dict[str, Any]:
    return {"position": position, "estimated_wait_seconds": wait_seconds, "agents_online": 2, **extra}


def test_the_first_notice_names_the_place_in_line_and_the_wait():
    notice, text = queue_notice(None, line(4, 600))

    assert notice == QueueNotice(4, 10)
    assert "number 4 in line" in text
    assert "about 10 minutes" in text


def test_the_first_notice_without_an_estimate_names_only_the_place():
    notice, text = queue_notice(None, line(3, None))

    assert notice == QueueNotice(3, None)
    assert "number 3 in line" in text and "minute" not in text


def test_a_wait_under_a_minute_is_one_minute_not_one_minutes():
    notice, text = queue_notice(None, line(2, 20))

    assert notice.wait_minutes == 1
    assert "about 1 minute." in text


def test_the_customer_first_in_line_hears_they_are_next():
    assert "next in line" in queue_notice(None, line(1))[1]
    notice, text = queue_notice(QueueNotice(2, 4), line(1, 120))
    assert notice == QueueNotice(1, 2)
    assert "next in line" in text


def test_staying_next_in_line_is_not_repeated():
    assert queue_notice(QueueNotice(1, 2), line(1, 120)) is None


def test_moving_up_one_place_in_a_long_line_sends_nothing():
    assert queue_notice(QueueNotice(10, 20), line(9, 1140)) is None


def test_moving_up_a_third_of_the_line_is_worth_a_message():
    notice, text = queue_notice(QueueNotice(9, 18), line(6, 720))

    assert notice == QueueNotice(6, 12)
    assert "moved up" in text and "number 6 in line" in text


def test_a_short_line_needs_two_places_to_count_as_moving_up():
    assert queue_notice(QueueNotice(3, 6), line(2, 240)) is None
    assert queue_notice(QueueNotice(4, 8), line(2, 240)) is not None


def test_a_wait_grown_by_five_minutes_is_worth_an_apology():
    notice, text = queue_notice(QueueNotice(5, 10), line(5, 900))

    assert notice == QueueNotice(5, 15)
    assert "taking longer" in text and "about 15 minutes" in text
    assert queue_notice(QueueNotice(5, 10), line(5, 840)) is None  # four minutes more


@pytest.mark.parametrize(
    "queue",
    [
        line(3, agents_online=0),
        line(3, open_now=False),
        line(None),
        {"position": "3", "agents_online": 1},
        {},
    ],
)
def test_no_notice_without_agents_outside_opening_hours_or_without_a_place(queue):
    assert queue_notice(None, queue) is None


def test_a_notice_survives_being_stored_as_json():
    notice = QueueNotice(3, 7)

    assert QueueNotice.from_json(notice.to_json()) == notice
    assert QueueNotice.from_json(None) is None
    assert QueueNotice.from_json({"wait_minutes": 3}) is None


# -- TelegramDelivery ---------------------------------------------------------------------------------------------


@pytest.fixture
def api() -> Iterator[TelegramApiServer]:
    with TelegramApiServer() as server:
        yield server


@pytest.fixture
def store(tmp_path) -> Iterator[ConversationStore]:
    conversations = ConversationStore(create_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    conversations.create_schema()
    yield conversations
    conversations.engine.dispose()


@pytest.fixture
def log(store: ConversationStore) -> DeliveryLog:
    return DeliveryLog(store.engine, "telegram")


class Waits:
    """A fast `sleep` for the sender: records each wait (and, if asked, something seen then) and yields once."""

    def __init__(self, while_waiting: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.seconds: list[float] = []
        self.seen: list[Any] = []
        self._while_waiting = while_waiting

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if self._while_waiting is not None:
            self.seen.append(await self._while_waiting())
        await asyncio.sleep(0)


async def forever(seconds: float) -> None:
    """A `sleep` that never ends: the process dies while it waits."""
    await asyncio.Event().wait()


def run_delivery(
    api: TelegramApiServer,
    store: ConversationStore,
    log: DeliveryLog,
    scenario: Callable[[TelegramDelivery], Awaitable[T]],
    **options: Any,
) -> T:
    """Run `scenario` with a TelegramDelivery on a real client pointed at the double; close it afterwards."""

    async def main() -> T:
        bot = Bot(api.token, base_url=api.base_url)
        await bot.initialize()
        delivery = TelegramDelivery(bot, store, log, **{"sleep": Waits(), **options})
        try:
            return await scenario(delivery)
        finally:
            await delivery.close()
            await bot.shutdown()

    return asyncio.run(main())


async def until(check: Callable[[], Any], timeout: float = 5.0) -> None:
    """Wait until `check()` (sync or async) is true."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the delivery")
        await asyncio.sleep(0.01)


async def chat_conversation(store: ConversationStore, log: DeliveryLog, chat: int = CHAT) -> Conversation:
    customer = await store.customer("telegram", str(chat), "Ada")
    conversation = await store.current_conversation(customer)
    await log.track(conversation.id, str(chat))
    return conversation


async def say(store: ConversationStore, conversation: Conversation, *messages: NewMessage) -> list[Message]:
    return await store.add_messages(conversation.id, list(messages))


async def delivered(log: DeliveryLog, conversation: Conversation, message: Message) -> bool:
    return await log.delivered_up_to(conversation.id) >= message.id


def test_stored_messages_after_the_cursor_are_sent_in_order_and_the_customers_own_are_not(api, store, log):
    async def scenario(delivery: TelegramDelivery) -> int:
        conversation = await chat_conversation(store, log)
        await store.add_customer_message(conversation.id, NewMessage("customer", "Where is my order?"))
        replies = await say(
            store,
            conversation,
            NewMessage("bot", "Let me check that for you."),
            NewMessage("system", "A person from our team joined."),
            NewMessage("agent", "Hi, it ships today."),
        )
        await store.add_customer_message(conversation.id, NewMessage("customer", "Great, thanks"))
        last = (await store.messages(conversation.id))[-1]
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, last))
        assert last.id > replies[-1].id
        return await log.delivered_up_to(conversation.id)

    cursor = run_delivery(api, store, log, scenario)

    assert api.sent_texts(CHAT) == [
        "Let me check that for you.",
        "A person from our team joined.",
        "Hi, it ships today.",
    ]
    assert cursor == 5
    assert all("parse_mode" not in call.params for call in api.calls("sendMessage"))


def test_an_agent_message_is_prefixed_with_the_agents_name(api, store, log):
    async def scenario(delivery: TelegramDelivery) -> None:
        conversation = await chat_conversation(store, log)
        last = (
            await say(
                store,
                conversation,
                NewMessage("agent", "I've refunded the mug.", {"agent_name": "Sam"}),
                NewMessage("agent", "Anything else?"),
            )
        )[-1]
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, last))

    run_delivery(api, store, log, scenario)

    assert api.sent_texts(CHAT) == ["Sam: I've refunded the mug.", "Anything else?"]


def test_the_cursor_moves_only_after_telegram_accepted_the_message(api, store, log):
    conversation_ids: list[str] = []
    waits = Waits(while_waiting=lambda: log.delivered_up_to(conversation_ids[0]))
    api.fail_next("sendMessage", 1, status=429, retry_after=1)

    async def scenario(delivery: TelegramDelivery) -> Message:
        conversation = await chat_conversation(store, log)
        conversation_ids.append(conversation.id)
        [message] = await say(store, conversation, NewMessage("bot", "Your refund is on its way."))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, message))
        assert await log.delivered_up_to(conversation.id) == message.id
        return message

    run_delivery(api, store, log, scenario, sleep=waits)

    assert waits.seconds == [1.0]  # Telegram's retry_after
    assert waits.seen == [0]  # while waiting it out, the message was not yet counted as delivered
    assert api.sent_texts(CHAT) == ["Your refund is on its way."]
    assert [call.status for call in api.calls("sendMessage")] == [429, 200]


def test_network_drops_and_bad_gateways_are_retried_with_growing_backoff(api, store, log):
    waits = Waits()
    api.drop_next("sendMessage", 2)
    api.error_next("sendMessage", 2, status=502)

    async def scenario(delivery: TelegramDelivery) -> None:
        conversation = await chat_conversation(store, log)
        [message] = await say(store, conversation, NewMessage("bot", "Your parcel is out for delivery."))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, message))

    run_delivery(api, store, log, scenario, sleep=waits)

    assert waits.seconds == [1.0, 2.0, 4.0, 8.0]
    assert api.sent_texts(CHAT) == ["Your parcel is out for delivery."]
    calls = api.calls("sendMessage")
    assert [call.dropped for call in calls] == [True, True, False, False, False]
    assert [call.status for call in calls[2:]] == [502, 502, 200]


def test_the_backoff_stops_growing_at_the_maximum(api, store, log):
    waits = Waits()
    api.error_next("sendMessage", 5, status=502)

    async def scenario(delivery: TelegramDelivery) -> None:
        conversation = await chat_conversation(store, log)
        [message] = await say(store, conversation, NewMessage("bot", "Still here."))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, message))

    run_delivery(api, store, log, scenario, sleep=waits, max_backoff=3.0)

    assert waits.seconds == [1.0, 2.0, 3.0, 3.0, 3.0]
    assert api.sent_texts(CHAT) == ["Still here."]


def test_a_blocked_chat_is_given_up_on_without_holding_up_other_chats(api, store, log):
    waits = Waits()
    api.block(CHAT)

    async def scenario(delivery: TelegramDelivery) -> None:
        blocked = await chat_conversation(store, log, CHAT)
        other = await chat_conversation(store, log, OTHER_CHAT)
        [lost] = await say(store, blocked, NewMessage("bot", "Your order shipped."))
        [sent] = await say(store, other, NewMessage("bot", "Your refund was approved."))
        delivery.wake(blocked.id)
        delivery.wake(other.id)
        await until(lambda: delivered(log, blocked, lost))
        await until(lambda: delivered(log, other, sent))

        api.unblock(CHAT)
        [later] = await say(store, blocked, NewMessage("bot", "It arrives tomorrow."))
        delivery.wake(blocked.id)
        await until(lambda: delivered(log, blocked, later))

    run_delivery(api, store, log, scenario, sleep=waits)

    assert waits.seconds == []  # a 403 is not retried
    assert api.sent_texts(OTHER_CHAT) == ["Your refund was approved."]
    assert api.sent_texts(CHAT) == ["It arrives tomorrow."]
    to_blocked = [call for call in api.calls("sendMessage") if call.params["chat_id"] == CHAT]
    assert [call.status for call in to_blocked] == [403, 200]


def test_a_message_over_the_limit_arrives_in_two_pieces_with_the_keyboard_on_the_last(api, store, log):
    text = sentences(5000)
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]

    async def scenario(delivery: TelegramDelivery) -> Message:
        conversation = await chat_conversation(store, log)
        [message] = await say(store, conversation, NewMessage("bot", text, {"buttons": buttons}))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, message))
        return message

    message = run_delivery(api, store, log, scenario)

    first, second = api.messages(CHAT)
    assert [first["text"], second["text"]] == split_text(text)
    assert "reply_markup" not in first
    assert second["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": button_data(message.id, 0)}],
            [{"text": "No", "callback_data": button_data(message.id, 1)}],
        ]
    }


def test_a_message_with_buttons_and_no_text_still_shows_its_buttons(api, store, log):
    async def scenario(delivery: TelegramDelivery) -> None:
        conversation = await chat_conversation(store, log)
        [message] = await say(store, conversation, NewMessage("bot", " ", {"buttons": [{"title": "Yes"}]}))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, message))

    run_delivery(api, store, log, scenario)

    [message] = api.messages(CHAT)
    assert message["text"] == "Choose one:"
    assert message["reply_markup"]["inline_keyboard"][0][0]["text"] == "Yes"


def test_markup_characters_arrive_verbatim(api, store, log):
    text = "<b>50% off</b> *mugs* & snake_case_names: 2 < 3 > 1 [link](x)"

    async def scenario(delivery: TelegramDelivery) -> None:
        conversation = await chat_conversation(store, log)
        [message] = await say(store, conversation, NewMessage("agent", text, {"agent_name": "<Sam>"}))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, message))

    run_delivery(api, store, log, scenario)

    assert api.sent_texts(CHAT) == [f"<Sam>: {text}"]
    [call] = api.calls("sendMessage")
    assert "parse_mode" not in call.params


def test_notices_are_sent_after_the_stored_messages(api, store, log):
    async def scenario(delivery: TelegramDelivery) -> None:
        conversation = await chat_conversation(store, log)
        await say(store, conversation, NewMessage("bot", "I'll get a person for you."))
        delivery.notify(conversation.id, "You're number 3 in line for a person from our team.")
        await until(lambda: len(api.sent_texts(CHAT)) == 2)

    run_delivery(api, store, log, scenario)

    assert api.sent_texts(CHAT) == [
        "I'll get a person for you.",
        "You're number 3 in line for a person from our team.",
    ]


def test_after_a_restart_only_what_was_not_yet_delivered_is_sent(api, store, log):
    ids: dict[str, Any] = {}

    async def before_the_restart(delivery: TelegramDelivery) -> None:
        conversation = await chat_conversation(store, log)
        ids["conversation"] = conversation
        [first] = await say(store, conversation, NewMessage("bot", "One"))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, first))
        api.fail_next("sendMessage", 1, status=429, retry_after=30)
        await say(store, conversation, NewMessage("bot", "Two"), NewMessage("bot", "Three"))
        delivery.wake(conversation.id)
        await until(lambda: len(api.calls("sendMessage")) == 2 and api.calls("sendMessage")[1].status == 429)
        ids["cursor"] = await log.delivered_up_to(conversation.id)
        # the process dies while waiting out flood control

    async def after_the_restart(delivery: TelegramDelivery) -> None:
        conversation = ids["conversation"]
        [fourth] = await say(store, conversation, NewMessage("bot", "Four"))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, fourth))

    run_delivery(api, store, log, before_the_restart, sleep=forever)
    assert api.sent_texts(CHAT) == ["One"]
    assert ids["cursor"] == 1

    run_delivery(api, store, DeliveryLog(store.engine, "telegram"), after_the_restart)

    assert api.sent_texts(CHAT) == ["One", "Two", "Three", "Four"]


def test_tracking_a_conversation_that_already_has_messages_does_not_resend_them(api, store, log):
    async def scenario(delivery: TelegramDelivery) -> None:
        customer = await store.customer("telegram", str(CHAT), "Ada")
        conversation = await store.current_conversation(customer)
        await say(store, conversation, NewMessage("bot", "Said in the web chat"), NewMessage("bot", "Also old"))
        await log.track(conversation.id, str(CHAT))
        [new] = await say(store, conversation, NewMessage("bot", "Said after tracking"))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, new))

    run_delivery(api, store, log, scenario)

    assert api.sent_texts(CHAT) == ["Said after tracking"]


def test_typing_is_best_effort_and_never_raises(api, store, log):
    api.block(CHAT)

    async def scenario(delivery: TelegramDelivery) -> None:
        await delivery.typing(OTHER_CHAT)
        await delivery.typing(CHAT)

    run_delivery(api, store, log, scenario)

    assert [call.status for call in api.calls("sendChatAction")] == [200, 403]


def test_idle_returns_only_once_every_chat_was_sent_what_it_is_owed(api, store, log):
    async def scenario(delivery: TelegramDelivery) -> list[str]:
        conversation = await chat_conversation(store, log)
        await say(store, conversation, NewMessage("bot", "One"), NewMessage("bot", "Two"))
        api.delay_next("sendMessage", 0.3)  # a slow answer: the sender is busy when idle() looks
        delivery.wake(conversation.id)
        await delivery.idle()
        return api.sent_texts(CHAT)

    assert run_delivery(api, store, log, scenario) == ["One", "Two"]


def test_a_chat_owed_more_than_one_page_of_messages_gets_all_of_them(api, store, log):
    event.listen(store.engine, "connect", lambda connection, _: connection.execute("PRAGMA synchronous=OFF"))
    store.engine.dispose()  # 500 cursor moves, one commit each: skip the fsyncs to keep the test quick

    async def scenario(delivery: TelegramDelivery) -> None:
        conversation = await chat_conversation(store, log)
        waiting = await say(store, conversation, *[NewMessage("customer", f"hello? {n}") for n in range(500)])
        [answer] = await say(store, conversation, NewMessage("bot", "Sorry for the wait!"))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, waiting[-1]))  # every customer message was passed over
        with contextlib.suppress(AssertionError):
            await until(lambda: delivered(log, conversation, answer), timeout=0.5)

    run_delivery(api, store, log, scenario)

    assert api.sent_texts(CHAT) == ["Sorry for the wait!"]


def test_two_senders_sharing_the_chat_lease_send_each_message_once_and_in_order(api, store, log):
    """Two hubs' senders (one process here, sharing `LocalLeases` as hubs share Redis's) both woken each time."""
    leases = LocalLeases()

    async def scenario(first: TelegramDelivery) -> None:
        bot = Bot(api.token, base_url=api.base_url)
        await bot.initialize()
        second = TelegramDelivery(bot, store, log, leases=leases, sleep=Waits())
        try:
            conversation = await chat_conversation(store, log)
            for n in range(12):
                await say(store, conversation, NewMessage("bot", f"line {n}"))
                first.wake(conversation.id)
                second.wake(conversation.id)
            await first.idle()
            await second.idle()
        finally:
            await second.close()
            await bot.shutdown()

    run_delivery(api, store, log, scenario, leases=leases)

    assert api.sent_texts(CHAT) == [f"line {n}" for n in range(12)]


class Lapsing:
    """Leases whose renewals fail once `lapsed` is set: the lease expired while this hub was stalled. With
    `releasing` set, handing a lease back waits on it (a slow Redis), and `released` says one is being handed back."""

    def __init__(self) -> None:
        self._leases = LocalLeases()
        self.lapsed = False
        self.releasing: asyncio.Event | None = None
        self.released = asyncio.Event()

    async def try_acquire(self, name: str, seconds: float) -> Lease | None:
        lease = await self._leases.try_acquire(name, seconds)
        return _Lapsing(lease, self) if lease is not None else None

    def hold(self, name: str, seconds: float) -> contextlib.AbstractAsyncContextManager[Lease]:
        return self._leases.hold(name, seconds)


class _Lapsing:
    def __init__(self, lease: Lease, owner: Lapsing) -> None:
        self.name = lease.name
        self._lease = lease
        self._owner = owner

    async def renew(self) -> bool:
        return not self._owner.lapsed and await self._lease.renew()

    async def release(self) -> None:
        self._owner.released.set()
        if self._owner.releasing is not None:
            await self._owner.releasing.wait()
        await self._lease.release()


def test_a_sender_whose_lease_lapsed_stops_before_the_next_message(api, store, log):
    leases = Lapsing()

    async def scenario(delivery: TelegramDelivery) -> int:
        conversation = await chat_conversation(store, log)
        messages = await say(store, conversation, *[NewMessage("bot", f"line {n}") for n in range(5)])
        api.delay_next("sendMessage", 0.3)
        delivery.wake(conversation.id)
        await until(lambda: api.calls("sendMessage"))
        leases.lapsed = True  # while the first message is on its way
        await until(lambda: delivered(log, conversation, messages[0]))
        await asyncio.sleep(0.5)  # a sender still going would have sent the next one by now
        return len(api.calls("sendMessage"))

    assert run_delivery(api, store, log, scenario, leases=leases) == 1
    assert api.sent_texts(CHAT) == ["line 0"]


def test_closing_while_a_sender_hands_its_lease_back_ends_it_at_once(api, store, log):
    leases = Lapsing()

    async def scenario(delivery: TelegramDelivery) -> float:
        leases.releasing = asyncio.Event()  # never set: the release hangs until the sender is cancelled
        conversation = await chat_conversation(store, log)
        await say(store, conversation, NewMessage("bot", "Bye for now."))
        delivery.wake(conversation.id)
        await asyncio.wait_for(leases.released.wait(), 5)
        started = time.monotonic()
        await asyncio.wait_for(delivery.close(), 5)
        return time.monotonic() - started

    assert run_delivery(api, store, log, scenario, leases=leases) < 1.0
    assert api.sent_texts(CHAT) == ["Bye for now."]


def test_a_sender_idle_for_long_ends_and_the_next_wake_starts_a_new_one(api, store, log, monkeypatch):
    monkeypatch.setattr("bot.channels.telegram.delivery.IDLE_SECONDS", 0.05)

    async def scenario(delivery: TelegramDelivery) -> None:
        conversation = await chat_conversation(store, log)
        [first] = await say(store, conversation, NewMessage("bot", "One"))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, first))
        await until(lambda: not delivery._senders)  # it ended (and forgot the chat) after the idle time
        [second] = await say(store, conversation, NewMessage("bot", "Two"))
        delivery.wake(conversation.id)
        await until(lambda: delivered(log, conversation, second))

    run_delivery(api, store, log, scenario)

    assert api.sent_texts(CHAT) == ["One", "Two"]
