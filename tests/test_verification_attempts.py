"""The limit on wrong email addresses: per conversation, per order across conversations, kept over restarts."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from actions.orders.verification_attempts import PER_CONVERSATION, PER_ORDER, VerificationAttempts, failures
from bot.store.database import create_engine
from tests.postgres import fresh_postgres_database

START = dt.datetime(2026, 3, 2, 9, 0)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def attempts_on(path: Path, clock: Clock) -> VerificationAttempts:
    return VerificationAttempts(create_engine(f"sqlite:///{path}"), clock=clock)


def wrong_tries(attempts: VerificationAttempts, conversation: str, order: str, count: int) -> list[bool]:
    """Whether checking was locked after each of `count` wrong addresses."""

    async def tries() -> list[bool]:
        return [await attempts.record_failure(conversation, order) for _ in range(count)]

    return asyncio.run(tries())


def test_a_conversation_gets_three_wrong_addresses_then_checking_stops(tmp_path):
    attempts = attempts_on(tmp_path / "actions.db", Clock())
    assert not asyncio.run(attempts.locked("c1", "00000108")), "nothing tried yet"
    assert wrong_tries(attempts, "c1", "00000108", PER_CONVERSATION) == [False, False, True]
    assert asyncio.run(attempts.locked("c1", "00000108"))
    assert asyncio.run(attempts.locked("c1", "00123842")), "another order does not open a fresh count"
    assert not asyncio.run(attempts.locked("c2", "00123842")), "another conversation on another order is free"


def test_an_order_gets_five_wrong_addresses_from_all_conversations_together(tmp_path):
    attempts = attempts_on(tmp_path / "actions.db", Clock())
    locked = [wrong_tries(attempts, f"conversation-{n}", "00000108", 1)[0] for n in range(PER_ORDER)]
    assert locked == [False, False, False, False, True]
    assert asyncio.run(attempts.locked("a-new-conversation", "00000108"))
    assert not asyncio.run(attempts.locked("a-new-conversation", "00123842"))


def test_a_restart_does_not_reset_the_count(tmp_path):
    clock = Clock()
    wrong_tries(attempts_on(tmp_path / "actions.db", clock), "c1", "00000108", PER_CONVERSATION - 1)
    restarted = attempts_on(tmp_path / "actions.db", clock)
    assert wrong_tries(restarted, "c1", "00000108", 1) == [True]


def test_the_count_is_of_the_last_24_hours_and_old_tries_are_deleted(tmp_path):
    clock = Clock()
    attempts = attempts_on(tmp_path / "actions.db", clock)
    wrong_tries(attempts, "c1", "00000108", PER_CONVERSATION)
    clock.now = START + dt.timedelta(hours=23, minutes=59)
    assert asyncio.run(attempts.locked("c1", "00000108"))
    clock.now = START + dt.timedelta(hours=24, minutes=1)
    assert not asyncio.run(attempts.locked("c1", "00000108"))
    assert wrong_tries(attempts, "c1", "00000108", 1) == [False]
    with create_engine(f"sqlite:///{tmp_path / 'actions.db'}").connect() as conn:
        rows = conn.execute(sa.select(failures.c.conversation_id, failures.c.order_number)).all()
    assert rows == [("c1", "00000108")], "only the recent try is kept, and no address is stored"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_first_checks_at_once_on_a_new_database_all_answer(tmp_path, backend):
    """The table is made on first use: two at once (two customers, two action servers) must not both make it."""
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":  # one action server, four customers at once
            callers = [VerificationAttempts(create_engine(f"sqlite:///{tmp_path / 'new.db'}"), clock=Clock())] * 4
        else:  # four action servers
            url = stack.enter_context(fresh_postgres_database())
            callers = [VerificationAttempts(create_engine(url), clock=Clock()) for _ in range(4)]

        async def at_once() -> list[bool]:
            return list(await asyncio.gather(*(c.locked(f"c{n}", "00000108") for n, c in enumerate(callers))))

        try:
            assert asyncio.run(at_once()) == [False] * 4
        finally:
            for caller in set(callers):
                asyncio.run(caller.close())
