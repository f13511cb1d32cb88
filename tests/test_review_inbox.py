"""The trainers' review inbox: what the bot was unsure about, from Rasa's own tracker store and the hub's handoffs."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import inspect

from bot.core.review_inbox import ReviewInbox
from bot.core.review_items import ReviewError
from bot.store.conversations import ConversationStore
from bot.store.records import Conversation, NewMessage
from tests.review_databases import NOW, run


def parse(text: str, ranking: list[tuple[str, float]], entities: list[dict[str, Any]] | None = None) -> dict:
    """Rasa's parse data: the top of the ranking is the intent."""
    name, confidence = ranking[0]
    return {
        "text": text,
        "intent": {"name": name, "confidence": confidence},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": entities or [],
    }


def say_to_rasa(rasa: SQLTrackerStore, sender: str, *turns: tuple[str, dict]) -> None:
    """The customer's messages and the bot's answers, saved by Rasa's tracker store as Rasa saves them."""

    async def save():
        tracker = await rasa.retrieve(sender) or DialogueStateTracker(sender, [])
        for text, parse_data in turns:
            tracker.update(UserUttered(text, parse_data["intent"], parse_data["entities"], parse_data))
            tracker.update(ActionExecuted("utter_an_answer"))
            tracker.update(BotUttered("an answer"))
            tracker.update(ActionExecuted("action_listen"))
        await rasa.save(tracker)

    run(save())


def conversation(store: ConversationStore, external_id: str = "browser-1") -> Conversation:
    customer = run(store.customer("web", external_id))
    return run(store.current_conversation(customer))


def customer_says(store: ConversationStore, chat: Conversation, *texts: str) -> None:
    for text in texts:
        run(store.add_customer_message(chat.id, NewMessage("customer", text)))


def hand_off(store: ConversationStore, chat: Conversation, reason: str = "not_understood") -> None:
    run(store.queue(chat.id, reason=reason, priority="normal", summary="s", packet={}, source="bot"))


def open_items(inbox: ReviewInbox) -> list:
    return run(inbox.items())


def test_a_fallback_lands_with_its_reason_and_the_best_real_intent(rasa, inbox):
    say_to_rasa(rasa, "conv-1", ("blorp fizzle", parse("blorp fizzle", [("nlu_fallback", 0.5), ("greet", 0.31)])))

    assert run(inbox.refresh()) == 1
    [item] = open_items(inbox)
    assert (item.conversation_id, item.text, item.reason) == ("conv-1", "blorp fizzle", "nlu_fallback")
    assert (item.predicted_intent, item.confidence) == ("greet", pytest.approx(0.31))
    assert (item.status, item.label, item.trainer_name, item.created_at) == ("open", None, None, NOW)


def test_an_out_of_scope_message_lands_even_when_the_bot_was_sure(rasa, inbox):
    text = "what's the weather like in Paris"
    say_to_rasa(rasa, "conv-1", (text, parse(text, [("out_of_scope", 0.96), ("delivery_options", 0.02)])))

    run(inbox.refresh())

    [item] = open_items(inbox)
    assert (item.reason, item.predicted_intent, item.confidence) == (
        "out_of_scope",
        "delivery_options",
        pytest.approx(0.02),
    )


def test_a_fallback_with_no_other_intent_ranked_has_no_prediction(rasa, inbox):
    say_to_rasa(rasa, "conv-1", ("zzz", parse("zzz", [("nlu_fallback", 0.5)])))

    run(inbox.refresh())

    [item] = open_items(inbox)
    assert (item.predicted_intent, item.confidence) == (None, None)


def test_a_message_below_the_threshold_lands_as_low_confidence(rasa, inbox):
    text = "can you wrap it as a present"
    say_to_rasa(rasa, "conv-1", (text, parse(text, [("place_order", 0.55), ("change_order", 0.3)])))

    run(inbox.refresh())

    [item] = open_items(inbox)
    assert (item.reason, item.predicted_intent, item.confidence) == ("low_confidence", "place_order", 0.55)


def test_confident_messages_and_button_payloads_stay_out(rasa, inbox):
    say_to_rasa(
        rasa,
        "conv-1",
        ("where is my order", parse("where is my order", [("track_order", 0.98)])),
        ("just at the line", parse("just at the line", [("greet", 0.7)])),
        ("/track_order", parse("/track_order", [("track_order", 1.0)])),
        ("/gift_wrapping", parse("/gift_wrapping", [("nlu_fallback", 0.5), ("greet", 0.1)])),
        ("/place_order", parse("/place_order", [("place_order", 0.2)])),
    )

    assert run(inbox.refresh()) == 0
    assert open_items(inbox) == []


