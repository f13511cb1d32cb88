"""The customer's widget follows the conversation, in headless Chromium on a 375×667 phone: a greeting with quick
replies, the queue card while waiting, the agent's name, one thank-you after a rating, back to the bot without a
reload; one status line, nothing cut off and no serious accessibility violation in any state.

The agent side is the real console API (tests/hub_clients.py), run on an event loop of its own beside
Playwright's sync API; an agent is online while its console socket is open.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Locator, Page, expect

from actions.orders.sql_order_system import SqlOrderSystem
from bot.store.database import create_engine
from tests.browser_pages import assert_accessible, assert_fits, customer_page, say, screenshot
from tests.hub_clients import AgentClient, CustomerClient
from tests.own_loop import run_on_own_loop
from tests.shop_orders import refundable_orders_of_several_items

T = TypeVar("T")

GREETING_REPLIES = ["Where is my order?", "Return or refund", "Cancel an order", "Talk to a person"]
WAIT = re.compile(r"about \d+ (min|hours?)")
FOCUSED_NAME = "() => document.activeElement.getAttribute('aria-label') || document.activeElement.textContent.trim()"
"""The focused control's name as a screen reader would say it (its label, or its text)."""


class BackgroundLoop:
    """An asyncio event loop in a thread of its own, so the hub's async clients run beside Playwright's sync API
    (which owns this thread's loop); the clients it made are closed when it stops."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._clients: list[AgentClient | CustomerClient] = []
        self._tasks: list[asyncio.Task[None]] = []

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def online_agent(self, hub_url: str) -> AgentClient:
        """The demo agent signed in with the console socket open (so online), its events read as they come."""

        async def sign_in() -> AgentClient:
            agent = AgentClient(hub_url)
            self._clients.append(agent)
            assert (await agent.login()).status_code == 200
            await agent.go_online()
            self._tasks.append(asyncio.create_task(_drain(agent.ws)))
            return agent

        return self.run(sign_in())

    def customer(self, hub_url: str) -> CustomerClient:
        """Another customer's widget, as a WebSocket client."""

        async def connected() -> CustomerClient:
            customer = CustomerClient(hub_url)
            self._clients.append(customer)
            await customer.connect()
            return customer

        return self.run(connected())

    def stop(self) -> None:
        async def close_all() -> None:
            for task in self._tasks:
                task.cancel()
            for client in self._clients:
                await client.close()

        self.run(close_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


async def _drain(ws: Any) -> None:
    """Read the console socket's events, as the console does: a client that stops reading is closed as slow."""
    async for _ in ws:
        pass


@pytest.fixture
def background() -> Iterator[BackgroundLoop]:
    loop = BackgroundLoop()
    try:
        yield loop
    finally:
        loop.stop()


def ask_for_a_person(loop: BackgroundLoop, customer: CustomerClient) -> None:
    """The other customer taps "Talk to a person" and waits until they are queued."""

    async def ask() -> None:
        seen = len(customer.events)
        await customer.send_frame({"type": "human", "client_id": "other-customer-asks"})
        await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "queued", after=seen)

    loop.run(ask())


def leave_the_queue(loop: BackgroundLoop, customer: CustomerClient) -> None:
    """The other customer taps "Leave the queue" (the hub's /back_to_bot) and waits until the bot has them."""

    async def leave() -> None:
        seen = len(customer.events)
        frame = {"type": "button", "client_id": "other-leaves", "title": "Leave the queue", "payload": "/back_to_bot"}
        await customer.send_frame(frame)
        await customer.wait_for(lambda e: e["type"] == "state" and e["state"] == "bot", after=seen)

    loop.run(leave())


def waiting(loop: BackgroundLoop, agent: AgentClient) -> list[str]:
    """Ids of the conversations waiting for a person, most urgent first."""

    async def ids() -> list[str]:
        return [c["id"] for c in (await agent.get("/api/queue")).json()["waiting"]]

    return loop.run(ids())


