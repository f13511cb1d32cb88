"""The review inbox's test databases: the hub's schema with one trainer, and Rasa's tracker store beside it."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from bot.core.review_inbox import ReviewInbox
from bot.store.agents import AgentStore
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine

NOW = dt.datetime(2024, 5, 6, 9, 30)


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture(scope="module")
def hub_template(tmp_path_factory) -> Path:
    """The hub's schema and one trainer, built once (hashing a password takes a while), copied by each test."""
    database = tmp_path_factory.mktemp("review-inbox") / "hub.db"
    conversations = ConversationStore(create_engine(f"sqlite:///{database}"))
    conversations.create_schema()
    run(AgentStore(conversations.engine).add("tess", "Tess Trainer", "long enough password", "trainer"))
    conversations.engine.dispose()
    return database


@pytest.fixture
def store(tmp_path, hub_template) -> Iterator[ConversationStore]:
    shutil.copyfile(hub_template, tmp_path / "hub.db")
    conversations = ConversationStore(create_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    yield conversations
    conversations.engine.dispose()


@pytest.fixture
def tess(store) -> int:
    """The trainer's agent id."""
    [agent] = run(AgentStore(store.engine).all())
    return agent.id


@pytest.fixture
def rasa(tmp_path, store) -> Iterator[SQLTrackerStore]:
    """Rasa's real SQL tracker store on the hub's database, as docs/architecture.md deploys it (it creates `events`)."""
    tracker_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "hub.db"))
    yield tracker_store
    tracker_store.engine.dispose()


@pytest.fixture
def inbox(store) -> ReviewInbox:
    return ReviewInbox(store.engine, threshold=0.7, clock=lambda: NOW)