def test_the_nlu_entities_come_with_the_item_without_rasas_extra_keys(rasa, inbox):
    text = "can order 00123842 be gift wrapped"
    entity = {
        "entity": "order_id",
        "value": "00123842",
        "start": 10,
        "end": 18,
        "extractor": "DIETClassifier",
        "confidence_entity": 0.99,
    }
    say_to_rasa(rasa, "conv-1", (text, parse(text, [("nlu_fallback", 0.5), ("track_order", 0.4)], [entity])))

    run(inbox.refresh())

    [item] = open_items(inbox)
    assert item.entities == ({"entity": "order_id", "value": "00123842", "start": 10, "end": 18},)
    assert item.to_json()["entities"] == [{"entity": "order_id", "value": "00123842", "start": 10, "end": 18}]


def test_refreshing_twice_adds_nothing_the_second_time(rasa, inbox):
    say_to_rasa(rasa, "conv-1", ("blorp", parse("blorp", [("nlu_fallback", 0.5), ("greet", 0.2)])))

    assert [run(inbox.refresh()), run(inbox.refresh())] == [1, 0]
    assert len(open_items(inbox)) == 1


def test_new_events_after_the_last_look_are_picked_up(rasa, inbox):
    say_to_rasa(rasa, "conv-1", ("blorp", parse("blorp", [("nlu_fallback", 0.5), ("greet", 0.2)])))
    run(inbox.refresh())

    say_to_rasa(rasa, "conv-1", ("fizzle", parse("fizzle", [("nlu_fallback", 0.5), ("greet", 0.2)])))
    say_to_rasa(rasa, "conv-2", ("wump", parse("wump", [("greet", 0.4)])))

    assert run(inbox.refresh()) == 2
    assert [(i.conversation_id, i.text) for i in open_items(inbox)] == [
        ("conv-1", "blorp"),
        ("conv-1", "fizzle"),
        ("conv-2", "wump"),
    ]


def test_a_second_inbox_on_the_same_database_does_not_take_items_in_again(rasa, store, inbox):
    say_to_rasa(rasa, "conv-1", ("blorp", parse("blorp", [("nlu_fallback", 0.5), ("greet", 0.2)])))
    run(inbox.refresh())

    assert run(ReviewInbox(store.engine).refresh()) == 0


def test_without_rasas_events_table_refresh_adds_nothing_and_does_not_fail(store, inbox):
    assert not inspect(store.engine).has_table("events")

    assert run(inbox.refresh()) == 0
    assert open_items(inbox) == []


def test_without_rasas_events_table_not_understood_handoffs_still_land(store, inbox):
    chat = conversation(store)
    customer_says(store, chat, "gift wrap?")
    hand_off(store, chat)

    assert run(inbox.refresh()) == 1
    assert [(i.text, i.reason, i.predicted_intent) for i in open_items(inbox)] == [
        ("gift wrap?", "not_understood", None)
    ]


def test_a_not_understood_handoff_brings_the_customer_messages_before_it(store, inbox):
    chat = conversation(store)
    customer_says(store, chat, "hello", "/greet", "can you wrap it", "as a present I mean")
    run(store.add_messages(chat.id, [NewMessage("bot", "Sorry, I didn't get that.")]))
    hand_off(store, chat)
    customer_says(store, chat, "after the handoff")

    run(inbox.refresh())

    assert [(i.conversation_id, i.text, i.reason) for i in open_items(inbox)] == [
        (chat.id, "can you wrap it", "not_understood"),
        (chat.id, "as a present I mean", "not_understood"),
    ]


def test_handoffs_for_other_reasons_bring_nothing(store, inbox):
    chat = conversation(store)
    customer_says(store, chat, "I want a person")
    hand_off(store, chat, reason="requested")

    assert run(inbox.refresh()) == 0


def test_a_handoff_does_not_repeat_what_rasas_events_already_brought(rasa, store, inbox):
    chat = conversation(store)
    customer_says(store, chat, "blorp fizzle", "wump")
    say_to_rasa(
        rasa,
        chat.id,
        ("blorp fizzle", parse("blorp fizzle", [("nlu_fallback", 0.5), ("greet", 0.3)])),
        ("wump", parse("wump", [("greet", 0.9)])),
    )
    hand_off(store, chat)

    assert run(inbox.refresh()) == 2
    assert [(i.text, i.reason) for i in open_items(inbox)] == [
        ("blorp fizzle", "nlu_fallback"),
        ("wump", "not_understood"),
    ]
    assert run(inbox.refresh()) == 0


def test_labelling_takes_intent_names_old_and_new(rasa, inbox, tess):
    names = ["gift_wrapping", "ab", "track_order", "x2", "  gift_wrapping  "]
    say_to_rasa(rasa, "conv-1", *[(f"wrap it {n}", parse(f"wrap it {n}", [("greet", 0.2)])) for n in range(len(names))])
    run(inbox.refresh())

    labelled = [run(inbox.label(item.id, name, tess)) for item, name in zip(open_items(inbox), names, strict=True)]

    assert [(i.status, i.label) for i in labelled] == [("labelled", name.strip()) for name in names]


