"""The action server's entry (`python -m actions`) as a real process: it answers only Rasa's token.

A tracker is just JSON: whoever can POST one to /webhook can fill in `order_id` and `verified_customer_id`
themselves. These tests forge exactly that and check the order does not change.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import read_endpoint_config

from actions.orders.order_system import OrderStatus
from actions.orders.sql_order_system import SqlOrderSystem
from actions.settings import DEV_ACTIONS_TOKEN, Settings
from bot.store.database import create_engine
from tests.rasa_stack import ACTIONS_TOKEN, PROJECT_ROOT, RasaStack, free_port


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory, demo_shop_template: Path) -> Iterator[RasaStack]:
    """Only the action server of a stack (no model needed), on a free loopback port over a private shop copy."""
    stack = RasaStack(tmp_path_factory.mktemp("action-server"), demo_shop_template)
    try:
        stack.start_actions()
        yield stack
    finally:
        stack.stop()


def forged_cancel() -> dict[str, Any]:
    """What an attacker would send: a stranger's order, "verified", cancellation confirmed."""
    slots = {"order_id": "00000108", "verified_customer_id": "C0001", "cancel_confirmed": True}
    return {
        "next_action": "action_cancel_order",
        "sender_id": "attacker",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "attacker",
            "slots": slots,
            "latest_message": {"text": "yes", "intent": {"name": "affirm"}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def call(server: RasaStack, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.actions_port}{path}", data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def order_status(server: RasaStack) -> OrderStatus:
    async def read() -> OrderStatus:
        system = SqlOrderSystem(create_engine(f"sqlite:///{server.shop_db}"))
        try:
            order = await system.get_order("00000108")
            assert order is not None
            return order.status
        finally:
            await system.close()

    return asyncio.run(read())


def test_a_forged_tracker_without_the_token_is_refused_and_the_order_is_unchanged(action_server):
    before = order_status(action_server)
    status, body = call(action_server, "POST", "/webhook", forged_cancel())
    assert status == 401
    assert body["error"]["code"] == "not_authenticated"
    assert order_status(action_server) == before == OrderStatus.PENDING


@pytest.mark.parametrize(
    "token", ["wrong-token", DEV_ACTIONS_TOKEN, ACTIONS_TOKEN[:-1], ACTIONS_TOKEN + "x", f"{ACTIONS_TOKEN} "]
)
def test_a_wrong_token_is_refused(action_server, token):
    assert call(action_server, "POST", "/webhook", forged_cancel(), token=token)[0] == 401
    assert call(action_server, "GET", "/actions", token=token)[0] == 401
    assert order_status(action_server) == OrderStatus.PENDING


def test_the_list_of_actions_needs_the_token(action_server):
    assert call(action_server, "GET", "/actions")[0] == 401
    status, actions = call(action_server, "GET", "/actions", token=ACTIONS_TOKEN)
    assert status == 200 and {"name": "action_cancel_order"} in actions


def test_health_stays_open_for_the_hubs_check(action_server):
    assert call(action_server, "GET", "/health") == (200, {"status": "ok"})


def test_with_the_token_an_action_runs(action_server):
    """The control: the refusals above are the token's doing, not a broken request."""
    body = {**forged_cancel(), "next_action": "action_ask_order_id"}
    status, result = call(action_server, "POST", "/webhook", body, token=ACTIONS_TOKEN)
    assert status == 200 and "order number" in result["responses"][0]["text"]


def test_the_action_server_listens_on_loopback_only_by_default(action_server):
    assert Settings.from_env({}).actions_host == "127.0.0.1"
    port = f"{action_server.actions_port:04X}"
    listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    listening += [line.split() for line in Path("/proc/net/tcp6").read_text().splitlines()[1:]]
    listen = "0A"  # the socket state LISTEN
    addresses = {
        fields[1].split(":")[0] for fields in listening if fields[1].endswith(f":{port}") and fields[3] == listen
    }
    assert addresses == {"0100007F"}, "bound to 127.0.0.1, not 0.0.0.0 (00000000) or ::"


def test_rasa_sends_the_token_from_the_environment_and_will_not_start_without_it(monkeypatch):
    endpoints = str(PROJECT_ROOT / "endpoints.yml")
    monkeypatch.setenv("ACTIONS_TOKEN", "the-actions-token")
    action_endpoint = read_endpoint_config(endpoints, "action_endpoint")
    assert action_endpoint is not None and action_endpoint.headers == {"Authorization": "Bearer the-actions-token"}
    monkeypatch.delenv("ACTIONS_TOKEN")
    with pytest.raises(RasaException, match="ACTIONS_TOKEN"):
        read_endpoint_config(endpoints, "action_endpoint")


def test_beyond_loopback_the_development_token_is_refused_at_start(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"ACTIONS_TOKEN", "FRONTLINE_ENV"}}
    env.update(ACTIONS_HOST="0.0.0.0", ACTIONS_PORT=str(free_port()), CHANNEL_SECRET="c" * 40)
    started = subprocess.run(
        [sys.executable, "-m", "actions"], env=env, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT
    )
    assert started.returncode == 2, started.stderr[-2000:]
    assert "ACTIONS_TOKEN" in started.stderr and "CHANNEL_SECRET" not in started.stderr.split("Production")[0]


def test_with_the_token_the_same_forged_tracker_would_cancel_the_order(action_server):
    """Why the token matters: the action server trusts the tracker it is given (runs last: it cancels)."""
    status, _ = call(action_server, "POST", "/webhook", forged_cancel(), token=ACTIONS_TOKEN)
    assert status == 200 and order_status(action_server) == OrderStatus.CANCELLED
