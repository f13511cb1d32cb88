"""Changing the delivery address: validated, confirmed, stored; explained when the order has left."""

from __future__ import annotations

import asyncio

from actions.shipping_address import ActionAskAddressConfirmed, ActionChangeAddress, ValidateAddressForm, clean_address
from tests.trackers import make_tracker, run_action, slot_events, texts

NEW_ADDRESS = "Anna Freeman, 12 Rose Street, Edinburgh EH2 2PR, United Kingdom"


def validate(address):
    tracker = make_tracker(
        address,
        "inform",
        slots={"order_id": "00000108", "verified_customer_id": "C0001", "requested_slot": "shipping_address"},
        active_loop="address_form",
        candidates={"shipping_address": address},
    )
    return run_action(ValidateAddressForm(), tracker)


def test_a_full_address_is_accepted_as_one_clean_line():
    assert clean_address("  12 Rose\tStreet\n Edinburgh\x00 EH2 ") == "12 Rose Street Edinburgh EH2"


def test_an_address_without_a_number_is_asked_again(shop):
    messages, events = validate("somewhere nice")
    assert slot_events(events)["shipping_address"] is None
    assert "full address" in texts(messages)


def test_a_huge_address_is_refused_with_the_limit(shop):
    messages, events = validate("1 Long Road " * 100)
    assert slot_events(events)["shipping_address"] is None
    assert "300 characters" in texts(messages)


def test_the_customer_sees_the_address_before_confirming(shop):
    tracker = make_tracker(slots={"order_id": "00000108", "shipping_address": NEW_ADDRESS})
    messages, _ = run_action(ActionAskAddressConfirmed(), tracker)
    assert NEW_ADDRESS in texts(messages)


def test_a_confirmed_change_is_stored(shop):
    slots = {
        "order_id": "00000108",
        "verified_customer_id": "C0001",
        "shipping_address": NEW_ADDRESS,
        "address_confirmed": True,
    }
    messages, events = run_action(ActionChangeAddress(), make_tracker("yes", "affirm", slots=slots))
    assert asyncio.run(shop.get_order("00000108")).shipping_address == NEW_ADDRESS
    assert "Done" in texts(messages)
    assert slot_events(events)["shipping_address"] is None


def test_html_in_an_address_is_stored_as_plain_text(shop):
    hostile = "<script>alert(1)</script> 5 Main St, Leeds LS1 1AA"
    slots = {
        "order_id": "00000108",
        "verified_customer_id": "C0001",
        "shipping_address": hostile,
        "address_confirmed": True,
    }
    run_action(ActionChangeAddress(), make_tracker("yes", "affirm", slots=slots))
    assert asyncio.run(shop.get_order("00000108")).shipping_address == hostile


def test_after_shipping_the_address_cannot_change_and_the_carrier_is_suggested(shop):
    slots = {"order_id": "00123842", "shipping_address": NEW_ADDRESS, "address_confirmed": True}
    messages, _ = run_action(ActionChangeAddress(), make_tracker("yes", "affirm", slots=slots))
    assert asyncio.run(shop.get_order("00123842")).shipping_address != NEW_ADDRESS
    assert "ask DHL to redirect" in texts(messages)
