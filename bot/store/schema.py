"""The hub's tables: customers, conversations and every message, handoffs, agents and what they do.

Times are naive UTC. One schema module for the whole hub; `metadata.create_all` builds it until the schema
must survive upgrades (then Alembic).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Engine

from bot.store.database import Money, take_schema_lock

metadata = MetaData()


def create_schema(engine: Engine) -> None:
    """Create missing tables, and missing indexes of tables that exist (an older database gains them).

    Several hubs may start at once on an empty database: on PostgreSQL they take turns (an advisory lock held
    until the DDL commits), so none of them fails on a table another is creating."""
    with engine.begin() as conn:
        take_schema_lock(conn)
        metadata.create_all(conn)
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(conn, checkfirst=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


customers = Table(
    "hub_customers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("display_name", String(200)),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("channel", "external_id"),
)

conversations = Table(
    "hub_conversations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("customer_id", String(36), ForeignKey("hub_customers.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("priority", String(16)),
    Column("reason", String(32)),
    Column("summary", Text),
    Column("handoff_id", Integer),
    Column("assigned_agent_id", Integer, ForeignKey("hub_agents.id"), index=True),
    Column("queued_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_hub_conversations_queue", "state", "priority", "queued_at"),
    Index("ix_hub_conversations_started", "created_at", "id"),
    Index("ix_hub_conversations_customer_created", "customer_id", "created_at"),
)

messages = Table(
    "hub_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), nullable=False),
    Column("client_message_id", String(64)),
    Column("sender", String(16), nullable=False),
    Column("agent_id", Integer, ForeignKey("hub_agents.id")),
    Column("text", Text, nullable=False),
    Column("payload", Text),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("conversation_id", "client_message_id"),
    Index("ix_hub_messages_conversation", "conversation_id", "id"),
    Index("ix_hub_messages_sender", "conversation_id", "sender"),
)

routing = Table(
    "hub_routing",
    metadata,
    Column("message_id", Integer, ForeignKey("hub_messages.id"), primary_key=True),
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("bot_text", Text, nullable=False),
    Column("bot_metadata", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_until", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_hub_routing_pending", "state", "lease_until"),
    Index("ix_hub_routing_conversation", "conversation_id", "state", "message_id"),
)
"""Each customer message meant for the bot, and how far it got: what the hub restarts from after a crash."""

handoffs = Table(
    "hub_handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), nullable=False, index=True),
    Column("reason", String(32), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("packet", Text, nullable=False),
    Column("source", String(16), nullable=False),
    Column("requested_at", DateTime, nullable=False, index=True),
    Column("agent_id", Integer, ForeignKey("hub_agents.id"), index=True),
    Column("claimed_at", DateTime),
    Column("first_reply_at", DateTime),
    Column("resolved_at", DateTime, index=True),
)

agents = Table(
    "hub_agents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(120), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("last_seen_at", DateTime),
    Column("created_at", DateTime, nullable=False),
)

agent_sessions = Table(
    "hub_agent_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("agent_id", Integer, ForeignKey("hub_agents.id"), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

agent_consoles = Table(
    "hub_agent_consoles",
    metadata,
    Column("console_id", String(64), primary_key=True),
    Column("agent_id", Integer, ForeignKey("hub_agents.id"), nullable=False, index=True),
    Column("seen_at", DateTime, nullable=False),
)
"""Each open console of an agent, on whichever hub: the agent goes offline when the last one closes, not when one
of several (two tabs, or a console moving from one hub to another) does."""

login_attempts = Table(
    "hub_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_hash", String(64), nullable=False),
    Column("address_hash", String(64), nullable=False),
    Column("attempted_at", DateTime, nullable=False, index=True),
    Index("ix_hub_login_attempts_account", "account_hash", "attempted_at"),
    Index("ix_hub_login_attempts_address", "address_hash", "attempted_at"),
)
"""Console logins not (yet) known to have succeeded, by digest of the username and of the client address: what
login throttling counts (bot/store/login_attempts.py)."""

notes = Table(
    "hub_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), nullable=False, index=True),
    Column("agent_id", Integer, ForeignKey("hub_agents.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

canned_replies = Table(
    "hub_canned_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(120), nullable=False, unique=True),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

ratings = Table(
    "hub_ratings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), nullable=False, index=True),
    Column("handoff_id", Integer, ForeignKey("hub_handoffs.id"), unique=True),
    Column("agent_id", Integer, ForeignKey("hub_agents.id"), index=True),
    Column("score", Integer, nullable=False),
    Column("comment", Text),
    Column("created_at", DateTime, nullable=False, index=True),
)

feedback_requests = Table(
    "hub_feedback_requests",
    metadata,
    Column("message_id", Integer, ForeignKey("hub_messages.id"), primary_key=True),
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), nullable=False, index=True),
    Column("question", String(8), nullable=False),
    Column("handoff_id", Integer, ForeignKey("hub_handoffs.id")),
    Column("agent_id", Integer, ForeignKey("hub_agents.id")),
    Column("round_id", Integer, nullable=False, index=True),
    Column("answered_at", DateTime),
)
"""Every rating or NPS question put to a customer, with whom an answer will credit (decided when it is asked)
and whether it was answered: only asked questions can be answered, each once."""

nps_scores = Table(
    "hub_nps_scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), nullable=False, index=True),
    Column("handoff_id", Integer, ForeignKey("hub_handoffs.id"), unique=True),
    Column("agent_id", Integer, ForeignKey("hub_agents.id"), index=True),
    Column("score", Integer, nullable=False),
    Column("comment", Text),
    Column("created_at", DateTime, nullable=False, index=True),
)
"""Answers to "how likely are you to recommend us" (0-10), credited like ratings; asked when the shop turns NPS on."""

conversation_intents = Table(
    "hub_conversation_intents",
    metadata,
    Column("conversation_id", String(36), primary_key=True),
    Column("intent", String(100), primary_key=True),
    Column("first_seen_at", DateTime, nullable=False),
    Index("ix_hub_conversation_intents_intent", "intent"),
)
"""Which customer needs (Rasa intents) came up in each conversation, written by Frontline's tracker store."""

