"""SQLite files are opened so that several processes can share them; a PostgreSQL engine outlives a restart of
its server."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.store.database import DATABASE_UNAVAILABLE, create_engine
from tests.private_postgres import PrivatePostgres


def test_sqlite_files_use_wal_and_foreign_keys_and_their_folder_is_created(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'deep' / 'folder' / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    assert (tmp_path / "deep" / "folder").is_dir()


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
