"""The review inbox's items and how a trainer finds them: by status, words of the message, why it is there, the
intent, a confidence range and a range of days, a page at a time, newest first.

A query string is parsed into a `ReviewQuery` once, so every bad value is a clear 400 before any SQL runs. Each
item says whether its conversation is in the hub's store: Rasa's tracker store also holds senders the hub never
saw (`rasa shell`, a hub that ran on another database), and the console links only to conversations it can open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from bot.core.escalation_review import ESCALATION_REASONS
from bot.core.report_tables import parse_day
from bot.domain.errors import FrontlineError
from bot.store import schema as t

STATUSES = ("open", "labelled", "dismissed")
INTENT_REASONS = ("nlu_fallback", "out_of_scope", "low_confidence", "not_understood")
"""Why an intent item is here; escalation items have `ESCALATION_REASONS`."""
REASONS = (*INTENT_REASONS, *sorted(ESCALATION_REASONS))
KINDS = ("intent", "escalation")
INTENT_NAME = re.compile(r"[a-z][a-z0-9_]{1,63}")
PAGE = 25
MAX_PAGE = 100
MAX_SEARCH_CHARS = 200
MAX_OFFSET = 10_000_000
SEARCH_WORDS = 10


class ReviewError(FrontlineError):
    """A review the inbox cannot take (unknown item, a bad intent name) or a query it cannot answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code, status=status)


@dataclasses.dataclass(frozen=True)
class ReviewItem:
    id: int
    conversation_id: str
    text: str
    predicted_intent: str | None
    confidence: float | None
    entities: tuple[dict[str, Any], ...]
    reason: str
    status: str
    label: str | None
    trainer_name: str | None
    reviewed_at: dt.datetime | None
    created_at: dt.datetime
    scores: dict[str, Any] | None = None
    """Why an escalation item is here (bot/core/escalation_review.py); None for intent items."""
    conversation_exists: bool = False
    """The hub's store has the conversation, so the console can open it."""

    @property
    def kind(self) -> str:
        """`intent` (labelled with an intent name) or `escalation` (labelled needs_person or fine)."""
        return "escalation" if self.reason in ESCALATION_REASONS else "intent"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["kind"] = self.kind
        data["entities"] = list(self.entities)
        data["confidence"] = round(self.confidence, 3) if self.confidence is not None else None
        for key in ("reviewed_at", "created_at"):
            data[key] = data[key].isoformat() + "Z" if data[key] else None
        return data


@dataclasses.dataclass(frozen=True)
class ReviewQuery:
    """One page of one status, narrowed by any of the filters; every bound is included."""

    status: str = "open"
    search: str = ""
    """Words that must all be in the message, in any case."""
    reason: str | None = None
    kind: str | None = None
    intent: str | None = None
    """The bot's guess or the label given."""
    min_confidence: float | None = None
    max_confidence: float | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    """UTC days the message came in."""
    offset: int = 0
    limit: int = PAGE

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> ReviewQuery:
        """From the query string (`args.get(name)`: the first value of each); absent or empty means no filter."""

        def given(name: str) -> str | None:
            value = args.get(name)
            return value.strip() if isinstance(value, str) and value.strip() else None

        status = given("status") or "open"
        if status not in STATUSES:
            raise ReviewError(400, "bad_status", f"status is one of {', '.join(STATUSES)}.")
        search = given("q") or ""
        if len(search) > MAX_SEARCH_CHARS:
            raise ReviewError(400, "search_too_long", f"Search for at most {MAX_SEARCH_CHARS} characters.")
        reason, kind, intent = given("reason"), given("kind"), given("intent")
        if reason is not None and reason not in REASONS:
            raise ReviewError(400, "bad_reason", f"reason is one of {', '.join(REASONS)}.")
        if kind is not None and kind not in KINDS:
            raise ReviewError(400, "bad_kind", f"kind is one of {', '.join(KINDS)}.")
        if intent is not None and not INTENT_NAME.fullmatch(intent):
            raise ReviewError(
                400, "bad_intent", "intent is an intent name: 2-64 lower-case letters, digits and underscores."
            )
        low, high = (
            _fraction(given("min_confidence"), "min_confidence"),
            _fraction(given("max_confidence"), "max_confidence"),
        )
        if low is not None and high is not None and low > high:
            raise ReviewError(400, "bad_confidence", f"min_confidence ({low:g}) is above max_confidence ({high:g}).")
        since, until = _day(given("since"), "since"), _day(given("until"), "until")
        if since is not None and until is not None and since > until:
            raise ReviewError(400, "bad_period", f"'since' ({since}) is after 'until' ({until}).")
        offset = _whole(given("offset"), "offset", 0, MAX_OFFSET, 0)
        limit = _whole(given("limit"), "limit", 1, MAX_PAGE, PAGE)
        return cls(status, search, reason, kind, intent, low, high, since, until, offset, limit)

    def conditions(self) -> list[ColumnElement[bool]]:
        c = t.review_items.c
        found: list[ColumnElement[bool]] = [c.status == self.status]
        for word in self.search.split()[:SEARCH_WORDS]:
            found.append(func.lower(c.text).contains(word.lower(), autoescape=True))
        if self.reason is not None:
            found.append(c.reason == self.reason)
        if self.kind is not None:
            escalation = sorted(ESCALATION_REASONS)
            found.append(c.reason.in_(escalation) if self.kind == "escalation" else c.reason.not_in(escalation))
        if self.intent is not None:
            found.append(or_(c.predicted_intent == self.intent, c.label == self.intent))
        if self.min_confidence is not None:
            found.append(c.confidence >= self.min_confidence)
        if self.max_confidence is not None:
            found.append(c.confidence <= self.max_confidence)
        if self.since is not None:
            found.append(c.created_at >= dt.datetime.combine(self.since, dt.time()))
        if self.until is not None:
            found.append(c.created_at < dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time()))
        return found

    def filters(self) -> dict[str, Any]:
        """The filters as the query string names them, for the answer (what the page shows was asked)."""
        data = dataclasses.asdict(self)
        for key in ("since", "until"):
            data[key] = data[key].isoformat() if data[key] else None
        data["q"] = data.pop("search")
        return {key: value for key, value in data.items() if key not in {"offset", "limit"}}