def agent_does(loop: BackgroundLoop, agent: AgentClient, path: str, body: Any = None) -> dict[str, Any]:
    """A console action (claim, reply, resolve) through the console API; its JSON answer."""

    async def post() -> dict[str, Any]:
        response = await agent.post(path, body)
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer

    return loop.run(post())


def transcript(loop: BackgroundLoop, agent: AgentClient, conversation_id: str) -> list[str]:
    """What the agent's console shows of the conversation: its messages' texts."""

    async def texts() -> list[str]:
        response = await agent.get(f"/api/conversations/{conversation_id}")
        assert response.status_code == 200, response.text
        return [m["text"] for m in response.json()["messages"]]

    return loop.run(texts())


def status_line_count(page: Page) -> float:
    """How many lines the header's status takes: its height over its line height."""
    return float(
        page.get_by_test_id("fl-status").evaluate(
            "el => el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)"
        )
    )


def checked_state(page: Page, name: str) -> None:
    """Every state of the widget: one status line, nothing cut off, no serious accessibility violation, and a
    screenshot (results/screens/<name>.png)."""
    assert status_line_count(page) == pytest.approx(1, abs=0.2), f"{name}: the status line wraps"
    assert_fits(page, name)
    assert_accessible(page, name)
    screenshot(page, name)


def person_buttons(page: Page) -> tuple[bool, bool]:
    """Are "Talk to a person" and "Leave the queue" showing in the header?"""
    return page.get_by_test_id("fl-human").is_visible(), page.get_by_test_id("fl-leave-queue").is_visible()


def messages_from(page: Page, sender: str) -> Locator:
    return page.locator(f"[data-testid=fl-message][data-sender={sender}]")


def test_the_widget_opens_with_a_greeting_and_quick_replies_that_the_bot_answers(hub, browser):
    page = customer_page(browser, hub.hub_url)
    greeting = page.get_by_test_id("fl-greeting")
    expect(greeting).to_contain_text("What can I do for you?")
    expect(greeting.get_by_test_id("fl-quick-reply")).to_have_text(GREETING_REPLIES)
    assert page.get_by_test_id("fl-message").count() == 0, "nothing was said yet"
    checked_state(page, "widget-greeting")

    greeting.get_by_role("button", name="Where is my order?").click()
    expect(messages_from(page, "customer").first).to_have_text(re.compile("^" + re.escape("Where is my order?")))
    expect(messages_from(page, "bot").last).to_contain_text("order number")
    expect(greeting.get_by_test_id("fl-quick-reply")).to_have_count(0)

    say(page, "00123842")
    expect(messages_from(page, "bot").filter(has_text="on its way with DHL")).to_have_count(1)
    expect(page.get_by_test_id("fl-status")).to_have_text("Frontline assistant")
    checked_state(page, "widget-bot-answer")


def test_with_nobody_online_carry_on_with_the_bot_puts_the_header_right_without_a_reload(hub, browser):
    page = customer_page(browser, hub.hub_url)
    page.get_by_test_id("fl-human").click()
    expect(page.get_by_test_id("fl-panel")).to_have_attribute("data-state", "queued")
    expect(page.get_by_test_id("fl-status")).to_have_text("No one from our team is online")
    expect(page.get_by_test_id("fl-queue-card")).to_contain_text("the next person from our team will pick it up")

    messages_from(page, "system").last.get_by_role("button", name="Carry on with the bot").click()
    expect(page.get_by_test_id("fl-panel")).to_have_attribute("data-state", "bot")
    expect(page.get_by_test_id("fl-status")).to_have_text("Frontline assistant")
    expect(page.get_by_test_id("fl-queue-card")).to_be_hidden()
    assert person_buttons(page) == (True, False)
    say(page, "what payment methods do you accept?")
    expect(messages_from(page, "bot").last).to_contain_text("PayPal")
    checked_state(page, "widget-back-to-bot")


