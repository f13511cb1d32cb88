"""Rasa's SQL tracker store, configured from DATABASE_URL like the rest of Frontline.

Rasa's own `${VAR}` substitution has no defaults, so `rasa shell` would fail without the variable set; this
class gives the same working local default as the hub (a SQLite file under var/) and accepts any SQLAlchemy
URL, e.g. `postgresql://user@127.0.0.1/test`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.engine import make_url

from bot.settings import database_url


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
