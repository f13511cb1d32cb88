"""Agent accounts: hashed passwords, sessions that end, and who is online."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest
from sqlalchemy import select

from bot.store import schema as t
from bot.store.agents import HASHING_THREADS, AgentError, AgentStore
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 30, 12, 0)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def agents(tmp_path, clock):
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    ConversationStore(engine).create_schema()
    return AgentStore(engine, clock=clock)


def run(coroutine):
    return asyncio.run(coroutine)


def test_passwords_are_stored_as_argon2_hashes_only(agents):
    run(agents.add("Jo", "Jo Bloggs", "correct horse battery", "agent"))
    with agents._engine.connect() as conn:
        stored = conn.execute(select(t.agents.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2") and "correct horse" not in stored
    assert run(agents.authenticate("jo", "correct horse battery")).display_name == "Jo Bloggs"
    assert run(agents.authenticate("jo", "wrong password")) is None
    assert run(agents.authenticate("nobody", "correct horse battery")) is None


@pytest.mark.parametrize(
    ("username", "password", "role"),
    [("jo", "short", "agent"), ("jo smith", "long enough!", "agent"), ("jo", "long enough!", "boss")],
)
def test_weak_or_malformed_accounts_are_refused(agents, username, password, role):
    with pytest.raises(AgentError):
        run(agents.add(username, "Jo", password, role))


def test_a_username_is_taken_once(agents):
    run(agents.add("jo", "Jo", "long enough!", "agent"))
    with pytest.raises(AgentError, match="taken"):
        run(agents.add("JO", "Other Jo", "long enough!", "agent"))


def test_sessions_expire_and_can_be_ended(agents, clock):
    jo = run(agents.add("jo", "Jo", "long enough!", "agent"))
    token = run(agents.start_session(jo, hours=2))
    assert run(agents.agent_for_session(token)).id == jo.id
    clock.now += dt.timedelta(hours=3)
    assert run(agents.agent_for_session(token)) is None
    fresh = run(agents.start_session(jo, hours=2))
    assert run(agents.end_session(fresh)) == jo.id, "whose session ended: their open consoles are told"
    assert run(agents.agent_for_session(fresh)) is None
    assert run(agents.end_session(fresh)) is None
    assert run(agents.agent_for_session("made-up")) is None


def test_a_deactivated_account_can_no_longer_sign_in_and_its_sessions_end(agents):
    demo = run(agents.add("demo.agent", "Sam (demo agent)", "frontline-demo", "agent"))
    jo = run(agents.add("jo", "Jo", "long enough!", "agent"))
    session = run(agents.start_session(demo, hours=2))
    assert run(agents.deactivate(" Demo.Agent "))
    assert run(agents.authenticate("demo.agent", "frontline-demo")) is None
    assert run(agents.agent_for_session(session)) is None
    assert [a.username for a in run(agents.all())] == ["jo"]
    assert run(agents.get(demo.id)) == demo, "kept for the history that names it"
    assert not run(agents.deactivate("demo.agent")), "already off"
    assert not run(agents.deactivate("nobody"))
    with pytest.raises(AgentError, match="taken"):
        run(agents.add("demo.agent", "Sam again", "frontline-demo", "agent"))
    assert run(agents.authenticate("jo", "long enough!")) == jo


def test_online_means_seen_recently_and_able_to_take_conversations(agents, clock):
    jo = run(agents.add("jo", "Jo", "long enough!", "agent"))
    robin = run(agents.add("robin", "Robin", "long enough!", "trainer"))
    run(agents.seen(jo.id))
    run(agents.seen(robin.id))
    assert [a.username for a in run(agents.online())] == ["jo"]
    clock.now += dt.timedelta(minutes=5)
    assert run(agents.online()) == []


def test_an_agent_stays_online_until_their_last_console_closes_on_whichever_hub(agents, clock):
    jo = run(agents.add("jo", "Jo", "long enough!", "agent"))
    run(agents.seen(jo.id, "console-on-hub-a"))
    run(agents.seen(jo.id, "console-on-hub-b"))
    run(agents.gone(jo.id, "console-on-hub-a"))
    assert [a.username for a in run(agents.online())] == ["jo"], "her console on hub B is still open"
    run(agents.gone(jo.id, "console-on-hub-b"))
    assert run(agents.online()) == []


def test_a_console_that_stopped_beating_does_not_keep_its_agent_online(agents, clock):
    jo = run(agents.add("jo", "Jo", "long enough!", "agent"))
    run(agents.seen(jo.id, "crashed-hub-console"))
    clock.now += dt.timedelta(minutes=5)
    run(agents.seen(jo.id, "new-console"))
    run(agents.gone(jo.id, "new-console"))
    assert run(agents.online()) == []


def test_a_storm_of_logins_hashes_on_two_threads_of_its_own_and_leaves_the_sql_threads_free(agents):
    jo = run(agents.add("jo", "Jo", "long enough!", "agent"))

    async def storm() -> tuple[float, float, set[str]]:
        started = time.monotonic()
        logins = [asyncio.create_task(agents.authenticate("jo", f"guess {n}")) for n in range(8)]
        await asyncio.sleep(0.05)
        hashing = {thread.name for thread in threading.enumerate() if thread.name.startswith("argon2")}
        asked = time.monotonic()
        assert (await agents.get(jo.id)) == jo
        sql_seconds = time.monotonic() - asked
        assert await asyncio.gather(*logins) == [None] * 8
        return sql_seconds, time.monotonic() - started, hashing

    sql_seconds, storm_seconds, hashing = run(storm())
    print(f"8 logins took {storm_seconds:.2f}s; a SQL query during them {sql_seconds * 1000:.0f} ms")
    assert 0 < len(hashing) <= HASHING_THREADS
    assert sql_seconds < storm_seconds / 4
