"""Invoices: the order system's link, for the verified customer only."""

from __future__ import annotations

from actions.invoices import ActionSendInvoice
from tests.trackers import make_tracker, run_action, slot_events, texts


def test_the_verified_customer_gets_the_invoice_link(shop):
    slots = {"order_id": "00054321", "verified_customer_id": "C0001"}
    messages, _ = run_action(ActionSendInvoice(), make_tracker("invoice", "get_invoice", slots=slots))
    assert "http://localhost:8080/shop/invoices/INV-" in texts(messages)


def test_a_pending_order_has_no_invoice_yet(shop):
    slots = {"order_id": "00000108", "verified_customer_id": "C0001"}
    messages, _ = run_action(ActionSendInvoice(), make_tracker("invoice", "get_invoice", slots=slots))
    assert "no invoice for this order yet" in texts(messages)


def test_a_stranger_gets_no_invoice(shop):
    slots = {"order_id": "00054321", "email_failures": 2}
    messages, events = run_action(ActionSendInvoice(), make_tracker("invoice", "get_invoice", slots=slots))
    assert "invoices/INV-" not in texts(messages)
    assert slot_events(events)["handoff_reason"] == "complex"
