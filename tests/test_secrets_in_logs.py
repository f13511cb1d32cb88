"""No secret reaches a log line: a whole conversation through the hub, Rasa and the action server, then their output.

Before the JWT, the hub called Rasa's API with `?token=RASA_TOKEN` and httpx logged every such URL.
"""

from __future__ import annotations

import asyncio

import httpx

from bot.domain.production_guard import DEV_CHANNEL_SECRET
from tests.hub_clients import CustomerClient
from tests.rasa_stack import ACTIONS_TOKEN, TOKEN, RasaStack

JWT_PREFIX = "eyJhbGciOi"
"""How every JWT the hub signs begins (its base64 header): a logged token would be a credential for a minute."""


TURNS = (
    ("what's the status of my package", "What's your order number?"),
    ("it's 00123842", "on its way"),
    ("my email is anna.freeman@example.com", "Station Road"),
)
"""Tracking an order through the hub: each answer comes from an action, the last after the email check."""


def converse(hub_url: str) -> None:
    async def scenario() -> None:
        customer = CustomerClient(hub_url)
        await customer.connect()
        try:
            for text, answer in TURNS:
                seen = len(customer.events)
                await customer.say(text)
                await customer.wait_for(
                    lambda e, answer=answer: (
                        e["type"] == "message" and e["message"]["sender"] == "bot" and answer in e["message"]["text"]
                    ),
                    after=seen,
                    timeout=60,
                )
        finally:
            await customer.close()

    asyncio.run(scenario())


def test_no_token_or_secret_appears_in_the_output_of_the_hub_rasa_or_the_action_server(hub: RasaStack):
    converse(hub.hub_url)
    assert httpx.get(f"{hub.hub_url}/healthz", timeout=10).json()["checks"] == {
        "database": True,
        "rasa": True,
        "actions": True,
    }, "the hub reached Rasa's API with its JWT and the action server's open /health"

    secrets = {
        "RASA_TOKEN": TOKEN,
        "ACTIONS_TOKEN": ACTIONS_TOKEN,
        "CHANNEL_SECRET": hub.env.get("CHANNEL_SECRET") or DEV_CHANNEL_SECRET,
        "a JWT": JWT_PREFIX,
    }
    for process in ("hub", "rasa", "actions"):
        output = (hub.workdir / f"{process}.log").read_text(errors="replace")
        assert output.strip(), f"{process} wrote nothing: nothing was checked"
        for name, value in secrets.items():
            leaks = [line for line in output.splitlines() if value in line]
            assert not leaks, f"{name} in the {process} output: {leaks[:3]}"
