"""The widget's feedback questions in headless Chromium on a phone-sized page: stars, then 0-10 "recommend us"."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from bot.store import schema as t
from bot.store.database import create_engine
from tests.hub_clients import AgentClient
from tests.own_loop import run_on_own_loop
from tests.rasa_stack import RasaStack

PHONE = {"width": 375, "height": 667}


@pytest.fixture(scope="module")
def feedback_hub(assistant: RasaStack, tmp_path_factory) -> Iterator[RasaStack]:
    """A hub of this module's own that asks both questions: stars first, then how likely to recommend us."""
    database = tmp_path_factory.mktemp("feedback_hub") / "hub.db"
    assistant.start_hub(env={"DATABASE_URL": f"sqlite:///{database}", "FEEDBACK_QUESTIONS": "csat,nps"})
    assistant.hub_database = database
    try:
        yield assistant
    finally:
        assistant.stop_hub()


def customer_page(browser: Browser, hub_url: str, sent: list[dict]) -> Page:
    """The shop page on a phone with the chat open; the frames the widget sends are collected in `sent`."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(json.loads(payload))))
    page.goto(hub_url + "/")
    page.get_by_test_id("fl-launcher").click()
    expect(page.get_by_test_id("fl-panel")).to_be_visible()
    return page


def in_a_thread(scenario):
    """Run an asyncio scenario beside Playwright's sync API, which owns this thread's event loop."""
    return run_on_own_loop(scenario())


def claim_and_resolve(hub_url: str) -> tuple[str, int]:
    """The demo agent claims the one waiting conversation and marks it resolved; its id and the agent's."""

    async def scenario() -> tuple[str, int]:
        agent = AgentClient(hub_url)
        try:
            assert (await agent.login()).status_code == 200
            waiting = (await agent.get("/api/queue")).json()["waiting"]
            assert len(waiting) == 1, waiting
            conversation_id = waiting[0]["id"]
            assert (await agent.post(f"/api/conversations/{conversation_id}/claim")).status_code == 200
            assert (await agent.post(f"/api/conversations/{conversation_id}/resolve")).status_code == 200
            return conversation_id, agent.agent["id"]
        finally:
            await agent.close()

    return in_a_thread(scenario)


def test_the_customer_rates_with_stars_then_answers_how_likely_they_are_to_recommend_us(feedback_hub, browser):
    sent: list[dict] = []
    page = customer_page(browser, feedback_hub.hub_url, sent)
    page.get_by_test_id("fl-human").click()
    expect(page.get_by_test_id("fl-panel")).to_have_attribute("data-state", "queued")
    conversation_id, agent_id = claim_and_resolve(feedback_hub.hub_url)

    stars = page.locator(".fl-rating[data-question=csat]")
    expect(stars.get_by_test_id("fl-star")).to_have_count(5)
    stars.locator("[data-testid=fl-star][data-score='5']").click()
    stars.get_by_test_id("fl-rating-skip").click()

    nps = page.locator(".fl-rating[data-question=nps]")
    scale = nps.get_by_role("group", name=re.compile("recommend us", re.I))
    expect(scale).to_be_visible()
    expect(stars).to_contain_text("You rated us 5 out of 5.")
    assert stars.get_by_test_id("fl-star").count() == 0, "the answered question keeps no scale"
    expect(nps).to_contain_text("Not likely")
    expect(nps).to_contain_text("Very likely")
    scores = nps.get_by_test_id("fl-nps-score")
    assert scores.all_inner_texts() == [str(n) for n in range(11)]
    assert scale.get_by_role("button", name="0 out of 10, not likely").count() == 1
    assert scale.get_by_role("button", name="10 out of 10, very likely").count() == 1

    boxes = [scores.nth(n).bounding_box() for n in range(11)]
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] for box in boxes), boxes
    assert all(box["width"] >= 32 and box["height"] >= 38 for box in boxes), "big enough to tap"
    rows = sorted({round(box["y"]) for box in boxes})
    assert len(rows) == 2, "0-5 on one row, 6-10 on the next"
    assert [round(box["y"]) for box in boxes] == [rows[0]] * 6 + [rows[1]] * 5
    assert boxes[10]["x"] + boxes[10]["width"] == pytest.approx(boxes[5]["x"] + boxes[5]["width"], abs=1)

    scores.nth(0).focus()
    page.keyboard.press("End")
    expect(scores.nth(10)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(scores.nth(9)).to_be_focused()
    page.keyboard.press("Enter")
    expect(scores.nth(9)).to_have_attribute("aria-pressed", "true")
    expect(nps.get_by_test_id("fl-rating-chosen")).to_have_text("You chose 9 out of 10.")
    nps.get_by_test_id("fl-rating-comment").fill("Would tell my sister <b>today</b>")
    nps.get_by_test_id("fl-rating-send").click()

    expect(nps).to_contain_text("You answered 9 out of 10.")
    expect(page.locator("[data-testid=fl-message][data-sender=system]").last).to_contain_text(
        "Thank you for your feedback"
    )
    assert nps.locator("b").count() == 0
    ratings = [frame for frame in sent if frame.get("type") == "rating"]
    with create_engine(f"sqlite:///{feedback_hub.hub_database}").connect() as conn:
        asked = dict(
            conn.execute(
                select(t.feedback_requests.c.question, t.feedback_requests.c.message_id).where(
                    t.feedback_requests.c.conversation_id == conversation_id
                )
            ).all()
        )
    assert ratings == [
        {"type": "rating", "question": "csat", "score": 5, "message_id": asked["csat"]},
        {
            "type": "rating",
            "question": "nps",
            "score": 9,
            "comment": "Would tell my sister <b>today</b>",
            "message_id": asked["nps"],
        },
    ], "each answer names the question it answers"
    with create_engine(f"sqlite:///{feedback_hub.hub_database}").connect() as conn:
        nps_row = conn.execute(select(t.nps_scores).where(t.nps_scores.c.conversation_id == conversation_id)).one()
        csat_row = conn.execute(select(t.ratings).where(t.ratings.c.conversation_id == conversation_id)).one()
    assert (nps_row.score, nps_row.comment, nps_row.agent_id) == (9, "Would tell my sister <b>today</b>", agent_id)
    assert (csat_row.score, csat_row.comment, csat_row.agent_id) == (5, None, agent_id)

    # Back later: both questions show as answered, and neither can be answered again.
    page.reload()
    if not page.get_by_test_id("fl-panel").is_visible():
        page.get_by_test_id("fl-launcher").click()
    expect(page.locator(".fl-rating[data-question=nps]")).to_contain_text("You have answered this question.")
    expect(page.locator(".fl-rating[data-question=csat]")).to_contain_text("You have rated this conversation.")
    assert page.get_by_test_id("fl-nps-score").count() == 0 and page.get_by_test_id("fl-star").count() == 0
