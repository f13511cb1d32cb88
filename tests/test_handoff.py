"""The handoff packet follows docs/architecture.md's contract and tells the agent the whole story."""

from __future__ import annotations

from actions.handoff import ActionHandoff
from bot.domain.tokens import sign_customer_id
from bot.domain.vocabulary import Priority, Reason
from tests.trackers import make_tracker, run_action, slot_events, user_event


def handoff(tracker):
    messages, events = run_action(ActionHandoff(), tracker)
    packets = [m["custom"]["handoff"] for m in messages if m.get("custom")]
    assert len(packets) == 1
    return messages, events, packets[0]


def test_asking_for_a_person_gives_reason_requested_and_the_history():
    history = [
        user_event("where is order 00123842", "track_order", [{"entity": "order_id", "value": "00123842"}]),
    ]
    tracker = make_tracker(
        "let me talk to a human", "contact_human_agent", slots={"order_id": "00123842"}, history=history
    )
    messages, _, packet = handoff(tracker)
    assert packet["reason"] == "requested" and packet["priority"] == "normal"
    assert packet["reason"] in Reason.words() and packet["priority"] in Priority.words()
    assert packet["order_id"] == "00123842"
    assert packet["entities"] == {"order_id": ["00123842"]}
    assert [i["intent"] for i in packet["intents"]] == ["track_order", "contact_human_agent"]
    assert "track an order" in packet["summary"] and "00123842" in packet["summary"]
    assert "let me talk to a human" in packet["summary"]
    assert "person" in messages[0]["text"]


def test_a_complaint_is_a_complex_case_with_high_priority():
    _, _, packet = handoff(make_tracker("I want to file a complaint", "complaint"))
    assert (packet["reason"], packet["priority"]) == ("complex", "high")
    assert "intent:complaint" in packet["signals"]


def test_an_accepted_offer_keeps_the_reason_it_was_offered_for():
    tracker = make_tracker("yes", "affirm", slots={"handoff_reason": "not_understood"})
    _, events, packet = handoff(tracker)
    assert packet["reason"] == "not_understood"
    assert "accepted_offer" in packet["signals"]
    assert slot_events(events)["handoff_reason"] is None


def test_a_handoff_deactivates_the_active_form():
    tracker = make_tracker("human please", "contact_human_agent", active_loop="cancel_order_form")
    _, events, packet = handoff(tracker)
    assert packet["interrupted_form"] == "cancel_order_form"
    assert {"event": "active_loop", "name": None} in [
        {"event": e["event"], "name": e.get("name")} for e in events if e["event"] == "active_loop"
    ]
    assert slot_events(events)["requested_slot"] is None


def test_emotion_signals_from_the_nlu_reach_the_agent():
    tracker = make_tracker("human now!!!", "contact_human_agent")
    tracker.events[-1]["parse_data"]["emotion"] = {"label": "anger", "score": 0.93}
    _, _, packet = handoff(tracker)
    assert packet["emotion"] == {"label": "anger", "score": 0.93}


def test_a_huge_message_is_cut_in_the_packet():
    _, _, packet = handoff(make_tracker("a" * 10_000, "contact_human_agent"))
    assert len(packet["intents"][-1]["text"]) == 500
    assert len(packet["summary"]) < 400


def test_a_tapped_button_reads_as_a_button_not_as_a_slash_command():
    history = [user_event("where is order 00123842", "track_order")]
    _, _, packet = handoff(make_tracker("/contact_human_agent", "contact_human_agent", history=history))
    assert packet["intents"][-1]["text"] == "(tapped a button)"
    assert packet["intents"][-1]["button"] is True
    assert packet["intents"][-1]["intent"] == "contact_human_agent"
    assert 'Last message: "where is order 00123842"' in packet["summary"]


def test_a_customer_the_shop_page_vouched_for_reaches_the_agent_as_verified():
    secret = "frontline-dev-channel-secret"
    vouched = {"customer_id": "C0001", "customer_signature": sign_customer_id("C0001", secret)}
    _, _, packet = handoff(make_tracker("a person please", "contact_human_agent", metadata=vouched))
    assert packet["customer"]["verified_customer_id"] == "C0001"
    assert packet["customer"]["verified_by"] == "shop_login"
    forged = {"customer_id": "C0001", "customer_signature": "f" * 64}
    _, _, packet = handoff(make_tracker("a person please", "contact_human_agent", metadata=forged))
    assert packet["customer"]["verified_customer_id"] is None
    assert packet["customer"]["verified_by"] is None


def test_a_customer_who_gave_the_orders_email_reaches_the_agent_as_verified_by_email():
    slots = {"verified_customer_id": "C0001", "email": "anna.freeman@example.com"}
    _, _, packet = handoff(make_tracker("a person please", "contact_human_agent", slots=slots))
    assert packet["customer"]["verified_by"] == "email"
