"""Finding things in the trainers' review inbox through GET /api/review, on the hub in-process: a page at a time,
newest first, with the total; search by the words of the message; filters by reason, kind, intent, confidence and
day; a clear 400 for every bad value; and whether each item's conversation is one the console can open."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from bot.store import schema as t
from tests.inprocess import InProcessHub, prepare_database, running_hub

DAY = dt.datetime(2025, 3, 3, 9, 0)


def item(text: str, **fields: Any) -> dict[str, Any]:
    """A review item as the inbox stores it; an open intent item the bot guessed `track_order` for, unless told."""
    return {
        "text": text,
        "reason": "low_confidence",
        "predicted_intent": "track_order",
        "confidence": 0.5,
        "created_at": DAY,
        "conversation_id": "not-a-hub-conversation",
        "status": "open",
        **fields,
    }


def seed(database: Path, items: list[dict[str, Any]], conversations: tuple[str, ...] = ()) -> list[int]:
    """The items written straight into the hub's database (in this order: later ones are newer), and hub
    conversations with these ids; returns the items' ids."""
    engine = prepare_database(database)
    ids = []
    try:
        with engine.begin() as conn:
            for conversation_id in conversations:
                customer_id = str(uuid.uuid4())
                conn.execute(
                    insert(t.customers).values(id=customer_id, channel="web", external_id=customer_id, created_at=DAY)
                )
                conn.execute(
                    insert(t.conversations).values(
                        id=conversation_id,
                        customer_id=customer_id,
                        channel="web",
                        state="bot",
                        created_at=DAY,
                        updated_at=DAY,
                    )
                )
            for n, fields in enumerate(items):
                values = {"origin": f"seed:{n}", "entities": "[]", **fields}
                ids.append(conn.execute(insert(t.review_items).values(**values)).inserted_primary_key[0])
    finally:
        engine.dispose()
    return ids


def with_trainer(tmp_path: Path, story: Callable[[InProcessHub, Any], Awaitable[None]]) -> None:
    async def main() -> None:
        async with running_hub(tmp_path / "hub.db") as hub:
            await story(hub, await hub.agent("robin"))

    asyncio.run(main())


