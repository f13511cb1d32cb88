"""What a customer rated, in the conversation the console shows: the score out of its scale, the comment as it was
written, whom it credits, and the question it answers, on the hub in-process with a fake Rasa."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.hub_clients import CustomerClient
from tests.inprocess import FakeRasa, InProcessHub, asks_rating, hands_off, running_hub, says

HOSTILE_COMMENT = "<img src=x onerror=alert(1)> Quick'); DROP TABLE hub_ratings;--"
BOT = {
    "a person please": [says("I'm bringing in a person from our team."), hands_off()],
    "thanks, bye": [says("Goodbye!"), asks_rating()],
}


async def rate(customer: CustomerClient, score: int, comment: str | None, after: int = 0) -> dict[str, Any]:
    """Answer the first rating question from event `after` on; the question's message."""
    asked = await customer.wait_for(
        lambda e: e["type"] == "message" and "rating_request" in (e["message"]["payload"] or {}), after=after
    )
    seen = len(customer.events)
    await customer.send_frame(
        {"type": "rating", "score": score, "comment": comment, "message_id": asked["message"]["id"]}
    )
    assert (await customer.wait_for(lambda e: e["type"] == "rated", after=seen))["accepted"] is True
    return asked["message"]


def test_the_conversation_has_each_rating_after_its_question_credited_as_stored_and_the_comment_verbatim(
    tmp_path: Path,
) -> None:
    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        await customer.say("a person please")
        await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
        sam = await hub.agent("sam")
        path = f"/api/conversations/{customer.conversation_id}"
        assert (await sam.get(path)).json()["ratings"] == []

        await sam.post(f"{path}/claim")
        await sam.post(f"{path}/resolve")
        for_sam = await rate(customer, 5, HOSTILE_COMMENT)
        seen = len(customer.events)
        await customer.say("thanks, bye")
        for_bot = await rate(customer, 3, None, after=seen)

        ratings = (await sam.get(path)).json()["ratings"]
        assert [(r["question"], r["score"], r["scale"], r["after"], r["credited_to"]) for r in ratings] == [
            ("csat", 5, 5, for_sam["id"], "agent"),
            ("csat", 3, 5, for_bot["id"], "bot"),
        ]
        assert ratings[0]["comment"] == HOSTILE_COMMENT
        assert ratings[0]["agent_name"] == "Sam (agent)"
        assert ratings[1]["comment"] is None and ratings[1]["agent_name"] is None

    async def main() -> None:
        async with running_hub(tmp_path / "hub.db", FakeRasa(BOT)) as hub:
            await story(hub)

    asyncio.run(main())
