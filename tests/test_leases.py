"""Leases, in memory and on the real Redis: one holder at a time, kept while renewed, taken over once lapsed; and
the per-conversation order across hubs that rests on them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from redis.exceptions import RedisError

from bot.core.coordination import redis_client
from bot.core.leases import Leases, LocalLeases, RedisLeases
from bot.core.runtime import LeaseConversationLocks
from tests.shared_redis import RedisProxy, redis_clients

Story = Callable[[Leases, Leases], Awaitable[None]]


def with_two_holders(kind: str, story: Story) -> None:
    """`story` with the leases of two processes: two clients of the real Redis, or one process's memory twice."""

    async def main() -> None:
        if kind == "local":
            local = LocalLeases()
            await story(local, local)
            return
        async with redis_clients(2) as (prefix, (one, two)):
            await story(RedisLeases(one, prefix), RedisLeases(two, prefix))

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_one_holder_at_a_time_and_only_the_holder_renews_or_releases(kind):
    async def story(a: Leases, b: Leases) -> None:
        first = await a.try_acquire("chat:1", 5.0)
        assert first is not None and await b.held("chat:1")
        assert await b.try_acquire("chat:1", 5.0) is None
        assert await a.try_acquire("chat:2", 5.0) is not None, "another name is another lease"
        assert await first.renew()
        await first.release()
        assert not await b.held("chat:1")
        second = await b.try_acquire("chat:1", 5.0)
        assert second is not None
        assert not await first.renew(), "a released lease is not renewed over its next holder"
        await first.release()
        assert await a.held("chat:1") and await a.try_acquire("chat:1", 5.0) is None

    with_two_holders(kind, story)


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_a_dead_holders_lease_lapses_and_is_taken_over(kind):
    async def story(a: Leases, b: Leases) -> None:
        dead = await a.try_acquire("conversation:c1", 0.3)  # its holder never renews it: it died
        assert dead is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with b.hold("conversation:c1", 5.0):
            waited = loop.time() - started
            assert not await dead.renew(), "the dead holder's lease is gone"
        assert 0.15 <= waited < 2.0

    with_two_holders(kind, story)


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_a_held_lease_is_renewed_while_its_block_runs_and_released_after(kind):
    async def story(a: Leases, b: Leases) -> None:
        async with a.hold("telegram:polling", 0.6):
            for _ in range(10):  # two and a half terms of work: the lease would have lapsed without renewal
                await asyncio.sleep(0.15)
                assert await b.try_acquire("telegram:polling", 0.6) is None
        assert await b.try_acquire("telegram:polling", 0.6) is not None

    with_two_holders(kind, story)


def test_a_conversations_turns_take_place_one_at_a_time_across_hubs_in_the_order_they_asked():
    async def main() -> None:
        async with redis_clients(2) as (prefix, (one, two)):
            hub_a = LeaseConversationLocks(RedisLeases(one, prefix), seconds=2.0)
            hub_b = LeaseConversationLocks(RedisLeases(two, prefix), seconds=2.0)
            log: list[str] = []
            inside = asyncio.Event()
            release = asyncio.Event()

            async def turn(locks: LeaseConversationLocks, name: str, hold_until: asyncio.Event | None) -> None:
                async with locks.hold("c1"):
                    log.append(f"{name} in")
                    inside.set()
                    if hold_until is not None:
                        await hold_until.wait()
                    log.append(f"{name} out")

            first = asyncio.create_task(turn(hub_a, "A", release))
            await inside.wait()
            second = asyncio.create_task(turn(hub_b, "B", None))
            other = asyncio.create_task(turn(hub_b, "B-other", None))
            await asyncio.sleep(0.2)  # B had time to get in, and must not have
            assert log == ["A in"]
            release.set()
            await asyncio.gather(first, second, other)
            assert log == ["A in", "A out", "B in", "B out", "B-other in", "B-other out"]

    asyncio.run(main())


def test_a_lease_waits_while_redis_is_unreachable_and_is_taken_when_it_is_back():
    async def main() -> None:
        proxy = await RedisProxy().start()
        async with redis_clients(1) as (prefix, _clients):
            redis = redis_client(proxy.url)
            leases = RedisLeases(redis, prefix)
            try:
                await proxy.cut()
                waiting = asyncio.create_task(leases.try_acquire("x", 1.0))
                with pytest.raises((RedisError, OSError)):
                    await waiting  # unreachable: an error, not a lease nor "somebody holds it"
                holding = asyncio.ensure_future(_hold_once(leases))
                await asyncio.sleep(0.3)
                assert not holding.done(), "no lease while Redis cannot say who holds it"
                await proxy.restore()
                assert await asyncio.wait_for(holding, 5.0)
            finally:
                await proxy.cut()
                await redis.close(close_connection_pool=True)

    asyncio.run(main())


async def _hold_once(leases: RedisLeases) -> bool:
    async with leases.hold("x", 1.0):
        return True
