"""Long polling (bot/channels/telegram/polling.py) with the real hub in-process against the Bot API double: an
update is confirmed to Telegram only once it is stored, a store that fails is retried until it succeeds, an update
Telegram sends again is stored once, and stopping does not wait for a long poll to end."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import select

from bot.channels.telegram.polling import failure
from bot.store import schema as t
from bot.store.database import create_engine
from tests.inprocess import FakeRasa, running_hub, says
from tests.telegram_api import TelegramApiServer, make_user

ANSWER = "I am the fake bot."
POLLER_LOG = "bot.channels.telegram.polling"


def polling(api: TelegramApiServer, poll_timeout: int = 1) -> dict[str, str]:
    """The hub's environment for polling the double."""
    return {
        "TELEGRAM_TOKEN": api.token,
        "TELEGRAM_API_URL": api.url,
        "TELEGRAM_MODE": "polling",
        "TELEGRAM_POLL_TIMEOUT": str(poll_timeout),
    }


def stored_texts(database: Path, chat_id: int) -> list[str]:
    """What the customer of this Telegram chat has written, as the hub stored it, oldest first."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    select(t.messages.c.text)
                    .join(t.conversations, t.conversations.c.id == t.messages.c.conversation_id)
                    .join(t.customers, t.customers.c.id == t.conversations.c.customer_id)
                    .where(
                        t.customers.c.channel == "telegram",
                        t.customers.c.external_id == str(chat_id),
                        t.messages.c.sender == "customer",
                    )
                    .order_by(t.messages.c.id)
                ).scalars()
            )
    finally:
        engine.dispose()


def offsets(api: TelegramApiServer) -> list[Any]:
    """The `offset` of every getUpdates call so far: Telegram forgets the updates below it."""
    return [call.params.get("offset") for call in api.calls("getUpdates")]


async def until(check: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> None:
    """Wait in the event loop (the hub runs in it) until `check()` is true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


def test_an_update_whose_store_fails_is_stored_on_a_retry_and_confirmed_only_after(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=POLLER_LOG)
    database = tmp_path / "hub.db"
    user = make_user(9990001, first_name="Lin")
    seen: dict[str, Any] = {}

    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=1.0) as api:
            async with running_hub(database, FakeRasa(), **polling(api)):
                await until(lambda: api.calls("getUpdates"), what="the first poll")
                locker = sqlite3.connect(database, isolation_level=None)
                locker.execute("BEGIN EXCLUSIVE")  # another process writing: the hub's writes wait, then fail
                try:
                    first = api.push_update(api.text_update("my parcel never came", user=user))
                    second = api.push_update(api.text_update("it was order 00123842", user=user))
                    await until(lambda: "could not be stored" in caplog.text, timeout=40, what="the failed store")
                    seen["offsets while failing"] = offsets(api)
                    seen["locked for"] = time.monotonic()
                finally:
                    locker.execute("ROLLBACK")
                    locker.close()
                await until(lambda: len(stored_texts(database, user["id"])) == 2, what="both messages stored")
                seen["stored after"] = time.monotonic() - seen["locked for"]
                await until(lambda: second["update_id"] + 1 in offsets(api), what="the offset past both")
                seen["first"] = first["update_id"]

    asyncio.run(main())
    assert stored_texts(database, user["id"]) == ["my parcel never came", "it was order 00123842"]
    assert all(offset is None or offset <= seen["first"] for offset in seen["offsets while failing"])
    assert seen["stored after"] < 5.0
    failures = [r.getMessage() for r in caplog.records if "could not be stored" in r.getMessage()]
    assert failures and all(f"update {seen['first']} " in line for line in failures)
    assert "OperationalError (database is locked) at bot/store/" in failures[0]
    assert any(f"update {seen['first']} stored on attempt 2" in r.getMessage() for r in caplog.records)
    assert "parcel" not in caplog.text and "00123842" not in caplog.text


def test_an_update_not_yet_stored_when_the_hub_stops_is_not_confirmed_and_comes_again(tmp_path):
    database = tmp_path / "hub.db"
    user = make_user(9990005, first_name="Sam")

    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=1.0) as api:
            async with running_hub(database, FakeRasa(), **polling(api)):
                await until(lambda: api.calls("getUpdates"), what="the first poll")
                locker = sqlite3.connect(database, isolation_level=None)
                locker.execute("BEGIN EXCLUSIVE")
                update = api.push_update(api.text_update("please call me back", user=user))
                await until(lambda: [c for c in api.calls("getUpdates") if c.status == 200 and c.result],
                            what="the update fetched")  # fmt: skip
                await asyncio.sleep(0.3)  # the hub is now waiting for the database
            locker.execute("ROLLBACK")
            locker.close()
            assert [pending["update_id"] for pending in api.pending_updates] == [update["update_id"]]
            async with running_hub(database, FakeRasa(), **polling(api)):
                await until(lambda: stored_texts(database, user["id"]) == ["please call me back"], what="the store")
                await until(lambda: api.pending_updates == [], what="the update confirmed")

    asyncio.run(main())


