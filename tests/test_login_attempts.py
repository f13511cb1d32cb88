"""Login attempts counted in SQL per account and per address: the lock, how long it lasts, what clears it, and that
two hub processes on one database count together."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from bot.store import schema as t
from bot.store.database import create_engine
from bot.store.login_attempts import LoginAttempts, LoginLimits

LIMITS = LoginLimits(per_account=3, per_address=5, window=dt.timedelta(minutes=15))


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 4, 12, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    t.create_schema(engine)
    yield engine
    engine.dispose()


def run(coroutine):
    return asyncio.run(coroutine)


def test_an_account_is_locked_after_its_limit_until_its_oldest_failure_leaves_the_window(engine, clock):
    attempts = LoginAttempts(engine, LIMITS, clock)
    for _ in range(3):
        assert run(attempts.admit("Sam", "10.0.0.1")) is None
        clock.advance(minutes=1)
    assert run(attempts.admit("sam", "10.0.0.2")) == 12 * 60  # the first failure, 3 minutes old, counts 12 more
    clock.advance(minutes=12, seconds=-1)
    assert run(attempts.admit("sam", "10.0.0.3")) == 1
    clock.advance(seconds=1)
    assert run(attempts.admit("sam", "10.0.0.3")) is None


def test_refused_attempts_are_not_counted_so_waiting_is_enough(engine, clock):
    attempts = LoginAttempts(engine, LIMITS, clock)
    for _ in range(3):
        run(attempts.admit("sam", "10.0.0.1"))
    for _ in range(50):
        assert run(attempts.admit("sam", "10.0.0.1")) == 15 * 60
    with engine.connect() as conn:
        assert len(conn.execute(select(t.login_attempts)).all()) == 3
    clock.advance(minutes=15)
    assert run(attempts.admit("sam", "10.0.0.1")) is None
    with engine.connect() as conn:
        assert len(conn.execute(select(t.login_attempts)).all()) == 1, "attempts out of the window are deleted"


def test_an_address_is_locked_after_its_limit_whichever_accounts_it_tried(engine, clock):
    attempts = LoginAttempts(engine, LIMITS, clock)
    for username in ("sam", "sam", "kim", "kim", "alex"):
        assert run(attempts.admit(username, "10.0.0.1")) is None
    assert run(attempts.admit("robin", "10.0.0.1")) == 15 * 60
    assert run(attempts.admit("robin", "10.0.0.2")) is None


def test_a_success_clears_the_accounts_failures(engine, clock):
    attempts = LoginAttempts(engine, LIMITS, clock)
    for _ in range(2):
        run(attempts.admit("sam", "10.0.0.1"))
    run(attempts.admit("sam", "10.0.0.1"))
    run(attempts.succeeded("SAM"))
    for _ in range(3):
        assert run(attempts.admit("sam", "10.0.0.1")) is None


def test_two_hub_processes_on_one_database_share_the_counts(engine, clock, tmp_path):
    other_engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    first, second = LoginAttempts(engine, LIMITS, clock), LoginAttempts(other_engine, LIMITS, clock)
    run(first.admit("sam", "10.0.0.1"))
    run(second.admit("sam", "10.0.0.2"))
    run(first.admit("sam", "10.0.0.3"))
    assert run(second.admit("sam", "10.0.0.4")) == 15 * 60
    other_engine.dispose()


def test_neither_usernames_nor_addresses_are_stored_in_the_clear(engine, clock):
    run(LoginAttempts(engine, LIMITS, clock).admit("sam.secret", "203.0.113.9"))
    with engine.connect() as conn:
        row = conn.execute(select(t.login_attempts)).one()
    assert "sam" not in row.account_hash and "203.0.113" not in row.address_hash