@dataclasses.dataclass(frozen=True)
class ReviewPage:
    items: list[ReviewItem]
    total: int
    """Items of the status that pass the filters, on every page."""
    query: ReviewQuery


def find_items(conn: Connection, query: ReviewQuery) -> ReviewPage:
    """One page, newest first: open items by when they came in, reviewed ones by when they were reviewed."""
    c = t.review_items.c
    where = and_(*query.conditions())
    order = [c.id.desc()] if query.status == "open" else [c.reviewed_at.desc(), c.id.desc()]
    rows = conn.execute(item_select().where(where).order_by(*order).offset(query.offset).limit(query.limit))
    total = conn.execute(select(func.count()).select_from(t.review_items).where(where)).scalar_one()
    return ReviewPage([item_from_row(row) for row in rows], int(total), query)


def item_select() -> Select:
    """Items with their trainer's name, their scores and whether the hub has their conversation."""
    in_store = exists().where(t.conversations.c.id == t.review_items.c.conversation_id)
    return (
        select(
            t.review_items,
            t.agents.c.display_name.label("trainer_name"),
            t.review_scores.c.scores,
            in_store.label("conversation_exists"),
        )
        .outerjoin(t.agents, t.agents.c.id == t.review_items.c.trainer_id)
        .outerjoin(t.review_scores, t.review_scores.c.item_id == t.review_items.c.id)
    )


def item_from_row(row: Any) -> ReviewItem:
    return ReviewItem(
        id=row.id,
        conversation_id=row.conversation_id,
        text=row.text,
        predicted_intent=row.predicted_intent,
        confidence=row.confidence,
        entities=tuple(json.loads(row.entities or "[]")),
        reason=row.reason,
        status=row.status,
        label=row.label,
        trainer_name=row.trainer_name,
        reviewed_at=row.reviewed_at,
        created_at=row.created_at,
        scores=json.loads(row.scores) if row.scores else None,
        conversation_exists=bool(row.conversation_exists),
    )


def _fraction(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise ReviewError(400, "bad_confidence", f"{name} is a number from 0 to 1, not {text[:40]!r}.")
    return value


def _day(text: str | None, name: str) -> dt.date | None:
    return None if text is None else parse_day(text, name)


def _whole(text: str | None, name: str, lowest: int, highest: int, default: int) -> int:
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not lowest <= int(text) <= highest:
        raise ReviewError(400, f"bad_{name}", f"{name} is a whole number from {lowest} to {highest}.")
    return int(text)
