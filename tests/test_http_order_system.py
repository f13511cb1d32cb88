"""The HTTP order system against a real shop API server that answers from the demo shop database."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar
from urllib.parse import unquote

import pytest
from sqlalchemy import func, inspect, select

from actions.orders import shop_schema as t
from actions.orders.http_order_system import HttpOrderSystem
from actions.orders.order_system import (
    ActionRefused,
    OrderNotFound,
    OrderStatus,
    OrderSystemUnavailable,
    RefundStatus,
)
from actions.orders.sql_order_system import SqlOrderSystem
from actions.settings import Settings
from tests.shop_api_server import ShopApiServer

T = TypeVar("T")

SHIPPED = "00123842"
PENDING = "00000108"
PROCESSING = "00012345"
DELIVERED = "00054321"
RETURNED_WITH_OPEN_REFUND = "00077777"
UNKNOWN = "99999999"
USE_SERVER_KEY = "use the server's key"


def on_shop(
    server: ShopApiServer,
    work: Callable[[HttpOrderSystem], Awaitable[T]],
    *,
    api_key: str | None = USE_SERVER_KEY,
    timeout: float = 2.0,
    base_url: str | None = None,
) -> T:
    """Run `work` with a fresh client, as one conversation turn would, and close the client after."""

    async def scenario() -> T:
        key = server.api_key if api_key == USE_SERVER_KEY else api_key
        shop = HttpOrderSystem(base_url or server.url, key, timeout=timeout)
        try:
            return await work(shop)
        finally:
            await shop.close()

    return asyncio.run(scenario())


def in_database(server: ShopApiServer, work: Callable[[SqlOrderSystem], Awaitable[T]]) -> T:
    """Read the shop's database directly, bypassing HTTP, to see what really changed."""
    return asyncio.run(work(server.sql))


def events(server: ShopApiServer, number: str, kind: str) -> int:
    """How often the shop logged `kind` for the order: the proof a change happened once."""
    table = t.order_events
    query = select(func.count()).where(table.c.order_number == number, table.c.kind == kind)
    with server.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_order_arrives_exactly_as_the_shop_database_holds_it(shop_api: ShopApiServer) -> None:
    for number in (SHIPPED, PENDING, PROCESSING, DELIVERED, "04587345"):
        over_http = on_shop(shop_api, lambda shop, n=number: shop.get_order(n))
        direct = in_database(shop_api, lambda sql, n=number: sql.get_order(n))
        assert over_http == direct
    request = shop_api.requests[0]
    assert request.method == "GET" and request.target == f"/orders/{SHIPPED}"
    assert request.headers["authorization"] == f"Bearer {shop_api.api_key}"
    assert request.headers["user-agent"].startswith("frontline/")
    assert request.idempotency_key is None


def test_an_unknown_order_is_none(shop_api: ShopApiServer) -> None:
    assert on_shop(shop_api, lambda shop: shop.get_order(UNKNOWN)) is None
    assert on_shop(shop_api, lambda shop: shop.get_order("")) is None


def test_cancelling_a_pending_order_cancels_it_in_the_shop(shop_api: ShopApiServer) -> None:
    order = on_shop(shop_api, lambda shop: shop.cancel_order(PENDING, "changed my mind", "customer"))

    assert order.status == OrderStatus.CANCELLED
    stored = in_database(shop_api, lambda sql: sql.get_order(PENDING))
    assert stored == order
    assert events(shop_api, PENDING, "cancelled") == 1
    assert shop_api.requests[0].idempotency_key


def test_cancelling_a_shipped_order_is_refused_and_changes_nothing(shop_api: ShopApiServer) -> None:
    with pytest.raises(ActionRefused) as refused:
        on_shop(shop_api, lambda shop: shop.cancel_order(SHIPPED, "too slow", "customer"))

    assert refused.value.code == "already_shipped"
    assert SHIPPED in refused.value.message
    assert in_database(shop_api, lambda sql: sql.get_order(SHIPPED)).status == OrderStatus.SHIPPED


def test_cancelling_an_unknown_order_says_so(shop_api: ShopApiServer) -> None:
    with pytest.raises(OrderNotFound) as missing:
        on_shop(shop_api, lambda shop: shop.cancel_order(UNKNOWN, "why not", "customer"))
    assert missing.value.number == UNKNOWN


def test_the_address_of_an_unshipped_order_changes_in_the_shop(shop_api: ShopApiServer) -> None:
    new_address = "Ben Okafor,  9 Mill Street, Dublin D02 X285, Ireland"

    order = on_shop(shop_api, lambda shop: shop.change_shipping_address(PROCESSING, new_address, "customer"))

    assert order.shipping_address == "Ben Okafor, 9 Mill Street, Dublin D02 X285, Ireland"
    assert in_database(shop_api, lambda sql: sql.get_order(PROCESSING)) == order