def test_a_queued_customer_sees_their_place_change_live_gets_each_message_acknowledged_and_can_leave(
    hub, browser, background
):
    agent = background.online_agent(hub.hub_url)
    other = background.customer(hub.hub_url)
    ask_for_a_person(background, other)

    page = customer_page(browser, hub.hub_url)
    page.get_by_test_id("fl-human").click()
    card = page.get_by_test_id("fl-queue-card")
    expect(card).to_contain_text("You're number 2 in the queue")
    expect(card).to_contain_text(WAIT)
    expect(page.get_by_test_id("fl-status")).to_have_text(re.compile(r"^Number 2 in the queue · about"))
    assert person_buttons(page) == (False, True), '"Leave the queue" instead of "Talk to a person"'
    (mine,) = [c for c in waiting(background, agent) if c != other.conversation_id]

    say(page, "Is anyone there? It's about a missing parcel.")
    own = messages_from(page, "customer").last
    expect(own).to_contain_text("the team will see this")
    assert "Is anyone there? It's about a missing parcel." in transcript(background, agent, mine)

    # A tap on "Talk to a person" already in flight when the customer was queued: no error, still queued.
    page.get_by_test_id("fl-human").dispatch_event("click")
    expect(page.get_by_test_id("fl-panel")).to_have_attribute("data-state", "queued")
    expect(page.get_by_test_id("fl-error")).to_be_hidden()

    leave_the_queue(background, other)
    expect(card).to_contain_text("You're number 1 in the queue")
    expect(page.get_by_test_id("fl-status")).to_have_text(re.compile(r"^Number 1 in the queue · about"))
    expect(page.get_by_test_id("fl-error")).to_be_hidden()
    checked_state(page, "widget-queued")

    page.get_by_test_id("fl-leave-queue").click()
    expect(page.get_by_test_id("fl-panel")).to_have_attribute("data-state", "bot")
    expect(messages_from(page, "system").last).to_contain_text("you're back with the bot")
    expect(page.get_by_test_id("fl-status")).to_have_text("Frontline assistant")
    expect(card).to_be_hidden()
    assert person_buttons(page) == (True, False)
    assert waiting(background, agent) == []
    expect(page.get_by_test_id("fl-error")).to_be_hidden()


def test_with_an_agent_the_widget_names_them_and_a_rating_gets_one_thank_you(hub, browser, background):
    agent = background.online_agent(hub.hub_url)
    page = customer_page(browser, hub.hub_url)
    page.get_by_test_id("fl-human").click()
    expect(page.get_by_test_id("fl-queue-card")).to_contain_text("You're number 1 in the queue")
    (conversation_id,) = waiting(background, agent)

    agent_does(background, agent, f"/api/conversations/{conversation_id}/claim")
    agent_does(background, agent, f"/api/conversations/{conversation_id}/messages", {"text": "Hi, Sam here."})
    expect(messages_from(page, "agent").last).to_contain_text("Hi, Sam here.")
    expect(page.get_by_test_id("fl-status")).to_have_text("Chatting with Sam (demo agent)")
    expect(page.get_by_test_id("fl-queue-card")).to_be_hidden()
    assert person_buttons(page) == (False, False), "no person button while with a person"
    checked_state(page, "widget-agent")

    agent_does(background, agent, f"/api/conversations/{conversation_id}/resolve")
    request = page.locator(".fl-msg--rating").last
    expect(request.get_by_test_id("fl-star")).to_have_count(5)
    expect(page.get_by_test_id("fl-status")).to_have_text("Frontline assistant")
    assert person_buttons(page) == (True, False)
    request.locator("[data-testid=fl-star][data-score='5']").click()
    request.get_by_test_id("fl-rating-comment").fill("Quick and kind")
    expect(request.get_by_test_id("fl-rating-chosen")).to_have_text("You chose 5 out of 5.")
    checked_state(page, "widget-rating")
    request.get_by_test_id("fl-rating-send").click()
    expect(messages_from(page, "system").last).to_contain_text("Thank you for your feedback!")
    expect(request.get_by_test_id("fl-rating-done")).to_have_text("You rated us 5 out of 5.")
    after_rating = page.evaluate(
        """() => {
            const log = document.querySelector("[data-testid=fl-messages]");
            const nodes = [...log.querySelectorAll(".fl-msg")];
            const asked = nodes.findLastIndex(node => node.classList.contains("fl-msg--rating"));
            return nodes.slice(asked).map(node => node.innerText).join("\\n");
        }"""
    )
    assert len(re.findall(r"\bthank", after_rating, re.I)) == 1, after_rating
    assert_fits(page, "after the rating")
    assert_accessible(page, "after the rating")

    say(page, "what payment methods do you accept?")
    expect(messages_from(page, "bot").last).to_contain_text("PayPal")
    expect(page.get_by_test_id("fl-status")).to_have_text("Frontline assistant")