def test_an_update_telegram_sends_again_is_stored_once_and_answered_once(tmp_path):
    database = tmp_path / "hub.db"
    user = make_user(9990002, first_name="Mo")
    rasa_after_restart = FakeRasa(default=[says(ANSWER)])

    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=1.0) as api:
            update = api.push_update(api.text_update("where is my parcel?", user=user))
            async with running_hub(database, FakeRasa(default=[says(ANSWER)]), **polling(api)) as hub:
                await until(lambda: api.sent_texts(user["id"]) == [ANSWER], what="the bot's answer")
                await hub.app.ctx.telegram.delivery.idle()
            # The hub died after storing it and before confirming: Telegram sends it again, twice even.
            api.push_update(update)
            api.push_update(update)
            api.clear_calls()
            async with running_hub(database, rasa_after_restart, **polling(api)) as hub:
                await until(lambda: update["update_id"] + 1 in offsets(api), what="the redelivery taken")
                await hub.hub.drain()
                await asyncio.sleep(0.5)
            assert api.sent_texts(user["id"]) == [ANSWER]

    asyncio.run(main())
    assert stored_texts(database, user["id"]) == ["where is my parcel?"]
    assert rasa_after_restart.sent == []


def test_stop_during_a_long_poll_returns_at_once(tmp_path):
    database = tmp_path / "hub.db"
    user = make_user(9990003, first_name="Ada")
    took: list[float] = []

    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=30.0) as api:
            async with running_hub(database, FakeRasa(), **polling(api, poll_timeout=25)) as hub:
                update = api.push_update(api.text_update("hello", user=user))
                await until(lambda: stored_texts(database, user["id"]) == ["hello"], what="the message stored")
                await until(
                    lambda: any(c.status is None and c.params.get("offset") for c in api.calls("getUpdates")),
                    what="a long poll in flight",
                )
                started = time.monotonic()
                await hub.app.ctx.telegram.stop()
                took.append(time.monotonic() - started)
                assert not hub.app.ctx.telegram.running
            assert update["update_id"] not in [pending["update_id"] for pending in api.pending_updates]

    asyncio.run(main())
    assert took[0] < 1.5


def test_flood_control_and_a_dropped_connection_on_getupdates_are_waited_out(tmp_path):
    database = tmp_path / "hub.db"
    user = make_user(9990004, first_name="Kim")
    waited: list[float] = []

    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=1.0) as api:
            api.fail_next("getUpdates", 1, status=429, retry_after=1)
            api.drop_next("getUpdates", 1)
            api.push_update(api.text_update("is anyone there?", user=user))
            async with running_hub(database, FakeRasa(), **polling(api)):
                await until(lambda: api.calls("getUpdates"), what="the first poll")
                flood = time.monotonic()
                await until(lambda: len(api.calls("getUpdates")) >= 2, what="the poll after flood control")
                waited.append(time.monotonic() - flood)
                await until(lambda: stored_texts(database, user["id"]) == ["is anyone there?"], what="the message")
                polls = api.calls("getUpdates")
                assert polls[0].status == 429 and polls[1].dropped and polls[2].status == 200
                assert api.calls("deleteWebhook")[0].seq < polls[0].seq, "polling must not run while a webhook is set"

    asyncio.run(main())
    assert waited[0] >= 0.9


@pytest.mark.parametrize("poll_timeout", [1, 3])
def test_the_long_poll_asks_for_the_configured_timeout_and_the_channels_update_kinds(tmp_path, poll_timeout):
    async def main() -> None:
        with TelegramApiServer(max_poll_seconds=0.2) as api:
            async with running_hub(tmp_path / "hub.db", FakeRasa(), **polling(api, poll_timeout=poll_timeout)):
                await until(lambda: api.calls("getUpdates"), what="the first poll")
                params = api.calls("getUpdates")[0].params
                assert params["timeout"] == poll_timeout
                assert set(params["allowed_updates"]) == {"message", "edited_message", "callback_query"}

    asyncio.run(main())


def test_a_failed_store_is_described_by_the_drivers_reason_and_place_never_by_its_sql_parameters():
    engine = sqlalchemy.create_engine("sqlite://")
    with pytest.raises(sqlalchemy.exc.OperationalError) as raised, engine.connect() as conn:
        conn.execute(sqlalchemy.text("INSERT INTO missing VALUES (:text)"), {"text": "my address is 1 Main St"})
    assert "1 Main St" in str(raised.value)
    described = failure(raised.value)
    assert described == "OperationalError (no such table: missing)"
    assert "Main St" not in described and "INSERT" not in described
