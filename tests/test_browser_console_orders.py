"""Money and verification in the agent console, in a real Chromium against the real stack: an agent who has a
conversation sees who the person is (verified, and how, or not), the order's refunds and the customer's
vouchers, only the actions the order's state allows, and a confirmation step before any money moves; what was
done reaches the customer as a message from the shop.

Customers come through the widget on the shop page (a chatter who types an order number is not verified) or, for
a customer signed in at the shop (verified by the shop's signature), through the customer socket. Orders that
change are ones no other test has touched (`untouched`); the demo shop's showcase orders are only read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, TypeVar

from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from actions.orders import shop_schema
from actions.orders.order_messages import money
from actions.orders.order_system import Order
from actions.orders.sql_order_system import SqlOrderSystem
from bot.domain.tokens import sign_customer_id
from bot.store.database import create_engine
from tests.browser_pages import assert_accessible, assert_fits, console_page, customer_page, say, screenshot
from tests.hub_clients import CustomerClient

T = TypeVar("T")
CHANNEL_SECRET = "frontline-dev-channel-secret"
"""The development CHANNEL_SECRET the test stack runs with: the shop page signs its signed-in customer with it."""
TABLET = {"width": 1024, "height": 768}


class ShopCustomer:
    """A customer signed in on the shop's site (the page vouches for them with a signature), chatting over the
    customer socket; the socket runs in a thread of its own, beside Playwright's synchronous API."""

    def __init__(self, hub_url: str, customer_id: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.client = CustomerClient(hub_url)
        vouched = {"id": customer_id, "signature": sign_customer_id(customer_id, CHANNEL_SECRET)}
        self._run(self.client.connect(shop_customer=vouched))

    def hand_over(self, text: str) -> str:
        """Ask for a person with `text`; the conversation's id once it is queued."""
        self._run(self.client.say(text))
        self._run(self.client.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued", timeout=60))
        return self.client.conversation_id

    def told(self, text: str) -> dict[str, Any]:
        """The first message the customer received that contains `text` (waiting for it)."""
        event = self._run(self.client.wait_for(lambda e: e["type"] == "message" and text in e["message"]["text"]))
        return event["message"]

    def close(self) -> None:
        self._run(self.client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(90)


def shop_of(hub: Any) -> SqlOrderSystem:
    return SqlOrderSystem(create_engine(f"sqlite:///{hub.shop_db}"))


def in_shop(hub: Any, work: Callable[[SqlOrderSystem], Coroutine[Any, Any, T]]) -> T:
    """Ask the shop database the running action server uses, in a thread of its own (Playwright's sync API keeps
    an event loop in this one)."""
    result: list[T] = []

    async def ask() -> None:
        shop = shop_of(hub)
        try:
            result.append(await work(shop))
        finally:
            await shop.close()

    thread = threading.Thread(target=lambda: asyncio.run(ask()))
    thread.start()
    thread.join(30)
    return result[0]


def untouched(hub: Any, status: str, skip: int = 0) -> Order:
    """A recent order in `status` worth at least €60 that has no refund yet (so no other test has acted on it);
    `skip` picks a later one, so tests of one module do not share an order."""
    orders = shop_schema.orders
    recent = dt.datetime.now() - dt.timedelta(days=20)
    when = orders.c.delivered_at if status == "delivered" else orders.c.placed_at
    with create_engine(f"sqlite:///{hub.shop_db}").connect() as conn:
        numbers = conn.execute(
            select(orders.c.number)
            .where(
                orders.c.status == status,
                when > recent,
                orders.c.number.not_in(select(shop_schema.refunds.c.order_number)),
                orders.c.number.not_like("000%"),
                orders.c.total >= 60,
            )
            .order_by(orders.c.number.desc())
        ).scalars()
        number = list(numbers)[skip]
    order = in_shop(hub, lambda shop: shop.get_order(number))
    assert order is not None
    return order


def widget_handoff(browser: Browser, hub_url: str, order: str) -> Page:
    """A chatter on the shop page who only typed an order number and asked for a person."""
    customer = customer_page(browser, hub_url)
    say(customer, f"where is my order {order}?")
    expect(customer.locator("[data-testid=fl-message][data-sender=bot]").first).to_be_visible(timeout=30_000)
    customer.get_by_test_id("fl-human").click()
    expect(customer.get_by_test_id("fl-status")).to_contain_text(re.compile("queue|online|team", re.I), timeout=30_000)
    return customer


def claim(console: Page, order: str, conversation_id: str = "") -> str:
    """Claim the waiting conversation about `order` (the one with `conversation_id`, if given), open it, and
    return its id."""
    if conversation_id:
        item = console.locator(f"[data-testid=queue-item][data-conversation-id='{conversation_id}']")
    else:
        item = console.get_by_test_id("queue-item").filter(has_text=order)
    expect(item).to_have_count(1, timeout=20_000)
    conversation_id = str(item.get_attribute("data-conversation-id"))
    item.get_by_test_id("claim").click()
    expect(console.get_by_test_id("order")).to_contain_text(order)
    return conversation_id


def reopen(console: Page, conversation_id: str) -> None:
    """Open one of the agent's own conversations from the list."""
    console.locator(f"[data-testid=mine-item][data-conversation-id='{conversation_id}']").click()
    expect(console.get_by_test_id("order")).to_be_visible()


def vouch(console: Page, how: str) -> None:
    """The agent records that they checked who the customer is, and how."""
    console.get_by_test_id("identity-check-open").click()
    console.get_by_test_id("identity-check-how").fill(how)
    console.get_by_test_id("identity-check-save").click()
    expect(console.get_by_test_id("verified")).to_be_visible()


def where_money_goes(order: Order) -> str:
    """How the console names where a refund of `order` goes."""
    if order.payment_method == "bank transfer":
        return "the bank account the customer paid from"
    return f"the customer's {order.payment_method}"


def show(card: Locator) -> None:
    """Scroll the details column (only it) so that `card` starts at its top, for a screenshot of what matters."""
    card.evaluate(
        """card => {
            const column = card.closest(".details");
            column.scrollTop += card.getBoundingClientRect().top - column.getBoundingClientRect().top - 12;
        }"""
    )


def posts_to(console: Page) -> list[str]:
    """The URLs of every POST the console sends from now on (the list fills as it goes)."""
    sent: list[str] = []
    console.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    return sent


def test_a_chatter_who_only_typed_an_order_number_is_not_verified_and_sees_nothing_of_the_owner(hub, browser):
    order = untouched(hub, "delivered", skip=0)
    console = console_page(browser, hub.hub_url, "demo.agent")
    customer = widget_handoff(browser, hub.hub_url, order.number)
    item = console.get_by_test_id("queue-item").filter(has_text=order.number)
    expect(item).to_have_count(1, timeout=20_000)
    expect(item).not_to_contain_text(order.customer_name)
    claim(console, order.number)

    card = console.get_by_test_id("order")
    expect(console.get_by_test_id("not-verified")).to_contain_text("Not verified: order number only")
    expect(card).to_contain_text(order.number)
    for personal in (order.customer_name, order.customer_email, order.shipping_address, order.items[0].name):
        expect(card).not_to_contain_text(personal)
    expect(console.get_by_test_id("customer-name")).not_to_contain_text(order.customer_name)
    expect(console.get_by_test_id("packet")).not_to_contain_text(order.customer_name)
    expect(console.get_by_test_id("mine")).not_to_contain_text(order.customer_name)
    for money_button in ("cancel-order", "refund", "voucher", "order-actions"):
        expect(console.get_by_test_id(money_button)).to_have_count(0)
    expect(console.get_by_test_id("identity-check-open")).to_be_visible()
    show(console.get_by_test_id("order"))
    screenshot(console, "console-not-verified")
    assert_fits(console, "console, order card of an unverified chatter, 1366×800")
    assert_accessible(console, "console, order card of an unverified chatter, 1366×800")
    customer.context.close()
    console.context.close()


def test_the_agents_check_is_recorded_with_who_and_how_unlocks_the_order_and_survives_a_reload(hub, browser):
    order = untouched(hub, "delivered", skip=1)
    console = console_page(browser, hub.hub_url, "demo.agent")
    customer = widget_handoff(browser, hub.hub_url, order.number)
    conversation_id = claim(console, order.number)

    console.get_by_test_id("identity-check-open").click()
    console.get_by_test_id("identity-check-how").fill("ok")
    console.get_by_test_id("identity-check-save").click()
    expect(console.get_by_test_id("action-error")).to_contain_text("how you checked")
    expect(console.get_by_test_id("not-verified")).to_be_visible()

    console.get_by_test_id("identity-check-how").fill("postcode and last four card digits match")
    console.get_by_test_id("identity-check-save").click()
    verified = console.get_by_test_id("verified")
    expect(verified).to_contain_text("Verified ✓")
    expect(verified).to_contain_text("checked by Sam")
    expect(verified).to_contain_text("postcode and last four card digits match")
    card = console.get_by_test_id("order")
    expect(card).to_contain_text(order.customer_name)
    expect(card).to_contain_text(order.items[0].name)
    expect(console.get_by_test_id("order-log")).to_contain_text("checked who the customer is")
    expect(console.get_by_test_id("refund")).to_be_visible()

    console.reload()
    reopen(console, conversation_id)
    expect(console.get_by_test_id("verified")).to_contain_text("postcode and last four card digits match")
    expect(console.get_by_test_id("order-log")).to_contain_text("Sam")
    expect(console.get_by_test_id("customer-name")).to_contain_text(order.customer_name)
    customer.context.close()
    console.context.close()


def test_a_refund_asks_first_and_only_a_confirmed_one_moves_money_and_reaches_the_customer(hub, browser):
    order = untouched(hub, "delivered", skip=2)
    console = console_page(browser, hub.hub_url, "demo.agent")
    customer = widget_handoff(browser, hub.hub_url, order.number)
    claim(console, order.number)
    vouch(console, "called back on the phone number of the account")
    sent = posts_to(console)

    console.get_by_test_id("refund-amount").fill("40")
    console.get_by_test_id("refund-reason").fill("earbuds stopped working")
    console.get_by_test_id("refund").click()
    step = console.get_by_test_id("confirm-step")
    expect(step).to_be_visible()
    forty = money(Decimal("40.00"), order.currency)
    expect(step).to_contain_text(f"Refund {forty} on order #{order.number}?")
    expect(step).to_contain_text(where_money_goes(order))
    expect(step).to_contain_text("left to refund")
    expect(console.get_by_test_id("confirm-back")).to_be_focused()
    screenshot(console, "console-refund-confirm")
    assert_fits(console, "console, refund confirmation, 1366×800")
    assert_accessible(console, "console, refund confirmation, 1366×800")

    console.get_by_test_id("confirm-back").click()
    expect(step).to_have_count(0)
    console.get_by_test_id("refund").click()
    console.keyboard.press("Escape")
    expect(step).to_have_count(0)
    assert [url for url in sent if "/refund" in url] == [], "nothing is sent before the agent confirms"
    assert in_shop(hub, lambda shop: shop.refunds_for(order.number)) == []

    console.get_by_test_id("refund").click()
    console.get_by_test_id("confirm-yes").click()
    expect(console.locator(".action-success")).to_contain_text("The customer has been told")
    (refund,) = in_shop(hub, lambda shop: shop.refunds_for(order.number))
    assert (refund.amount, refund.reason) == (Decimal("40.00"), "earbuds stopped working")
    told = customer.locator("[data-testid=fl-message][data-sender=system]").last
    expect(told).to_contain_text(f"A refund of {forty} for order #{order.number} is on its way back to")
    expect(told).to_contain_text("you should have it by")
    expect(customer.locator("[data-testid=fl-message][data-sender=agent]")).to_have_count(0)

    expect(console.get_by_test_id("order-refund")).to_contain_text(forty)
    expect(console.get_by_test_id("refund-unavailable")).to_contain_text("already under way")
    expect(console.get_by_test_id("refund")).to_have_count(0)
    customer.context.close()
    console.context.close()


def test_only_what_each_orders_state_allows_is_offered_and_the_refund_under_way_is_shown(hub, browser):
    console = console_page(browser, hub.hub_url, "demo.agent")
    customers = []

    def open_for(customer_id: str, number: str) -> None:
        customer = ShopCustomer(hub.hub_url, customer_id)
        customers.append(customer)
        claim(console, number, customer.hand_over(f"please let me talk to a human about order {number}"))

    open_for("C0002", "00077777")  # returned, its refund under way
    expect(console.get_by_test_id("verified")).to_contain_text("Verified ✓ (signed in at the shop)")
    expect(console.get_by_test_id("order-refund")).to_contain_text("RF-")
    expect(console.get_by_test_id("refund-unavailable")).to_contain_text("already under way")
    expect(console.get_by_test_id("cancel-unavailable")).to_contain_text("returned")
    expect(console.get_by_test_id("voucher")).to_be_visible()
    show(console.get_by_test_id("order"))
    screenshot(console, "console-order-verified")
    assert_fits(console, "console, order card of a verified customer, 1366×800")
    assert_accessible(console, "console, order card of a verified customer, 1366×800")

    open_for("C0001", "00123842")  # shipped
    expect(console.get_by_test_id("cancel-unavailable")).to_contain_text("not shipped")
    expect(console.get_by_test_id("refund-unavailable")).to_contain_text("on its way")
    for absent in ("cancel-order", "refund"):
        expect(console.get_by_test_id(absent)).to_have_count(0)

    open_for("C0003", "00099999")  # cancelled and refunded
    expect(console.get_by_test_id("cancel-unavailable")).to_contain_text("cancelled already")
    expect(console.get_by_test_id("refund-unavailable")).to_contain_text("refund already issued")
    for customer in customers:
        customer.close()
    console.context.close()


def test_cancel_and_voucher_ask_first_say_what_will_happen_and_the_customer_hears_from_the_shop(hub, browser):
    pending = untouched(hub, "pending")
    customer = ShopCustomer(hub.hub_url, pending.customer_id)
    console = console_page(browser, hub.hub_url, "demo.agent")
    conversation_id = claim(
        console, pending.number, customer.hand_over(f"please let me talk to a human about order {pending.number}")
    )
    expect(console.get_by_test_id("refund-unavailable")).to_contain_text("cancelled instead")

    console.get_by_test_id("cancel-order").click()
    step = console.get_by_test_id("confirm-step")
    expect(step).to_contain_text(f"Cancel order #{pending.number}?")
    expect(step).to_contain_text(f"back to {where_money_goes(pending)}")
    console.get_by_test_id("confirm-back").click()
    expect(step).to_have_count(0)
    assert in_shop(hub, lambda shop: shop.get_order(pending.number)).status.value == "pending"

    console.get_by_test_id("cancel-order").click()
    console.get_by_test_id("confirm-yes").click()
    message = customer.told(f"Order #{pending.number} has been cancelled.")
    assert message["sender"] == "system" and "Sam" not in message["text"]
    assert in_shop(hub, lambda shop: shop.get_order(pending.number)).status.value == "cancelled"
    expect(console.get_by_test_id("cancel-unavailable")).to_contain_text("cancelled already")
    expect(console.get_by_test_id("order-refund")).to_contain_text("order cancelled")

    console.get_by_test_id("voucher-amount").fill("5")
    console.get_by_test_id("voucher").click()
    five = money(Decimal("5.00"), pending.currency)
    expect(step).to_contain_text(f"Give a {five} voucher?")
    expect(step).to_contain_text(pending.customer_name)
    console.get_by_test_id("confirm-yes").click()
    assert customer.told(f"You have been given a {five} voucher")["sender"] == "system"
    expect(console.get_by_test_id("order-voucher")).to_contain_text(five)

    tablet = console_page(browser, hub.hub_url, "demo.agent", viewport=TABLET)
    reopen(tablet, conversation_id)
    expect(tablet.get_by_test_id("order-voucher")).to_contain_text(five)
    assert_fits(tablet, "console, order card, 1024×768")
    assert_accessible(tablet, "console, order card, 1024×768")
    tablet.get_by_test_id("voucher-amount").fill("2")
    tablet.get_by_test_id("voucher").click()
    expect(tablet.get_by_test_id("confirm-step")).to_be_visible()
    assert_fits(tablet, "console, voucher confirmation, 1024×768")
    assert_accessible(tablet, "console, voucher confirmation, 1024×768")
    tablet.get_by_test_id("confirm-back").click()
    customer.close()
    console.context.close()
    tablet.context.close()
