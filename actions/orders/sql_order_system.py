"""The order system as an SQL shop database (the embedded demo shop, or any SQLAlchemy URL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import SQLAlchemyError

from actions.orders import shop_schema as t
from actions.orders.order_system import (
    NOT_YET_SHIPPED,
    ActionRefused,
    Invoice,
    Order,
    OrderItem,
    OrderNotFound,
    OrderStatus,
    OrderSystem,
    OrderSystemUnavailable,
    Refund,
    RefundStatus,
    Voucher,
)
from actions.settings import Settings
from bot.store.database import create_engine, in_transaction

T = TypeVar("T")

CENT = Decimal("0.01")


class SqlOrderSystem(OrderSystem):
    """Reads and changes orders in SQL; each change runs in one transaction and is logged in `order_events`.

    SQLAlchemy is synchronous here (Rasa pins 1.4 without an async driver for SQLite), so every call runs in a
    worker thread to keep the action server's event loop free.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        shop_public_url: str = "http://localhost:8080/shop",
        processing_cancellation_fee: Decimal = Decimal("4.95"),
        refund_window_days: int = 30,
        refund_days: int = 5,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self._engine = engine
        self._shop_public_url = shop_public_url.rstrip("/")
        self._processing_fee = processing_cancellation_fee
        self._refund_window = dt.timedelta(days=refund_window_days)
        self._refund_days = refund_days
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> SqlOrderSystem:
        return cls(
            create_engine(settings.shop_database_url),
            shop_public_url=settings.shop_public_url,
            processing_cancellation_fee=settings.processing_cancellation_fee,
            refund_window_days=settings.refund_window_days,
            refund_days=settings.refund_days,
        )

    async def get_order(self, number: str) -> Order | None:
        return await self._run(lambda conn: self._load_order(conn, number))

    async def cancel_order(self, number: str, reason: str, actor: str) -> Order:
        def cancel(conn: Connection) -> Order:
            order = self._require_order(conn, number, for_update=True)
            if order.status == OrderStatus.CANCELLED:
                raise ActionRefused("already_cancelled", f"Order {number} is already cancelled.")
            if not order.can_be_cancelled:
                raise ActionRefused(
                    "already_shipped",
                    f"Order {number} has already left our warehouse ({order.status.label}).",
                )
            now = self._clock()
            conn.execute(
                update(t.orders)
                .where(t.orders.c.number == number, t.orders.c.status.in_([s.value for s in NOT_YET_SHIPPED]))
                .values(status=OrderStatus.CANCELLED.value, expected_delivery=None, updated_at=now)
            )
            payable = (order.total - order.cancellation_fee).quantize(CENT)
            if payable > 0:
                self._insert_refund(conn, number, payable, RefundStatus.APPROVED, "order cancelled", actor, now)
            self._log(conn, number, actor, "cancelled", f"fee {order.cancellation_fee}; reason: {reason}", now)
            return self._require_order(conn, number)

        return await self._run(cancel)

    async def change_shipping_address(self, number: str, address: str, actor: str) -> Order:
        address = " ".join(address.split())
        if not address:
            raise ActionRefused("empty_address", "The new address is empty.")

        def change(conn: Connection) -> Order:
            order = self._require_order(conn, number, for_update=True)
            if not order.address_can_change:
                raise ActionRefused(
                    "already_shipped",
                    f"Order {number} is {order.status.label}; its address can no longer change.",
                )
            now = self._clock()
            conn.execute(
                update(t.orders).where(t.orders.c.number == number).values(shipping_address=address, updated_at=now)
            )
            self._log(conn, number, actor, "address_changed", f"from: {order.shipping_address}; to: {address}", now)
            return self._require_order(conn, number)

        return await self._run(change)

    async def request_refund(self, number: str, reason: str, actor: str, amount: Decimal | None = None) -> Refund:
        def refund(conn: Connection) -> Refund:
            order = self._require_order(conn, number, for_update=True)
            self._check_refundable(conn, order)
            already = self._refunded_total(conn, number)
            remaining = (order.total - already).quantize(CENT)
            wanted = remaining if amount is None else Decimal(amount).quantize(CENT)
            if wanted <= 0 or wanted > remaining:
                raise ActionRefused(
                    "amount_out_of_range", f"A refund on order {number} can be at most {remaining} {order.currency}."
                )
            now = self._clock()
            refund_id = self._insert_refund(conn, number, wanted, RefundStatus.REQUESTED, reason, actor, now)
            self._log(conn, number, actor, "refund_requested", f"{wanted} {order.currency}; reason: {reason}", now)
            return self._load_refunds(conn, number, refund_id)[0]

        return await self._run(refund)

    async def refund_quote(self, number: str) -> Decimal:
        def quote(conn: Connection) -> Decimal:
            order = self._require_order(conn, number)
            self._check_refundable(conn, order)
            return (order.total - self._refunded_total(conn, number)).quantize(CENT)

        return await self._run(quote)

    async def refunds_for(self, number: str) -> list[Refund]:
        def load(conn: Connection) -> list[Refund]:
            self._require_order(conn, number)
            return self._load_refunds(conn, number)

        return await self._run(load)

    async def get_invoice(self, number: str) -> Invoice | None:
        def load(conn: Connection) -> Invoice | None:
            self._require_order(conn, number)
            row = conn.execute(select(t.invoices).where(t.invoices.c.order_number == number)).first()
            return None if row is None else self._invoice(row)

        return await self._run(load)

    async def find_invoice(self, invoice_number: str) -> Invoice | None:
        def load(conn: Connection) -> Invoice | None:
            row = conn.execute(select(t.invoices).where(t.invoices.c.invoice_number == invoice_number)).first()
            return None if row is None else self._invoice(row)

        return await self._run(load)

    def _invoice(self, row: Row) -> Invoice:
        return Invoice(
            invoice_number=row.invoice_number,
            order_number=row.order_number,
            issued_at=row.issued_at,
            amount=row.amount,
            currency=row.currency,
            url=f"{self._shop_public_url}/invoices/{row.invoice_number}.pdf",
        )

    async def set_newsletter(self, email: str, subscribed: bool) -> None:
        email = email.strip().lower()

        def upsert(conn: Connection) -> None:
            now = self._clock()
            changed = conn.execute(
                update(t.newsletter_subscriptions)
                .where(t.newsletter_subscriptions.c.email == email)
                .values(subscribed=subscribed, updated_at=now)
            ).rowcount
            if not changed:
                conn.execute(
                    insert(t.newsletter_subscriptions).values(email=email, subscribed=subscribed, updated_at=now)
                )

        await self._run(upsert)

    async def add_review(self, rating: int, text: str, customer_id: str | None, order_number: str | None) -> str:
        if not 1 <= rating <= 5:
            raise ActionRefused("bad_rating", "A rating is a whole number from 1 to 5.")

        def add(conn: Connection) -> str:
            result = conn.execute(
                insert(t.reviews).values(
                    rating=rating,
                    text=text.strip(),
                    customer_id=customer_id,
                    order_number=order_number,
                    created_at=self._clock(),
                )
            )
            return str(result.inserted_primary_key[0])

        return await self._run(add)

    async def issue_voucher(self, customer_id: str, amount: Decimal, currency: str, reason: str, actor: str) -> Voucher:
        amount = Decimal(amount).quantize(CENT)
        if amount <= 0:
            raise ActionRefused("amount_out_of_range", "A voucher must be worth more than nothing.")

        def issue(conn: Connection) -> Voucher:
            if conn.execute(select(t.customers.c.id).where(t.customers.c.id == customer_id)).first() is None:
                raise ActionRefused("unknown_customer", f"There is no customer {customer_id}.")
            voucher = Voucher(
                code=f"GW-{secrets.token_hex(4).upper()}",
                customer_id=customer_id,
                amount=amount,
                currency=currency,
                reason=reason,
                issued_by=actor,
                issued_at=self._clock(),
            )
            conn.execute(insert(t.vouchers).values(**dataclasses.asdict(voucher)))
            return voucher

        return await self._run(issue)

    async def vouchers_for(self, customer_id: str) -> list[Voucher]:
        def load(conn: Connection) -> list[Voucher]:
            v = t.vouchers.c
            rows = conn.execute(
                select(t.vouchers).where(v.customer_id == customer_id).order_by(v.issued_at.desc(), v.code)
            ).all()
            return [
                Voucher(
                    code=r.code,
                    customer_id=r.customer_id,
                    amount=r.amount,
                    currency=r.currency,
                    reason=r.reason,
                    issued_by=r.issued_by,
                    issued_at=r.issued_at,
                )
                for r in rows
            ]

        return await self._run(load)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute(select(func.count()).select_from(t.orders)).scalar_one())

    async def close(self) -> None:
        self._engine.dispose()

    async def _run(self, work: Callable[[Connection], T]) -> T:
        try:
            return await in_transaction(self._engine, work)
        except SQLAlchemyError as exc:
            raise OrderSystemUnavailable(f"shop database error: {exc.__class__.__name__}") from exc

    def _require_order(self, conn: Connection, number: str, for_update: bool = False) -> Order:
        order = self._load_order(conn, number, for_update)
        if order is None:
            raise OrderNotFound(number)
        return order

    def _load_order(self, conn: Connection, number: str, for_update: bool = False) -> Order | None:
        query = (
            select(t.orders, t.customers.c.email, t.customers.c.name.label("customer_name"))
            .join(t.customers, t.customers.c.id == t.orders.c.customer_id)
            .where(t.orders.c.number == number)
        )
        if for_update and conn.dialect.name != "sqlite":
            query = query.with_for_update(of=t.orders)
        row = conn.execute(query).first()
        if row is None:
            return None
        items = conn.execute(
            select(t.order_items).where(t.order_items.c.order_number == number).order_by(t.order_items.c.id)
        ).all()
        return self._order_from_row(row, items)

    def _order_from_row(self, row: Row, items: list[Row]) -> Order:
        status = OrderStatus(row.status)
        return Order(
            number=row.number,
            customer_id=row.customer_id,
            customer_email=row.email,
            customer_name=row.customer_name,
            status=status,
            placed_at=row.placed_at,
            items=tuple(OrderItem(sku=i.sku, name=i.name, quantity=i.quantity, unit_price=i.unit_price) for i in items),
            total=row.total,
            currency=row.currency,
            shipping_address=row.shipping_address,
            carrier=row.carrier,
            tracking_number=row.tracking_number,
            tracking_url=_tracking_url(row.carrier, row.tracking_number),
            expected_delivery=row.expected_delivery,
            original_expected_delivery=row.original_expected_delivery,
            delivered_at=row.delivered_at,
            delay_reason=row.delay_reason,
            payment_method=row.payment_method,
            cancellation_fee=self._cancellation_fee(status, row.total),
        )

    def _cancellation_fee(self, status: OrderStatus, total: Decimal) -> Decimal:
        if status == OrderStatus.PROCESSING:
            return min(self._processing_fee, total)
        return Decimal("0.00")

    def _check_refundable(self, conn: Connection, order: Order) -> None:
        open_refund = conn.execute(
            select(t.refunds.c.refund_id).where(
                t.refunds.c.order_number == order.number,
                t.refunds.c.status.in_([RefundStatus.REQUESTED.value, RefundStatus.APPROVED.value]),
            )
        ).first()
        if open_refund is not None:
            raise ActionRefused("refund_open", f"Refund {open_refund.refund_id} for this order is already under way.")
        if order.status in NOT_YET_SHIPPED:
            raise ActionRefused("cancel_instead", "The order has not shipped yet, so it can be cancelled instead.")
        if order.status in {OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY}:
            raise ActionRefused("in_transit", "The order is on its way; a refund is possible once it is delivered.")
        if order.status == OrderStatus.REFUNDED:
            raise ActionRefused("already_refunded", "This order has already been refunded in full.")
        if order.status == OrderStatus.CANCELLED and self._refunded_total(conn, order.number) >= order.total:
            raise ActionRefused("already_refunded", "This order was cancelled and its refund already issued.")
        delivered_at = order.delivered_at if order.status == OrderStatus.DELIVERED else None
        if delivered_at is not None and self._clock() - delivered_at > self._refund_window:
            raise ActionRefused(
                "outside_window", f"The order was delivered more than {self._refund_window.days} days ago."
            )

    def _refunded_total(self, conn: Connection, number: str) -> Decimal:
        total = conn.execute(
            select(func.coalesce(func.sum(t.refunds.c.amount), 0)).where(
                t.refunds.c.order_number == number, t.refunds.c.status != RefundStatus.REJECTED.value
            )
        ).scalar_one()
        return Decimal(total).quantize(CENT)

    def _insert_refund(
        self,
        conn: Connection,
        number: str,
        amount: Decimal,
        status: RefundStatus,
        reason: str,
        actor: str,
        now: dt.datetime,
    ) -> str:
        refund_id = f"RF-{secrets.token_hex(4).upper()}"
        conn.execute(
            insert(t.refunds).values(
                refund_id=refund_id,
                order_number=number,
                amount=amount,
                status=status.value,
                reason=reason,
                requested_at=now,
                expected_by=(now + dt.timedelta(days=self._refund_days)).date(),
                requested_by=actor,
            )
        )
        return refund_id

    def _load_refunds(self, conn: Connection, number: str, refund_id: str | None = None) -> list[Refund]:
        query = select(t.refunds).where(t.refunds.c.order_number == number)
        if refund_id is not None:
            query = query.where(t.refunds.c.refund_id == refund_id)
        rows = conn.execute(query.order_by(t.refunds.c.requested_at.desc())).all()
        return [
            Refund(
                refund_id=r.refund_id,
                order_number=r.order_number,
                amount=r.amount,
                status=RefundStatus(r.status),
                requested_at=r.requested_at,
                expected_by=r.expected_by,
                paid_at=r.paid_at,
                reason=r.reason,
            )
            for r in rows
        ]

    def _log(self, conn: Connection, number: str, actor: str, kind: str, detail: str, now: dt.datetime) -> None:
        conn.execute(insert(t.order_events).values(order_number=number, at=now, actor=actor, kind=kind, detail=detail))


TRACKING_URLS = {
    "DHL": "https://www.dhl.com/track?tracking-id={}",
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "DPD": "https://track.dpd.co.uk/parcels/{}",
}


def _tracking_url(carrier: str | None, tracking_number: str | None) -> str | None:
    if not carrier or not tracking_number or carrier not in TRACKING_URLS:
        return None
    return TRACKING_URLS[carrier].format(tracking_number)
