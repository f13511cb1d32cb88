"""The same handoff in a real headless Chromium: the widget on a phone-sized shop page, the agent console."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser_pages import customer_page, say

HOSTILE_CUSTOMER = "<script>window.pwned = 'customer'</script> is my parcel lost?"
HOSTILE_AGENT = "<img src=x onerror=\"window.pwned='agent'\"> Found it, sorry!"


def test_a_customer_is_handed_to_an_agent_and_back_in_the_browser(hub, browser):
    customer = customer_page(browser, hub.hub_url)
    panel = customer.get_by_test_id("fl-panel")
    box = panel.bounding_box()
    assert box["width"] >= 370 and box["height"] >= 600, "the widget takes the phone screen"

    say(customer, "where is my order 00123842?")
    expect(customer.locator("[data-testid=fl-message][data-sender=bot]").first).to_contain_text("on its way with DHL")
    customer.get_by_test_id("fl-human").click()
    expect(customer.get_by_test_id("fl-status")).to_contain_text(re.compile("queue|online|team", re.I))
    say(customer, HOSTILE_CUSTOMER)

    console = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    console.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    console.goto(hub.hub_url + "/console")
    console.get_by_test_id("login-username").fill("demo.agent")
    console.get_by_test_id("login-password").fill("frontline-demo")
    console.get_by_test_id("login-submit").click()
    item = console.get_by_test_id("queue-item").first
    expect(item).to_be_visible()
    item.get_by_test_id("claim").click()
    transcript = console.get_by_test_id("transcript")
    expect(transcript).to_contain_text("where is my order 00123842?")
    expect(transcript).to_contain_text(HOSTILE_CUSTOMER)
    expect(console.get_by_test_id("packet")).to_contain_text("Where is my order")
    expect(console.get_by_test_id("packet")).not_to_contain_text("track_order")
    expect(console.get_by_test_id("order")).to_contain_text("00123842")
    expect(console.get_by_test_id("not-verified")).to_contain_text("Not verified")
    expect(console.get_by_test_id("order")).not_to_contain_text("Anna Freeman")
    expect(console.get_by_test_id("customer-name")).not_to_contain_text("Anna Freeman")
    assert console.get_by_test_id("refund").count() == 0, "no money actions for someone not verified"
    assert console.evaluate("window.pwned") is None
    assert transcript.locator("script").count() == 0

    console.get_by_test_id("reply-input").fill(HOSTILE_AGENT)
    console.get_by_test_id("reply-send").click()
    agent_message = customer.locator("[data-testid=fl-message][data-sender=agent]").last
    expect(agent_message).to_contain_text("Found it, sorry!")
    expect(customer.get_by_test_id("fl-status")).to_contain_text("Sam")
    assert customer.locator("[data-testid=fl-messages] img").count() == 0
    assert customer.evaluate("window.pwned") is None

    console.get_by_test_id("resolve").click()
    star = customer.locator("[data-testid=fl-star][data-score='5']").last
    expect(star).to_be_visible()
    star.click()
    customer.get_by_test_id("fl-rating-comment").fill("Quick and kind")
    customer.get_by_test_id("fl-rating-send").click()
    expect(customer.locator("[data-testid=fl-message][data-sender=system]").last).to_contain_text("Thank you")

    customer.reload()
    if not customer.get_by_test_id("fl-panel").is_visible():
        customer.get_by_test_id("fl-launcher").click()
    expect(customer.get_by_test_id("fl-messages")).to_contain_text("Found it, sorry!")
    say(customer, "what payment methods do you accept?")
    expect(customer.locator("[data-testid=fl-message][data-sender=bot]").last).to_contain_text("PayPal")


def test_the_console_asks_for_a_login_and_says_when_it_is_wrong(hub, browser):
    page = browser.new_page()
    page.goto(hub.hub_url + "/console")
    page.get_by_test_id("login-username").fill("demo.agent")
    page.get_by_test_id("login-password").fill("not the password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page.get_by_test_id("queue")).to_be_hidden()
