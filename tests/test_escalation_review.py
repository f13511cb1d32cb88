"""Escalations the bot missed, in the trainers' review inbox: found in Rasa's real tracker store, labelled
needs_person or fine, and exported as escalation examples the judgement learns from."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import inspect

from bot.core.review_inbox import ReviewInbox
from bot.core.review_items import ReviewError
from bot.domain.escalation import rules_for
from bot.rasa.escalation_examples import load_examples
from bot.store import schema as t
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine
from bot.store.records import NewMessage
from tests.hub_clients import AgentClient
from tests.rasa_stack import PROJECT_ROOT, RasaStack
from tests.review_databases import run

RULES = rules_for()
NEAR_PERSON = round(RULES.needs_person - RULES.review_margin / 2, 3)
"""A "person should step in" probability just under the threshold, whatever escalation.yml says."""
ANSWER = ("utter_track_order",)
ACKNOWLEDGED = ("action_acknowledge_feelings", "utter_track_order")
HANDED_OVER = ("action_handoff",)


def parse(
    text: str,
    intent: str = "track_order",
    level: str = "none",
    person: float = 0.05,
    strong: float = 0.02,
    topics: dict[str, float] | None = None,
    entities: list[dict[str, Any]] | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Rasa's parse data of a message with the escalation judgement's emotion and judgement in it."""
    mild = 0.8 if level == "mild" else 0.1
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
        "emotion": {
            "score": 0.4 if level != "none" else 0.0,
            "level": level,
            "label": "frustration" if level != "none" else "neutral",
            "cues": ["annoyance"] if level != "none" else [],
            "strength": {"none": round(1 - mild - strong, 3), "mild": mild, "strong": strong},
            "kinds": {"anger": 0.1, "frustration": 0.8, "distress": 0.1},
        },
        "judgement": {"topics": topics or {"fraud": 0.01, "legal": 0.02}, "person": person},
    }


def converse(rasa: SQLTrackerStore, sender: str, *turns: tuple[dict[str, Any], tuple[str, ...]]) -> None:
    """Customer messages, each followed by the bot's actions, saved by Rasa's tracker store as Rasa saves them."""

    async def save():
        tracker = await rasa.retrieve(sender) or DialogueStateTracker(sender, [])
        if not tracker.events:
            tracker.update(ActionExecuted("action_session_start"))
            tracker.update(SessionStarted())
            tracker.update(ActionExecuted("action_listen"))
        for parse_data, actions in turns:
            tracker.update(UserUttered(parse_data["text"], parse_data["intent"], parse_data["entities"], parse_data))
            for action in actions:
                tracker.update(ActionExecuted(action))
                if action.startswith("utter_"):
                    tracker.update(BotUttered("an answer"))
            tracker.update(ActionExecuted("action_listen"))
        await rasa.save(tracker)

    run(save())


UPSET = "where is my parcel, this is getting ridiculous"


def upset(text: str = UPSET, **scores: Any) -> dict[str, Any]:
    return parse(text, level="mild", **scores)


def asks_for_a_person(intent: str = "contact_human_agent") -> dict[str, Any]:
    return parse("can I talk to a real person", intent=intent)


def open_items(inbox: ReviewInbox) -> list:
    return run(inbox.items())


def test_an_upset_customer_who_then_asks_for_a_person_is_a_missed_escalation(rasa, inbox):
    converse(
        rasa,
        "conv-1",
        (parse("hi"), ("utter_greet",)),
        (upset(), ACKNOWLEDGED),
        (parse("it says out for delivery since monday"), ANSWER),
        (asks_for_a_person(), HANDED_OVER),
    )

    assert run(inbox.refresh()) == 1

    [item] = open_items(inbox)
    assert (item.conversation_id, item.text, item.reason, item.kind) == (
        "conv-1",
        UPSET,
        "missed_escalation",
        "escalation",
    )
    assert (item.predicted_intent, item.confidence) == ("track_order", pytest.approx(0.95))
    assert item.scores == {
        "emotion": {"level": "mild", "label": "frustration", "strong": 0.02},
        "person": 0.05,
        "asked_for_person": {"intent": "contact_human_agent", "messages_later": 2},
    }
    assert item.to_json()["kind"] == "escalation" and item.to_json()["scores"] == item.scores


