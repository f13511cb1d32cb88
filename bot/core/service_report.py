"""Service figures for supervisors: satisfaction credited to the bot and each agent, containment, handoffs, times.

Everything is counted in SQL, filtered on indexed time columns (`hub_conversations.created_at`,
`hub_handoffs.requested_at`, `hub_ratings.created_at`, `hub_nps_scores.created_at`), so a year of history costs
one indexed range scan per figure. Medians and 90th percentiles are ranked in SQL with window functions (SQLite
and PostgreSQL both have them) and interpolated between the two neighbouring ranks, as PostgreSQL's
`percentile_cont` does. Days are UTC days.

Definitions (the README's "Service insight" says the same for supervisors):
- A conversation counts in the period it started, once the customer has written in it.
- Contained: the bot finished it without a person (no handoff was asked). Handoff rate = 1 - containment.
- Handoffs by intent: of the conversations in which a customer need (intent) came up, the share handed to a
  person. Conversational intents (greet, thank, ...) are left out.
- Times run from the moment the customer was handed off: queue wait (to an agent's claim), first reply (to the
  agent's first message), resolve (to the agent's resolve). Counted for handoffs asked in the period.
- CSAT: share of 1-5 ratings that are 4 or 5, and the average. NPS: % promoters (9-10) - % detractors (0-6).
  A rating goes to the agent of the handoff it followed, or to the bot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import and_, case, exists, func, literal, literal_column, select, union_all
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from bot.core.report_tables import TABLES, Column, Period, ReportError, Table
from bot.domain.vocabulary import HANDLERS
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.sql_figures import SecondsBetween, percentiles, rounded

T = TypeVar("T")

CONVERSATIONAL_INTENTS = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "inform"})
"""Small talk, not a need: counting handoffs by them says nothing about where the bot falls short."""
COMMENTS_PAGE = 50
BOT = "Bot"


MEASURES = (
    ("queue_wait", "Waiting in the queue", t.handoffs.c.claimed_at),
    ("first_reply", "Time to first agent reply", t.handoffs.c.first_reply_at),
    ("resolve", "Time to resolve", t.handoffs.c.resolved_at),
)


class ServiceReport:
    """The figures behind the supervisor page, the CSV exports and `python -m bot report`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def tables(self, period: Period, names: Sequence[str] = ()) -> list[Table]:
        """The tables called `names` (default: every table but the comments, which are searched and paged)."""
        wanted = list(names) or [name for name in TABLES if name != "comments"]
        unknown = [name for name in wanted if name not in TABLES or name == "comments"]
        if unknown:
            raise ReportError("unknown_table", f"There is no table {unknown[0]!r}; there are {', '.join(TABLES)}.")
        return await self._run(lambda conn: self._tables(conn, period, wanted))

    async def table(self, name: str, period: Period, search: str = "") -> Table:
        if name == "comments":
            return await self.comments(period, search, limit=None)
        return (await self.tables(period, [name]))[0]

    async def comments(
        self, period: Period, search: str = "", limit: int | None = COMMENTS_PAGE, offset: int = 0
    ) -> Table:
        """Comments left with ratings or NPS answers, newest first; `search` matches words in them."""
        return await self._run(lambda conn: self._comments(conn, period, search.strip(), limit, offset))

    async def count_comments(self, period: Period, search: str = "") -> int:
        def count(conn: Connection) -> int:
            query = _comment_rows(period, search.strip()).subquery()
            return int(conn.execute(select(func.count()).select_from(query)).scalar_one())

        return await self._run(count)

    def _tables(self, conn: Connection, period: Period, wanted: Sequence[str]) -> list[Table]:
        names = _agent_names(conn)
        started = (
            _conversations_by_day(conn, period) if {"containment", "handoff_reasons", "daily"} & set(wanted) else {}
        )
        total = sum(n for n, _ in started.values())
        handed_off = sum(h for _, h in started.values())
        build: dict[str, Callable[[], Table]] = {
            "satisfaction": lambda: self._satisfaction(conn, period, names),
            "containment": lambda: _table(
                "containment",
                [
                    {
                        "conversations": total,
                        "contained": total - handed_off,
                        "handed_off": handed_off,
                        "containment": _share(total - handed_off, total),
                        "handoff_rate": _share(handed_off, total),
                    }
                ],
            ),
            "handoff_reasons": lambda: self._reasons(conn, period, total),
            "handoff_intents": lambda: self._intents(conn, period),
            "response_times": lambda: self._times(conn, period),
            "agents": lambda: self._agents(conn, period, names),
            "daily": lambda: self._daily(conn, period, started),
        }
        return [build[name]() for name in wanted]

    def _satisfaction(self, conn: Connection, period: Period, names: dict[int, str]) -> Table:
        ratings = conn.execute(
            select(
                t.ratings.c.agent_id,
                func.count(),
                func.sum(case((t.ratings.c.score >= 4, 1), else_=0)),
                func.avg(t.ratings.c.score),
            )
            .where(period.contains(t.ratings.c.created_at))
            .group_by(t.ratings.c.agent_id)
        ).all()
        nps = conn.execute(
            select(
                t.nps_scores.c.agent_id,
                func.count(),
                func.sum(case((t.nps_scores.c.score >= 9, 1), else_=0)),
                func.sum(case((t.nps_scores.c.score <= 6, 1), else_=0)),
            )
            .where(period.contains(t.nps_scores.c.created_at))
            .group_by(t.nps_scores.c.agent_id)
        ).all()
        rows: dict[int | None, dict[str, Any]] = {None: _satisfaction_row(BOT, None)}
        for agent_id, count, satisfied, average in ratings:
            row = rows.setdefault(agent_id, _satisfaction_row(_agent_name(names, agent_id), agent_id))
            row.update(
                ratings=int(count),
                satisfied=int(satisfied or 0),
                csat=_share(int(satisfied or 0), int(count)),
                average=rounded(average, 2),
            )
        for agent_id, count, promoters, detractors in nps:
            row = rows.setdefault(agent_id, _satisfaction_row(_agent_name(names, agent_id), agent_id))
            row.update(
                nps_answers=int(count),
                promoters=int(promoters or 0),
                detractors=int(detractors or 0),
                nps=rounded(100.0 * (int(promoters or 0) - int(detractors or 0)) / int(count), 1),
            )
        bot = rows.pop(None)
        agents = sorted(rows.values(), key=lambda r: (-r["ratings"], r["credited_to"]))
        return _table("satisfaction", [bot, *agents])

    def _reasons(self, conn: Connection, period: Period, total: int) -> Table:
        c = t.conversations.c
        found = conn.execute(
            select(t.handoffs.c.reason, func.count(), func.count(t.handoffs.c.conversation_id.distinct()))
            .join(t.conversations, c.id == t.handoffs.c.conversation_id)
            .where(period.contains(c.created_at))
            .group_by(t.handoffs.c.reason)
        ).all()
        rows = [
            {"reason": reason, "handoffs": int(n), "conversations": int(n_conv), "rate": _share(int(n_conv), total)}
            for reason, n, n_conv in found
        ]
        return _table("handoff_reasons", sorted(rows, key=lambda r: (-r["handoffs"], r["reason"])))

    def _intents(self, conn: Connection, period: Period) -> Table:
        intents, c = t.conversation_intents, t.conversations.c
        handed_off = _handed_off(intents.c.conversation_id)
        found = conn.execute(
            select(intents.c.intent, func.count(), func.sum(case((handed_off, 1), else_=0)))
            .join(t.conversations, c.id == intents.c.conversation_id)
            .where(
                period.contains(c.created_at),
                intents.c.intent.not_in(sorted(CONVERSATIONAL_INTENTS)),
            )
            .group_by(intents.c.intent)
        ).all()
        rows = [
            {"intent": intent, "conversations": int(n), "handed_off": int(h or 0), "rate": _share(int(h or 0), int(n))}
            for intent, n, h in found
        ]
        return _table(
            "handoff_intents", sorted(rows, key=lambda r: (-r["handed_off"], -r["conversations"], r["intent"]))
        )

    def _times(self, conn: Connection, period: Period) -> Table:
        rows = []
        for key, label, until in MEASURES:
            seconds = SecondsBetween(t.handoffs.c.requested_at, until)
            found = percentiles(
                conn,
                seconds,
                literal("all"),
                [period.contains(t.handoffs.c.requested_at), until.is_not(None)],
            ).get("all", _NO_FIGURES)
            rows.append({"measure": label, "key": key, **found})
        return _table("response_times", rows)

    def _agents(self, conn: Connection, period: Period, names: dict[int, str]) -> Table:
        h = t.handoffs
        in_period = [period.contains(h.c.requested_at), h.c.agent_id.is_not(None)]
        counts = {
            agent_id: (int(conversations), int(resolved or 0))
            for agent_id, conversations, resolved in conn.execute(
                select(
                    h.c.agent_id,
                    func.count(h.c.conversation_id.distinct()),
                    func.count(case((h.c.resolved_at.is_not(None), h.c.conversation_id)).distinct()),
                )
                .where(*in_period)
                .group_by(h.c.agent_id)
            ).all()
        }
        first_reply = percentiles(
            conn,
            SecondsBetween(h.c.requested_at, h.c.first_reply_at),
            h.c.agent_id,
            [*in_period, h.c.first_reply_at.is_not(None)],
        )
        resolve = percentiles(
            conn,
            SecondsBetween(h.c.requested_at, h.c.resolved_at),
            h.c.agent_id,
            [*in_period, h.c.resolved_at.is_not(None)],
        )
        staff = conn.execute(
            select(t.agents.c.id).where(t.agents.c.active.is_(True), t.agents.c.role.in_(HANDLERS))
        ).scalars()
        rows = []
        for agent_id in set(staff) | set(counts):
            conversations, resolved = counts.get(agent_id, (0, 0))
            rows.append(
                {
                    "agent": _agent_name(names, agent_id),
                    "agent_id": agent_id,
                    "conversations": conversations,
                    "resolved": resolved,
                    "first_reply_median_seconds": first_reply.get(agent_id, _NO_FIGURES)["median_seconds"],
                    "resolve_median_seconds": resolve.get(agent_id, _NO_FIGURES)["median_seconds"],
                }
            )
        return _table("agents", sorted(rows, key=lambda r: (-r["conversations"], r["agent"])))

    def _daily(self, conn: Connection, period: Period, started: dict[str, tuple[int, int]]) -> Table:
        rating_day = func.date(t.ratings.c.created_at)
        rated = {
            str(d): (int(n), int(s or 0), a)
            for d, n, s, a in conn.execute(
                select(
                    rating_day,
                    func.count(),
                    func.sum(case((t.ratings.c.score >= 4, 1), else_=0)),
                    func.avg(t.ratings.c.score),
                )
                .where(period.contains(t.ratings.c.created_at))
                .group_by(rating_day)
            ).all()
        }
        rows = []
        for date in period.days():
            n, h = started.get(date.isoformat(), (0, 0))
            ratings, satisfied, average = rated.get(date.isoformat(), (0, 0, None))
            rows.append(
                {
                    "day": date.isoformat(),
                    "conversations": n,
                    "handed_off": h,
                    "handoff_rate": _share(h, n),
                    "ratings": ratings,
                    "csat": _share(satisfied, ratings),
                    "average": rounded(average, 2),
                }
            )
        return _table("daily", rows)

    def _comments(self, conn: Connection, period: Period, search: str, limit: int | None, offset: int) -> Table:
        names = _agent_names(conn)
        newest_first = (literal_column("at").desc(), literal_column("question"), literal_column("answer_id").desc())
        query = _comment_rows(period, search).order_by(*newest_first).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        rows = [
            {
                "at": row.at.isoformat() + "Z",
                "question": row.question,
                "score": row.score,
                "credited_to": _agent_name(names, row.agent_id) if row.agent_id else BOT,
                "agent_id": row.agent_id,
                "conversation_id": row.conversation_id,
                "channel": row.channel,
                "comment": row.comment,
            }
            for row in conn.execute(query).all()
        ]
        return _table("comments", rows)

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self._engine, work)