@pytest.mark.parametrize(
    "bad",
    [
        "Gift",
        "x",
        "a b",
        "gift-wrapping",
        "_gift",
        "1gift",
        "",
        "g" * 65,
        "gift'; DROP TABLE hub_review_items; --",
        "gift\nwrapping",
        "géft",
    ],
)
def test_labelling_refuses_what_is_not_an_intent_name(rasa, inbox, tess, bad):
    say_to_rasa(rasa, "conv-1", ("wrap it", parse("wrap it", [("nlu_fallback", 0.5), ("greet", 0.2)])))
    run(inbox.refresh())
    [item] = open_items(inbox)

    with pytest.raises(ReviewError) as error:
        run(inbox.label(item.id, bad, tess))

    assert (error.value.status, error.value.code) == (422, "bad_intent")
    assert [i.id for i in open_items(inbox)] == [item.id]


def test_labelling_or_dismissing_an_unknown_item_is_not_found(inbox, tess):
    with pytest.raises(ReviewError) as labelled:
        run(inbox.label(404, "gift_wrapping", tess))
    with pytest.raises(ReviewError) as dismissed:
        run(inbox.dismiss(404, tess))

    assert (labelled.value.status, labelled.value.code) == (404, "not_found")
    assert (dismissed.value.status, dismissed.value.code) == (404, "not_found")


def test_an_unknown_status_is_refused(inbox):
    with pytest.raises(ReviewError) as error:
        run(inbox.items("closed"))

    assert error.value.status == 400


def test_labelled_and_dismissed_items_leave_the_open_list_and_are_counted(rasa, inbox, tess):
    say_to_rasa(
        rasa,
        "conv-1",
        *[(text, parse(text, [("nlu_fallback", 0.5), ("greet", 0.2)])) for text in ("one", "two", "three", "four")],
    )
    run(inbox.refresh())
    one, two, three, _ = open_items(inbox)

    run(inbox.label(one.id, "gift_wrapping", tess))
    run(inbox.label(three.id, "greet", tess))
    run(inbox.dismiss(two.id, tess))

    assert [i.text for i in open_items(inbox)] == ["four"]
    assert run(inbox.counts()) == {"open": 1, "labelled": 2, "dismissed": 1}
    assert [i.text for i in run(inbox.items("dismissed"))] == ["two"]
    assert {i.text for i in run(inbox.items("labelled"))} == {"one", "three"}


def test_counts_of_an_empty_inbox_are_zero(inbox):
    assert run(inbox.counts()) == {"open": 0, "labelled": 0, "dismissed": 0}


def test_the_trainers_display_name_and_the_time_come_back_on_the_item(rasa, inbox, tess):
    say_to_rasa(rasa, "conv-1", ("wrap it", parse("wrap it", [("nlu_fallback", 0.5), ("greet", 0.2)])))
    run(inbox.refresh())
    [item] = open_items(inbox)

    labelled = run(inbox.label(item.id, "gift_wrapping", tess))

    assert (labelled.trainer_name, labelled.reviewed_at) == ("Tess Trainer", NOW)
    assert labelled.to_json()["reviewed_at"] == "2024-05-06T09:30:00Z"
    [again] = run(inbox.labelled())
    assert again.trainer_name == "Tess Trainer"


def test_labelled_lists_only_the_labelled_items_in_inbox_order(rasa, inbox, tess):
    say_to_rasa(
        rasa,
        "conv-1",
        *[(text, parse(text, [("greet", 0.2)])) for text in ("one", "two", "three")],
    )
    run(inbox.refresh())
    one, two, three = open_items(inbox)

    run(inbox.label(three.id, "greet", tess))
    run(inbox.dismiss(two.id, tess))
    run(inbox.label(one.id, "gift_wrapping", tess))

    assert [(i.text, i.label) for i in run(inbox.labelled())] == [("one", "gift_wrapping"), ("three", "greet")]


def test_a_dismissed_item_can_still_be_labelled_after_all(rasa, inbox, tess):
    say_to_rasa(rasa, "conv-1", ("wrap it", parse("wrap it", [("greet", 0.2)])))
    run(inbox.refresh())
    [item] = open_items(inbox)

    run(inbox.dismiss(item.id, tess))
    run(inbox.label(item.id, "gift_wrapping", tess))

    assert run(inbox.counts()) == {"open": 0, "labelled": 1, "dismissed": 0}


def test_the_button_that_accepts_a_person_does_not_land_after_a_not_understood_handoff(rasa, store, inbox):
    chat = conversation(store)
    customer_says(store, chat, "blorp", "fizzle")
    run(store.add_customer_message(chat.id, NewMessage("customer", "Yes, a person please", {"button": "/affirm"})))
    say_to_rasa(
        rasa,
        chat.id,
        ("blorp", parse("blorp", [("nlu_fallback", 0.5), ("greet", 0.2)])),
        ("fizzle", parse("fizzle", [("nlu_fallback", 0.5), ("greet", 0.2)])),
        ("/affirm", parse("/affirm", [("affirm", 1.0)])),  # ...and sends Rasa the payload
    )
    hand_off(store, chat)

    run(inbox.refresh())

    assert [i.text for i in open_items(inbox)] == ["blorp", "fizzle"]  # also "Yes, a person please"