def test_address_changes_the_shop_forbids_are_refused(shop_api: ShopApiServer) -> None:
    with pytest.raises(ActionRefused) as shipped:
        on_shop(shop_api, lambda shop: shop.change_shipping_address(SHIPPED, "1 New Road, London", "customer"))
    with pytest.raises(ActionRefused) as empty:
        on_shop(shop_api, lambda shop: shop.change_shipping_address(PENDING, "   ", "customer"))

    assert shipped.value.code == "already_shipped"
    assert empty.value.code == "empty_address"


def test_a_refund_request_is_stored_and_listed(shop_api: ShopApiServer) -> None:
    refund = on_shop(
        shop_api, lambda shop: shop.request_refund(DELIVERED, "arrived damaged", "customer", Decimal("10.00"))
    )

    assert refund.order_number == DELIVERED
    assert refund.amount == Decimal("10.00")
    assert refund.status == RefundStatus.REQUESTED
    listed = on_shop(shop_api, lambda shop: shop.refunds_for(DELIVERED))
    assert listed == [refund]
    assert listed == in_database(shop_api, lambda sql: sql.refunds_for(DELIVERED))


def test_refunds_the_shop_forbids_are_refused(shop_api: ShopApiServer) -> None:
    with pytest.raises(ActionRefused) as already_open:
        on_shop(shop_api, lambda shop: shop.request_refund(RETURNED_WITH_OPEN_REFUND, "again", "customer"))
    with pytest.raises(OrderNotFound):
        on_shop(shop_api, lambda shop: shop.refunds_for(UNKNOWN))

    assert already_open.value.code == "refund_open"
    assert len(on_shop(shop_api, lambda shop: shop.refunds_for(RETURNED_WITH_OPEN_REFUND))) == 1


def test_a_refund_quote_is_what_a_refund_would_be_and_moves_no_money(shop_api: ShopApiServer) -> None:
    order = in_database(shop_api, lambda sql: sql.get_order(DELIVERED))
    assert order is not None

    assert on_shop(shop_api, lambda shop: shop.refund_quote(DELIVERED)) == order.total
    assert in_database(shop_api, lambda sql: sql.refunds_for(DELIVERED)) == []
    with pytest.raises(ActionRefused) as in_transit:
        on_shop(shop_api, lambda shop: shop.refund_quote(SHIPPED))
    with pytest.raises(ActionRefused) as already_open:
        on_shop(shop_api, lambda shop: shop.refund_quote(RETURNED_WITH_OPEN_REFUND))
    with pytest.raises(OrderNotFound):
        on_shop(shop_api, lambda shop: shop.refund_quote(UNKNOWN))

    assert (in_transit.value.code, already_open.value.code) == ("in_transit", "refund_open")


def test_an_invoice_comes_with_its_link_and_missing_ones_are_told_apart(shop_api: ShopApiServer) -> None:
    invoice = on_shop(shop_api, lambda shop: shop.get_invoice(SHIPPED))

    assert invoice == in_database(shop_api, lambda sql: sql.get_invoice(SHIPPED))
    assert invoice is not None and invoice.url.endswith(f"/invoices/{invoice.invoice_number}.pdf")
    assert on_shop(shop_api, lambda shop: shop.get_invoice(PENDING)) is None
    with pytest.raises(OrderNotFound):
        on_shop(shop_api, lambda shop: shop.get_invoice(UNKNOWN))


def test_an_invoice_is_found_by_its_own_number_and_names_its_order(shop_api: ShopApiServer) -> None:
    invoice = on_shop(shop_api, lambda shop: shop.get_invoice(SHIPPED))
    assert invoice is not None

    found = on_shop(shop_api, lambda shop: shop.find_invoice(invoice.invoice_number))

    assert found == invoice and found.order_number == SHIPPED
    assert on_shop(shop_api, lambda shop: shop.find_invoice("INV-99999999")) is None
    assert on_shop(shop_api, lambda shop: shop.find_invoice("../orders/" + SHIPPED)) is None
    assert [r.target.split("/")[1] for r in shop_api.requests][-2:] == ["invoices", "invoices"]


def test_newsletter_subscription_is_set_and_withdrawn(shop_api: ShopApiServer) -> None:
    email = "Anna.Freeman+news@example.com"

    def subscribed() -> bool | None:
        with shop_api.engine.connect() as conn:
            table = t.newsletter_subscriptions
            return conn.execute(select(table.c.subscribed).where(table.c.email == email.lower())).scalar()

    on_shop(shop_api, lambda shop: shop.set_newsletter(email, True))
    assert subscribed() is True
    on_shop(shop_api, lambda shop: shop.set_newsletter(email, False))
    assert subscribed() is False
    assert shop_api.requests[0].target == "/newsletter/Anna.Freeman%2Bnews%40example.com"


