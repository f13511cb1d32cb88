"""Tracking an order: status for anyone with the number, personal details only for the verified customer."""

from __future__ import annotations

from actions.track_order import ActionTrackOrder
from bot.domain.tokens import sign_customer_id
from tests.trackers import make_tracker, run_action, slot_events, texts


def track(slots, **kwargs):
    return run_action(ActionTrackOrder(), make_tracker("where is my order", "track_order", slots=slots, **kwargs))


def test_a_shipped_order_says_carrier_and_date_but_nothing_personal_to_a_stranger(shop):
    messages, _ = track({"order_id": "00123842"})
    said = texts(messages)
    assert "on its way with DHL" in said
    assert "Station Road" not in said and "Anna" not in said
    assert "tracking link" in said and "email address" in said


def test_the_verified_customer_gets_items_address_and_tracking_link(shop):
    messages, _ = track({"order_id": "00123842", "verified_customer_id": "C0001"})
    said = texts(messages)
    assert "Delivery address: Anna Freeman" in said
    assert "https://www.dhl.com/track?tracking-id=" in said


def test_giving_the_email_after_tracking_verifies_and_shows_the_details(shop):
    messages, events = track({"order_id": "00123842", "email": "ANNA.FREEMAN@example.com"})
    assert "Delivery address" in texts(messages)
    assert slot_events(events)["verified_customer_id"] == "C0001"


def test_a_wrong_email_shows_no_details(shop):
    entities = [{"entity": "email", "value": "mallory@example.org"}]
    messages, events = track({"order_id": "00123842", "email": "mallory@example.org"}, entities=entities)
    assert "Delivery address" not in texts(messages)
    assert "doesn't match" in texts(messages)
    assert "verified_customer_id" not in slot_events(events)


def test_a_channel_vouched_customer_sees_details_of_their_own_order_only(shop):
    metadata = {"customer_id": "C0002", "customer_signature": sign_customer_id("C0002", "frontline-dev-channel-secret")}
    own, _ = track({"order_id": "04587345"}, metadata=metadata)
    other, _ = track({"order_id": "00123842"}, metadata=metadata)
    assert "Delivery address" in texts(own)
    assert "Delivery address" not in texts(other)


def test_a_delayed_order_apologises_gives_the_new_date_and_the_options(shop):
    messages, _ = track({"order_id": "04587345"})
    said = texts(messages)
    assert said.startswith("I'm sorry")
    assert "new expected delivery date" in said
    assert "What you can do" in said
    assert any(b["payload"] == "/contact_human_agent" for m in messages for b in m.get("buttons") or [])


def test_an_email_given_earlier_for_something_else_is_not_called_wrong(shop):
    messages, _ = track({"order_id": "00123842", "email": "newsletter.reader@example.net"})
    assert "doesn't match" not in texts(messages)
    assert "tell me the email address" in texts(messages)


def test_two_unknown_numbers_offer_a_person(shop):
    messages, events = track({"order_id": None, "order_lookup_failures": 2})
    slots = slot_events(events)
    assert "still can't find" in texts(messages)
    assert slots["handoff_reason"] == "not_understood"
    assert {"event": "active_loop", "name": "human_offer_form"} in [
        {"event": e["event"], "name": e.get("name")} for e in events if e["event"] == "active_loop"
    ]
    assert slots["order_lookup_failures"] == 0


def test_an_unreachable_order_system_apologises_and_offers_a_person(shop, monkeypatch):
    monkeypatch.setenv("ORDER_SYSTEM", "http")
    monkeypatch.setenv("SHOP_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SHOP_API_TIMEOUT", "0.5")
    from actions.orders import order_system_provider as provider

    provider.settings.cache_clear()
    provider.order_system.cache_clear()
    messages, events = track({"order_id": "00123842"})
    assert "can't reach our order system" in texts(messages)
    assert slot_events(events)["handoff_reason"] == "bot_error"
    assert "Traceback" not in texts(messages)
