"""The trainers' review inbox for real: customers on the widget, Rasa's tracker store, the console API, the export."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.hub_clients import AgentClient, CustomerClient, reload_model
from tests.rasa_stack import MODEL, PROJECT_ROOT, TOKEN, VENV_BIN, RasaStack

GIFTS = [
    "could you wrap it as a present for my mum, my email is jane.doe@example.org",
    "is order 00123842 able to come with a gift note",
    "gift wrap with a ribbon please, card to jane.doe@example.org",
    "do you do wrapping paper and a little card for 00123842",
]
UNSURE = ["what's the weather like in Paris", "blorp fizzle wump", *GIFTS]


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    """What an export may write to: a copy of the project's training data, never the real one."""
    root = tmp_path_factory.mktemp("project")
    for name in ("config.yml", "domain.yml", "escalation.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    return root


@pytest.fixture(scope="module")
def review_hub(assistant: RasaStack, project_copy: Path) -> Iterator[RasaStack]:
    """The hub on the same database as Rasa's tracker store, as docs/architecture.md deploys it."""
    assistant.start_hub(
        env={
            "DATABASE_URL": f"sqlite:///{assistant.workdir / 'frontline.db'}",
            "FRONTLINE_PROJECT_DIR": str(project_copy),
        }
    )
    try:
        yield assistant
    finally:
        assistant.stop_hub()


def model_in(project: Path) -> Path:
    """The trained model copied into the hub's project: a reload loads only what is in its models/."""
    (project / "models").mkdir(exist_ok=True)
    shutil.copyfile(MODEL, project / "models" / MODEL.name)
    return project / "models" / MODEL.name


def run(scenario):
    return asyncio.run(scenario())


async def every_item(trainer: AgentClient) -> list[dict]:
    """Every open item, oldest first: GET /api/review sends a page at a time (at most 100), newest first."""
    found: list[dict] = []
    while True:
        page = (await trainer.get(f"/api/review?limit=100&offset={len(found)}")).json()
        found += page["items"]
        if not page["items"] or len(found) >= page["total"]:
            return sorted(found, key=lambda item: item["id"])


def unsure_by_rasa(hub: RasaStack, text: str) -> bool:
    intent = hub.parse(text)["intent"]
    return intent["name"] in {"nlu_fallback", "out_of_scope"} or intent["confidence"] < 0.7


async def chat(hub: RasaStack, *texts: str, until_state: str | None = None) -> str:
    """Say each text and wait for the bot's answer; with `until_state`, also for the conversation to reach it.

    The hub hands over after it has sent the bot's last words, so a test of what a handoff brings waits for it.
    """
    customer = CustomerClient(hub.hub_url)
    try:
        await customer.connect()
        for text in texts:
            seen = len(customer.events)
            await customer.say(text)
            await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot", after=seen)
        if until_state is not None:
            await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == until_state)
        return customer.conversation_id
    finally:
        await customer.close()


def test_what_the_bot_was_unsure_about_lands_in_the_inbox_and_nothing_else(review_hub):
    async def scenario():
        conversation_id = await chat(review_hub, "where is my order 00123842?", *UNSURE)
        trainer = AgentClient(review_hub.hub_url)
        try:
            await trainer.login("demo.trainer")
            inbox = (await trainer.get("/api/review")).json()
            items = await every_item(trainer)
        finally:
            await trainer.close()
        # Intent items: escalation items (near misses of escalation.yml's thresholds) ask another question.
        mine = [i for i in items if i["conversation_id"] == conversation_id and i["kind"] == "intent"]
        expected = [text for text in UNSURE if unsure_by_rasa(review_hub, text)]
        assert len(expected) >= 2
        assert [item["text"] for item in mine] == expected
        for item in mine:
            assert item["reason"] in {"nlu_fallback", "out_of_scope", "low_confidence"}
            assert item["predicted_intent"] and 0 <= item["confidence"] <= 1
        assert "track_order" in inbox["intents"] and "nlu_fallback" not in inbox["intents"]

    run(scenario)


def test_a_handoff_for_not_understood_brings_its_messages_to_the_inbox(review_hub):
    async def scenario():
        conversation_id = await chat(
            review_hub, "track my order", "55555551", "55555552", "yes please", until_state="queued"
        )
        trainer = AgentClient(review_hub.hub_url)
        try:
            await trainer.login("demo.trainer")
            items = await every_item(trainer)
        finally:
            await trainer.close()
        reasons = {
            item["text"]: item["reason"]
            for item in items
            if item["conversation_id"] == conversation_id and item["kind"] == "intent"
        }
        assert reasons.get("55555552") == "not_understood" or reasons.get("yes please") == "not_understood"

    run(scenario)


def test_only_trainers_and_supervisors_see_the_inbox(review_hub):
    async def scenario():
        for username, status in (("demo.agent", 403), ("demo.trainer", 200), ("demo.supervisor", 200)):
            client = AgentClient(review_hub.hub_url)
            try:
                await client.login(username)
                assert (await client.get("/api/review")).status_code == status
            finally:
                await client.close()
        anonymous = AgentClient(review_hub.hub_url)
        try:
            assert (await anonymous.get("/api/review")).status_code == 401
        finally:
            await anonymous.close()

    run(scenario)


