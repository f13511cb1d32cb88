"""The one interface through which Frontline reads and changes a shop's orders.

Actions and, later, the agent console depend only on this module; the embedded SQL shop
(`actions.orders.sql_order_system`) and a shop's own HTTP API (`actions.orders.http_order_system`) implement it.
The records are plain frozen dataclasses so both implementations return identical shapes, and the
JSON form (`to_dict`/`from_dict`) is the wire format of the HTTP API.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bot.domain.errors import FrontlineError


class OrderStatus(str, enum.Enum):
    """Where an order is in its life; `delayed` means in transit and late."""

    PENDING = "pending"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    CANCELLED = "cancelled"
    RETURNED = "returned"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def has_left_warehouse(self) -> bool:
        return self in IN_TRANSIT_OR_DONE


NOT_YET_SHIPPED = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSING})
IN_TRANSIT = frozenset({OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELAYED})
IN_TRANSIT_OR_DONE = IN_TRANSIT | {OrderStatus.DELIVERED, OrderStatus.RETURNED, OrderStatus.REFUNDED}


class RefundStatus(str, enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


class OrderSystemError(FrontlineError):
    """Base of everything the order system raises."""


class OrderSystemUnavailable(OrderSystemError):
    """The order system could not be reached or failed; the caller should apologise and offer a person."""

    status = 503
    code = "order_system_unavailable"
    public_message = "The order system is not answering; try again shortly."


class OrderNotFound(OrderSystemError):
    """No order has this number."""

    status = 404
    code = "order_not_found"

    def __init__(self, number: str) -> None:
        super().__init__(f"no order {number}")
        self.number = number


class ActionRefused(OrderSystemError):
    """The shop's rules forbid the change (e.g. cancelling a shipped order); `code` says which rule."""

    status = 422

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


@dataclasses.dataclass(frozen=True)
class OrderItem:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal


@dataclasses.dataclass(frozen=True)
class Refund:
    refund_id: str
    order_number: str
    amount: Decimal
    status: RefundStatus
    requested_at: dt.datetime
    expected_by: dt.date | None
    paid_at: dt.datetime | None
    reason: str


@dataclasses.dataclass(frozen=True)
class Invoice:
    invoice_number: str
    order_number: str
    issued_at: dt.date
    amount: Decimal
    currency: str
    url: str


@dataclasses.dataclass(frozen=True)
class Voucher:
    """Goodwill credit for a customer's next order."""

    code: str
    customer_id: str
    amount: Decimal
    currency: str
    reason: str
    issued_by: str
    issued_at: dt.datetime


def voucher_from_dict(data: Mapping[str, Any]) -> Voucher:
    return Voucher(
        code=str(data["code"]),
        customer_id=str(data["customer_id"]),
        amount=Decimal(str(data["amount"])),
        currency=str(data["currency"]),
        reason=str(data.get("reason", "")),
        issued_by=str(data.get("issued_by", "")),
        issued_at=dt.datetime.fromisoformat(data["issued_at"]),
    )


