"""Rasa's SQL tracker store, configured from DATABASE_URL like the rest of Frontline.

Rasa's own `${VAR}` substitution has no defaults, so `rasa shell` would fail without the variable set; this
class gives the same working local default as the hub (a SQLite file under var/) and accepts any SQLAlchemy
URL, e.g. `postgresql://user@127.0.0.1/test`.

It also notes which customer needs (intents) came up in each conversation, in the hub's
`hub_conversation_intents`, so the supervisors' report can say which needs end with a person without reading
Rasa's event log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.store.database import database_url
from bot.store.schema import conversation_intents, utcnow

logger = logging.getLogger(__name__)


class DatabaseUrlTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose connection comes from DATABASE_URL."""

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        host: str | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        """`host` is the endpoint's `url` field, which Rasa passes to custom stores; it may hold a database URL."""
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
        conversation_intents.create(self.engine, checkfirst=True)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa saves after every message: only the latest one's intent can be new to the conversation."""
        await super().save(tracker)
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        if not intent:
            return
        try:
            self._note_intent(tracker.sender_id, intent)
        except SQLAlchemyError as exc:  # the conversation goes on; only the report misses this need
            logger.warning("conversation=%s could not note its intents: %s", tracker.sender_id, exc)

    def _note_intent(self, conversation_id: str, intent: str) -> None:
        table = conversation_intents
        key = {"conversation_id": conversation_id, "intent": intent}
        with self.engine.begin() as conn:
            noted = conn.execute(
                select(table.c.intent).where(table.c.conversation_id == conversation_id, table.c.intent == intent)
            ).first()
            if noted is None:
                conn.execute(insert(table).values(**key, first_seen_at=utcnow()))
