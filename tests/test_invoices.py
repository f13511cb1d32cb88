"""Invoices: the order system's link, for the verified customer only."""

from __future__ import annotations

import asyncio

from actions.invoices import ActionSendInvoice, ValidateInvoiceForm
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


def invoice_named(number: str) -> object:
    entity = {"entity": "invoice_id", "value": number, "start": 19, "end": 19 + len(number)}
    return make_tracker(f"send me invoice {number}", "get_invoice", entities=[entity], active_loop="invoice_form")


def test_an_invoice_number_leads_to_its_order_and_the_email_check_still_comes_first(shop):
    invoice = asyncio.run(shop.get_invoice("00054321"))
    assert invoice is not None
    typed = "#" + invoice.invoice_number.removeprefix("INV-")
    messages, events = run_action(ValidateInvoiceForm(), invoice_named(typed))
    slots = slot_events(events)
    assert slots["order_id"] == "00054321"
    assert "requested_slot" not in slots, "the form goes on and asks for the email on the order"
    assert "verified_customer_id" not in slots
    assert "invoices/INV-" not in texts(messages)


def test_an_unknown_invoice_number_is_said_plainly_and_the_order_number_is_asked_for(shop):
    messages, events = run_action(ValidateInvoiceForm(), invoice_named("INV-999999"))
    slots = slot_events(events)
    assert "I couldn't find invoice INV-999999" in texts(messages)
    assert slots.get("order_id") is None
    assert "requested_slot" not in slots, "the form goes on and asks for the order number"


def test_hostile_text_as_an_invoice_number_reaches_no_query(shop):
    messages, events = run_action(ValidateInvoiceForm(), invoice_named("1; DROP TABLE invoices"))
    assert "That doesn't look like an invoice number." in texts(messages)
    assert "DROP" not in texts(messages)
    assert slot_events(events).get("order_id") is None
    assert asyncio.run(shop.get_invoice("00054321")) is not None


def test_an_invoice_number_the_nlu_missed_is_still_found_by_its_prefix(shop):
    invoice = asyncio.run(shop.get_invoice("00054321"))
    assert invoice is not None
    tracker = make_tracker(f"what's on {invoice.invoice_number}?", "check_invoice", active_loop="invoice_form")
    _, events = run_action(ValidateInvoiceForm(), tracker)
    assert slot_events(events)["order_id"] == "00054321"
