"""Telegram in the scaled mode for real: two hub processes (tests/scaled_stack.py) sharing PostgreSQL and Redis, the
trained bot behind them, and the Bot API double at the wire. One hub polls; killed with SIGKILL, the other takes
over; the customer's messages are stored once each and every answer reaches the chat once, in order."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.telegram.polling import POLLING_LEASE_SECONDS
from bot.store import schema as t
from tests.postgres import fresh_postgres_database
from tests.scaled_stack import ScaledStack
from tests.telegram_api import TelegramApiServer, make_user

pytestmark = [pytest.mark.stack, pytest.mark.model]

BEFORE = ("hi", "what payment methods do you accept?")
AFTER = ("what delivery options do you have?", "what's your refund policy")
"""Questions the bot answers itself, each a different one (asked twice, the bot would hand over)."""


@pytest.fixture(scope="module")
def telegram() -> Iterator[TelegramApiServer]:
    with TelegramApiServer(max_poll_seconds=1.0) as api:
        yield api


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, demo_shop_template: Path, telegram: TelegramApiServer
) -> Iterator[ScaledStack]:
    """Everything but hub2 first, so hub1 is the one polling; hub2 joins once it does."""
    with fresh_postgres_database() as database_url:
        scaled = ScaledStack(
            tmp_path_factory.mktemp("telegram-scaled"),
            database_url,
            demo_shop_template,
            TELEGRAM_TOKEN=telegram.token,
            TELEGRAM_API_URL=telegram.url,
            TELEGRAM_MODE="polling",
            TELEGRAM_POLL_TIMEOUT="1",
            RASA_TIMEOUT_MS="10000",
        )
        try:
            scaled.start(names=[p.name for p in scaled.plan.processes if p.name != "hub2"])
            telegram.wait_for("getUpdates", timeout=60)
            scaled.start(names=["hub2"])
            yield scaled
        finally:
            scaled.stop()


def until(check: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def said(stack: ScaledStack, chat_id: int, customer: bool) -> list[str]:
    """The chat's conversation as stored: what the customer wrote, or everything said to them, oldest first."""
    sender = t.messages.c.sender == "customer"
    rows = stack.query(
        select(t.messages.c.text)
        .join(t.conversations, t.conversations.c.id == t.messages.c.conversation_id)
        .join(t.customers, t.customers.c.id == t.conversations.c.customer_id)
        .where(t.customers.c.channel == "telegram", t.customers.c.external_id == str(chat_id))
        .where(sender if customer else ~sender)
        .order_by(t.messages.c.id)
    )
    return [row.text.strip() or "Choose one:" for row in rows]


def test_the_polling_hub_killed_the_other_polls_and_every_answer_reaches_the_chat_once_in_order(stack, telegram):
    user = make_user(7720001, first_name="Fay")
    chat = user["id"]

    def answered(count: int) -> Callable[[], bool]:
        return lambda: (
            len(said(stack, chat, customer=False)) >= count
            and telegram.sent_texts(chat) == said(stack, chat, customer=False)
        )

    for n, text in enumerate(BEFORE, start=1):
        telegram.push_update(telegram.text_update(text, user=user))
        until(answered(n), 90, f"the answer to {text!r}")
    stack.kill("hub1")  # it was the one polling; nothing of this chat is in flight now

    killed = time.monotonic()
    for text in AFTER:
        telegram.push_update(telegram.text_update(text, user=user))
    until(lambda: said(stack, chat, customer=True) == [*BEFORE, *AFTER], 3 * POLLING_LEASE_SECONDS, "hub2 polling")
    taken_over = time.monotonic() - killed
    until(answered(len(BEFORE) + len(AFTER)), 90, "the answers after the takeover")
    until(lambda: telegram.pending_updates == [], 30, "every update confirmed")

    assert said(stack, chat, customer=True) == [*BEFORE, *AFTER]  # each stored once, in order
    assert telegram.sent_texts(chat) == said(stack, chat, customer=False)  # each sent once, in order
    assert len(telegram.sent_texts(chat)) >= len(BEFORE) + len(AFTER)
    print(f"\nTELEGRAM takeover after SIGKILL: {taken_over:.1f} s (polling lease {POLLING_LEASE_SECONDS:.0f} s)")
