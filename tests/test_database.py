"""SQLite files are opened so that several processes can share them."""

from __future__ import annotations

from sqlalchemy import text

from bot.store.database import create_engine


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
