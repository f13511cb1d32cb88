"""The trainers' review inbox through the console API, on the hub in-process: what the fake Rasa was unsure about
(kept in Rasa's real SQL tracker store in the hub's database, as deployed) and what it handed over as not
understood; labelling, dismissing, the export into a copy of the project, model reload, and who may do it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from tests.inprocess import RASA_TOKEN, FakeRasa, InProcessHub, hands_off, prepare_database, running_hub, says
from tests.rasa_stack import PROJECT_ROOT

Ranking = list[tuple[str, float]]

UNDERSTOOD: Ranking = [("track_order", 0.98)]
NLU = {
    "where is my order": UNDERSTOOD,
    "blorp fizzle": [("nlu_fallback", 0.5), ("greet", 0.31)],
    "can you wrap it as a present": [("place_order", 0.55), ("change_order", 0.3)],
    "what's the weather in Paris": [("out_of_scope", 0.93), ("delivery_options", 0.02)],
}
"""What the fake Rasa's NLU makes of each message: the intent ranking, best first."""
UNSURE = {
    "blorp fizzle": ("nlu_fallback", "greet", 0.31),
    "can you wrap it as a present": ("low_confidence", "place_order", 0.55),
    "what's the weather in Paris": ("out_of_scope", "delivery_options", 0.02),
}
"""What the inbox must make of them: reason, predicted intent, confidence."""