def test_asking_for_customer_service_counts_and_every_upset_message_before_it_lands(rasa, inbox):
    strongly = parse("THIS IS A JOKE", level="strong", strong=0.2)
    converse(
        rasa,
        "conv-1",
        (upset(), ACKNOWLEDGED),
        (strongly, ("utter_offer_human",)),
        (asks_for_a_person("contact_customer_service"), HANDED_OVER),
    )

    run(inbox.refresh())

    assert [(i.text, i.reason, i.scores["asked_for_person"]["messages_later"]) for i in open_items(inbox)] == [
        (UPSET, "missed_escalation", 2),
        ("THIS IS A JOKE", "missed_escalation", 1),
    ]


@pytest.mark.parametrize(
    "turns",
    [
        pytest.param([(upset(), HANDED_OVER), (asks_for_a_person(), HANDED_OVER)], id="handed over at once"),
        pytest.param(
            [(upset(), ACKNOWLEDGED), (parse("still nothing"), HANDED_OVER), (asks_for_a_person(), HANDED_OVER)],
            id="handed over before the customer asked",
        ),
        pytest.param(
            [(upset(), ACKNOWLEDGED), (parse("ok thanks", intent="thank"), ANSWER), (parse("bye", "goodbye"), ())],
            id="never asked for a person",
        ),
        pytest.param(
            [(upset(), ACKNOWLEDGED), *[(parse(f"and now {n}?"), ANSWER) for n in range(3)], (asks_for_a_person(), ())],
            id="asked four messages later",
        ),
        pytest.param(
            [(parse("where is my parcel"), ANSWER), (asks_for_a_person(), HANDED_OVER)], id="calm before asking"
        ),
        pytest.param([(parse("/complaint", level="mild"), ANSWER), (asks_for_a_person(), ())], id="a button"),
    ],
)
def test_no_missed_escalation_when_the_bot_handed_over_or_nobody_asked(rasa, inbox, turns):
    converse(rasa, "conv-1", *turns)

    assert run(inbox.refresh()) == 0
    assert open_items(inbox) == []


def test_a_new_session_separates_the_upset_message_from_the_request(rasa, inbox):
    converse(rasa, "conv-1", (upset(), ACKNOWLEDGED))

    async def new_session():
        tracker = await rasa.retrieve("conv-1")
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        await rasa.save(tracker)

    run(new_session())
    converse(rasa, "conv-1", (asks_for_a_person(), HANDED_OVER))

    assert run(inbox.refresh()) == 0


def test_a_message_close_to_a_threshold_lands_with_the_thresholds_it_came_near(rasa, inbox):
    fraud = RULES.topics["fraud"].threshold - RULES.review_margin / 3
    text = "there's a payment on my card from you I don't recognise"
    converse(
        rasa,
        "conv-1",
        (parse(text, intent="payment_issue", person=NEAR_PERSON, topics={"fraud": fraud}), ANSWER),
        (parse("ok"), ANSWER),
    )

    assert run(inbox.refresh()) == 1

    [item] = open_items(inbox)
    assert (item.text, item.reason, item.kind, item.predicted_intent) == (
        text,
        "near_threshold",
        "escalation",
        "payment_issue",
    )
    assert item.scores["near"] == {
        "needs_person": {"score": NEAR_PERSON, "threshold": RULES.needs_person},
        "topic:fraud": {"score": round(fraud, 3), "threshold": RULES.topics["fraud"].threshold},
    }
    assert item.scores["person"] == NEAR_PERSON


def test_no_near_miss_when_handed_over_or_far_from_every_threshold(rasa, inbox):
    far = RULES.needs_person - RULES.review_margin - 0.05
    converse(
        rasa,
        "conv-1",
        (parse("near but handed over", person=NEAR_PERSON), HANDED_OVER),
        (parse("far from it", person=far), ANSWER),
        (parse("over it, so the bot decided", person=RULES.needs_person), HANDED_OVER),
    )

    assert run(inbox.refresh()) == 0


