"""The words every process shares, defined once: who owns a conversation, how urgent a handoff is, why it
was asked, who wrote a message, what a console account may do.

Each is a `str` enum, so a member equals the word stored in the database and sent over the wire
(`State.QUEUED == "queued"`), and `str()` of a member is that word.
"""

from __future__ import annotations

from enum import Enum


class Word(str, Enum):
    """A closed set of words; `parse` says what to do with one that is not in it."""

    __hash__ = str.__hash__  # a member and its word are the same key in a dict or a set

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def words(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)


class State(Word):
    """Who owns a conversation: `bot` → `queued` → `agent` → `resolved` → `bot` (docs/architecture.md)."""

    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"
    RESOLVED = "resolved"


IDLE_STATES = (State.BOT, State.RESOLVED)
"""States in which a conversation may end by idling; a queued or agent-owned one waits for its person."""


class Priority(Word):
    """How soon a person should pick a handoff up; the queue serves them in this order."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class Reason(Word):
    """Why a conversation was handed to a person (the handoff packet's `reason`)."""

    REQUESTED = "requested"
    EMOTIONAL = "emotional"
    COMPLEX = "complex"
    NOT_UNDERSTOOD = "not_understood"
    BOT_ERROR = "bot_error"


class Routing(Word):
    """Where a customer's message is on its way to the bot: a message is `stored` (and acknowledged), `sent` to
    Rasa, `replied` (the bot's answer stored), then `answered`, or `handed_over` when people have it."""

    STORED = "stored"
    SENT = "sent"
    REPLIED = "replied"
    ANSWERED = "answered"
    HANDED_OVER = "handed_over"


ROUTING_DONE = (Routing.ANSWERED, Routing.HANDED_OVER)
"""A message in these states is finished with: nothing picks it up again."""


class Sender(Word):
    """Who wrote a message of a conversation."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class VerifiedBy(Word):
    """How the assistant knows who the customer is (the handoff packet's `customer.verified_by`)."""

    EMAIL = "email"
    """They gave the email address of the order."""
    SHOP_LOGIN = "shop_login"
    """They are signed in at the shop, which vouched for them in the message's metadata."""


class Role(Word):
    """What a console account may do: agents take conversations, trainers teach, supervisors see the figures."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"


HANDLERS = (Role.AGENT, Role.SUPERVISOR)
"""Roles that take conversations from the queue."""
TEACHERS = (Role.TRAINER, Role.SUPERVISOR)
"""Roles that review what the bot misunderstood and reload its model."""
