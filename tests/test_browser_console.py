"""The agents' console in a real headless Chromium, with a real conversation handed over by the real bot: what the
agent reads is in words (no internal names), nothing is cut off at 1366 or 1024 px wide, the customer's rating is in
the transcript, the queue's count says what it counts and follows the queue live, and axe-core finds nothing serious.

The customer is the hub's web socket client (tests/hub_clients.py) on an event loop of its own thread: the widget
has browser tests of its own; here the console is what is looked at.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from tests.browser_pages import assert_accessible, assert_fits, console_page, screenshot
from tests.hub_clients import CustomerClient, Event
from tests.rasa_stack import PROJECT_ROOT

T = TypeVar("T")

REFUND = "I'd like a refund for order 00054321, the earbuds stopped working"
LONG_EMAIL = "anna.freeman-longname@example-mail.co.uk"
"""Not the order's address: the chatter stays unverified; long enough to wrap in the details column."""
COMMENT = "Quick and kind <img src=x onerror=\"window.pwned='rating'\">"
SMALL_LAPTOP = {"width": 1024, "height": 768}
INTERNAL_NAME = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
"""A snake_case word: how intents, forms, reasons and slots are named inside; never what a person should read."""
JARGON = ("(by rasa)", "Bot channel", "Interrupted form", "tapped a button:", "Conf.")
"""What the console used to show an agent (issue 18)."""
TITLES: dict[str, str] = yaml.safe_load((PROJECT_ROOT / "intent_titles.yml").read_text())["titles"]


