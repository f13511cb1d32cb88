"""The console's login and live socket against an attacker, on the hub in-process: password guessing throttled per
account and per address (real client addresses on the loopback network), the Secure cookie and HSTS behind https,
a socket opened by another site refused, and a socket kept after logout closed at once, or at the next heartbeat
when the logout happened on another hub process."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.hub_clients import AgentClient
from tests.inprocess import PASSWORD, InProcessHub, running_hub

HTTPS_URL = "https://support.example.test"


def with_hub(tmp_path: Path, story: Callable[[InProcessHub], Awaitable[None]], **env: str) -> None:
    async def main() -> None:
        async with running_hub(tmp_path / "hub.db", **env) as hub:
            await story(hub)

    asyncio.run(main())


class Browser:
    """Logins sent from `address` (a loopback address of this machine: the hub sees it as the client's)."""

    def __init__(self, hub: InProcessHub, address: str) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        self.http = httpx.AsyncClient(base_url=hub.url, transport=transport, timeout=20.0)
        hub._clients.append(self)  # type: ignore[arg-type]  # closed when the hub stops, as its own clients

    async def __call__(self, username: str, password: str) -> httpx.Response:
        return await self.http.post("/api/login", json={"username": username, "password": password})

    async def close(self) -> None:
        await self.http.aclose()


def agent_socket_url(hub: InProcessHub) -> str:
    return hub.url.replace("http://", "ws://") + "/ws/agent"


def session_cookie(client: AgentClient) -> dict[str, str]:
    return {"Cookie": f"frontline_session={client.http.cookies['frontline_session']}"}


async def closed_with(ws: Any, timeout: float = 5.0) -> int:
    """The close code of a socket the hub closes (frames before it are read and dropped)."""

    async def drain() -> None:
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await ws.recv()

    await asyncio.wait_for(drain(), timeout)
    return int(ws.close_code)


def test_fifty_bad_logins_lock_the_account_and_its_right_password_but_no_one_else(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    bad_password = "guess-number-{}"

    async def story(hub: InProcessHub) -> None:
        attacker, colleague = Browser(hub, "127.0.0.1"), Browser(hub, "127.0.0.2")
        answers = [await attacker("sam", bad_password.format(n)) for n in range(50)]
        assert [a.status_code for a in answers[:5]] == [401] * 5
        assert {a.status_code for a in answers[5:]} == {429}
        locked = answers[-1]
        assert locked.json()["error"]["code"] == "too_many_logins"
        assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
        assert (await attacker("sam", PASSWORD)).status_code == 429, "the right password is not even checked"
        assert (await colleague("sam", PASSWORD)).status_code == 429, "the lock is the account's, from anywhere"
        assert (await colleague("kim", PASSWORD)).status_code == 200
        assert (await attacker("alex", PASSWORD)).status_code == 200, "5 failures are far from the address's 20"

    with_hub(tmp_path, story)
    assert "agent='sam'" in caplog.text
    assert PASSWORD not in caplog.text and "guess-number" not in caplog.text


def test_twenty_failures_from_one_address_lock_it_for_every_account_and_only_it(tmp_path):
    async def story(hub: InProcessHub) -> None:
        crowded, elsewhere = Browser(hub, "127.0.0.3"), Browser(hub, "127.0.0.4")
        for username in ("sam", "kim", "alex", "robin", "nobody"):
            for n in range(4):  # under each account's limit of 5
                assert (await crowded(username, f"wrong {n}")).status_code == 401
        refused = await crowded("kim", PASSWORD)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert (await elsewhere("kim", PASSWORD)).status_code == 200

    with_hub(tmp_path, story)


def test_forwarded_for_headers_count_only_behind_a_proxy_the_hub_is_told_to_trust(tmp_path):
    async def story(hub: InProcessHub) -> None:
        async def login(forwarded_for: str, username: str, password: str) -> int:
            body, headers = {"username": username, "password": password}, {"X-Forwarded-For": forwarded_for}
            response = await hub_client.post("/api/login", json=body, headers=headers)
            return response.status_code

        async with httpx.AsyncClient(base_url=hub.url, timeout=20.0) as hub_client:
            for n in range(20):  # one peer pretending to be 20 addresses, 4 tries per account
                assert await login(f"198.51.100.{n}", ("sam", "kim", "alex", "robin", "nobody")[n % 5], "wrong") == 401
            assert await login("198.51.100.99", "kim", PASSWORD) == 429, "an untrusted header changes nothing"
            hub.app.config.PROXIES_COUNT = 1  # what SANIC_PROXIES_COUNT=1 says behind one proxy
            assert await login("198.51.100.99", "kim", PASSWORD) == 200, "the proxy's word: another client"

    with_hub(tmp_path, story)


def test_a_success_clears_the_accounts_failures(tmp_path):
    async def story(hub: InProcessHub) -> None:
        login = Browser(hub, "127.0.0.5")
        for round_ in range(3):
            for n in range(4):
                assert (await login("sam", f"wrong {round_} {n}")).status_code == 401
            assert (await login("sam", PASSWORD)).status_code == 200

    with_hub(tmp_path, story)


def test_an_https_public_url_gives_a_secure_cookie_and_hsts(tmp_path):
    async def story(hub: InProcessHub) -> None:
        client = await hub.agent()
        response = await client.http.post(
            "/api/login", json={"username": "sam", "password": PASSWORD}, headers={"Origin": HTTPS_URL}
        )
        assert response.status_code == 200, "PUBLIC_URL's origin is the console's own"
        assert "secure" in [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
        assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert "strict-transport-security" in (await client.get("/api/me")).headers

    with_hub(tmp_path, story, PUBLIC_URL=HTTPS_URL)


def test_an_http_public_url_gives_neither(tmp_path):
    async def story(hub: InProcessHub) -> None:
        client = await hub.agent()
        response = await client.login("sam", PASSWORD)
        assert response.status_code == 200
        assert "secure" not in [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
        assert "strict-transport-security" not in response.headers

    with_hub(tmp_path, story)


def test_an_agent_socket_opened_by_another_site_is_closed_4403_and_the_consoles_own_origins_are_let_in(tmp_path):
    async def story(hub: InProcessHub) -> None:
        sam = await hub.agent("sam")
        cookie = session_cookie(sam)
        foreign = await websockets.connect(agent_socket_url(hub), origin="https://evil.example", extra_headers=cookie)
        assert await closed_with(foreign) == 4403
        for origin in (hub.url, HTTPS_URL, None):
            ws = await websockets.connect(agent_socket_url(hub), origin=origin, extra_headers=cookie)
            assert '"hello"' in await asyncio.wait_for(ws.recv(), 5), origin
            await ws.close()

    with_hub(tmp_path, story, PUBLIC_URL=HTTPS_URL)


def test_logout_closes_the_sessions_open_sockets_at_once_and_not_the_other_sessions(tmp_path):
    async def story(hub: InProcessHub) -> None:
        laptop, phone = await hub.agent("sam"), await hub.agent("sam")
        on_laptop = await websockets.connect(agent_socket_url(hub), extra_headers=session_cookie(laptop))
        on_phone = await websockets.connect(agent_socket_url(hub), extra_headers=session_cookie(phone))
        for ws in (on_laptop, on_phone):
            assert '"hello"' in await ws.recv()
        started = time.monotonic()
        assert (await laptop.post("/api/logout")).status_code == 200
        assert await closed_with(on_laptop, timeout=2) == 4401
        elapsed = time.monotonic() - started
        assert elapsed < 2
        print(f"logout to socket closed: {elapsed * 1000:.0f} ms")
        assert (await phone.get("/api/me")).status_code == 200
        await on_phone.send('{"type": "watch", "conversation_id": "x"}')
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(on_phone.recv(), 0.5)  # still open: nothing to say, nothing closed
        assert on_phone.open
        await on_phone.close()

    with_hub(tmp_path, story, AGENT_HEARTBEAT_SECONDS="20")


def test_a_logout_on_another_hub_process_closes_the_socket_at_the_next_heartbeat(tmp_path):
    async def main() -> None:
        database = tmp_path / "hub.db"
        async with (
            running_hub(database, AGENT_HEARTBEAT_SECONDS="1") as first,
            running_hub(database, AGENT_HEARTBEAT_SECONDS="1") as second,
        ):
            sam = await first.agent("sam")
            ws = await websockets.connect(agent_socket_url(first), extra_headers=session_cookie(sam))
            assert '"hello"' in await ws.recv()
            on_second = await second.agent()
            on_second.http.cookies.set("frontline_session", sam.http.cookies["frontline_session"])
            started = time.monotonic()
            assert (await on_second.post("/api/logout")).status_code == 200
            assert await closed_with(ws, timeout=3) == 4401
            print(f"logout on another hub to socket closed: {(time.monotonic() - started) * 1000:.0f} ms")

    asyncio.run(main())
