"""Several Rasa servers behind one hub: a conversation sticks to one, new conversations go where the fewest are active,
the next server takes over only when a conversation's own cannot be reached (never after it may have seen the turn),
a new model goes to all, the hub is healthy while any is."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import httpx
import pytest

from bot.core.rasa_client import RasaClient, RasaUnavailable, RasaUnreachable
from bot.core.rasa_servers import Homes, RasaServers, connect_rasa, rasa_urls
from tests.inprocess import hub_settings
from tests.rasa_stack import free_port
from tests.rasa_wire import RasaWire

Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    """One fake Rasa server on a loopback port (tests/rasa_wire.py): answers as Rasa's REST channel and API do,
    or refuses every connection (`unreachable`), or fails (500)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failing = False
        self.requests: list[httpx.Request] = []
        self.models: list[str] = []
        self.wire = RasaWire(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failing:
            return httpx.Response(500, text="internal error")
        if request.url.path == "/webhooks/rest/webhook":
            return httpx.Response(200, json=[{"text": f"{self.name} answers"}])
        if request.url.path == "/model":
            self.models.append(request.read().decode())
            return httpx.Response(204)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "new.tar.gz"})
        return httpx.Response(200, json={"events": []})

    @property
    def sent(self) -> int:
        return sum(request.url.path == "/webhooks/rest/webhook" for request in self.requests)


async def pool(*names: str) -> tuple[RasaServers, list[Server]]:
    servers = [Server(name) for name in names]
    for server in servers:
        await server.wire.listen()
    return RasaServers([RasaClient(server.wire.url, "token", timeout=5.0) for server in servers]), servers


async def close(rasa: RasaServers, servers: list[Server]) -> None:
    await rasa.close()
    for server in servers:
        await server.wire.refuse()


def homed_on(rasa: RasaServers, server: int) -> str:
    """A new conversation whose server is `server`."""
    now = asyncio.get_running_loop().time()
    return next(f"c{n}" for n in itertools.count() if rasa.homes.home(f"c{n}", now) == server)


def test_a_conversation_goes_to_the_same_server_every_time():
    async def scenario() -> list[str]:
        rasa, servers = await pool("r1", "r2", "r3")
        answers = [(await rasa.send("conversation-7", "hi"))[0]["text"] for _ in range(3)]
        await close(rasa, servers)
        return answers

    answers = asyncio.run(scenario())
    assert len(set(answers)) == 1


def test_new_conversations_go_to_the_server_with_the_fewest_active_ones_whatever_their_ids():
    homes = Homes(2, active_seconds=300)
    first = [homes.home(f"conversation-{n}", now=0.0) for n in range(10)]
    assert sorted(first) == [0] * 5 + [1] * 5, "a hash alone would often put 6 or more on one"
    assert [homes.home(f"conversation-{n}", now=10.0) for n in range(10)] == first, "each keeps its server"
    quiet_on_0 = [f"conversation-{n}" for n in range(10) if first[n] == 0]
    for n in range(10):  # those on server 1 go on talking; server 0's go quiet
        if first[n] == 1:
            homes.home(f"conversation-{n}", now=290.0)
    assert homes.loads() == [5, 5]
    homes.home("newcomer", now=310.0)
    assert homes.loads() == [1, 5], "server 0's conversations stopped counting once quiet; the newcomer went there"
    assert homes.home(quiet_on_0[0], now=320.0) == 0, "a conversation back after a pause takes the lighter server"


def test_on_equal_loads_hubs_agree_on_a_conversations_server_and_spread_them():
    ids = [f"conversation-{n}" for n in range(30)]
    one = [Homes(3).home(i, now=0.0) for i in ids]
    other = [Homes(3).home(i, now=5.0) for i in ids]
    assert one == other
    assert set(one) == {0, 1, 2}


def test_an_unreachable_server_hands_its_conversations_to_the_next_and_is_tried_last_for_a_while():
    async def scenario() -> None:
        rasa, servers = await pool("r1", "r2")
        conversation = homed_on(rasa, 0)
        await servers[0].wire.refuse()
        assert (await rasa.send(conversation, "hi"))[0]["text"] == "r2 answers"
        assert await rasa.turn(conversation, 1) is None  # the tracker, read where the conversation went
        assert await rasa.healthy(), "healthy while any server is"
        assert servers[1].sent == 1 and len(servers[1].requests) >= 2
        other = homed_on(rasa, 0)
        assert (await rasa.send(other, "hi"))[0]["text"] == "r2 answers", "tried last for a while"
        await servers[0].wire.listen()
        assert (await rasa.send(conversation, "again"))[0]["text"] == "r2 answers", "it stays where it went"
        assert servers[0].sent == 0
        await close(rasa, servers)

    asyncio.run(scenario())


def test_a_server_that_may_have_seen_the_turn_is_not_asked_again_elsewhere():
    async def scenario() -> None:
        rasa, servers = await pool("r1", "r2")
        conversation = homed_on(rasa, 0)
        servers[0].failing = True
        with pytest.raises(RasaUnavailable) as failure:
            await rasa.send(conversation, "hi")
        assert not isinstance(failure.value, RasaUnreachable)
        assert (servers[0].sent, servers[1].sent) == (1, 0), "a turn is never run twice"
        await close(rasa, servers)

    asyncio.run(scenario())


def test_when_no_server_can_be_reached_the_bot_is_unavailable_and_unhealthy():
    async def scenario() -> None:
        rasa = RasaServers([RasaClient(f"http://127.0.0.1:{free_port()}", "token", timeout=1.0) for _ in range(2)])
        with pytest.raises(RasaUnreachable):
            await rasa.send("c1", "hello")
        assert not await rasa.healthy()
        await rasa.close()

    asyncio.run(scenario())


def test_a_new_model_goes_to_every_server_and_a_server_that_refuses_it_fails_the_reload():
    async def scenario() -> None:
        rasa, servers = await pool("r1", "r2", "r3")
        assert await rasa.replace_model("models/new.tar.gz") == "new.tar.gz"
        assert all(len(server.models) == 1 and "new.tar.gz" in server.models[0] for server in servers)
        await servers[2].wire.refuse()
        with pytest.raises(RasaUnavailable, match="server 3"):
            await rasa.replace_model("models/newer.tar.gz")
        await close(rasa, servers)

    asyncio.run(scenario())


def test_rasa_url_may_name_one_server_or_several(tmp_path):
    assert rasa_urls(" http://r1:5005/ , http://r2:5005,") == ["http://r1:5005", "http://r2:5005"]
    single = connect_rasa(hub_settings(tmp_path / "hub.db", RASA_URL="http://127.0.0.1:5005"))
    several = connect_rasa(hub_settings(tmp_path / "hub.db", RASA_URL="http://127.0.0.1:5005,http://127.0.0.1:5006"))
    assert isinstance(single, RasaClient)
    assert isinstance(several, RasaServers) and len(several.servers) == 2
    asyncio.run(single.close())
    asyncio.run(several.close())
