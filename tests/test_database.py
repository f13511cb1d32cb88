"""SQLite files are opened so that several processes can share them; a PostgreSQL engine outlives a restart of
its server."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, select, text

from bot.store.canned_replies import CannedReplies
from bot.store.conversations import ConversationStore
from bot.store.database import DATABASE_UNAVAILABLE, create_engine, create_tables
from tests.postgres import fresh_postgres_database
from tests.private_postgres import PrivatePostgres


def test_sqlite_files_use_wal_and_foreign_keys_and_their_folder_is_created(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'deep' / 'folder' / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    assert (tmp_path / "deep" / "folder").is_dir()


def test_a_sqlite_file_keeps_its_connections_open_between_transactions(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'pooled.db'}")
    seen = set()
    for _ in range(3):
        with engine.begin() as conn:
            seen.add(id(conn.connection.dbapi_connection))
    assert len(seen) == 1, "one connection, reused: opening one per transaction cost 1.24 ms against 0.36"
    engine.dispose()


def test_tables_made_on_first_use_by_several_at_once_are_made_once(tmp_path):
    table = Table("first_use", MetaData(), Column("id", Integer, primary_key=True))
    engines = [create_engine(f"sqlite:///{tmp_path / 'new.db'}") for _ in range(4)]  # as four processes would
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda engine: create_tables(engine, table), engines))
    with engines[0].connect() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
    for engine in engines:
        engine.dispose()


def test_postgresql_urls_get_a_plain_engine():
    engine = create_engine("postgresql://postgres@127.0.0.1:5432/test")
    with engine.connect() as conn:
        assert conn.execute(text("select 1")).scalar_one() == 1


@pytest.mark.parametrize("fault", ["restart", "kill"])
def test_a_postgresql_engine_reconnects_after_its_server_restarts(fault):
    with PrivatePostgres() as server:
        engine = create_engine(server.url)
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar_one() == 1
        if fault == "restart":
            server.restart("fast")
        else:
            server.kill()
            with pytest.raises(DATABASE_UNAVAILABLE), engine.connect() as conn:
                conn.execute(text("select 1"))
            server.start()
        with engine.connect() as conn:
            assert conn.execute(text("select 2")).scalar_one() == 2
        engine.dispose()


def test_a_query_on_a_connection_the_server_dropped_fails_as_unavailable():
    with PrivatePostgres() as server:
        engine = create_engine(server.url)
        with engine.connect() as conn:
            server.restart("fast")
            with pytest.raises(DATABASE_UNAVAILABLE):
                conn.execute(text("select 1"))
        with engine.connect() as conn:
            assert conn.execute(text("select 2")).scalar_one() == 2
        engine.dispose()


def test_hubs_starting_at_once_on_an_empty_postgresql_database_all_create_the_schema_and_seed_once():
    async def start_hub(url: str) -> None:
        engine = create_engine(url)
        ConversationStore(engine).create_schema()
        await CannedReplies(engine).seed()

    async def start_four(url: str) -> None:
        await asyncio.gather(*(asyncio.to_thread(asyncio.run, start_hub(url)) for _ in range(4)))

    with fresh_postgres_database() as url:
        asyncio.run(start_four(url))
        titles = [reply["title"] for reply in asyncio.run(CannedReplies(create_engine(url)).all())]
    assert titles and len(titles) == len(set(titles))
