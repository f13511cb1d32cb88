"""Invoices: the link the order system provides, for the verified customer."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.order_form import OrderFormValidation
from actions.order_task import OrderTaskAction
from actions.orders.order_messages import invoice_sentence
from actions.orders.order_system import Order
from actions.orders.order_system_provider import order_system


class ValidateInvoiceForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_invoice_form"


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
