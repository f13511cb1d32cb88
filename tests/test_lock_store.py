"""Rasa's conversation lock shared by several Rasa worker processes on one machine (bot/rasa/lock_store.py)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from rasa.core.lock_store import LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from bot.rasa.lock_store import MachineLockStore, slot_of
from tests.rasa_stack import PROJECT_ROOT

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from bot.rasa.lock_store import MachineLockStore

    async def hold():
        store = MachineLockStore(path=sys.argv[1])
        async with store.lock(sys.argv[2]):
            print("held", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    asyncio.run(hold())
    """
)


def holder(lock_file: str, conversation: str) -> subprocess.Popen[str]:
    """Another worker process holding `conversation`'s lock until its stdin gets a line (or it is killed)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lock_file, conversation],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


async def taken_within(store: MachineLockStore, conversation: str, seconds: float) -> bool:
    async def take() -> None:
        async with store.lock(conversation):
            pass

    try:
        await asyncio.wait_for(take(), seconds)
    except asyncio.TimeoutError:
        return False
    return True


def test_rasa_runs_several_workers_with_it(monkeypatch):
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(EndpointConfig(type="bot.rasa.lock_store.MachineLockStore")) == 2
    assert number_of_sanic_workers(EndpointConfig(type="in_memory")) == 1, "stock Rasa's rule the test relies on"


def test_endpoint_config_creates_it_with_its_lock_file(tmp_path):
    lock_file = tmp_path / "locks" / "rasa.lock"
    store = LockStore.create(EndpointConfig(url=str(lock_file), type="bot.rasa.lock_store.MachineLockStore"))
    assert isinstance(store, MachineLockStore) and lock_file.exists()


def test_a_conversation_held_by_another_worker_waits_until_it_lets_go(tmp_path):
    lock_file = str(tmp_path / "rasa.lock")
    other = holder(lock_file, "conversation-a")
    try:
        store = MachineLockStore(path=lock_file)
        assert not asyncio.run(taken_within(store, "conversation-a", 0.5)), "held by the other worker"
        assert asyncio.run(taken_within(store, "conversation-b", 2)), "another conversation is free"
        assert other.stdin is not None
        other.stdin.write("go\n")
        other.stdin.flush()
        assert asyncio.run(taken_within(store, "conversation-a", 10))
    finally:
        other.kill()
        other.wait()


def test_a_worker_that_dies_holding_a_lock_releases_it(tmp_path):
    lock_file = str(tmp_path / "rasa.lock")
    other = holder(lock_file, "conversation-a")
    store = MachineLockStore(path=lock_file)
    assert not asyncio.run(taken_within(store, "conversation-a", 0.3))
    other.kill()
    other.wait()
    assert asyncio.run(taken_within(store, "conversation-a", 5))


def test_within_a_worker_one_conversation_is_served_in_order_and_others_meanwhile(tmp_path):
    store = MachineLockStore(path=tmp_path / "rasa.lock")
    log: list[str] = []

    async def turn(conversation: str, name: str, release: asyncio.Event | None = None) -> None:
        async with store.lock(conversation):
            log.append(f"{name} in")
            if release is not None:
                await release.wait()
            log.append(f"{name} out")

    async def story() -> None:
        release = asyncio.Event()
        first = asyncio.create_task(turn("c1", "first", release))
        await asyncio.sleep(0)
        second = asyncio.create_task(turn("c1", "second"))
        other = asyncio.create_task(turn("c2", "other"))
        await other
        assert log == ["first in", "other in", "other out"], "c2 is not held up by c1"
        release.set()
        await asyncio.gather(first, second)
        assert store._local == {} and store._users == {}, "nothing is left behind"

    asyncio.run(story())
    assert log[-3:] == ["first out", "second in", "second out"]


@pytest.mark.parametrize("conversation", ["c1", "a-much-longer-conversation-id-0123456789"])
def test_every_worker_maps_a_conversation_to_the_same_byte(conversation):
    code = f"from bot.rasa.lock_store import slot_of; print(slot_of({conversation!r}))"
    other = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert int(other.stdout) == slot_of(conversation)


def test_by_default_the_lock_file_is_beside_the_sqlite_database_the_workers_share(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'frontline.db'}")
    assert MachineLockStore().path == tmp_path / "frontline.rasa-locks"