def test_every_control_of_the_widget_is_reached_and_named_from_the_keyboard(hub, browser):
    page = customer_page(browser, hub.hub_url)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("fl-panel")).to_be_hidden()
    expect(page.get_by_test_id("fl-launcher")).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.get_by_test_id("fl-panel")).to_be_visible()
    expect(page.get_by_test_id("fl-input")).to_be_focused()
    expect(page.get_by_test_id("fl-messages")).to_have_attribute("role", "log")
    expect(page.get_by_test_id("fl-greeting").get_by_test_id("fl-quick-reply")).to_have_count(4)

    reached = []
    for _ in range(10):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(FOCUSED_NAME))
    # On a phone the panel covers the shop: Tab goes round the panel's controls, never to the page behind.
    assert reached == ["Send", "Talk to a person", "Close chat", "Messages", *GREETING_REPLIES, "Your message", "Send"]

    page.keyboard.type("what payment methods do you accept?")
    page.keyboard.press("Enter")
    expect(messages_from(page, "bot").last).to_contain_text("PayPal")


def test_a_refund_in_the_widget_says_what_the_order_holds_and_asks_before_any_money_moves(hub, browser):
    shop = SqlOrderSystem(create_engine(f"sqlite:///{hub.shop_db}"))
    order, email = next(
        (o, e)
        for o, e in refundable_orders_of_several_items(hub.shop_db, shop)
        if not any("earbud" in item.name.lower() for item in o.items)
    )
    chosen = order.items[0]
    page = customer_page(browser, hub.hub_url)
    say(page, f"I'd like a refund for order {order.number}, the earbuds stopped working")
    expect(messages_from(page, "bot").last).to_contain_text("email address")
    say(page, email)
    said = messages_from(page, "bot").filter(has_text="can't see “earbuds”")
    expect(said).to_have_count(1)
    for item in order.items:
        expect(said.get_by_role("button", name=item.name, exact=True)).to_be_visible()
    checked_state(page, "widget-refund-which-item")

    said.get_by_role("button", name=chosen.name, exact=True).click()
    question = messages_from(page, "bot").filter(has_text="Shall I refund")
    expect(question).to_contain_text(chosen.name)
    expect(question).to_contain_text(f"{chosen.unit_price * chosen.quantity:,.2f}")
    expect(question.get_by_role("button", name="Yes, refund it")).to_be_visible()
    checked_state(page, "widget-refund-confirm")
    assert run_on_own_loop(shop.refunds_for(order.number)) == [], "nothing moves before the yes"

    question.get_by_role("button", name="No, leave it").click()
    expect(messages_from(page, "bot").last).to_contain_text("haven't opened a refund")
    assert run_on_own_loop(shop.refunds_for(order.number)) == []


def test_thanks_and_bye_gets_a_real_goodbye(hub, browser):
    page = customer_page(browser, hub.hub_url)
    say(page, "what payment methods do you accept?")
    expect(messages_from(page, "bot").last).to_contain_text("PayPal")
    say(page, "thanks, bye")
    expect(messages_from(page, "bot").last).to_contain_text("Have a lovely day")
    expect(messages_from(page, "bot").filter(has_text="anything else I can help with")).to_have_count(0)
