"""What the customer reads when an agent has moved money on their order: a message from the shop, in the chat's
system voice (the agent's own bubble is for what they write), saying what happened and when the money arrives.

The arrival date is the one the order system gives the refund (`Refund.expected_by`: the demo shop's
REFUND_PAYOUT_DAYS after the request); a shop that gives none is trusted to email when it has paid.
"""

from __future__ import annotations

from decimal import Decimal

from actions.orders.order_messages import day, money, order_label, paid_with
from actions.orders.order_system import Order, Refund, Voucher


def refund_text(order: Order, refund: Refund) -> str:
    """'A refund of €40.00 for order #00054321 is on its way back to your Visa; you should have it by …'"""
    return (
        f"A refund of {money(refund.amount, order.currency)} for {order_label(order)} is on its way back to "
        f"{paid_with(order.payment_method)}; {arrival(refund)} Reference: {refund.refund_id}."
    )


def cancelled_text(order: Order, refund_amount: Decimal, refund: Refund | None) -> str:
    """The cancel, and the money it gives back (the total less any cancellation fee), if any."""
    text = f"{order_label(order).capitalize()} has been cancelled."
    if refund_amount <= 0:
        return text
    fee = (
        f" (the order total less the {money(order.cancellation_fee, order.currency)} cancellation fee)"
        if order.cancellation_fee > 0
        else ""
    )
    return (
        f"{text} A refund of {money(refund_amount, order.currency)}{fee} is on its way back to "
        f"{paid_with(order.payment_method)}; {arrival(refund)}"
    )


def voucher_text(voucher: Voucher) -> str:
    return (
        f"You have been given a {money(voucher.amount, voucher.currency)} voucher: use the code {voucher.code} "
        "on your next order."
    )


def arrival(refund: Refund | None) -> str:
    if refund is None or refund.expected_by is None:
        return "we'll email you as soon as it has been paid."
    return f"you should have it by {day(refund.expected_by)}."
