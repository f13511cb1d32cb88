"""What every browser test needs: a customer's phone with the widget open, a signed-in console, a screenshot
saved under results/screens/, and the two checks every page must pass (nothing wider than the screen, no
serious accessibility violation)."""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.rasa_stack import PROJECT_ROOT

SCREENS = PROJECT_ROOT / "results" / "screens"
PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1366, "height": 800}
SERIOUS = ("serious", "critical")
"""axe-core's impact levels that fail a test; "moderate" and "minor" are reported, not failed."""


def customer_page(browser: Browser, hub_url: str) -> Page:
    """The shop page on a phone-sized screen with the chat widget opened."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(hub_url + "/")
    page.get_by_test_id("fl-launcher").click()
    expect(page.get_by_test_id("fl-panel")).to_be_visible()
    return page


def say(page: Page, text: str) -> None:
    """The customer types `text` into the widget and sends it."""
    page.get_by_test_id("fl-input").fill(text)
    page.get_by_test_id("fl-send").click()


def console_page(browser: Browser, hub_url: str, username: str, viewport: dict[str, int] | None = None) -> Page:
    """The console signed in as `username` (password `frontline-demo`), 1366×800 unless told otherwise."""
    page = browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True).new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(hub_url + "/console")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill("frontline-demo")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()
    return page


def screenshot(page: Page, name: str) -> Path:
    """Saves what the page shows as results/screens/<name>.png (README shows some of them)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def overflowing(page: Page) -> list[str]:
    """Visible elements whose content is cut off or pushes past the right edge of the screen, as short
    descriptions (tag, test id or class, and by how many pixels); empty when everything fits."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const found = [];
            const name = el => el.tagName.toLowerCase() + (el.dataset.testid ? "[" + el.dataset.testid + "]"
                : el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "");
            if (document.documentElement.scrollWidth > width + 1) {
                found.push("page scrolls sideways by " + (document.documentElement.scrollWidth - width) + "px");
            }
            for (const el of document.querySelectorAll("body *")) {
                const box = el.getBoundingClientRect();
                if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
                if (box.width <= 1 && box.height <= 1) continue;  // text for screen readers only, clipped on purpose
                if (box.right > width + 1) {
                    found.push(name(el) + " ends " + Math.round(box.right - width) + "px past the edge");
                }
                const style = getComputedStyle(el);
                const clips = style.overflowX === "hidden" || style.overflowX === "clip";
                if (clips && el.scrollWidth > el.clientWidth + 1 && style.textOverflow !== "ellipsis") {
                    found.push(name(el) + " cuts off " + (el.scrollWidth - el.clientWidth) + "px");
                }
            }
            return found.slice(0, 20);
        }"""
    )


def assert_fits(page: Page, where: str) -> None:
    """Nothing on the page is wider than the screen or cut off on the right."""
    problems = overflowing(page)
    assert problems == [], f"{where}: {problems}"


def assert_accessible(page: Page, where: str) -> None:
    """axe-core (bundled by axe-playwright-python, nothing downloaded) finds no serious or critical violation."""
    results = Axe().run(page)
    serious = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(str(node.get("target")) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation.get("impact") in SERIOUS
    ]
    assert serious == [], f"{where}: {serious}"