def test_a_review_is_stored_and_bad_ones_are_refused(shop_api: ShopApiServer) -> None:
    review_id = on_shop(shop_api, lambda shop: shop.add_review(5, "Quick and friendly.", "C0001", SHIPPED))

    with shop_api.engine.connect() as conn:
        row = conn.execute(select(t.reviews).where(t.reviews.c.id == int(review_id))).one()
    assert (row.rating, row.text, row.order_number) == (5, "Quick and friendly.", SHIPPED)
    with pytest.raises(ActionRefused) as bad_rating:
        on_shop(shop_api, lambda shop: shop.add_review(9, "!!!", None, None))
    with pytest.raises(ActionRefused) as unknown_order:
        on_shop(shop_api, lambda shop: shop.add_review(4, "ok", None, UNKNOWN))
    assert bad_rating.value.code == "bad_rating"
    assert unknown_order.value.code == "unknown_order"


def test_ping_and_settings(shop_api: ShopApiServer) -> None:
    settings = Settings.from_env(
        {"ORDER_SYSTEM": "http", "SHOP_API_URL": shop_api.url, "SHOP_API_KEY": shop_api.api_key}
    )

    async def ping() -> None:
        shop = HttpOrderSystem.from_settings(settings)
        try:
            await shop.ping()
        finally:
            await shop.close()

    asyncio.run(ping())
    assert [r.target for r in shop_api.requests] == ["/health"]


def test_a_wrong_key_is_reported_without_revealing_any_key(
    shop_api: ShopApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_key = "sk-live-wrong-3f9a7c"

    with pytest.raises(OrderSystemUnavailable) as wrong:
        on_shop(shop_api, lambda shop: shop.get_order(SHIPPED), api_key=wrong_key)
    with pytest.raises(OrderSystemUnavailable) as missing:
        on_shop(shop_api, lambda shop: shop.ping(), api_key=None)

    assert "401" in str(wrong.value) and "SHOP_API_KEY is wrong" in str(wrong.value)
    assert "SHOP_API_KEY is not set" in str(missing.value)
    for secret in (wrong_key, shop_api.api_key):
        assert secret not in str(wrong.value) and secret not in str(missing.value)
        assert secret not in caplog.text
    assert len(shop_api.requests) == 2, "an auth failure is not retried"


def test_each_request_is_logged_with_status_and_time_but_no_email(
    shop_api: ShopApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="actions.orders.http_order_system")

    on_shop(shop_api, lambda shop: shop.get_order(SHIPPED))
    on_shop(shop_api, lambda shop: shop.set_newsletter("chloe.martin@example.com", True))

    messages = [r.getMessage() for r in caplog.records if r.name == "actions.orders.http_order_system"]
    assert any(m.startswith(f"shop API GET /orders/{SHIPPED} -> 200 in ") and m.endswith(" ms") for m in messages)
    assert any(m.startswith("shop API PUT /newsletter/<email> -> 200") for m in messages)
    assert "chloe.martin" not in caplog.text


def test_one_failure_is_retried_with_the_same_idempotency_key(shop_api: ShopApiServer) -> None:
    shop_api.fail_next(1, status=503)

    order = on_shop(shop_api, lambda shop: shop.cancel_order(PENDING, "changed my mind", "customer"))

    assert order.status == OrderStatus.CANCELLED
    assert len(shop_api.requests) == 2
    first, second = shop_api.idempotency_keys
    assert first is not None and first == second
    assert events(shop_api, PENDING, "cancelled") == 1


def test_two_failures_make_the_shop_unavailable_and_change_nothing(shop_api: ShopApiServer) -> None:
    shop_api.fail_next(2, status=503)

    with pytest.raises(OrderSystemUnavailable):
        on_shop(shop_api, lambda shop: shop.cancel_order(PENDING, "changed my mind", "customer"))

    assert len(shop_api.requests) == 2
    assert in_database(shop_api, lambda sql: sql.get_order(PENDING)).status == OrderStatus.PENDING


def test_a_lost_response_is_retried_without_acting_twice(shop_api: ShopApiServer) -> None:
    shop_api.delay_next(2.0)

    order = on_shop(shop_api, lambda shop: shop.cancel_order(PENDING, "changed my mind", "customer"), timeout=0.3)

    assert order.status == OrderStatus.CANCELLED
    assert len(shop_api.requests) == 2 and shop_api.replays == 1
    assert events(shop_api, PENDING, "cancelled") == 1
    assert len(in_database(shop_api, lambda sql: sql.refunds_for(PENDING))) == 1


def test_a_response_slower_than_the_timeout_makes_the_shop_unavailable(shop_api: ShopApiServer) -> None:
    shop_api.delay_next(3.0, count=2)
    timeout = 0.4

    started = time.monotonic()
    with pytest.raises(OrderSystemUnavailable) as slow:
        on_shop(shop_api, lambda shop: shop.get_order(SHIPPED), timeout=timeout)
    elapsed = time.monotonic() - started

    assert "timed out" in str(slow.value)
    assert timeout * 2 <= elapsed < timeout * 2 + 0.8
    assert len(shop_api.requests) == 2


def test_a_server_that_is_down_makes_the_shop_unavailable(shop_api: ShopApiServer) -> None:
    down = f"http://127.0.0.1:{closed_port()}"

    with pytest.raises(OrderSystemUnavailable) as unreachable:
        on_shop(shop_api, lambda shop: shop.get_order(SHIPPED), base_url=down)
    with pytest.raises(OrderSystemUnavailable):
        on_shop(shop_api, lambda shop: shop.ping(), base_url=down)

    assert "could not reach it" in str(unreachable.value)


@pytest.mark.parametrize("number", ["1/../../health", "12?x=1", "1; DROP TABLE orders", "..", ".", "a%2Fb"])
def test_hostile_order_numbers_stay_inside_their_own_route(shop_api: ShopApiServer, number: str) -> None:
    assert on_shop(shop_api, lambda shop: shop.get_order(number)) is None
    with pytest.raises(OrderNotFound):
        on_shop(shop_api, lambda shop: shop.cancel_order(number, "test", "customer"))
    with pytest.raises(OrderNotFound):
        on_shop(shop_api, lambda shop: shop.get_invoice(number))

    routes = [r.target.split("/") for r in shop_api.requests]
    assert [route[1:2] + route[3:] for route in routes] == [["orders"], ["orders", "cancel"], ["orders", "invoice"]]
    assert all(unquote(route[2]) == number for route in routes)
    assert not any("?" in r.target for r in shop_api.requests)
    assert shop_api.requests_to("/health") == []
    assert inspect(shop_api.engine).has_table("orders")
    assert in_database(shop_api, lambda sql: sql.get_order(SHIPPED)) is not None


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", json.dumps({"number": SHIPPED}).encode(), b"\xff\xfe"],
    ids=["invalid-json", "not-an-object", "missing-fields", "not-utf8"],
)
def test_a_broken_answer_makes_the_shop_unavailable(shop_api: ShopApiServer, body: bytes) -> None:
    shop_api.reply_next(body)

    with pytest.raises(OrderSystemUnavailable) as broken:
        on_shop(shop_api, lambda shop: shop.get_order(SHIPPED))
    assert "malformed" in str(broken.value)


