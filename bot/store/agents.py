"""Agents, supervisors and trainers: accounts with argon2-hashed passwords, sessions, and who is online.

argon2-cffi is the reference implementation of the password-hashing competition winner; sessions are random
tokens kept hashed in SQL (so they can be revoked and survive a hub restart) and online means seen in the
last `ONLINE_SECONDS`, also in SQL, so every hub sees the same agents.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from bot.domain.errors import FrontlineError
from bot.domain.tokens import digest, new_token
from bot.domain.vocabulary import HANDLERS, Role
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.schema import utcnow

T = TypeVar("T")
ONLINE_SECONDS = 45
MIN_PASSWORD_LENGTH = 8
HASHING_THREADS = 2
"""argon2 is slow and memory-hard on purpose: it gets threads of its own, so a storm of logins waits for these
and never starves the SQL worker threads (`in_transaction`) that everything else in the hub needs."""
_HASHING = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")


class AgentError(FrontlineError, ValueError):
    """An account cannot be created as asked (taken username, weak password, unknown role)."""

    code = "bad_account"


@dataclasses.dataclass(frozen=True)
class Agent:
    id: int
    username: str
    display_name: str
    role: str
    capacity: int

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @property
    def can_handle_conversations(self) -> bool:
        return self.role in HANDLERS


class AgentStore:
    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock
        self._hasher = PasswordHasher()

    async def add(self, username: str, display_name: str, password: str, role: str, capacity: int = 3) -> Agent:
        username = username.strip().lower()
        if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
            raise AgentError("a username is letters, digits, '.', '-' or '_'")
        if role not in Role.words():
            raise AgentError(f"role must be one of {', '.join(Role.words())}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AgentError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        hashed = await _hashing(self._hasher.hash, password)

        def add(conn: Connection) -> Agent:
            try:
                new_id = conn.execute(
                    insert(t.agents).values(
                        username=username,
                        display_name=display_name.strip() or username,
                        password_hash=hashed,
                        role=role,
                        capacity=capacity,
                        active=True,
                        created_at=self._clock(),
                    )
                ).inserted_primary_key[0]
            except IntegrityError as exc:
                raise AgentError(f"the username {username!r} is taken") from exc
            return _agent(conn.execute(select(t.agents).where(t.agents.c.id == new_id)).one())

        return await self._run(add)

    async def authenticate(self, username: str, password: str) -> Agent | None:
        def load(conn: Connection) -> Row | None:
            return conn.execute(
                select(t.agents).where(t.agents.c.username == username.strip().lower(), t.agents.c.active.is_(True))
            ).first()

        row = await self._run(load)
        if row is None:
            await _hashing(self._hasher.hash, password)  # same cost whether or not the user exists
            return None
        try:
            await _hashing(self._hasher.verify, row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return _agent(row)

    async def start_session(self, agent: Agent, hours: int) -> str:
        token = new_token()
        now = self._clock()

        def add(conn: Connection) -> None:
            conn.execute(delete(t.agent_sessions).where(t.agent_sessions.c.expires_at < now))
            conn.execute(
                insert(t.agent_sessions).values(
                    token_hash=digest(token),
                    agent_id=agent.id,
                    created_at=now,
                    expires_at=now + dt.timedelta(hours=hours),
                )
            )

        await self._run(add)
        return token

    async def agent_for_session(self, token: str) -> Agent | None:
        def load(conn: Connection) -> Agent | None:
            row = conn.execute(
                select(t.agents)
                .join(t.agent_sessions, t.agent_sessions.c.agent_id == t.agents.c.id)
                .where(
                    t.agent_sessions.c.token_hash == digest(token),
                    t.agent_sessions.c.expires_at > self._clock(),
                    t.agents.c.active.is_(True),
                )
            ).first()
            return _agent(row) if row else None

        return await self._run(load) if token else None

    async def end_session(self, token: str) -> int | None:
        """End the session; the id of the agent it belonged to (None when it had ended already)."""

        def end(conn: Connection) -> int | None:
            named = t.agent_sessions.c.token_hash == digest(token)
            agent_id: int | None = conn.execute(select(t.agent_sessions.c.agent_id).where(named)).scalar()
            conn.execute(delete(t.agent_sessions).where(named))
            return agent_id

        return await self._run(end)

    async def seen(self, agent_id: int, console: str | None = None) -> None:
        """The agent's console `console` is open; call at least every ONLINE_SECONDS."""
        now = self._clock()

        def note(conn: Connection) -> None:
            conn.execute(update(t.agents).where(t.agents.c.id == agent_id).values(last_seen_at=now))
            if console is None:
                return
            consoles = t.agent_consoles
            mine = consoles.c.console_id == console
            if not conn.execute(update(consoles).where(mine).values(seen_at=now)).rowcount:
                conn.execute(insert(consoles).values(console_id=console, agent_id=agent_id, seen_at=now))

        await self._run(note)

    async def gone(self, agent_id: int, console: str | None = None) -> None:
        """The console closed: the agent stays online while another of their consoles, on any hub, is open.
        Without `console`, every console of theirs counts as closed (deactivation)."""
        since = self._clock() - dt.timedelta(seconds=ONLINE_SECONDS)

        def leave(conn: Connection) -> None:
            consoles = t.agent_consoles
            theirs = consoles.c.agent_id == agent_id
            conn.execute(delete(consoles).where(theirs if console is None else consoles.c.console_id == console))
            conn.execute(delete(consoles).where(theirs, consoles.c.seen_at < since))
            latest = conn.execute(select(func.max(consoles.c.seen_at)).where(theirs)).scalar()
            conn.execute(update(t.agents).where(t.agents.c.id == agent_id).values(last_seen_at=latest))

        await self._run(leave)

    async def online(self) -> list[Agent]:
        """Agents who can take conversations and whose console was seen recently."""
        since = self._clock() - dt.timedelta(seconds=ONLINE_SECONDS)

        def load(conn: Connection) -> list[Agent]:
            rows = conn.execute(
                select(t.agents).where(
                    t.agents.c.last_seen_at >= since,
                    t.agents.c.active.is_(True),
                    t.agents.c.role.in_(HANDLERS),
                )
            ).all()
            return [_agent(r) for r in rows]

        return await self._run(load)

    async def get(self, agent_id: int) -> Agent | None:
        def load(conn: Connection) -> Agent | None:
            row = conn.execute(select(t.agents).where(t.agents.c.id == agent_id)).first()
            return _agent(row) if row else None

        return await self._run(load)

    async def deactivate(self, username: str) -> bool:
        """Switch an account off, e.g. a demo account in production: it can no longer sign in and its sessions
        end; the row stays, because conversations and reviews name it. False when no active account has the name."""

        def switch_off(conn: Connection) -> bool:
            named = t.agents.c.username == username.strip().lower()
            row = conn.execute(select(t.agents.c.id).where(named, t.agents.c.active.is_(True))).first()
            if row is None:
                return False
            conn.execute(update(t.agents).where(t.agents.c.id == row.id).values(active=False, last_seen_at=None))
            conn.execute(delete(t.agent_sessions).where(t.agent_sessions.c.agent_id == row.id))
            return True

        return await self._run(switch_off)

    async def all(self) -> list[Agent]:
        def load(conn: Connection) -> list[Agent]:
            rows = conn.execute(select(t.agents).where(t.agents.c.active.is_(True)).order_by(t.agents.c.display_name))
            return [_agent(r) for r in rows]

        return await self._run(load)

    async def _run(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self._engine, work)


async def _hashing(work: Callable[..., T], *args: str) -> T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, work, *args)


def _agent(row: Row) -> Agent:
    return Agent(row.id, row.username, row.display_name, row.role, row.capacity)
