"""Rasa's conversations are stored in the database DATABASE_URL names, SQLite by default or PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import select

from bot.rasa.tracker_store import DatabaseUrlTrackerStore
from bot.store.database import DEFAULT_DATABASE_URL, create_engine
from bot.store.schema import conversation_intents
from tests.postgres import fresh_postgres_database
from tests.rasa_stack import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


def round_trip(store: DatabaseUrlTrackerStore) -> DialogueStateTracker:
    sender = f"store-{uuid.uuid4().hex[:8]}"
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(UserUttered("where is my order", {"name": "track_order", "confidence": 1.0}))
    asyncio.run(store.save(tracker))
    return asyncio.run(store.retrieve(sender))


def test_endpoints_yml_selects_the_database_url_store(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'conversations.db'}")
    monkeypatch.setenv("ACTIONS_TOKEN", "any-token")  # endpoints.yml names it; Rasa reads no file without it
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, DOMAIN)
    assert isinstance(store, DatabaseUrlTrackerStore)
    assert (tmp_path / "conversations.db").exists()


def test_the_default_is_a_sqlite_file_under_var():
    assert DEFAULT_DATABASE_URL.startswith("sqlite:///") and DEFAULT_DATABASE_URL.endswith("var/frontline.db")


def test_a_conversation_survives_in_sqlite(tmp_path):
    store = DatabaseUrlTrackerStore(DOMAIN, url=f"sqlite:///{tmp_path / 'rasa.db'}")
    assert round_trip(store).latest_message.text == "where is my order"


def test_a_conversation_survives_in_postgresql():
    store = DatabaseUrlTrackerStore(DOMAIN, url="postgresql://postgres@127.0.0.1:5432/test")
    retrieved = round_trip(store)
    assert retrieved.latest_message.intent["name"] == "track_order"


def test_on_sqlite_rasa_shares_the_hubs_engine_settings(tmp_path):
    store = DatabaseUrlTrackerStore(DOMAIN, url=f"sqlite:///{tmp_path / 'rasa.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        first = id(conn.connection.dbapi_connection)
    with store.engine.connect() as conn:
        assert id(conn.connection.dbapi_connection) == first, "connections stay open between turns"
    assert round_trip(store).latest_message.text == "where is my order"


def test_an_unknown_database_is_an_error_not_a_silent_fallback():
    with pytest.raises(Exception):  # noqa: B017 - sqlalchemy raises its own error for an unknown dialect
        DatabaseUrlTrackerStore(DOMAIN, url="nosuchdb://127.0.0.1/x")


def test_each_need_a_conversation_raised_is_noted_once_for_the_report(tmp_path):
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    store = DatabaseUrlTrackerStore(DOMAIN, url=url)
    tracker = DialogueStateTracker("conversation-1", DOMAIN.slots)
    for text, intent in (("hi", "greet"), ("where is my parcel", "track_order"), ("still where", "track_order")):
        tracker.update(UserUttered(text, {"name": intent, "confidence": 0.9}))
        asyncio.run(store.save(tracker))
    tracker.update(UserUttered("a person please", {"name": "contact_human_agent", "confidence": 0.9}))
    asyncio.run(store.save(tracker))
    with create_engine(url).connect() as conn:
        noted = conn.execute(
            select(conversation_intents.c.intent).where(conversation_intents.c.conversation_id == "conversation-1")
        ).scalars()
        assert sorted(noted) == ["contact_human_agent", "greet", "track_order"]


def test_a_failure_to_note_needs_does_not_lose_the_conversation(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    store = DatabaseUrlTrackerStore(DOMAIN, url=url)
    with create_engine(url).begin() as conn:
        conversation_intents.drop(conn)
    retrieved = round_trip(store)
    assert retrieved.latest_message.intent["name"] == "track_order"
    assert "could not note its intents" in caplog.text


def a_turn(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "track_order", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_listen"))


def test_a_worker_reads_its_own_saved_tracker_without_rebuilding_it_from_sql(tmp_path, monkeypatch):
    store = DatabaseUrlTrackerStore(DOMAIN, url=f"sqlite:///{tmp_path / 'rasa.db'}")
    tracker = DialogueStateTracker("kept", DOMAIN.slots)
    a_turn(tracker, "first")
    asyncio.run(store.save(tracker))

    def rebuilt(*_args, **_kwargs):
        raise AssertionError("rebuilt from SQL although nothing changed there")

    monkeypatch.setattr(SQLTrackerStore, "retrieve", rebuilt)
    retrieved = asyncio.run(store.retrieve("kept"))
    assert [e.as_dict() for e in retrieved.events] == [e.as_dict() for e in tracker.events]
    a_turn(retrieved, "not saved: the turn failed")
    again = asyncio.run(store.retrieve("kept"))
    assert len(again.events) == len(tracker.events), "each caller gets its own copy"


def test_what_another_worker_saved_meanwhile_is_read_from_sql(tmp_path):
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    worker_a, worker_b = DatabaseUrlTrackerStore(DOMAIN, url=url), DatabaseUrlTrackerStore(DOMAIN, url=url)
    tracker = DialogueStateTracker("shared", DOMAIN.slots)
    a_turn(tracker, "on worker a")
    asyncio.run(worker_a.save(tracker))
    on_b = asyncio.run(worker_b.retrieve("shared"))
    a_turn(on_b, "on worker b")
    asyncio.run(worker_b.save(on_b))
    seen_by_a = asyncio.run(worker_a.retrieve("shared"))
    assert [e.text for e in seen_by_a.events if isinstance(e, UserUttered)] == ["on worker a", "on worker b"]


def test_a_new_session_is_read_from_sql_as_rasa_reads_it(tmp_path):
    store = DatabaseUrlTrackerStore(DOMAIN, url=f"sqlite:///{tmp_path / 'rasa.db'}")
    tracker = DialogueStateTracker("sessions", DOMAIN.slots)
    a_turn(tracker, "old session")
    tracker.update(SessionStarted())
    a_turn(tracker, "new session")
    asyncio.run(store.save(tracker))
    retrieved = asyncio.run(store.retrieve("sessions"))
    assert [e.text for e in retrieved.events if isinstance(e, UserUttered)] == ["new session"]


def test_the_kept_trackers_stay_within_their_event_budget(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.rasa.tracker_store.CACHED_EVENTS", 5)
    store = DatabaseUrlTrackerStore(DOMAIN, url=f"sqlite:///{tmp_path / 'rasa.db'}")
    for name in ("one", "two", "three"):
        tracker = DialogueStateTracker(name, DOMAIN.slots)
        for n in range(2):
            a_turn(tracker, f"{name} {n}")
        asyncio.run(store.save(tracker))
    assert list(store._trackers) == ["three"] and store._events == 4
    assert len(asyncio.run(store.retrieve("one")).events) == 4, "one forgotten here is read from SQL"


def stored_texts(url: str, sender: str) -> list[str]:
    store = DatabaseUrlTrackerStore(DOMAIN, url=url)
    full = asyncio.run(store.retrieve_full_tracker(sender))
    return [e.text for e in full.events if isinstance(e, UserUttered)]


def test_a_long_conversation_reaches_rasa_shortened_and_every_event_is_stored_once_in_order(tmp_path):
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    worker_a, worker_b = DatabaseUrlTrackerStore(DOMAIN, url=url), DatabaseUrlTrackerStore(DOMAIN, url=url)
    tracker = DialogueStateTracker("long", DOMAIN.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(SlotSet("order_id", "00123842"))
    said = []
    for n in range(80):
        worker = worker_a if n % 7 else worker_b  # now and then a turn on the other worker, from SQL
        tracker = asyncio.run(worker.retrieve("long")) if n else tracker
        said.append(f"message {n}")
        a_turn(tracker, said[-1])
        asyncio.run(worker.save(tracker))
        assert stored_texts(url, "long") == said
    latest = asyncio.run(worker_a.retrieve("long"))
    texts = [e.text for e in latest.events if isinstance(e, UserUttered)]
    assert 20 <= len(texts) <= 30 and texts == said[-len(texts) :]
    assert latest.get_slot("order_id") == "00123842"
    on_b = asyncio.run(worker_b.retrieve("long"))
    assert [e.as_dict() for e in on_b.events][-10:] == [e.as_dict() for e in latest.events][-10:]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_rasa_servers_starting_together_on_an_empty_database_all_start(tmp_path, backend):
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'new.db'}"
        else:
            url = stack.enter_context(fresh_postgres_database())
        with ThreadPoolExecutor(4) as pool:
            stores = list(pool.map(lambda _: DatabaseUrlTrackerStore(DOMAIN, url=url), range(4)))
        assert round_trip(stores[-1]).latest_message.text == "where is my order"
        for store in stores:
            store.engine.dispose()