def test_a_refusal_without_an_error_code_makes_the_shop_unavailable(shop_api: ShopApiServer) -> None:
    shop_api.reply_next(b'{"detail": "no"}', status=409)

    with pytest.raises(OrderSystemUnavailable):
        on_shop(shop_api, lambda shop: shop.cancel_order(PENDING, "test", "customer"))


def test_a_voucher_is_issued_through_the_api(shop_api: ShopApiServer) -> None:
    voucher = on_shop(shop_api, lambda shop: shop.issue_voucher("C0002", Decimal("15"), "EUR", "sorry", "agent:jo"))
    assert voucher.customer_id == "C0002" and voucher.amount == Decimal("15.00")
    with pytest.raises(ActionRefused) as refused:
        on_shop(shop_api, lambda shop: shop.issue_voucher("C9999", Decimal("5"), "EUR", "x", "agent:jo"))
    assert refused.value.code == "unknown_customer"


def test_a_customers_vouchers_are_listed_newest_first_as_the_shop_holds_them(shop_api: ShopApiServer) -> None:
    assert on_shop(shop_api, lambda shop: shop.vouchers_for("C0002")) == []
    first = on_shop(shop_api, lambda shop: shop.issue_voucher("C0002", Decimal("5"), "EUR", "late", "agent:jo"))
    second = on_shop(shop_api, lambda shop: shop.issue_voucher("C0002", Decimal("7.50"), "EUR", "sorry", "agent:jo"))
    listed = on_shop(shop_api, lambda shop: shop.vouchers_for("C0002"))
    assert [v.code for v in listed] == [second.code, first.code]
    assert listed == in_database(shop_api, lambda sql: sql.vouchers_for("C0002"))
    assert on_shop(shop_api, lambda shop: shop.vouchers_for("C0001")) == [], "only that customer's"
