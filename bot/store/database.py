"""SQLAlchemy engines and column types configured the same way for every SQL database Frontline opens.

The action server's order-system adapter uses this module too: it is the one part of the store outside
`bot.domain` that `actions/` may import (it holds no hub state).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import sqlalchemy
from sqlalchemy import Integer, TypeDecorator, event
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

T = TypeVar("T")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'frontline.db'}"
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)
"""What a query raises while the database cannot be reached (restarting, connection lost, pool exhausted): the
work did not happen, or its commit is unknown, and is worth trying again later."""
CONNECT_TIMEOUT_SECONDS = 5
"""A PostgreSQL server that does not answer at all (a host gone, not one refusing) fails a connect in seconds,
not after the kernel's minutes of TCP retries that would tie up the worker thread meanwhile."""


SCHEMA_LOCK_KEY = 0x46524F4E54
"""The advisory lock that serialises creating tables among processes ("FRONT"): hubs, Rasa servers, actions."""


def take_schema_lock(conn: Connection) -> None:
    """On PostgreSQL, wait for the processes creating tables now, until this transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


def create_tables(engine: Engine, *tables: sqlalchemy.Table) -> None:
    """Tables made on first use: processes starting together take turns on PostgreSQL (the advisory lock); on
    SQLite, whoever loses the race finds them made."""
    try:
        with engine.begin() as conn:
            take_schema_lock(conn)
            for table in tables:
                table.create(conn, checkfirst=True)
    except OperationalError:
        inspector = sqlalchemy.inspect(engine)
        if not all(inspector.has_table(table.name) for table in tables):
            raise


def database_url() -> str:
    """Where the hub and Rasa's tracker store keep conversations (a SQLite file unless DATABASE_URL says)."""
    return os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)


def create_engine(url: str) -> Engine:
    """A 2.0-style engine; SQLite files get WAL and a busy timeout so several processes can share one.

    SQLAlchemy 1.4 opens and closes a SQLite file's connection for every transaction (NullPool): 1.24 ms a small
    transaction against 0.36 ms with a pool of open connections, measured here. WAL lets them share the file."""
    parsed = make_url(url)
    if parsed.get_driver_name() == "psycopg2" and "connect_timeout" not in parsed.query:
        # pool_pre_ping: a connection the server dropped (a restart) is replaced when next checked out.
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        return sqlalchemy.create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)
    if parsed.get_backend_name() != "sqlite":
        return sqlalchemy.create_engine(url, future=True, pool_pre_ping=True)
    on_disk = bool(parsed.database) and parsed.database != ":memory:"
    if on_disk:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"check_same_thread": False, "timeout": 15}
    pool = {"poolclass": QueuePool} if on_disk else {}
    engine = sqlalchemy.create_engine(url, future=True, connect_args=connect_args, **pool)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


WAL_ATTEMPTS = 50
WAL_RETRY_SECONDS = 0.1


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """WAL is kept in the file, so it is set once. Processes opening a new file together can find it locked for
    that moment, and SQLite does not wait out its busy timeout there (CI saw four Rasa tracker stores fail so):
    try again for a few seconds."""
    for attempt in range(WAL_ATTEMPTS):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == WAL_ATTEMPTS - 1:
                raise
            time.sleep(WAL_RETRY_SECONDS)


async def in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run blocking `work` in one transaction on a worker thread, so the event loop keeps serving."""
    return await asyncio.to_thread(_transaction, engine, work)


def _transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.begin() as conn:
        return work(conn)


class Money(TypeDecorator):
    """Money as whole cents in an integer column: exact on every database, SQLite included."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))