_NO_FIGURES = {"count": 0, "median_seconds": None, "p90_seconds": None}


def _table(name: str, rows: list[dict[str, Any]]) -> Table:
    title, columns = TABLES[name]
    return Table(name, title, tuple(Column(key, label) for key, label in columns), rows)


def _conversations_by_day(conn: Connection, period: Period) -> dict[str, tuple[int, int]]:
    """Per UTC day: conversations started in which the customer wrote, and how many of them went to a person.

    One range scan of `hub_conversations` (index on created_at, id) with two index probes per conversation;
    the totals of the page are the sums. Handoffs and intents need no such check: both come from what the
    customer wrote, so their tables join conversations on the time range alone.
    """
    c = t.conversations.c
    wrote = exists().where(t.messages.c.conversation_id == c.id, t.messages.c.sender == "customer")
    day = func.date(c.created_at)
    rows = conn.execute(
        select(day, func.count(), func.sum(case((_handed_off(c.id), 1), else_=0)))
        .where(period.contains(c.created_at), wrote)
        .group_by(day)
    ).all()
    return {str(d): (int(n), int(h or 0)) for d, n, h in rows}


def _handed_off(conversation_id: ColumnElement[Any]) -> ColumnElement[bool]:
    return exists().where(t.handoffs.c.conversation_id == conversation_id)