class TrackingRasa:
    """A fake Rasa's answers that, like Rasa, keep the tracker in its SQL tracker store: each message as a user
    event with the parse `NLU` gives it, then the bot's answer."""

    def __init__(self, database: Path) -> None:
        self.store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(database))

    async def __call__(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        ranking = NLU.get(text, UNDERSTOOD)
        parse = {
            "text": text,
            "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
            "intent_ranking": [{"name": name, "confidence": confidence} for name, confidence in ranking],
            "entities": [],
        }
        tracker = await self.store.retrieve(sender_id) or DialogueStateTracker(sender_id, [])
        tracker.update(UserUttered(text, parse["intent"], [], parse))
        tracker.update(ActionExecuted("utter_answer"))
        tracker.update(BotUttered("An answer."))
        tracker.update(ActionExecuted("action_listen"))
        await self.store.save(tracker)
        return [says("An answer.")]


def with_hub(
    tmp_path: Path,
    story: Callable[[InProcessHub], Awaitable[None]],
    rasa: FakeRasa | None = None,
    tracked: bool = True,
    **env: str,
) -> None:
    """`story` against a hub whose fake Rasa keeps its tracker in the hub's database (unless not `tracked`)."""

    async def main() -> None:
        prepare_database(tmp_path / "hub.db").dispose()  # the hub's, before Rasa's tracker store adds its table
        tracking = TrackingRasa(tmp_path / "hub.db") if tracked else None
        fake = rasa or FakeRasa(responder=tracking)
        try:
            async with running_hub(tmp_path / "hub.db", fake, **env) as hub:
                await story(hub)
        finally:
            if tracking is not None:
                tracking.store.engine.dispose()

    asyncio.run(main())


async def customer_says(hub: InProcessHub, *texts: str) -> str:
    customer = await hub.connected_customer()
    for text in texts:
        await customer.say(text)
    await hub.settled(customer)
    return customer.conversation_id


async def inbox(trainer: Any, status: str = "open") -> dict[str, Any]:
    response = await trainer.get(f"/api/review?status={status}")
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_what_the_bot_was_unsure_about_reaches_the_trainers_inbox_and_nothing_else(tmp_path):
    async def story(hub: InProcessHub) -> None:
        conversation_id = await customer_says(hub, *NLU)
        robin = await hub.agent("robin")
        body = await inbox(robin)
        assert [(i["text"], i["reason"], i["predicted_intent"], i["confidence"]) for i in body["items"]] == [
            (text, *expected) for text, expected in reversed(UNSURE.items())
        ], "newest first"
        assert {(i["conversation_id"], i["conversation_exists"], i["kind"], i["status"]) for i in body["items"]} == {
            (conversation_id, True, "intent", "open")
        }
        assert body["counts"] == {"open": 3, "labelled": 0, "dismissed": 0}
        assert (body["total"], body["offset"], body["limit"]) == (3, 0, 25)
        assert "track_order" in body["intents"] and "nlu_fallback" not in body["intents"]
        assert (await inbox(robin))["counts"]["open"] == 3, "a second look adds nothing"

    with_hub(tmp_path, story)


def test_a_not_understood_handoff_brings_what_the_customer_typed_before_it_but_no_button(tmp_path):
    rasa = FakeRasa(
        {
            "zzz": [says("Sorry, I didn't get that.", ("Yes, a person", "/affirm"))],
            "/affirm": [hands_off("not_understood", summary="The bot did not understand.")],
        }
    )

    async def story(hub: InProcessHub) -> None:
        customer = await hub.connected_customer()
        await customer.say("hello there")
        await customer.say("zzz")
        await customer.send_frame(
            {"type": "button", "client_id": "b-1", "title": "Yes, a person", "payload": "/affirm"}
        )
        await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued")
        robin = await hub.agent("robin")
        items = (await inbox(robin))["items"]
        assert [(i["text"], i["reason"], i["conversation_id"]) for i in items] == [
            ("zzz", "not_understood", customer.conversation_id),
            ("hello there", "not_understood", customer.conversation_id),
        ]

    with_hub(tmp_path, story, rasa, tracked=False)


def test_labelling_and_dismissing_move_items_out_of_the_open_list_and_bad_labels_are_refused(tmp_path):
    async def story(hub: InProcessHub) -> None:
        await customer_says(hub, *UNSURE)
        robin = await hub.agent("robin")
        weather, wrap, fallback = (await inbox(robin))["items"]
        labelled = await robin.post(f"/api/review/{wrap['id']}/label", {"intent": "gift_wrapping"})
        assert labelled.status_code == 200
        item = labelled.json()["item"]
        assert (item["status"], item["label"], item["trainer_name"]) == ("labelled", "gift_wrapping", "Robin (trainer)")
        refusals = [
            await robin.post(f"/api/review/{weather['id']}/label", {"intent": "Robert'); DROP TABLE x;--"}),
            await robin.post(f"/api/review/{weather['id']}/label", {"label": "needs_person"}),
            await robin.post(f"/api/review/{weather['id']}/label", {"intent": ""}),
            await robin.post("/api/review/999999/label", {"intent": "greet"}),
            await robin.post("/api/review/999999/dismiss"),
            await robin.get("/api/review?status=closed"),
        ]
        assert [error_of(r) for r in refusals] == [
            (422, "bad_intent"),
            (422, "not_an_escalation"),
            (400, "missing"),
            (404, "not_found"),
            (404, "not_found"),
            (400, "bad_status"),
        ]
        dismissed = await robin.post(f"/api/review/{fallback['id']}/dismiss")
        assert dismissed.json()["item"]["status"] == "dismissed"
        body = await inbox(robin)
        assert [i["id"] for i in body["items"]] == [weather["id"]]
        assert body["counts"] == {"open": 1, "labelled": 1, "dismissed": 1}
        assert [i["id"] for i in (await inbox(robin, "labelled"))["items"]] == [wrap["id"]]
        assert [i["id"] for i in (await inbox(robin, "dismissed"))["items"]] == [fallback["id"]]

    with_hub(tmp_path, story)


def project_copy(tmp_path: Path) -> Path:
    """What an export may write to: a copy of the project's domain and training data, never the project."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("config.yml", "domain.yml", "escalation.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    return root


def test_the_export_writes_labelled_examples_and_new_intents_into_the_project(tmp_path):
    root = project_copy(tmp_path)

    async def story(hub: InProcessHub) -> None:
        await customer_says(hub, *UNSURE)
        robin = await hub.agent("robin")
        weather, wrap, fallback = (await inbox(robin))["items"]
        await robin.post(f"/api/review/{weather['id']}/label", {"intent": "out_of_scope"})
        await robin.post(f"/api/review/{wrap['id']}/label", {"intent": "gift_wrapping"})
        await robin.post(f"/api/review/{fallback['id']}/dismiss")
        exported = await robin.post("/api/review/export")
        assert exported.status_code == 200
        result = exported.json()["export"]
        assert (result["path"], result["examples"], result["per_intent"]) == (
            "data/nlu/reviewed.yml",
            1,
            {"out_of_scope": 1},
        )
        assert (result["new_intents"], result["new_intents_path"]) == ({"gift_wrapping": 1}, "review/new_intents.yml")
        reviewed = (root / "data" / "nlu" / "reviewed.yml").read_text()
        assert "# labelled by Robin (trainer) on " in reviewed and "what's the weather in Paris" in reviewed
        new_intents = (root / "review" / "new_intents.yml").read_text()
        assert "gift_wrapping" in new_intents and "can you wrap it as a present" in new_intents
        assert "blorp fizzle" not in reviewed + new_intents
        again = (await robin.post("/api/review/export")).json()["export"]
        assert again["examples"] == 1, "exporting twice writes the same file, not twice the examples"

    with_hub(tmp_path, story, FRONTLINE_PROJECT_DIR=str(root))


def test_only_trainers_and_supervisors_use_the_inbox(tmp_path):
    async def story(hub: InProcessHub) -> None:
        await customer_says(hub, "blorp fizzle")
        anonymous, sam, alex = await hub.agent(), await hub.agent("sam"), await hub.agent("alex")
        [item] = (await inbox(alex))["items"]
        asks = [
            ("GET", "/api/review", None),
            ("POST", f"/api/review/{item['id']}/label", {"intent": "greet"}),
            ("POST", f"/api/review/{item['id']}/dismiss", {}),
            ("POST", "/api/review/export", {}),
        ]
        for method, path, body in asks:
            as_nobody = await (anonymous.get(path) if method == "GET" else anonymous.post(path, body))
            as_agent = await (sam.get(path) if method == "GET" else sam.post(path, body))
            assert (error_of(as_nobody), error_of(as_agent)) == ((401, "unauthenticated"), (403, "forbidden")), path
        assert (await inbox(alex))["items"][0]["status"] == "open", "nothing changed"
        labelled = await alex.post(f"/api/review/{item['id']}/label", {"intent": "greet"})
        assert labelled.json()["item"]["trainer_name"] == "Alex (supervisor)"

    with_hub(tmp_path, story, FRONTLINE_PROJECT_DIR=str(project_copy(tmp_path)))  # should an export slip through


def test_a_model_reload_is_for_trainers_or_the_rasa_token_and_loads_the_file_into_rasa(tmp_path):
    model = tmp_path / "models" / "next.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"a model, as far as the fake Rasa cares")
    rasa = FakeRasa()

    async def story(hub: InProcessHub) -> None:
        rasa.reload_gate = asyncio.Event()
        sam, robin, command_line = await hub.agent("sam"), await hub.agent("robin"), await hub.agent()
        assert error_of(await command_line.post("/api/model/reload", {})) == (401, "unauthenticated")
        assert error_of(await sam.post("/api/model/reload", {})) == (403, "forbidden")
        forged = await command_line.http.post("/api/model/reload", json={}, headers={"Authorization": "Bearer nope"})
        assert error_of(forged) == (401, "unauthenticated")
        missing = await robin.post("/api/model/reload", {"model_file": str(tmp_path / "models" / "nothing.tar.gz")})
        assert error_of(missing) == (422, "no_model")

        bearer = {"Authorization": f"Bearer {RASA_TOKEN}"}
        started = await command_line.http.post("/api/model/reload", json={"model_file": str(model)}, headers=bearer)
        assert started.status_code == 202 and started.json()["reload"]["state"] == "loading"
        assert error_of(await robin.post("/api/model/reload", {"model_file": str(model)})) == (409, "reload_running")
        assert (await robin.get("/api/model/reload")).json()["reload"]["state"] == "loading"
        await asyncio.sleep(0.05)
        rasa.reload_gate.set()
        status = started.json()["reload"]
        while status["state"] == "loading":
            await asyncio.sleep(0.05)
            status = (await robin.get("/api/model/reload")).json()["reload"]
        assert (status["state"], status["model"], status["model_file"]) == ("done", "next.tar.gz", str(model))
        assert status["paused_seconds"] >= 0.05, "the bot was paused while Rasa loaded the model"
        assert hub.rasa.reloads == [str(model)]

    with_hub(tmp_path, story, rasa, tracked=False, FRONTLINE_PROJECT_DIR=str(tmp_path))