def test_labelled_messages_export_to_valid_training_data_without_personal_data(review_hub, project_copy):
    async def scenario():
        await chat(review_hub, *UNSURE)
        trainer = AgentClient(review_hub.hub_url)
        try:
            await trainer.login("demo.trainer")
            items = await every_item(trainer)
            by_text = {item["text"]: item for item in items if item["kind"] == "intent"}
            weather = by_text[UNSURE[0]]
            # Which gift requests the model is unsure about depends on its training; one is enough.
            gifts = [by_text[text] for text in GIFTS if text in by_text]
            assert gifts, "none of the gift-wrapping requests reached the inbox"
            gift = gifts[0]
            assert (
                await trainer.post(f"/api/review/{weather['id']}/label", {"intent": "out_of_scope"})
            ).status_code == 200
            assert (
                await trainer.post(f"/api/review/{gift['id']}/label", {"intent": "gift_wrapping"})
            ).status_code == 200
            bad = await trainer.post(f"/api/review/{weather['id']}/label", {"intent": "Robert'); DROP TABLE x;--"})
            assert bad.status_code == 422
            assert (await trainer.post("/api/review/999999/dismiss")).status_code == 404
            rest = [item for item in items if item["id"] not in {weather["id"], gift["id"]}]
            for item in rest:
                assert (await trainer.post(f"/api/review/{item['id']}/dismiss")).status_code == 200
            exported = (await trainer.post("/api/review/export")).json()["export"]
            again = (await trainer.post("/api/review/export")).json()["export"]
            left = (await trainer.get("/api/review")).json()
        finally:
            await trainer.close()
        assert exported["per_intent"].get("out_of_scope", 0) >= 1
        assert exported["new_intents"] == {"gift_wrapping": 1}
        assert again["examples"] == exported["examples"]
        assert left["counts"]["open"] == 0 and left["items"] == []

        reviewed = (project_copy / exported["path"]).read_text()
        assert "# labelled by Robin (demo trainer) on " in reviewed
        assert "what's the weather like in Paris" in reviewed
        assert reviewed.count("what's the weather like in Paris") == 1
        new_intents = (project_copy / "review" / "new_intents.yml").read_text()
        assert "gift_wrapping" in new_intents
        assert "jane.doe@example.org" not in new_intents and "00123842" not in new_intents
        parsed = yaml.safe_load(new_intents)
        assert parsed["nlu"][0]["intent"] == "gift_wrapping"

    run(scenario)
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "data", "validate", "--fail-on-warnings"],
        cwd=project_copy,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_a_model_reload_while_customers_write_loses_no_message_and_hands_nobody_over(review_hub, project_copy):
    questions = {
        "how long does delivery take?": "working day",
        "which payment methods do you accept": "PayPal",
        "what's your refund policy": "within 30 days of delivery",
        "how do I create an account": "Create an account",
        "I forgot my password": "Forgot your password?",
        "how much does it cost to cancel": "cancellation fee",
    }

    async def customer_writes() -> list[tuple[str, str]]:
        customer = CustomerClient(review_hub.hub_url)
        try:
            await customer.connect()
            for text in questions:
                seen = len(customer.events)
                await customer.say(text)
                await customer.wait_for(
                    lambda e: e["type"] == "message" and e["message"]["sender"] in {"bot", "system"},
                    after=seen,
                    timeout=120,
                )
                await asyncio.sleep(0.3)
            await asyncio.sleep(1.0)
            return [(m["sender"], m["text"]) for m in customer.messages() if m["sender"] != "customer"]
        finally:
            await customer.close()

    async def scenario():
        trainer = AgentClient(review_hub.hub_url)
        try:
            await trainer.login("demo.trainer")
            writing = [asyncio.create_task(customer_writes()) for _ in range(3)]
            await asyncio.sleep(1.0)
            reload = await reload_model(trainer.http, str(model_in(project_copy)))
            conversations = await asyncio.gather(*writing)
        finally:
            await trainer.close()
        assert reload["state"] == "done", reload
        assert reload["model"] and reload["paused_seconds"] > 0
        for replies in conversations:
            assert {sender for sender, _ in replies} == {"bot"}, replies
            said = "\n".join(text for _, text in replies)
            assert all(expected in said for expected in questions.values()), said

    run(scenario)


def test_a_reload_needs_a_trainer_or_the_rasa_token(review_hub):
    async def scenario():
        agent = AgentClient(review_hub.hub_url)
        try:
            assert (await agent.post("/api/model/reload", {})).status_code == 401
            assert (await agent.get("/api/model/reload")).status_code == 401
            await agent.login("demo.agent")
            assert (await agent.post("/api/model/reload", {})).status_code == 403
            assert (await agent.get("/api/model/reload")).status_code == 403
            await agent.http.post("/api/logout", json={})
            missing = await agent.http.post(
                "/api/model/reload",
                json={"model_file": "models/nothing.tar.gz"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            forged = await agent.http.post(
                "/api/model/reload", json={}, headers={"Authorization": "Bearer not-the-token"}
            )
        finally:
            await agent.close()
        assert missing.status_code == 422 and missing.json()["error"]["code"] == "no_model"
        assert forged.status_code == 401

    run(scenario)