order_actions = Table(
    "hub_order_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), nullable=False, index=True),
    Column("agent_id", Integer, ForeignKey("hub_agents.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("order_number", String(20), index=True),
    Column("amount", Money()),
    Column("reason", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

identity_checks = Table(
    "hub_identity_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), nullable=False, index=True),
    Column("agent_id", Integer, ForeignKey("hub_agents.id"), nullable=False),
    Column("order_number", String(20), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("how", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)
"""An agent's word that they checked, by other means than the assistant's, that the person in a conversation owns
an order (bot/store/identity_checks.py)."""

deliveries = Table(
    "hub_deliveries",
    metadata,
    Column("conversation_id", String(36), ForeignKey("hub_conversations.id"), primary_key=True),
    Column("channel", String(16), nullable=False, index=True),
    Column("address", String(64), nullable=False),
    Column("delivered_message_id", Integer, nullable=False),
    Column("queue_notice", Text),
    Column("updated_at", DateTime, nullable=False),
)

review_items = Table(
    "hub_review_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(80), nullable=False, unique=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("predicted_intent", String(100)),
    Column("confidence", Float),
    Column("entities", Text),
    Column("reason", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("label", String(100)),
    Column("trainer_id", Integer, ForeignKey("hub_agents.id")),
    Column("reviewed_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Index("ix_hub_review_items_status", "status", "id"),
)

review_scores = Table(
    "hub_review_scores",
    metadata,
    Column("item_id", Integer, ForeignKey("hub_review_items.id"), primary_key=True),
    Column("scores", Text, nullable=False),
)
"""Why an escalation item is in the review inbox (its emotion, the thresholds it came close to, when the customer
asked for a person), as JSON. A table of its own so that databases from before it gain it at start."""

review_cursor = Table(
    "hub_review_cursor",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("last_id", Integer, nullable=False),
)

rasa_events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
"""Rasa's SQLTrackerStore table, as far as the review inbox reads it: not the hub's (its own `MetaData`, so
`create_schema` never creates it), Rasa creates it."""
