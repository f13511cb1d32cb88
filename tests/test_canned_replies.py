"""Canned replies: a starter set on a fresh database, titles unique."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.canned_replies import STARTERS, CannedReplies, DuplicateTitle
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine


def test_the_starters_are_seeded_once_and_titles_stay_unique(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    ConversationStore(engine).create_schema()
    replies = CannedReplies(engine)
    asyncio.run(replies.seed())
    asyncio.run(replies.seed())
    assert len(asyncio.run(replies.all())) == len(STARTERS)
    with pytest.raises(DuplicateTitle):
        asyncio.run(replies.add(STARTERS[0][0], "again"))
