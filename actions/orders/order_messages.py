"""How orders, refunds and invoices read to a customer: one place for the wording of every order fact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from actions.orders.order_system import Invoice, Order, OrderItem, OrderStatus, Refund, RefundStatus

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CAD": "CA$"}


def money(amount: Decimal, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


def day(date: dt.date | None, today: dt.date | None = None) -> str:
    if date is None:
        return "a date we'll confirm by email"
    today = today or dt.date.today()
    if date == today:
        return "today"
    if date == today + dt.timedelta(days=1):
        return "tomorrow"
    return f"{date:%A} {date.day} {date:%B}"


def order_label(order: Order) -> str:
    return f"order #{order.number}"


def status_sentence(order: Order, today: dt.date | None = None) -> str:
    """What is happening with the order, without personal details (safe for an unverified customer)."""
    label = order_label(order).capitalize()
    status = order.status
    if status == OrderStatus.PENDING:
        return (
            f"{label} is confirmed and waiting to be packed. Expected delivery: {day(order.expected_delivery, today)}."
        )
    if status == OrderStatus.PROCESSING:
        return (
            f"{label} is being packed in our warehouse and will ship soon. "
            f"Expected delivery: {day(order.expected_delivery, today)}."
        )
    if status == OrderStatus.SHIPPED:
        return (
            f"{label} is on its way with {order.carrier or 'our carrier'}. "
            f"It should arrive {_on(order.expected_delivery, today)}."
        )
    if status == OrderStatus.OUT_FOR_DELIVERY:
        return f"{label} is out for delivery with {order.carrier or 'our carrier'} and should arrive today."
    if status == OrderStatus.DELAYED:
        return (
            f"I'm sorry: {order_label(order)} is delayed"
            f"{f' because of {order.delay_reason}' if order.delay_reason else ''}. "
            f"It was due {_on(order.original_expected_delivery, today)}; the new expected delivery date is "
            f"{day(order.expected_delivery, today)}."
        )
    if status == OrderStatus.DELIVERED:
        when = order.delivered_at.date() if order.delivered_at else order.expected_delivery
        return f"{label} was delivered {_on(when, today)}."
    if status == OrderStatus.CANCELLED:
        return f"{label} was cancelled."
    if status == OrderStatus.RETURNED:
        return f"{label} was returned to us; the refund is being handled."
    return f"{label} was returned and refunded in full."


def details_sentence(order: Order) -> str:
    """Items, address and tracking: only for a verified customer."""
    items = ", ".join(f"{i.quantity} × {i.name}" for i in order.items)
    lines = [f"Items: {items} (total {money(order.total, order.currency)})."]
    lines.append(f"Delivery address: {order.shipping_address}.")
    if order.tracking_url:
        lines.append(f"Track the parcel with {order.carrier}: {order.tracking_url}")
    elif order.tracking_number:
        lines.append(f"Tracking number ({order.carrier}): {order.tracking_number}.")
    return "\n".join(lines)


def delay_options() -> str:
    return (
        "What you can do: wait for the new date (we'll email you if it changes again), or a person from our team "
        "can chase the carrier for you. If it arrives too late to be useful, you can return it for a full refund."
    )


def return_path(order: Order) -> str:
    return (
        f"{order_label(order).capitalize()} has already left our warehouse ({order.status.label}), so it can't be "
        "cancelled any more. Once it arrives you can return it within 30 days for a full refund: go to 'My orders', "
        "choose 'Return items' and print the free return label, or refuse the parcel at the door."
    )


def cancellation_question(order: Order) -> str:
    refund = order.total - order.cancellation_fee
    fee = (
        f"Cancelling now costs a {money(order.cancellation_fee, order.currency)} fee because it's already being "
        f"packed, so you'd get {money(refund, order.currency)} back."
        if order.cancellation_fee > 0
        else f"Cancelling is free: you'd get the full {money(order.total, order.currency)} back."
    )
    return f"{status_sentence(order)} {fee} Shall I cancel {order_label(order)}?"


def refund_question(order: Order, amount: Decimal, items: Sequence[OrderItem] = ()) -> str:
    """What a refund would return, and where to, asked before any money moves; `items` for part of the order."""
    if items:
        what = f"Shall I refund {item_list(items)} from {order_label(order)}: {money(amount, order.currency)}"
        return (
            f"{what} to {paid_with(order.payment_method)}? You'll get a free return label for "
            f"{'it' if len(items) == 1 and items[0].quantity == 1 else 'them'} by email, and the money arrives within "
            "5 working days of us receiving the return."
        )
    left = (
        ""
        if amount == order.total
        else f" (what is left of {money(order.total, order.currency)} after earlier refunds)"
    )
    return (
        f"{order_label(order).capitalize()} holds {item_list(order.items)}. Shall I refund "
        f"{money(amount, order.currency)}{left} to {paid_with(order.payment_method)}? If there's an item to send back, "
        "you'll get a free return label by email, and the money arrives within 5 working days of us receiving it."
    )


def not_in_order_question(order: Order, missing: Sequence[str]) -> str:
    """Said plainly when the customer names something the order does not hold, before asking which item."""
    named = " or ".join(f"“{name}”" for name in missing)
    return (
        f"I can't see {named} in {order_label(order)}: it holds {item_list(order.items)}. "
        "Which would you like refunded?"
    )


def paid_with(method: str, whose: str = "your") -> str:
    """Where a refund goes: 'your Visa', 'the bank account you paid from' (or the customer's, for an agent)."""
    if method.strip().lower() == "bank transfer":
        return "the bank account " + ("you" if whose == "your" else "the customer") + " paid from"
    return f"{whose} {method}"


def item_list(items: Sequence[OrderItem]) -> str:
    return ", ".join(f"{i.quantity} × {i.name}" for i in items)


def refund_sentence(refund: Refund, currency: str, today: dt.date | None = None) -> str:
    amount = money(refund.amount, currency)
    if refund.status == RefundStatus.PAID:
        paid = refund.paid_at.date() if refund.paid_at else None
        return f"Refund {refund.refund_id} of {amount} was paid {_on(paid, today)}. Banks can take 2–3 days to show it."
    if refund.status == RefundStatus.REJECTED:
        return f"Refund {refund.refund_id} of {amount} was declined. A person from our team can explain why."
    if refund.status == RefundStatus.APPROVED:
        return (
            f"Refund {refund.refund_id} of {amount} is approved and will reach you by {day(refund.expected_by, today)}."
        )
    return (
        f"Refund {refund.refund_id} of {amount} is being processed; you should have it by "
        f"{day(refund.expected_by, today)}."
    )


def invoice_sentence(invoice: Invoice) -> str:
    return (
        f"Here's invoice {invoice.invoice_number} for order #{invoice.order_number} "
        f"({money(invoice.amount, invoice.currency)}, issued {invoice.issued_at:%d %B %Y}): {invoice.url}"
    )


def _on(date: dt.date | None, today: dt.date | None) -> str:
    text = day(date, today)
    return text if text in {"today", "tomorrow"} or date is None else f"on {text}"