def _comment_rows(period: Period, search: str) -> Any:
    parts = []
    for question, table in (("csat", t.ratings), ("nps", t.nps_scores)):
        conditions = [
            period.contains(table.c.created_at),
            table.c.comment.is_not(None),
            table.c.comment != "",
        ]
        for word in search.split()[:10]:
            conditions.append(func.lower(table.c.comment).contains(word.lower(), autoescape=True))
        parts.append(
            select(
                table.c.created_at.label("at"),
                table.c.id.label("answer_id"),
                literal(question).label("question"),
                table.c.score,
                table.c.agent_id,
                table.c.conversation_id,
                t.conversations.c.channel,
                table.c.comment,
            )
            .join(t.conversations, t.conversations.c.id == table.c.conversation_id)
            .where(and_(*conditions))
        )
    return select(union_all(*parts).subquery("comments"))


def _agent_names(conn: Connection) -> dict[int, str]:
    return dict(conn.execute(select(t.agents.c.id, t.agents.c.display_name)).all())


def _agent_name(names: dict[int, str], agent_id: int) -> str:
    return names.get(agent_id, f"agent #{agent_id}")


def _satisfaction_row(name: str, agent_id: int | None) -> dict[str, Any]:
    return {
        "credited_to": name,
        "agent_id": agent_id,
        "ratings": 0,
        "satisfied": 0,
        "csat": None,
        "average": None,
        "nps_answers": 0,
        "promoters": 0,
        "detractors": 0,
        "nps": None,
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