def test_a_near_miss_the_customer_then_asks_a_person_about_becomes_a_missed_escalation(rasa, inbox):
    converse(rasa, "conv-1", (upset(person=NEAR_PERSON), ACKNOWLEDGED))
    assert run(inbox.refresh()) == 1
    [near] = open_items(inbox)
    assert near.reason == "near_threshold"

    converse(rasa, "conv-1", (asks_for_a_person(), HANDED_OVER))

    assert run(inbox.refresh()) == 0
    [item] = open_items(inbox)
    assert (item.id, item.reason) == (near.id, "missed_escalation")
    assert item.scores["near"] == {"needs_person": {"score": NEAR_PERSON, "threshold": RULES.needs_person}}
    assert item.scores["asked_for_person"] == {"intent": "contact_human_agent", "messages_later": 1}


def test_a_reviewed_near_miss_stays_as_the_trainer_left_it(rasa, inbox, tess):
    converse(rasa, "conv-1", (upset(person=NEAR_PERSON), ACKNOWLEDGED))
    run(inbox.refresh())
    [near] = open_items(inbox)
    run(inbox.label(near.id, "fine", tess))

    converse(rasa, "conv-1", (asks_for_a_person(), HANDED_OVER))
    run(inbox.refresh())

    [item] = run(inbox.items("labelled"))
    assert (item.reason, item.label) == ("near_threshold", "fine")
    assert open_items(inbox) == []


def test_refreshing_again_or_asking_twice_adds_no_duplicate(rasa, store, inbox):
    converse(rasa, "conv-1", (upset(), ACKNOWLEDGED), (asks_for_a_person(), ("utter_offer_human",)))
    assert [run(inbox.refresh()), run(inbox.refresh())] == [1, 0]

    converse(rasa, "conv-1", (asks_for_a_person(), HANDED_OVER))

    assert run(inbox.refresh()) == 0
    assert run(ReviewInbox(store.engine).refresh()) == 0
    assert [i.reason for i in open_items(inbox)] == ["missed_escalation"]


def test_a_message_the_bot_was_unsure_of_is_in_the_inbox_once_per_question(rasa, inbox):
    converse(rasa, "conv-1", (upset(confidence=0.4), ACKNOWLEDGED), (asks_for_a_person(), HANDED_OVER))

    assert run(inbox.refresh()) == 2

    assert sorted((i.text, i.reason, i.kind) for i in open_items(inbox)) == [
        (UPSET, "low_confidence", "intent"),
        (UPSET, "missed_escalation", "escalation"),
    ]


def test_an_escalation_item_does_not_keep_a_not_understood_handoff_from_bringing_the_message(rasa, store, inbox):
    chat = run(store.current_conversation(run(store.customer("web", "browser-1"))))
    run(store.add_customer_message(chat.id, NewMessage("customer", "gift wrap it?? ugh")))
    converse(rasa, chat.id, (parse("gift wrap it?? ugh", person=NEAR_PERSON), ANSWER))
    run(store.queue(chat.id, reason="not_understood", priority="normal", summary="s", packet={}, source="bot"))

    assert run(inbox.refresh()) == 2

    assert sorted(i.reason for i in open_items(inbox)) == ["near_threshold", "not_understood"]


def test_an_escalation_item_is_labelled_needs_person_or_fine_and_nothing_else(rasa, inbox, tess):
    converse(
        rasa,
        "conv-1",
        (upset("one"), ACKNOWLEDGED),
        (upset("two"), ACKNOWLEDGED),
        (asks_for_a_person(), HANDED_OVER),
    )
    run(inbox.refresh())
    one, two = open_items(inbox)

    for bad in ("track_order", "needs_a_person", "Fine", "yes"):
        with pytest.raises(ReviewError) as error:
            run(inbox.label(one.id, bad, tess))
        assert (error.value.status, error.value.code) == (422, "bad_escalation_label")

    labelled = [run(inbox.label(one.id, " needs_person ", tess)), run(inbox.label(two.id, "fine", tess))]

    assert [(i.status, i.label, i.trainer_name) for i in labelled] == [
        ("labelled", "needs_person", "Tess Trainer"),
        ("labelled", "fine", "Tess Trainer"),
    ]
    assert run(inbox.counts()) == {"open": 0, "labelled": 2, "dismissed": 0}


