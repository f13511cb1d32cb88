"""SQLAlchemy engines configured the same way for every SQL database Frontline opens."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

T = TypeVar("T")


def create_engine(url: str) -> Engine:
    """A 2.0-style engine; SQLite files get WAL and a busy timeout so several processes can share one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sqlalchemy.create_engine(url, future=True, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sqlalchemy.create_engine(url, future=True, connect_args={"check_same_thread": False, "timeout": 15})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


async def in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run blocking `work` in one transaction on a worker thread, so the event loop keeps serving."""
    return await asyncio.to_thread(_transaction, engine, work)


def _transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.begin() as conn:
        return work(conn)