async def look(trainer: Any, **params: Any) -> dict[str, Any]:
    response = await trainer.http.get("/api/review", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_the_inbox_comes_a_page_at_a_time_newest_first_with_the_total(tmp_path):
    ids = seed(tmp_path / "hub.db", [item(f"message {n}") for n in range(130)])
    newest_first = ids[::-1]

    async def story(hub: InProcessHub, robin: Any) -> None:
        first = await look(robin)
        assert [i["id"] for i in first["items"]] == newest_first[:25]
        assert (first["total"], first["offset"], first["limit"], first["counts"]["open"]) == (130, 0, 25, 130)
        last = await look(robin, offset=125)
        assert [i["id"] for i in last["items"]] == newest_first[125:]
        assert last["total"] == 130
        assert len((await look(robin, limit=100))["items"]) == 100
        pages = [await look(robin, offset=offset, limit=40) for offset in range(0, 130, 40)]
        assert [i["id"] for page in pages for i in page["items"]] == newest_first, "every item once, in a stable order"
        assert (await look(robin, offset=500))["items"] == []

    with_trainer(tmp_path, story)


def test_reviewed_items_come_by_when_they_were_reviewed_newest_first(tmp_path):
    reviewed = [DAY + dt.timedelta(hours=h) for h in (3, 1, 2)]
    ids = seed(
        tmp_path / "hub.db",
        [item(f"done {n}", status="labelled", label="greet", reviewed_at=at) for n, at in enumerate(reviewed)],
    )

    async def story(hub: InProcessHub, robin: Any) -> None:
        body = await look(robin, status="labelled")
        assert [i["id"] for i in body["items"]] == [ids[0], ids[2], ids[1]]
        assert (await look(robin))["total"] == 0

    with_trainer(tmp_path, story)


def test_a_search_finds_every_word_in_any_case_and_takes_percent_and_underscore_as_themselves(tmp_path):
    ids = seed(
        tmp_path / "hub.db",
        [
            item("Where is my PARCEL, it is late"),
            item("my parcel never came"),
            item("is the late fee 100%?"),
            item("what is a gift_card"),
            item("giftXcard please"),
        ],
    )

    async def story(hub: InProcessHub, robin: Any) -> None:
        async def found(q: str) -> list[int]:
            body = await look(robin, q=q)
            assert body["total"] == len(body["items"])
            return sorted(i["id"] for i in body["items"])

        assert await found("parcel") == [ids[0], ids[1]]
        assert await found("  late   Parcel ") == [ids[0]]
        assert await found("100%") == [ids[2]]
        assert await found("gift_card") == [ids[3]]
        assert await found("%") == [ids[2]]
        assert await found("nothing like this") == []
        assert await found("<img src=x onerror=alert(1)>") == []
        assert await found("'; DROP TABLE hub_review_items;--") == []
        assert (await look(robin))["total"] == 5, "the search changed nothing"

    with_trainer(tmp_path, story)


def test_filters_narrow_by_reason_kind_intent_confidence_and_day_and_combine(tmp_path):
    ids = seed(
        tmp_path / "hub.db",
        [
            item("a", reason="nlu_fallback", predicted_intent="greet", confidence=0.31),
            item("b", reason="low_confidence", confidence=0.62, created_at=DAY + dt.timedelta(days=1)),
            item("c", reason="out_of_scope", predicted_intent="delivery_options", confidence=0.02),
            item("d", reason="near_threshold", predicted_intent="complaint", confidence=0.9),
            item("e", reason="missed_escalation", predicted_intent="track_order", confidence=0.7),
            item(
                "f",
                reason="not_understood",
                predicted_intent=None,
                confidence=None,
                created_at=DAY + dt.timedelta(days=2),
            ),
            item("g", status="labelled", label="track_order", predicted_intent="greet", reviewed_at=DAY),
        ],
    )
    a, b, c, d, e, f, g = ids

    async def story(hub: InProcessHub, robin: Any) -> None:
        async def found(**params: Any) -> list[int]:
            body = await look(robin, **params)
            assert body["total"] == len(body["items"])
            return sorted(i["id"] for i in body["items"])

        assert await found(reason="nlu_fallback") == [a]
        assert await found(kind="escalation") == [d, e]
        assert await found(kind="intent") == [a, b, c, f]
        assert await found(intent="track_order") == [b, e]
        assert await found(intent="track_order", status="labelled") == [g], "the label counts too"
        assert await found(min_confidence="0.5") == [b, d, e]
        assert await found(max_confidence="0.5") == [a, c]
        assert await found(min_confidence="0.3", max_confidence="0.7") == [a, b, e], "both bounds are included"
        assert await found(since="2025-03-04") == [b, f]
        assert await found(until="2025-03-03") == [a, c, d, e]
        assert await found(since="2025-03-04", until="2025-03-04") == [b]
        assert await found(kind="intent", intent="track_order", since="2025-03-04", min_confidence="0.6") == [b]
        assert await found(reason="", intent="", q="") == [a, b, c, d, e, f], "empty means no filter"
        body = await look(robin, reason="nlu_fallback", min_confidence="0.25")
        assert body["filters"]["reason"] == "nlu_fallback" and body["filters"]["min_confidence"] == 0.25
        assert body["counts"] == {"open": 6, "labelled": 1, "dismissed": 0}, "the counts are of the whole inbox"

    with_trainer(tmp_path, story)


def test_only_items_whose_conversation_the_hub_has_can_be_opened(tmp_path):
    kept = str(uuid.uuid4())
    ids = seed(
        tmp_path / "hub.db",
        [item("from the widget", conversation_id=kept), item("from rasa shell", conversation_id="default")],
        conversations=(kept,),
    )

    async def story(hub: InProcessHub, robin: Any) -> None:
        items = {i["id"]: i for i in (await look(robin))["items"]}
        assert (items[ids[0]]["conversation_exists"], items[ids[1]]["conversation_exists"]) == (True, False)
        assert (await robin.get(f"/api/conversations/{kept}")).status_code == 200
        assert (await robin.get("/api/conversations/default")).status_code == 404

    with_trainer(tmp_path, story)


BAD = [
    ({"status": "closed"}, "bad_status"),
    ({"reason": "grumpy"}, "bad_reason"),
    ({"kind": "both"}, "bad_kind"),
    ({"intent": "Track Order"}, "bad_intent"),
    ({"intent": "x' OR 1=1 --"}, "bad_intent"),
    ({"min_confidence": "high"}, "bad_confidence"),
    ({"max_confidence": "1.5"}, "bad_confidence"),
    ({"min_confidence": "-0.1"}, "bad_confidence"),
    ({"min_confidence": "nan"}, "bad_confidence"),
    ({"min_confidence": "0.8", "max_confidence": "0.2"}, "bad_confidence"),
    ({"since": "03/03/2025"}, "bad_period"),
    ({"until": "2025-02-30"}, "bad_period"),
    ({"since": "2025-03-09", "until": "2025-03-01"}, "bad_period"),
    ({"offset": "-1"}, "bad_offset"),
    ({"offset": "ten"}, "bad_offset"),
    ({"limit": "0"}, "bad_limit"),
    ({"limit": "101"}, "bad_limit"),
    ({"limit": "2.5"}, "bad_limit"),
    ({"q": "x" * 201}, "search_too_long"),
]


def test_bad_values_are_refused_with_a_400_that_names_them(tmp_path):
    seed(tmp_path / "hub.db", [item("one")])

    async def story(hub: InProcessHub, robin: Any) -> None:
        for params, code in BAD:
            response = await robin.http.get("/api/review", params=params)
            assert error_of(response) == (400, code), params
            assert response.json()["error"]["message"], params
        assert (await look(robin, q="x" * 200, limit="100", offset="0"))["total"] == 0, "the longest search is fine"
        assert (await look(robin))["total"] == 1

    with_trainer(tmp_path, story)


@pytest.mark.parametrize("username", [None, "sam"])
def test_searching_the_inbox_needs_a_trainer_or_supervisor(tmp_path, username):
    seed(tmp_path / "hub.db", [item("secret text")])

    async def story(hub: InProcessHub, robin: Any) -> None:
        other = await hub.agent(username)
        response = await other.http.get("/api/review", params={"q": "secret"})
        assert response.status_code == (401 if username is None else 403)
        assert "secret text" not in response.text

    with_trainer(tmp_path, story)