def test_an_intent_item_refuses_the_escalation_labels(rasa, inbox, tess):
    converse(rasa, "conv-1", (parse("wrap it", confidence=0.3), ANSWER))
    run(inbox.refresh())
    [item] = open_items(inbox)

    for label in ("needs_person", "fine"):
        with pytest.raises(ReviewError) as error:
            run(inbox.label(item.id, label, tess))
        assert (error.value.status, error.value.code) == (422, "not_an_escalation")

    assert run(inbox.label(item.id, "gift_wrapping", tess)).label == "gift_wrapping"


def test_an_existing_database_gains_the_scores_table_at_start(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    t.metadata.create_all(engine, tables=[t.agents, t.review_items, t.review_cursor])
    assert not inspect(engine).has_table("hub_review_scores")

    ConversationStore(engine).create_schema()

    assert inspect(engine).has_table("hub_review_scores")
    engine.dispose()


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """What the hub's export may write to: a copy of the project's training data, never the real one."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    (root / "data" / "escalation" / "reviewed.yml").unlink(missing_ok=True)
    return root


@pytest.fixture
def lone_hub(tmp_path, store, demo_shop_template, project_copy) -> Iterator[RasaStack]:
    """The real hub process on its own (no Rasa server: the inbox only reads Rasa's events from the database),
    on the database `store` made."""
    workdir = tmp_path / "stack"
    workdir.mkdir()
    stack = RasaStack(workdir, demo_shop_template)
    stack.start_hub(
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}", "FRONTLINE_PROJECT_DIR": str(project_copy)}
    )
    try:
        yield stack
    finally:
        stack.stop_hub()


def test_the_inbox_shows_a_missed_escalation_a_trainer_labels_it_and_the_export_writes_it(lone_hub, rasa, project_copy):
    text = "this is so frustrating, order 00123842 still hasn't come, mail me at jane.doe@example.org"
    order = {"entity": "order_id", "value": "00123842", "start": 30, "end": 38}
    converse(rasa, "conv-http", (upset(text, entities=[order]), ACKNOWLEDGED), (asks_for_a_person(), HANDED_OVER))

    async def scenario():
        trainer = AgentClient(lone_hub.hub_url)
        try:
            await trainer.login("demo.trainer")
            [item] = (await trainer.get("/api/review")).json()["items"]
            path = f"/api/review/{item['id']}/label"
            as_intent = await trainer.post(path, {"intent": "track_order"})
            labelled = await trainer.post(path, {"label": "needs_person"})
            exported = (await trainer.post("/api/review/export")).json()["export"]
        finally:
            await trainer.close()
        return item, as_intent, labelled, exported

    item, as_intent, labelled, exported = run(scenario())

    assert (item["text"], item["reason"], item["kind"]) == (text, "missed_escalation", "escalation")
    assert item["scores"]["emotion"]["level"] == "mild"
    assert item["scores"]["asked_for_person"] == {"intent": "contact_human_agent", "messages_later": 1}
    assert as_intent.status_code == 422 and as_intent.json()["error"]["code"] == "bad_escalation_label"
    assert labelled.status_code == 200 and labelled.json()["item"]["label"] == "needs_person"
    assert exported["escalation_path"] == "data/escalation/reviewed.yml"
    assert exported["per_escalation_label"] == {"needs_person": 1} and exported["examples"] == 0
    written = project_copy / "data" / "escalation" / "reviewed.yml"
    assert "00123842" not in written.read_text() and "jane.doe" not in written.read_text()
    alone = project_copy / "written-alone"
    alone.mkdir()
    shutil.copy(written, alone / "reviewed.yml")
    [example] = load_examples(alone)
    assert example.person is True and example.text.startswith("this is so frustrating, order ")
    assert example.labelled_feeling is False