class Customer:
    """A web chat customer whose socket lives on an event loop of its own thread, driven step by step from the
    synchronous Playwright test."""

    def __init__(self, hub_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.client = CustomerClient(hub_url)
        self._run(self.client.connect())

    @property
    def conversation_id(self) -> str:
        return self.client.conversation_id

    def says_to_the_bot(self, text: str) -> None:
        """Send `text` and wait for the bot's answer."""
        seen = len(self.client.events)
        self._run(self.client.say(text))
        self._wait(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot", seen)

    def asks_for_a_person(self) -> None:
        """The widget's "Talk to a person", then wait until the bot has handed over and the customer waits."""
        seen = len(self.client.events)
        self._run(self.client.send_frame({"type": "human", "client_id": uuid.uuid4().hex}))
        self._wait(lambda e: e["type"] == "state" and e["state"] == "queued", seen)

    def writes(self, text: str) -> None:
        """A message to the people (stored and acknowledged; the bot is not asked)."""
        self._run(self.client.say(text))

    def rates(self, score: int, comment: str) -> None:
        """Answer the rating question the hub put after the agent resolved."""
        asked = self._wait(lambda e: e["type"] == "message" and "rating_request" in (e["message"]["payload"] or {}))
        seen = len(self.client.events)
        rating = {"type": "rating", "score": score, "comment": comment, "message_id": asked["message"]["id"]}
        self._run(self.client.send_frame(rating))
        assert self._wait(lambda e: e["type"] == "rated", seen)["accepted"] is True

    def close(self) -> None:
        try:
            self._run(self.client.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def _wait(self, predicate: Any, after: int = 0) -> Event:
        return self._run(self.client.wait_for(predicate, timeout=90, after=after))

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=120)


@pytest.fixture
def handed_over(hub) -> Iterator[Customer]:
    """A customer who asked the bot for a refund, gave an address that is not the order's, then asked for a
    person: the bot hands over in the middle of the refund."""
    customer = Customer(hub.hub_url)
    try:
        customer.says_to_the_bot(REFUND)
        customer.says_to_the_bot(f"it's {LONG_EMAIL}")
        customer.asks_for_a_person()
        yield customer
    finally:
        customer.close()


def queue_item(page: Page, conversation_id: str):
    return page.locator(f"[data-testid=queue-item][data-conversation-id='{conversation_id}']")


def packet_of(page: Page, hub_url: str, conversation_id: str) -> dict[str, Any]:
    """The handoff packet as the console's API gives it (the signed-in page's session)."""
    response = page.request.get(f"{hub_url}/api/conversations/{conversation_id}")
    assert response.ok, response.text()
    return response.json()["handoff"]["packet"]


def internal_names(page: Page) -> list[str]:
    """snake_case words and old jargon in what the workspace shows."""
    text = page.locator("#workspace").inner_text()
    return sorted(set(INTERNAL_NAME.findall(text))) + [jargon for jargon in JARGON if jargon in text]


def words_broken_mid_word(page: Page, selector: str) -> list[str]:
    """Places in the visible text under `selector` where a line ends between two letters or digits of one word
    (an e-mail address may wrap before "@" or after ".", "-"; "exam|ple" may not)."""
    return page.evaluate(
        """selector => {
            const found = [];
            const word = /[A-Za-z0-9]/;
            for (const root of document.querySelectorAll(selector)) {
                const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    const text = node.textContent;
                    const range = document.createRange();
                    let lastTop = null;
                    for (let i = 0; i < text.length; i++) {
                        range.setStart(node, i);
                        range.setEnd(node, i + 1);
                        const box = range.getBoundingClientRect();
                        if (!box.width) { lastTop = null; continue; }
                        if (lastTop !== null && box.top > lastTop + 2 && word.test(text[i - 1]) && word.test(text[i])) {
                            found.push(text.slice(Math.max(0, i - 12), i) + "|" + text.slice(i, i + 12));
                        }
                        lastTop = box.top;
                    }
                }
            }
            return found;
        }""",
        selector,
    )


def test_the_console_speaks_plainly_fits_and_shows_the_customers_rating(hub, browser: Browser, handed_over):
    customer = handed_over
    agent = console_page(browser, hub.hub_url, "demo.agent")
    expect(queue_item(agent, customer.conversation_id)).to_be_visible()
    expect(agent.locator("#agents-online")).to_have_text(re.compile(r"^[1-9]\d* agents? online$"))
    expect(agent.get_by_test_id("waiting-count")).to_have_attribute("title", re.compile(r"waiting for a person$"))
    assert_fits(agent, "the queue at 1366")
    assert_accessible(agent, "the queue")

    # Opened and claimed with the keyboard alone.
    queue_item(agent, customer.conversation_id).locator(".conv-item__open").press("Enter")
    expect(agent.get_by_test_id("packet")).to_contain_text("What the customer said")
    screenshot(agent, "console-queue")
    agent.get_by_test_id("view-claim").press("Enter")
    expect(agent.get_by_test_id("reply-input")).to_be_visible()

    packet = agent.get_by_test_id("packet")
    expect(packet).to_contain_text("What the customer said")
    expect(packet).to_contain_text("Was asking for a refund")
    expect(packet).to_contain_text(f"Understood as: {TITLES['contact_human_agent']}")
    expect(packet).to_contain_text("Tapped a button")
    for turn in packet_of(agent, hub.hub_url, customer.conversation_id)["intents"]:
        if turn["intent"] in TITLES:
            expect(packet).to_contain_text(f"Understood as: {TITLES[turn['intent']]}")
    expect(agent.get_by_test_id("conversation-facts")).to_contain_text("Web chat")
    expect(agent.get_by_test_id("customer-name")).not_to_contain_text("Anna Freeman")
    expect(agent.get_by_test_id("transcript")).to_contain_text(LONG_EMAIL)
    assert internal_names(agent) == []
    assert words_broken_mid_word(agent, "#details, #transcript, #queue") == []
    screenshot(agent, "console-conversation")
    assert_fits(agent, "an open conversation at 1366")
    assert_accessible(agent, "an open conversation")

    agent.get_by_test_id("resolve").click()
    customer.rates(5, COMMENT)
    rating = agent.get_by_test_id("transcript-rating")
    expect(rating).to_contain_text(f"Rated 5/5: {COMMENT}")
    expect(rating).to_contain_text("rating for Sam (demo agent)")
    assert rating.locator("img").count() == 0 and agent.evaluate("window.pwned") is None


def test_at_1024_px_a_conversation_waiting_or_claimed_and_its_details_fit(hub, browser: Browser, handed_over):
    supervisor = console_page(browser, hub.hub_url, "demo.supervisor", viewport=SMALL_LAPTOP)
    supervisor.get_by_test_id("view-queue").click()
    queue_item(supervisor, handed_over.conversation_id).click()
    expect(supervisor.get_by_test_id("packet")).to_contain_text("What the customer said")
    assert_fits(supervisor, "a waiting conversation at 1024")
    supervisor.get_by_test_id("view-claim").click()
    expect(supervisor.get_by_test_id("reply-input")).to_be_visible()
    assert internal_names(supervisor) == []
    assert words_broken_mid_word(supervisor, "#details, #transcript, #queue") == []
    screenshot(supervisor, "console-conversation-1024")
    assert_fits(supervisor, "an open conversation at 1024")
    assert_accessible(supervisor, "an open conversation at 1024")


def test_the_queue_count_says_what_it_counts_and_follows_the_queue_live(hub, browser: Browser):
    supervisor = console_page(browser, hub.hub_url, "demo.supervisor")
    supervisor.get_by_test_id("view-queue").click()
    waiting = supervisor.get_by_test_id("waiting-count")
    expect(waiting).to_have_text(re.compile(r"^\d+$"))
    before = int(waiting.inner_text())
    customer = Customer(hub.hub_url)
    try:
        customer.asks_for_a_person()
        expect(waiting).to_have_text(str(before + 1))
        expect(waiting).to_have_attribute(
            "title", f"{before + 1} customer{'' if before == 0 else 's'} waiting for a person"
        )
        expect(supervisor.get_by_test_id("queue-tab-count")).to_have_text(f"{before + 1} waiting for a person")
        expect(supervisor.get_by_test_id("alert-count")).to_have_text("1 new")
        expect(supervisor.get_by_test_id("alert-count")).to_have_attribute("title", re.compile("waiting for a person"))

        agent = console_page(browser, hub.hub_url, "demo.agent")
        queue_item(agent, customer.conversation_id).get_by_test_id("claim").click()
        expect(agent.get_by_test_id("reply-input")).to_be_visible()
        expect(waiting).to_have_text(str(before))
        expect(supervisor.get_by_test_id("alert-count")).to_be_hidden()
        expect(queue_item(supervisor, customer.conversation_id)).to_have_count(0)
    finally:
        customer.close()


def test_the_login_page_passes_the_accessibility_check(hub, browser: Browser):
    page = browser.new_page()
    page.goto(hub.hub_url + "/console")
    expect(page.get_by_test_id("login-username")).to_be_visible()
    assert_accessible(page, "the login page")