@dataclasses.dataclass(frozen=True)
class Order:
    number: str
    customer_id: str
    customer_email: str
    customer_name: str
    status: OrderStatus
    placed_at: dt.datetime
    items: Sequence[OrderItem]
    total: Decimal
    currency: str
    shipping_address: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    expected_delivery: dt.date | None
    original_expected_delivery: dt.date | None
    delivered_at: dt.datetime | None
    delay_reason: str | None
    payment_method: str
    cancellation_fee: Decimal

    @property
    def can_be_cancelled(self) -> bool:
        return self.status in NOT_YET_SHIPPED

    @property
    def address_can_change(self) -> bool:
        return self.status in NOT_YET_SHIPPED

    def to_dict(self) -> dict[str, Any]:
        return _to_json(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Order:
        return cls(
            number=str(data["number"]),
            customer_id=str(data["customer_id"]),
            customer_email=str(data["customer_email"]),
            customer_name=str(data["customer_name"]),
            status=OrderStatus(data["status"]),
            placed_at=dt.datetime.fromisoformat(data["placed_at"]),
            items=tuple(
                OrderItem(
                    sku=str(i["sku"]),
                    name=str(i["name"]),
                    quantity=int(i["quantity"]),
                    unit_price=Decimal(str(i["unit_price"])),
                )
                for i in data["items"]
            ),
            total=Decimal(str(data["total"])),
            currency=str(data["currency"]),
            shipping_address=str(data["shipping_address"]),
            carrier=data.get("carrier"),
            tracking_number=data.get("tracking_number"),
            tracking_url=data.get("tracking_url"),
            expected_delivery=_date(data.get("expected_delivery")),
            original_expected_delivery=_date(data.get("original_expected_delivery")),
            delivered_at=_datetime(data.get("delivered_at")),
            delay_reason=data.get("delay_reason"),
            payment_method=str(data["payment_method"]),
            cancellation_fee=Decimal(str(data.get("cancellation_fee", "0"))),
        )


def refund_from_dict(data: Mapping[str, Any]) -> Refund:
    return Refund(
        refund_id=str(data["refund_id"]),
        order_number=str(data["order_number"]),
        amount=Decimal(str(data["amount"])),
        status=RefundStatus(data["status"]),
        requested_at=dt.datetime.fromisoformat(data["requested_at"]),
        expected_by=_date(data.get("expected_by")),
        paid_at=_datetime(data.get("paid_at")),
        reason=str(data.get("reason", "")),
    )


def invoice_from_dict(data: Mapping[str, Any]) -> Invoice:
    return Invoice(
        invoice_number=str(data["invoice_number"]),
        order_number=str(data["order_number"]),
        issued_at=dt.date.fromisoformat(data["issued_at"]),
        amount=Decimal(str(data["amount"])),
        currency=str(data["currency"]),
        url=str(data["url"]),
    )


def to_json(record: Any) -> Any:
    """JSON-ready form of any record above (dates as ISO strings, money as strings)."""
    return _to_json(record)


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class OrderSystem(abc.ABC):
    """What Frontline may ask of a shop's order system.

    Every method raises `OrderSystemUnavailable` when the system cannot answer, so callers have
    exactly one failure to turn into "sorry, shall I get a person?".
    """

    @abc.abstractmethod
    async def get_order(self, number: str) -> Order | None:
        """The order with this canonical number, or None."""

    @abc.abstractmethod
    async def cancel_order(self, number: str, reason: str, actor: str) -> Order:
        """Cancel an order that has not shipped; raises `ActionRefused("already_shipped", ...)` otherwise."""

    @abc.abstractmethod
    async def change_shipping_address(self, number: str, address: str, actor: str) -> Order:
        """Replace the delivery address of an order that has not shipped."""

    @abc.abstractmethod
    async def request_refund(self, number: str, reason: str, actor: str, amount: Decimal | None = None) -> Refund:
        """Open a refund (the whole remaining amount when `amount` is None) if the order's state allows."""

    @abc.abstractmethod
    async def refund_quote(self, number: str) -> Decimal:
        """What a refund of the whole order would be now (what is left after earlier refunds), or the
        `ActionRefused` that `request_refund` would raise: the customer confirms the amount before money moves."""

    @abc.abstractmethod
    async def refunds_for(self, number: str) -> list[Refund]:
        """Refunds of an order, newest first."""

    @abc.abstractmethod
    async def get_invoice(self, number: str) -> Invoice | None:
        """The order's invoice with a link the shop serves, or None when none was issued."""

    @abc.abstractmethod
    async def find_invoice(self, invoice_number: str) -> Invoice | None:
        """The invoice with this number (it names its order), or None when the shop issued none such."""

    @abc.abstractmethod
    async def set_newsletter(self, email: str, subscribed: bool) -> None:
        """Subscribe or unsubscribe an address; idempotent."""

    @abc.abstractmethod
    async def add_review(self, rating: int, text: str, customer_id: str | None, order_number: str | None) -> str:
        """Store a customer's review (rating 1-5) and return its id."""

    @abc.abstractmethod
    async def issue_voucher(self, customer_id: str, amount: Decimal, currency: str, reason: str, actor: str) -> Voucher:
        """Give a customer goodwill credit (an agent's gesture); the amount must be positive."""

    @abc.abstractmethod
    async def vouchers_for(self, customer_id: str) -> list[Voucher]:
        """Goodwill vouchers given to a customer, newest first (an agent sees them before giving another)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Return quietly when the order system answers; raise `OrderSystemUnavailable` otherwise."""

    async def close(self) -> None:  # noqa: B027 - optional hook, most systems hold nothing to release
        """Release connections; the default has none."""
