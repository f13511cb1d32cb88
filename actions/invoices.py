"""Invoices: the link the order system provides, for the verified customer."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.order_form import OrderFormValidation
from actions.order_task import OrderTaskAction
from actions.orders.invoice_number import canonical_invoice_number, find_invoice_number
from actions.orders.order_messages import invoice_sentence
from actions.orders.order_system import Order
from actions.orders.order_system_provider import order_system

logger = logging.getLogger(__name__)


class ValidateInvoiceForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_invoice_form"

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An invoice number the customer names leads to its order; the email check then proves the order,
        and so the invoice, is theirs."""
        named = [e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == "invoice_id"]
        if not named and (written := find_invoice_number(tracker.latest_message.get("text") or "")):
            named = [written]
        if not named or tracker.get_slot("order_id"):
            return await super().extract_order_id(dispatcher, tracker, domain)
        number = canonical_invoice_number(str(named[0]))
        invoice = await order_system().find_invoice(number) if number else None
        if invoice is not None:
            return {"order_id": invoice.order_number, "invoice_id": invoice.invoice_number}
        logger.info("conversation=%s named an invoice number the shop does not know", tracker.sender_id)
        found = f"I couldn't find invoice {number}." if number else "That doesn't look like an invoice number."
        dispatcher.utter_message(
            text=f"{found} Every invoice belongs to an order, so I can find it from the order number instead."
        )
        return {"invoice_id": None}


class ActionSendInvoice(OrderTaskAction):
    def name(self) -> str:
        return "action_send_invoice"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, order: Order, verified: bool
    ) -> list[EventType]:
        invoice = await order_system().get_invoice(order.number)
        if invoice is None:
            dispatcher.utter_message(
                text="There's no invoice for this order yet: we issue it when the order is confirmed for shipping. "
                "You'll get it by email then, and I can fetch it for you here too."
            )
            return []
        dispatcher.utter_message(
            text=f"{invoice_sentence(invoice)}\nThe link opens the PDF; you can download or print it from there."
        )
        return []
