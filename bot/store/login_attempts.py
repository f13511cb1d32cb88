"""Console login attempts, counted per account and per client address, so password guessing gets nowhere.

Kept in SQL so that every hub process sharing the database sees the same counts. An attempt is written before
the password is checked and forgotten when it succeeds: logins racing one another count as failures until
proven otherwise. Usernames and addresses are stored as digests: the table is for counting, not a log of who
tried what from where.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.schema import Column

from bot.domain.tokens import digest
from bot.store import schema as t
from bot.store.database import in_transaction
from bot.store.schema import utcnow


@dataclasses.dataclass(frozen=True)
class LoginLimits:
    """At most `per_account` failed logins for one username and `per_address` from one client address within
    `window`; past either, logins are refused until the oldest counted failure is older than the window."""

    per_account: int = 5
    per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)


class LoginAttempts:
    def __init__(self, engine: Engine, limits: LoginLimits, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._engine = engine
        self._limits = limits
        self._clock = clock

    async def admit(self, username: str, address: str) -> int | None:
        """Seconds to wait when the account or the address has failed too often (nothing is recorded then);
        otherwise None, and the attempt counts as a failure until `succeeded` says otherwise."""
        account, place = _key(username), _key(address)

        def admit(conn: Connection) -> int | None:
            now = self._clock()
            since = now - self._limits.window
            conn.execute(delete(t.login_attempts).where(t.login_attempts.c.attempted_at <= since))
            waits = [
                self._wait(conn, t.login_attempts.c.account_hash, account, self._limits.per_account, now),
                self._wait(conn, t.login_attempts.c.address_hash, place, self._limits.per_address, now),
            ]
            locked = [w for w in waits if w is not None]
            if locked:
                return max(locked)
            conn.execute(insert(t.login_attempts).values(account_hash=account, address_hash=place, attempted_at=now))
            return None

        return await in_transaction(self._engine, admit)

    async def succeeded(self, username: str) -> None:
        """The password was right: the account's failures are forgotten (this attempt's among them)."""
        account = _key(username)
        await in_transaction(
            self._engine,
            lambda conn: conn.execute(delete(t.login_attempts).where(t.login_attempts.c.account_hash == account)),
        )

    def _wait(self, conn: Connection, column: Column, key: str, limit: int, now: dt.datetime) -> int | None:
        """Seconds until fewer than `limit` attempts with `key` are in the window, or None when they already are:
        the lock lifts when the `limit`-th newest of them ages out."""
        times = (
            conn.execute(
                select(t.login_attempts.c.attempted_at)
                .where(column == key, t.login_attempts.c.attempted_at > now - self._limits.window)
                .order_by(t.login_attempts.c.attempted_at.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if len(times) < limit:
            return None
        oldest: dt.datetime = times[-1]
        return max(1, math.ceil((oldest + self._limits.window - now).total_seconds()))


def _key(value: str) -> str:
    return digest(value.strip().lower())
