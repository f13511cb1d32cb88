"""The demo shop: creates and seeds the embedded order database that `make run` and the tests use.

`python -m actions.orders.demo_shop [--reset]` prepares `SHOP_DATABASE_URL` (a SQLite file by default). The data is
generated from a fixed seed, relative to today's date so deliveries are always plausible, and includes the
showcase orders that README.md and the tests refer to by number.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import random
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from actions.orders import shop_schema as t
from actions.orders.order_system import OrderStatus, RefundStatus
from actions.settings import Settings
from bot.store.database import create_engine

logger = logging.getLogger(__name__)

CARRIERS = ("DHL", "UPS", "FedEx", "USPS", "DPD")
PAYMENT_METHODS = ("Visa", "Mastercard", "PayPal", "Apple Pay", "American Express", "bank transfer")
DELAY_REASONS = (
    "severe weather at the carrier's sorting hub",
    "a backlog at the regional distribution centre",
    "a customs inspection",
    "a missed connection between depots",
)
PRODUCTS = (
    ("SKU-1001", "Merino wool jumper", "89.00"),
    ("SKU-1002", "Waterproof trail jacket", "149.00"),
    ("SKU-1003", "Organic cotton T-shirt", "24.00"),
    ("SKU-1004", "Slim-fit chinos", "59.00"),
    ("SKU-1005", "Leather ankle boots", "129.00"),
    ("SKU-1006", "Running shoes", "99.00"),
    ("SKU-1007", "Canvas backpack", "69.00"),
    ("SKU-1008", "Stainless steel water bottle", "19.50"),
    ("SKU-1009", "Wireless earbuds", "79.99"),
    ("SKU-1010", "Phone case", "14.99"),
    ("SKU-1011", "Ceramic coffee mugs (set of 4)", "32.00"),
    ("SKU-1012", "Linen bed sheets, double", "110.00"),
    ("SKU-1013", "Scented candle", "18.00"),
    ("SKU-1014", "Yoga mat", "39.00"),
    ("SKU-1015", "Cast iron skillet", "45.00"),
    ("SKU-1016", "Desk lamp", "54.00"),
    ("SKU-1017", "Kids' rain boots", "29.00"),
    ("SKU-1018", "Wool scarf", "35.00"),
    ("SKU-1019", "Sunglasses", "65.00"),
    ("SKU-1020", "Travel pillow", "22.00"),
    ("SKU-1021", "Bluetooth speaker", "89.99"),
    ("SKU-1022", "Cookbook: Weeknight Dinners", "27.00"),
    ("SKU-1023", "Houseplant pot, large", "38.00"),
    ("SKU-1024", "Bamboo cutting board", "26.00"),
    ("SKU-1025", "Smartwatch strap", "24.99"),
)
FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Mateo",
    "Sofia",
    "Lucas",
    "Mia",
    "Arjun",
    "Zara",
    "Ethan",
    "Aisha",
    "Leo",
    "Hannah",
    "Kenji",
    "Priya",
    "Oscar",
    "Ines",
    "Tomasz",
    "Grace",
    "Yusuf",
    "Freya",
    "Diego",
    "Nora",
    "Samuel",
    "Leila",
    "Finn",
    "Maya",
    "Jonas",
)
LAST_NAMES = (
    "Smith",
    "Garcia",
    "Nguyen",
    "Kowalski",
    "Müller",
    "Rossi",
    "Dubois",
    "Silva",
    "Johansson",
    "Patel",
    "O'Brien",
    "Kim",
    "Novak",
    "Haddad",
    "Jensen",
    "Costa",
    "Yamamoto",
    "Walker",
    "Ibrahim",
    "Fischer",
)
STREETS = ("High Street", "Station Road", "Maple Avenue", "Church Lane", "Park Road", "Mill Street", "Elm Grove")
CITIES = (
    ("London", "SW1A 1AA", "United Kingdom"),
    ("Manchester", "M1 2AB", "United Kingdom"),
    ("Dublin", "D02 X285", "Ireland"),
    ("Berlin", "10115", "Germany"),
    ("Paris", "75002", "France"),
    ("Amsterdam", "1012 AB", "Netherlands"),
    ("Madrid", "28013", "Spain"),
    ("New York, NY", "10001", "United States"),
    ("Toronto, ON", "M5V 2T6", "Canada"),
)
STATUS_WEIGHTS = (
    (OrderStatus.PENDING, 10),
    (OrderStatus.PROCESSING, 12),
    (OrderStatus.SHIPPED, 16),
    (OrderStatus.OUT_FOR_DELIVERY, 8),
    (OrderStatus.DELIVERED, 30),
    (OrderStatus.DELAYED, 8),
    (OrderStatus.CANCELLED, 6),
    (OrderStatus.RETURNED, 5),
    (OrderStatus.REFUNDED, 5),
)


@dataclasses.dataclass(frozen=True)
class Showcase:
    """An order with a fixed number and story, so humans and tests can talk about it."""

    number: str
    customer: str
    status: OrderStatus
    placed_days_ago: int
    note: str


SHOWCASE_CUSTOMERS = (
    ("C0001", "Anna Freeman", "anna.freeman@example.com"),
    ("C0002", "Ben Okafor", "ben.okafor@example.com"),
    ("C0003", "Chloé Martin", "chloe.martin@example.com"),
)
SHOWCASE_ORDERS = (
    Showcase("00123842", "C0001", OrderStatus.SHIPPED, 3, "shipped with DHL, arriving in two days"),
    Showcase("00000108", "C0001", OrderStatus.PENDING, 0, "just placed: free to cancel"),
    Showcase("00054321", "C0001", OrderStatus.DELIVERED, 8, "delivered five days ago: refundable"),
    Showcase("04587345", "C0002", OrderStatus.DELAYED, 9, "delayed in transit, new date set"),
    Showcase("00012345", "C0002", OrderStatus.PROCESSING, 1, "being packed: cancelling costs the fee"),
    Showcase("00077777", "C0002", OrderStatus.RETURNED, 20, "returned, refund requested and under way"),
    Showcase("00088888", "C0003", OrderStatus.OUT_FOR_DELIVERY, 4, "with the courier today"),
    Showcase("00099999", "C0003", OrderStatus.CANCELLED, 6, "cancelled and refunded"),
    Showcase("00066666", "C0003", OrderStatus.REFUNDED, 40, "returned and refunded in full"),
    Showcase("00033333", "C0003", OrderStatus.DELIVERED, 70, "delivered two months ago: outside the window"),
    Showcase("00500500", "C0001", OrderStatus.DELIVERED, 6, "an espresso machine worth €899: a person refunds it"),
)
SHOWCASE_ITEMS = {"00500500": (("SKU-9001", "Dual-boiler espresso machine", "899.00"),)}


class DemoShopBuilder:
    """Generates the rows; one instance per database, deterministic for a given seed and date."""

    def __init__(self, today: dt.date, seed: int = 20261130) -> None:
        self._today = today
        self._rng = random.Random(seed)
        self._numbers: set[str] = {s.number for s in SHOWCASE_ORDERS}
        self._invoice_seq = 1000
        self._refund_seq = 5000

    def build(self, conn: Connection, customers: int = 60, orders: int = 240) -> None:
        customer_ids = self._insert_customers(conn, customers)
        for showcase in SHOWCASE_ORDERS:
            self._insert_order(conn, showcase.number, showcase.customer, showcase.status, showcase.placed_days_ago)
        for _ in range(orders - len(SHOWCASE_ORDERS)):
            status = self._rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
            self._insert_order(conn, self._new_number(), self._rng.choice(customer_ids), status, None)

    def _insert_customers(self, conn: Connection, count: int) -> list[str]:
        rows = [
            {"id": cid, "name": name, "email": email, "phone": "+44 20 7946 0000", "created_at": self._at(400)}
            for cid, name, email in SHOWCASE_CUSTOMERS
        ]
        used_emails = {r["email"] for r in rows}
        while len(rows) < count:
            first, last = self._rng.choice(FIRST_NAMES), self._rng.choice(LAST_NAMES)
            local = f"{first}.{last}".lower().replace("'", "").replace("ü", "u")
            email = f"{local}{self._rng.randint(1, 99)}@example.org"
            if email in used_emails:
                continue
            used_emails.add(email)
            rows.append(
                {
                    "id": f"C{len(rows) + 1:04d}",
                    "name": f"{first} {last}",
                    "email": email,
                    "phone": f"+44 7700 9{self._rng.randint(0, 99999):05d}",
                    "created_at": self._at(self._rng.randint(30, 900)),
                }
            )
        conn.execute(insert(t.customers), rows)
        return [r["id"] for r in rows]

    def _insert_order(
        self, conn: Connection, number: str, customer_id: str, status: OrderStatus, placed_days_ago: int | None
    ) -> None:
        rng = self._rng
        placed_days_ago = placed_days_ago if placed_days_ago is not None else _typical_age(rng, status)
        placed_at = self._at(placed_days_ago)
        if number in SHOWCASE_ITEMS:
            items = [
                {"order_number": number, "sku": sku, "name": name, "quantity": 1, "unit_price": Decimal(price)}
                for sku, name, price in SHOWCASE_ITEMS[number]
            ]
        else:
            items = [
                {
                    "order_number": number,
                    "sku": sku,
                    "name": name,
                    "quantity": rng.randint(1, 2),
                    "unit_price": Decimal(p),
                }
                for sku, name, p in rng.sample(PRODUCTS, rng.randint(1, 3))
            ]
        total = sum((i["unit_price"] * i["quantity"] for i in items), Decimal("0")) + Decimal("4.99")
        customer = conn.execute(select(t.customers.c.name).where(t.customers.c.id == customer_id)).scalar_one()
        city, postcode, country = rng.choice(CITIES)
        currency = _currency(country)
        address = f"{customer}, {rng.randint(1, 220)} {rng.choice(STREETS)}, {city} {postcode}, {country}"
        shipped = status not in {OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.CANCELLED}
        carrier = rng.choice(CARRIERS) if shipped else None
        tracking = f"{rng.randint(10**11, 10**12 - 1)}" if shipped else None
        expected, original, delivered_at, delay_reason = self._delivery(status, placed_days_ago)
        if number == "00123842":
            carrier, expected = "DHL", self._today + dt.timedelta(days=2)
        if number in SHOWCASE_ITEMS:
            city, postcode, country = CITIES[3]
            currency = _currency(country)
            address = f"{customer}, 8 Linienstraße, {city} {postcode}, {country}"
        conn.execute(
            insert(t.orders).values(
                number=number,
                customer_id=customer_id,
                status=status.value,
                placed_at=placed_at,
                total=total,
                currency=currency,
                shipping_address=address,
                carrier=carrier,
                tracking_number=tracking,
                expected_delivery=expected,
                original_expected_delivery=original,
                delivered_at=delivered_at,
                delay_reason=delay_reason,
                payment_method=rng.choice(PAYMENT_METHODS),
                updated_at=placed_at,
            )
        )
        conn.execute(insert(t.order_items), items)
        if status != OrderStatus.PENDING:
            self._invoice_seq += 1
            conn.execute(
                insert(t.invoices).values(
                    invoice_number=f"INV-{self._invoice_seq}",
                    order_number=number,
                    issued_at=placed_at.date(),
                    amount=total,
                    currency=currency,
                )
            )
        self._refunds(conn, number, status, total, placed_days_ago)

    def _delivery(
        self, status: OrderStatus, placed_days_ago: int
    ) -> tuple[dt.date | None, dt.date | None, dt.datetime | None, str | None]:
        rng, today = self._rng, self._today
        if status in {OrderStatus.PENDING, OrderStatus.PROCESSING}:
            return today + dt.timedelta(days=rng.randint(3, 6)), None, None, None
        if status == OrderStatus.SHIPPED:
            return today + dt.timedelta(days=rng.randint(1, 3)), None, None, None
        if status == OrderStatus.OUT_FOR_DELIVERY:
            return today, None, None, None
        if status == OrderStatus.DELAYED:
            original = today - dt.timedelta(days=rng.randint(1, 3))
            return today + dt.timedelta(days=rng.randint(2, 4)), original, None, rng.choice(DELAY_REASONS)
        if status in {OrderStatus.DELIVERED, OrderStatus.RETURNED, OrderStatus.REFUNDED}:
            days_ago = max(placed_days_ago - rng.randint(2, 4), 0)
            delivered = dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(rng.randint(8, 19), 30))
            return delivered.date(), None, delivered, None
        return None, None, None, None

    def _refunds(self, conn: Connection, number: str, status: OrderStatus, total: Decimal, age: int) -> None:
        if status == OrderStatus.RETURNED:
            state, paid = RefundStatus.REQUESTED, None
        elif status in {OrderStatus.REFUNDED, OrderStatus.CANCELLED}:
            state, paid = RefundStatus.PAID, self._at(max(age - 5, 0))
        else:
            return
        self._refund_seq += 1
        requested = self._at(min(age, 2) if state == RefundStatus.REQUESTED else max(age - 2, 0))
        conn.execute(
            insert(t.refunds).values(
                refund_id=f"RF-{self._refund_seq}",
                order_number=number,
                amount=total,
                status=state.value,
                reason="order cancelled" if status == OrderStatus.CANCELLED else "item returned",
                requested_at=requested,
                expected_by=(requested + dt.timedelta(days=5)).date(),
                paid_at=paid,
                requested_by="customer",
            )
        )

    def _new_number(self) -> str:
        while True:
            number = f"{self._rng.randint(100000, 9999999):08d}"
            if number not in self._numbers:
                self._numbers.add(number)
                return number

    def _at(self, days_ago: int) -> dt.datetime:
        return dt.datetime.combine(self._today - dt.timedelta(days=days_ago), dt.time(10, 15))


def _typical_age(rng: random.Random, status: OrderStatus) -> int:
    ranges = {
        OrderStatus.PENDING: (0, 1),
        OrderStatus.PROCESSING: (0, 2),
        OrderStatus.SHIPPED: (1, 4),
        OrderStatus.OUT_FOR_DELIVERY: (2, 6),
        OrderStatus.DELAYED: (6, 12),
        OrderStatus.DELIVERED: (5, 90),
        OrderStatus.CANCELLED: (1, 60),
        OrderStatus.RETURNED: (10, 40),
        OrderStatus.REFUNDED: (20, 120),
    }
    low, high = ranges[status]
    return rng.randint(low, high)


def _currency(country: str) -> str:
    return {"United Kingdom": "GBP", "United States": "USD", "Canada": "CAD"}.get(country, "EUR")


def create_demo_shop(engine: Engine, today: dt.date | None = None, reset: bool = False) -> bool:
    """Create the tables and seed them when empty; returns whether it seeded."""
    if reset:
        t.metadata.drop_all(engine)
    t.metadata.create_all(engine)
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(t.orders)).scalar_one():
            return False
        DemoShopBuilder(today or dt.date.today()).build(conn)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Create and seed the demo shop database.")
    parser.add_argument("--reset", action="store_true", help="drop everything and seed again")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    url = Settings.from_env().shop_database_url
    engine = create_engine(url)
    seeded = create_demo_shop(engine, reset=args.reset)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(t.orders)).scalar_one()
    engine.dispose()  # closing the last connection folds SQLite's write-ahead log into the file
    logger.info("demo shop %s: %s orders at %s", "seeded" if seeded else "already there", count, engine.url)


if __name__ == "__main__":
    main()
