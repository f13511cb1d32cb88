"""Rasa's SQL tracker store, configured from DATABASE_URL like the rest of Frontline.

Rasa's own `${VAR}` substitution has no defaults, so `rasa shell` would fail without the variable set; this
class gives the same working local default as the hub (a SQLite file under var/) and accepts any SQLAlchemy
URL, e.g. `postgresql://user@127.0.0.1/test`.

Rebuilding a tracker from its events costs time in proportion to the conversation's length (at 1,000 events, about
200 ms: JSON, then each event re-created and replayed), so each Rasa worker keeps the trackers it saved, and
checks them against SQL with one small query (how many events the session has, and the last one's id): a tracker
saved meanwhile by another worker or another Rasa server does not match, and is read from SQL as before.

Past 30 customer messages, Rasa gets the recent part of the conversation (bot/rasa/tracker_window.py), so the cost of
a turn stops growing with its length; saving stores the new events all the same.

It also notes which customer needs (intents) came up in each conversation, in the hub's
`hub_conversation_intents`, so the supervisors' report can say which needs end with a person without reading
Rasa's event log.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.rasa.model_memory import MODEL_MEMORY
from bot.rasa.schema_checks import check_each_schema_once
from bot.rasa.tracker_window import copied, shortened, window_of
from bot.store.database import create_engine, create_tables, database_url
from bot.store.schema import conversation_intents, utcnow

logger = logging.getLogger(__name__)

CACHED_CONVERSATIONS = 2000
"""Conversations whose trackers (and noted needs) a worker keeps; the least recently used go first."""
CACHED_EVENTS = 100_000
"""And at most this many events in all (about 1-2 kB each): a few very long conversations do not fill memory."""
Fingerprint = tuple[int, int | None]


class DatabaseUrlTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose connection comes from DATABASE_URL."""

    engine: Engine

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        host: str | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        """`host` is the endpoint's `url` field, which Rasa passes to custom stores; it may hold a database URL.

        Every Rasa server loads its tracker store at start, so this is also where the server's process is tuned:
        each JSON schema checked once (bot/rasa/schema_checks.py)."""
        check_each_schema_once()
        parsed = make_url(url or host or database_url())
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=parsed.drivername,
            host=parsed.host,
            port=parsed.port,
            db=parsed.database or "rasa.db",
            username=parsed.username,
            password=parsed.password,
            event_broker=event_broker,
            login_db=None,
            query=dict(parsed.query),
            **kwargs,
        )
        if parsed.get_backend_name() == "sqlite":  # the hub's engine: WAL, a 15 s busy timeout, open connections
            self.engine.dispose()
            self.engine = create_engine(parsed.render_as_string(hide_password=False))
            self.sessionmaker = sessionmaker(bind=self.engine)
        create_tables(self.engine, conversation_intents)
        self._trackers: OrderedDict[str, tuple[Fingerprint, DialogueStateTracker]] = OrderedDict()
        self._events = 0
        self._noted: OrderedDict[str, set[str]] = OrderedDict()
        self._serving = True
        """From here on a new domain means a model was loaded (the constructor's own does not)."""

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        """Rasa hands its tracker store the domain each time it has loaded a model (`Agent.load_model`, at start
        and on `PUT /model`): the moment to take the model out of the cycle collector's way."""
        self._domain = domain or Domain.empty()
        if getattr(self, "_serving", False) and not self._domain.is_empty():
            MODEL_MEMORY.model_loaded()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker, its recent part in a long conversation: this worker's copy when SQL still
        holds exactly it, else from SQL."""
        MODEL_MEMORY.serving()
        fingerprint = self._fingerprint(sender_id)
        kept = self._trackers.get(sender_id)
        fresh = kept is None or kept[0] != fingerprint
        if kept is not None and not fresh:
            self._trackers.move_to_end(sender_id)
            tracker = copied(kept[1])
        else:
            found = await super().retrieve(sender_id)
            if found is None:
                return None
            tracker = found
        shorter = shortened(tracker)
        if shorter is not None:
            tracker = shorter
        if (fresh or shorter is not None) and window_of(tracker).stored(tracker) == fingerprint[0]:
            self._keep(sender_id, fingerprint, tracker)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save (the events SQL does not hold yet, one row each), with one query instead of two: it counts
        the stored session's events, and the new rows' ids give the fingerprint this worker keeps the tracker by.
        Rasa saves after every message: only the latest one's intent can be new to the conversation."""
        await self.stream_events(tracker)
        window = window_of(tracker)
        with self.session_scope() as session:
            count, last_id = self._session_events(session, tracker.sender_id)
            rows = [
                self._row(tracker.sender_id, event)
                for event in itertools.islice(tracker.events, count - window.skipped + window.summary, None)
            ]
            session.add_all(rows)
            session.flush()
            fingerprint = (count + len(rows), rows[-1].id if rows else last_id)
            session.commit()
        if fingerprint[0] == window.stored(tracker):
            self._keep(tracker.sender_id, fingerprint, tracker)
        else:  # SQL holds more than this tracker: someone else wrote to this session; read it from SQL next time
            self._forget(tracker.sender_id)
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        if not intent or intent in self._noted.get(tracker.sender_id, ()):
            return
        try:
            self._note_intent(tracker.sender_id, intent)
        except SQLAlchemyError as exc:  # the conversation goes on; only the report misses this need
            logger.warning("conversation=%s could not note its intents: %s", tracker.sender_id, exc)
            return
        self._noted.setdefault(tracker.sender_id, set()).add(intent)
        self._noted.move_to_end(tracker.sender_id)
        if len(self._noted) > CACHED_CONVERSATIONS:
            self._noted.popitem(last=False)

    def _fingerprint(self, sender_id: str) -> Fingerprint:
        """How many events the latest session has in SQL, and the last one's id: new events change both."""
        with self.session_scope() as session:
            return self._session_events(session, sender_id)

    def _session_events(self, session: Session, sender_id: str) -> Fingerprint:
        """The fingerprint in one Core query: the latest session as Rasa's `_event_query` finds it (from the latest
        `session_started` by timestamp, or all events when there is none)."""
        events = self.SQLEvent.__table__
        started = (
            select(func.max(events.c.timestamp))
            .where(events.c.sender_id == sender_id, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        count, last_id = session.execute(
            select(func.count(events.c.id), func.max(events.c.id)).where(
                events.c.sender_id == sender_id, or_(events.c.timestamp >= started, started.is_(None))
            )
        ).one()
        return int(count), last_id

    def _row(self, sender_id: str, event: Event) -> Any:
        """An event's row, as Rasa 3.6's `SQLTrackerStore.save` writes it."""
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _keep(self, sender_id: str, fingerprint: Fingerprint, tracker: DialogueStateTracker) -> None:
        """A copy (Rasa's own: the events are shared, not rebuilt), as the caller goes on changing its tracker."""
        self._forget(sender_id)
        self._trackers[sender_id] = (fingerprint, copied(tracker))
        self._events += len(tracker.events)
        while len(self._trackers) > CACHED_CONVERSATIONS or self._events > CACHED_EVENTS:
            self._forget(next(iter(self._trackers)))

    def _forget(self, sender_id: str) -> None:
        kept = self._trackers.pop(sender_id, None)
        if kept is not None:
            self._events -= len(kept[1].events)

    def _note_intent(self, conversation_id: str, intent: str) -> None:
        table = conversation_intents
        key = {"conversation_id": conversation_id, "intent": intent}
        with self.engine.begin() as conn:
            noted = conn.execute(
                select(table.c.intent).where(table.c.conversation_id == conversation_id, table.c.intent == intent)
            ).first()
            if noted is None:
                conn.execute(insert(table).values(**key, first_seen_at=utcnow()))
