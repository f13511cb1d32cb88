"""The supervisors' Insight page in a real headless Chromium."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from bot.store import schema as t
from tests.browser_pages import assert_accessible, assert_fits, console_page, screenshot

# The supervisors' Insight page, on a small history written straight into the hub's database for a week long
# past (2025-03-03..09), so that live test conversations (now) never mix in. The expected figures are worked
# out by hand below from what is seeded.
INSIGHT_SINCE = "2025-03-03"
INSIGHT_UNTIL = "2025-03-09"
INSIGHT_HOSTILE = "<img src=x onerror=\"window.pwned='insight'\"> the bot kept looping"
INSIGHT_HOSTILE_ASKED = "I want my money back for order 00123842"


def seed_insight_history(database: Path) -> dict[str, Any]:
    """Nine counted conversations (one more has no customer message, one more is the day before the period):
    five finished by the bot, four handed to a person (three claimed: Sam twice, Jo once; one never claimed).
    Jo is a former agent (inactive) who still has figures in the period."""
    tag = uuid.uuid4().hex[:8]
    engine = sa.create_engine(f"sqlite:///{database}", future=True)
    try:
        with engine.begin() as conn:
            sam = conn.execute(sa.select(t.agents.c.id).where(t.agents.c.username == "demo.agent")).scalar_one()
            jo = conn.execute(
                t.agents.insert().values(
                    username=f"insight.jo.{tag}",
                    display_name="Jo (former agent)",
                    password_hash="!",  # no password signs in
                    role="agent",
                    capacity=3,
                    active=False,
                    created_at=dt.datetime(2024, 1, 1),
                )
            ).inserted_primary_key[0]
            ids: dict[str, str] = {}

            def at(day: int, hour: int, minute: int = 0, seconds: int = 0) -> dt.datetime:
                return dt.datetime(2025, 3, day, hour, minute) + dt.timedelta(seconds=seconds)

            def conversation(name: str, started: dt.datetime, asked: str | None = "where is my order?") -> str:
                ids[name] = conversation_id = str(uuid.uuid4())
                customer_id = str(uuid.uuid4())
                conn.execute(
                    t.customers.insert().values(
                        id=customer_id,
                        channel="web",
                        external_id=f"insight-{tag}-{name}",
                        display_name=None,
                        created_at=started,
                    )
                )
                conn.execute(
                    t.conversations.insert().values(
                        id=conversation_id,
                        customer_id=customer_id,
                        channel="web",
                        state="bot",
                        created_at=started,
                        updated_at=started + dt.timedelta(hours=1),
                    )
                )
                if asked:
                    conn.execute(
                        t.messages.insert().values(
                            conversation_id=conversation_id, sender="customer", text=asked, created_at=started
                        )
                    )
                conn.execute(
                    t.messages.insert().values(
                        conversation_id=conversation_id,
                        sender="bot",
                        text="Hello! How can I help?" if not asked else "Let me look into that.",
                        created_at=started + dt.timedelta(seconds=1),
                    )
                )
                return conversation_id

            def handoff(name: str, reason: str, requested: dt.datetime, agent: int | None, times=None) -> int:
                claimed, replied, resolved = times or (None, None, None)
                seconds = dt.timedelta(seconds=1)
                handoff_id = conn.execute(
                    t.handoffs.insert().values(
                        conversation_id=ids[name],
                        reason=reason,
                        priority="normal",
                        summary=f"Insight test handoff ({reason}).",
                        packet="{}",
                        source="rasa",
                        requested_at=requested,
                        agent_id=agent,
                        claimed_at=requested + claimed * seconds if claimed is not None else None,
                        first_reply_at=requested + replied * seconds if replied is not None else None,
                        resolved_at=requested + resolved * seconds if resolved is not None else None,
                    )
                ).inserted_primary_key[0]
                conn.execute(
                    t.conversations.update().where(t.conversations.c.id == ids[name]).values(handoff_id=handoff_id)
                )
                return handoff_id

            def rating(name, score, when, agent=None, handoff_id=None, comment=None, table=t.ratings):
                conn.execute(
                    table.insert().values(
                        conversation_id=ids[name],
                        handoff_id=handoff_id,
                        agent_id=agent,
                        score=score,
                        comment=comment,
                        created_at=when,
                    )
                )

            def intents(name: str, *names: str) -> None:
                for intent in names:
                    conn.execute(
                        t.conversation_intents.insert().values(
                            conversation_id=ids[name], intent=intent, first_seen_at=dt.datetime(2025, 3, 1)
                        )
                    )

            conversation("c1", at(3, 9))
            conversation("c2", at(3, 10))
            h2 = handoff("c2", "requested", at(3, 10, 5), sam, (60, 90, 600))
            conversation("c3", at(4, 9))
            conversation("c4", at(4, 11))
            h4 = handoff("c4", "emotional", at(4, 11, 0), sam, (180, 200, 900))
            conversation("c5", at(5, 9), INSIGHT_HOSTILE_ASKED)
            conversation("c6", at(5, 12))
            conversation("c7", at(6, 14))
            h7 = handoff("c7", "requested", at(6, 14, 0), jo, (300, 320, 1200))
            conversation("c8", at(7, 10))
            conversation("c9", at(7, 11), asked=None)  # the customer never wrote: not counted
            conversation("c10", at(9, 16))
            handoff("c10", "not_understood", at(9, 16, 0), None)
            conversation("c11", dt.datetime(2025, 3, 2, 23, 50))  # the day before the period

            rating("c1", 5, at(3, 9, 30), comment="Quick answer, thanks")
            rating("c2", 5, at(3, 10, 20), sam, h2)
            rating("c3", 4, at(4, 9, 30))
            rating("c4", 4, at(4, 11, 20), sam, h4)
            rating("c5", 2, at(5, 9, 30), comment=INSIGHT_HOSTILE)
            rating("c6", 5, at(5, 12, 30))
            rating("c7", 1, at(6, 14, 30), jo, h7, comment="Waited far too long for a refund")
            rating("c8", 3, at(7, 10, 30))
            rating("c11", 1, dt.datetime(2025, 3, 2, 23, 55), comment="Outside the period")
            rating("c1", 9, at(3, 9, 31), table=t.nps_scores)
            rating("c2", 10, at(3, 10, 21), sam, h2, table=t.nps_scores)
            rating("c3", 8, at(4, 9, 31), comment="Would recommend, mostly", table=t.nps_scores)
            rating("c4", 6, at(4, 11, 21), sam, h4, table=t.nps_scores)

            intents("c1", "greet", "track_order")
            intents("c2", "track_order", "contact_human_agent")
            intents("c3", "greet")
            intents("c4", "complaint")
            intents("c7", "complaint")
            intents("c8", "track_order")
    finally:
        engine.dispose()
    return {"ids": ids, "sam": sam, "jo": jo, "jo_name": "Jo (former agent)"}


BUSY_FROM = dt.date(2024, 9, 1)
BUSY_DAYS = 40
"""A run of days, each with one conversation (seed_busy_days), far from the seeded week: more days than the By day
table shows at once."""


def seed_busy_days(database: Path, first: dt.date, days: int) -> None:
    """One conversation a day, in which the customer wrote, for `days` days from `first`."""
    engine = sa.create_engine(f"sqlite:///{database}", future=True)
    try:
        with engine.begin() as conn:
            for n in range(days):
                started = dt.datetime.combine(first + dt.timedelta(days=n), dt.time(12))
                customer_id, conversation_id = str(uuid.uuid4()), str(uuid.uuid4())
                conn.execute(
                    t.customers.insert().values(
                        id=customer_id, channel="web", external_id=f"busy-{customer_id}", created_at=started
                    )
                )
                conn.execute(
                    t.conversations.insert().values(
                        id=conversation_id,
                        customer_id=customer_id,
                        channel="web",
                        state="bot",
                        created_at=started,
                        updated_at=started,
                    )
                )
                conn.execute(
                    t.messages.insert().values(
                        conversation_id=conversation_id, sender="customer", text="hello", created_at=started
                    )
                )
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def insight_history(hub) -> dict[str, Any]:
    """The seeded week (seed_insight_history) and the busy days, once for the module."""
    seeded = seed_insight_history(hub.hub_database)
    seed_busy_days(hub.hub_database, BUSY_FROM, BUSY_DAYS)
    return seeded


INSIGHT_DAILY = [  # day, conversations, handed off, handoff rate, ratings, CSAT, average
    ("2025-03-03", 2, 1, 0.5, 2, 1.0, 5.0),
    ("2025-03-04", 2, 1, 0.5, 2, 1.0, 4.0),
    ("2025-03-05", 2, 0, 0.0, 2, 0.5, 3.5),
    ("2025-03-06", 1, 1, 1.0, 1, 0.0, 1.0),
    ("2025-03-07", 1, 0, 0.0, 1, 0.0, 3.0),
    ("2025-03-08", 0, 0, None, 0, None, None),
    ("2025-03-09", 1, 1, 1.0, 0, None, None),
]


def insight_console(browser: Browser, hub_url: str, username: str, errors: list[str]) -> Page:
    """A console page signed in as `username`, with every console error and uncaught exception from then on in
    `errors` (a page the CSP stops from doing something logs an error too)."""
    page = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True).new_page()
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(hub_url + "/console")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill("frontline-demo")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()
    errors.clear()  # the 401 of GET /api/me that shows the login form
    return page


ROWS = "tbody tr:not(.insight-table__empty):not(.insight-table__quiet)"
"""A table's rows of figures (not the line of an empty table, nor a run of quiet days folded into one row)."""


def insight_rows(page: Page, name: str) -> list[dict[str, Any]]:
    """A rendered table's rows as {column key: the value the hub sent (a number, text or None)}."""
    return page.get_by_test_id(f"insight-table-{name}").evaluate(
        """(table, rows) => Array.from(table.querySelectorAll(rows)).map(row =>
            Object.fromEntries(Array.from(row.children).map(cell => {
                const value = cell.dataset.value;
                return [cell.dataset.key, value === "" ? null : isNaN(Number(value)) ? value : Number(value)];
            })))""",
        ROWS,
    )


def insight_texts(page: Page, name: str) -> list[dict[str, str]]:
    """A rendered table's rows as {column key: the text a supervisor reads}."""
    return page.get_by_test_id(f"insight-table-{name}").evaluate(
        """(table, rows) => Array.from(table.querySelectorAll(rows)).map(row =>
            Object.fromEntries(Array.from(row.children).map(cell => [cell.dataset.key, cell.textContent])))""",
        ROWS,
    )


def tables_scrolling_inside(page: Page) -> list[str]:
    """The tables that scroll inside the page (taller than the box they are shown in): none should."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll(".insight-table-wrap"))
            .filter(wrap => wrap.scrollHeight > wrap.clientHeight + 1)
            .map(wrap => wrap.querySelector("table").dataset.testid)"""
    )


def raw(value: Any) -> str:
    return "" if value is None else str(value)


def test_insight_shows_a_supervisor_the_figures_of_a_period(hub, insight_history, browser):
    seeded = insight_history
    ids, jo_name = seeded["ids"], seeded["jo_name"]
    errors: list[str] = []
    page = insight_console(browser, hub.hub_url, "demo.supervisor", errors)

    tab = page.get_by_test_id("view-insight")
    expect(tab).to_be_visible()
    tab.click()
    expect(page.get_by_test_id("insight")).to_be_visible()
    expect(tab).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("queue")).to_be_hidden()
    # The last 30 days by default, shown with their time zone.
    expect(page.get_by_test_id("insight-preset-30")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("insight-period")).to_contain_text("30 days")
    expect(page.get_by_test_id("insight-period")).to_contain_text("UTC")

    # A period the hub refuses says why (here the end comes before the start), and nothing else is shown.
    page.get_by_test_id("insight-until").fill("2025-03-01")
    expect(page.get_by_test_id("insight-error")).to_contain_text("is after 'until' (2025-03-01)")
    expect(page.get_by_test_id("insight-body")).to_be_hidden()

    page.get_by_test_id("insight-since").fill(INSIGHT_SINCE)
    page.get_by_test_id("insight-until").fill(INSIGHT_UNTIL)
    containment = page.get_by_test_id("insight-table-containment")
    expect(containment.locator("tbody [data-key=conversations]")).to_have_attribute("data-value", "9")
    expect(page.get_by_test_id("insight-error")).to_be_hidden()
    period = page.get_by_test_id("insight-period")
    expect(period).to_contain_text("7 days")
    expect(period).to_contain_text("UTC")
    expect(period).to_contain_text("2025")
    for days in (7, 30, 90, 365):
        expect(page.get_by_test_id(f"insight-preset-{days}")).to_have_attribute("aria-pressed", "false")

    # Headline tiles. Bot: 5, 4, 2, 5, 3 -> 3 of 5 rated 4-5, average 19/5. Agents: Sam 5, 4 and Jo 1 -> 2 of 3,
    # average 10/3. NPS: bot 9, 8 -> +50; Sam 10, 6 -> 0. 9 conversations, 4 handed off. Queue waits 60, 180, 300 s.
    def tile(name: str):
        return page.get_by_test_id(f"insight-tile-{name}")

    expect(tile("bot-csat").get_by_test_id("insight-tile-value")).to_have_text("60%")
    expect(tile("bot-csat").get_by_test_id("insight-tile-detail")).to_have_text(
        "rated 4–5 · average 3.8 of 5 · 5 ratings"
    )
    expect(tile("agent-csat").get_by_test_id("insight-tile-value")).to_have_text("66.7%")
    expect(tile("agent-csat").get_by_test_id("insight-tile-detail")).to_have_text(
        "rated 4–5 · average 3.33 of 5 · 3 ratings"
    )
    expect(tile("bot-nps").get_by_test_id("insight-tile-value")).to_have_text("+50")
    expect(tile("bot-nps").get_by_test_id("insight-tile-detail")).to_have_text("1 promoter, 0 detractors · 2 answers")
    expect(tile("agent-nps").get_by_test_id("insight-tile-value")).to_have_text("0")
    expect(tile("containment").get_by_test_id("insight-tile-value")).to_have_text("55.6%")
    expect(tile("containment").get_by_test_id("insight-tile-detail")).to_have_text(
        "5 of 9 conversations finished by the bot"
    )
    expect(tile("handoff-rate").get_by_test_id("insight-tile-value")).to_have_text("44.4%")
    expect(tile("handoff-rate").get_by_test_id("insight-tile-detail")).to_have_text(
        "4 of 9 conversations handed to a person"
    )
    expect(tile("queue-wait").get_by_test_id("insight-tile-value")).to_have_text("3 min")
    # p90 of 60, 180, 300 (interpolated like percentile_cont): 180 + 0.8 * 120 = 276 s.
    expect(tile("queue-wait").get_by_test_id("insight-tile-detail")).to_have_text(
        "90% within 4 min 36 s · 3 handoffs claimed"
    )

    # Every table, from the hub's columns and rows.
    satisfaction = insight_rows(page, "satisfaction")
    assert [row["credited_to"] for row in satisfaction] == ["Bot", "Sam (demo agent)", jo_name]
    assert [(r["ratings"], r["satisfied"], r["csat"], r["average"]) for r in satisfaction] == [
        (5, 3, 0.6, 3.8),
        (2, 2, 1.0, 4.5),
        (1, 0, 0.0, 1.0),
    ]
    assert [(r["nps_answers"], r["promoters"], r["detractors"], r["nps"]) for r in satisfaction] == [
        (2, 1, 0, 50.0),
        (2, 1, 1, 0.0),
        (0, 0, 0, None),
    ]
    shown = insight_texts(page, "satisfaction")
    assert (shown[0]["csat"], shown[1]["csat"], shown[2]["nps"]) == ("60%", "100%", "–")

    assert insight_rows(page, "containment") == [
        {"conversations": 9, "contained": 5, "handed_off": 4, "containment": 0.5556, "handoff_rate": 0.4444}
    ]
    reasons = insight_rows(page, "handoff_reasons")
    assert [(r["reason"], r["handoffs"], r["conversations"], r["rate"]) for r in reasons] == [
        ("requested", 2, 2, 0.2222),
        ("emotional", 1, 1, 0.1111),
        ("not_understood", 1, 1, 0.1111),
    ]
    assert [r["reason"] for r in insight_texts(page, "handoff_reasons")] == [
        "The customer asked for a person",
        "The customer seems upset",
        "The bot did not understand the customer",
    ]
    intents = insight_rows(page, "handoff_intents")  # greet is small talk: left out
    assert [(r["intent"], r["conversations"], r["handed_off"], r["rate"]) for r in intents] == [
        ("complaint", 2, 2, 1.0),
        ("track_order", 3, 1, 0.3333),
        ("contact_human_agent", 1, 1, 1.0),
    ]
    # Intents in words (intent_titles.yml), never their names.
    assert [r["intent"] for r in insight_texts(page, "handoff_intents")] == [
        "Complaint",
        "Where is my order",
        "Asked for a person",
    ]
    times = insight_rows(page, "response_times")
    assert [(r["count"], r["median_seconds"], r["p90_seconds"]) for r in times] == [
        (3, 180, 276),  # queue wait: 60, 180, 300
        (3, 200, 296),  # first reply: 90, 200, 320
        (3, 900, 1140),  # resolve: 600, 900, 1200
    ]
    assert [r["median_seconds"] for r in insight_texts(page, "response_times")] == ["3 min", "3 min 20 s", "15 min"]
    agents = {row["agent"]: row for row in insight_rows(page, "agents")}
    assert set(agents) == {"Sam (demo agent)", jo_name, "Alex (demo supervisor)"}
    figures = ("conversations", "resolved", "first_reply_median_seconds", "resolve_median_seconds")
    assert [agents["Sam (demo agent)"][key] for key in figures] == [2, 2, 145, 750]  # replies 90, 200; 600, 900 s
    assert [agents[jo_name][key] for key in figures] == [1, 1, 320, 1200]
    assert [agents["Alex (demo supervisor)"][key] for key in figures] == [0, 0, None, None]
    assert [r["first_reply_median_seconds"] for r in insight_texts(page, "agents")[:2]] == ["2 min 25 s", "5 min 20 s"]
    daily = insight_rows(page, "daily")
    assert [
        (r["day"], r["conversations"], r["handed_off"], r["handoff_rate"], r["ratings"], r["csat"], r["average"])
        for r in daily
    ] == INSIGHT_DAILY[::-1], "newest day first"
    assert tables_scrolling_inside(page) == []

    # The three charts are drawn: CSAT on the 5 days with ratings, conversations on 6 days, 3 who were rated.
    for name, points in (("csat", 5), ("handoffs", 6), ("agents", 3)):
        canvas = page.get_by_test_id(f"insight-chart-{name}")
        expect(canvas).to_have_attribute("data-points", str(points))
        assert canvas.evaluate(
            """canvas => {
                const {width, height} = canvas;
                const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
                for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) return width > 100 && height > 100; }
                return false;
            }"""
        ), f"the {name} chart has nothing drawn"
    assert page.evaluate("Object.keys(Chart.instances).length") == 3
    expect(page.get_by_test_id("insight-chart-note-csat")).to_have_text("Ratings in 5 of 7 days.")
    expect(page.get_by_test_id("insight-chart-note-handoffs")).to_have_text("Conversations in 6 of 7 days.")

    # A CSV download has the same rows.
    csv_link = page.get_by_test_id("insight-csv-daily")
    expect(csv_link).to_have_attribute("href", f"/api/insight/daily.csv?since={INSIGHT_SINCE}&until={INSIGHT_UNTIL}")
    with page.expect_download() as download_info:
        csv_link.click()
    download = download_info.value
    assert download.suggested_filename == f"frontline-daily-{INSIGHT_SINCE}-{INSIGHT_UNTIL}.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == [
        "Day",
        "Conversations",
        "Handed to a person",
        "Handoff rate",
        "Ratings",
        "CSAT",
        "Average rating",
    ]
    assert rows[1:] == [[raw(value) for value in day] for day in INSIGHT_DAILY]
    reasons_csv = page.request.get(
        hub.hub_url + page.get_by_test_id("insight-csv-handoff_reasons").get_attribute("href")
    )
    assert reasons_csv.ok
    assert list(csv.reader(io.StringIO(reasons_csv.text().lstrip("\ufeff"))))[1:] == [
        ["requested", "2", "2", "0.2222"],
        ["emotional", "1", "1", "0.1111"],
        ["not_understood", "1", "1", "0.1111"],
    ]

    # Comments, newest first (the one the day before the period is not there)...
    comments = page.get_by_test_id("insight-comment")
    expect(page.get_by_test_id("insight-comments-status")).to_contain_text("4 comments")
    expect(comments).to_have_count(4)
    assert comments.evaluate_all("items => items.map(item => item.dataset.conversationId)") == [
        ids["c7"],
        ids["c5"],
        ids["c3"],
        ids["c1"],
    ]
    first = comments.first
    expect(first.get_by_test_id("insight-comment-score")).to_have_text("1/5")
    expect(first.get_by_test_id("insight-comment-question")).to_have_text("CSAT")
    expect(first.get_by_test_id("insight-comment-credited")).to_have_text(f"Credited to {jo_name}")
    expect(first.get_by_test_id("insight-comment-at")).to_contain_text("2025")
    expect(first.get_by_test_id("insight-comment-text")).to_have_text("Waited far too long for a refund")
    expect(comments.nth(2).get_by_test_id("insight-comment-score")).to_have_text("8/10")
    expect(comments.nth(2).get_by_test_id("insight-comment-question")).to_have_text("NPS")

    # ...searched by their words; the markup a customer wrote is shown as text and never runs.
    page.get_by_test_id("insight-comments-search").fill("KEPT looping")
    page.get_by_test_id("insight-comments-search").press("Enter")
    expect(comments).to_have_count(1)
    expect(page.get_by_test_id("insight-comments-status")).to_contain_text("1 comment with “KEPT looping”")
    hostile = comments.first
    expect(hostile.get_by_test_id("insight-comment-text")).to_have_text(INSIGHT_HOSTILE)
    expect(hostile.get_by_test_id("insight-comment-credited")).to_have_text("Credited to Bot")
    assert page.get_by_test_id("insight").locator("img").count() == 0
    assert page.evaluate("window.pwned") is None
    expect(page.get_by_test_id("insight-csv-comments")).to_have_attribute(
        "href", f"/api/insight/comments.csv?since={INSIGHT_SINCE}&until={INSIGHT_UNTIL}&q=KEPT+looping"
    )
    comments_csv = page.request.get(hub.hub_url + page.get_by_test_id("insight-csv-comments").get_attribute("href"))
    found = list(csv.DictReader(io.StringIO(comments_csv.text().lstrip("\ufeff"))))
    assert [(row["Conversation"], row["Score"], row["Comment"]) for row in found] == [(ids["c5"], "2", INSIGHT_HOSTILE)]

    # The comment's conversation opens in the console, read only.
    hostile.get_by_test_id("insight-comment-open").click()
    expect(page.get_by_test_id("insight")).to_be_hidden()
    transcript = page.get_by_test_id("transcript")
    expect(transcript).to_contain_text(INSIGHT_HOSTILE_ASKED)
    expect(page.get_by_test_id("reply-input")).to_have_count(0)
    assert page.evaluate("window.pwned") is None

    # Back on Insight the period and the search are as they were; a preset reloads and redraws the charts.
    page.get_by_test_id("view-insight").click()
    expect(page.get_by_test_id("insight-since")).to_have_value(INSIGHT_SINCE)
    expect(comments).to_have_count(1)
    page.get_by_test_id("insight-preset-7").click()
    expect(page.get_by_test_id("insight-preset-7")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("insight-period")).to_contain_text("7 days")
    expect(page.get_by_test_id("insight-since")).not_to_have_value(INSIGHT_SINCE)
    expect(page.get_by_test_id("insight-body")).not_to_have_attribute("aria-busy", "true")
    # Each chart on the page is one Chart.js instance: those of the earlier period were destroyed.
    # (Polled from here: Playwright's wait_for_function needs eval, which the console's CSP refuses.)
    for _ in range(50):
        instances, drawn = page.evaluate(
            """() => [Object.keys(Chart.instances).length,
                document.querySelectorAll("canvas[data-testid^=insight-chart-][data-drawn]").length]"""
        )
        if instances == drawn:
            break
        page.wait_for_timeout(100)
    assert instances == drawn <= 3, (instances, drawn)
    # No script errors and nothing the CSP refused; the browser logs the two answers to the refused period.
    assert [error for error in errors if "status of 400 (Bad Request)" not in error] == [], errors
    assert len(errors) == 2, errors


def test_insight_is_for_supervisors_only(hub, browser):
    for username in ("demo.agent", "demo.trainer"):
        errors: list[str] = []
        page = insight_console(browser, hub.hub_url, username, errors)
        expect(page.get_by_test_id("view-insight")).to_be_hidden()
        expect(page.get_by_test_id("insight")).to_be_hidden()
        assert page.request.get(hub.hub_url + "/api/insight").status == 403
        assert page.request.get(hub.hub_url + "/api/insight/comments").status == 403
        assert page.request.get(hub.hub_url + "/api/insight/daily.csv").status == 403
        # The address of the page does not open it either (a fresh page: the same session, booted on #insight).
        linked = page.context.new_page()
        linked.goto(hub.hub_url + "/console#insight")
        expect(linked.get_by_test_id("logout")).to_be_visible()
        expect(linked.get_by_test_id("insight")).to_be_hidden()
        expect(linked.get_by_test_id("view-insight")).to_be_hidden()
        assert errors == [], errors
        page.context.close()
    with httpx.Client(base_url=hub.hub_url, timeout=20.0) as nobody:
        assert nobody.get("/api/insight").status_code == 401


def show_period(page: Page, since: str, until: str, days: int) -> None:
    """Insight for the days from `since` to `until`, once the page says it shows them (`days` long)."""
    page.get_by_test_id("insight-since").fill(since)
    page.get_by_test_id("insight-until").fill(until)
    page.get_by_test_id("insight-until").blur()
    expect(page.get_by_test_id("insight-period")).to_contain_text(f"· {days} days ·")
    expect(page.get_by_test_id("insight-body")).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_test_id("insight-chart-handoffs")).to_have_attribute("data-points", re.compile(r"^\d+$"))


def quiet_runs(page: Page) -> list[tuple[str, str, str]]:
    """The By day table's folded runs of quiet days, top to bottom: (from, to, how many days)."""
    found = page.get_by_test_id("insight-daily-quiet").evaluate_all(
        "rows => rows.map(row => [row.dataset.from, row.dataset.to, row.dataset.days])"
    )
    return [tuple(run) for run in found]


def test_insight_reads_well_from_a_quiet_period_to_a_long_one_at_1366_and_1024(hub, insight_history, browser):
    page = console_page(browser, hub.hub_url, "demo.supervisor")
    page.get_by_test_id("view-insight").click()
    expect(page.get_by_test_id("insight")).to_be_visible()

    # The seeded week: bars by day, the newest day on top, the screen fits and reads out.
    show_period(page, INSIGHT_SINCE, INSIGHT_UNTIL, 7)
    csat = page.get_by_test_id("insight-chart-csat")
    handoffs = page.get_by_test_id("insight-chart-handoffs")
    expect(csat).to_have_attribute("data-type", "bar")
    expect(csat).to_have_attribute("data-unit", "day")
    assert insight_rows(page, "daily")[0]["day"] == INSIGHT_UNTIL
    expect(page.get_by_test_id("insight-daily-more")).to_be_hidden()
    screenshot(page, "insight")
    assert_fits(page, "Insight at 1366")
    assert_accessible(page, "Insight")

    # A quiet period: the one busy day, the rest folded into one row; no ratings says so instead of a chart; one
    # conversation does not fill the chart's height.
    show_period(page, "2025-03-09", "2025-03-31", 23)
    assert quiet_runs(page) == [("2025-03-10", "2025-03-31", "22")]
    expect(page.get_by_test_id("insight-daily-quiet")).to_have_text(
        re.compile(r"^No conversations and no ratings from (10 Mar|Mar 10) to (31 Mar|Mar 31) \(22 days\)$")
    )
    assert [(r["day"], r["conversations"]) for r in insight_rows(page, "daily")] == [("2025-03-09", 1)]
    expect(handoffs).to_have_attribute("data-points", "1")
    expect(page.get_by_test_id("insight-chart-note-handoffs")).to_have_text("Conversations in 1 of 23 days.")
    expect(csat).to_be_hidden()
    expect(page.locator("[data-empty-for=csat]")).to_have_text("No ratings in this period.")
    expect(page.get_by_test_id("insight-chart-note-csat")).to_be_hidden()
    expect(handoffs).to_have_attribute("data-drawn", "true")
    assert handoffs.evaluate("canvas => Chart.getChart(canvas).scales.y.max") >= 4
    page.locator("#insight-chart-handoffs-title").scroll_into_view_if_needed()
    screenshot(page, "insight-quiet")

    # Nothing at all: said once for the page and by each chart; the By day table is one line.
    show_period(page, "2024-01-01", "2024-01-07", 7)
    expect(page.get_by_test_id("insight-empty")).to_contain_text("Nothing in this period")
    expect(page.locator("[data-empty-for=handoffs]")).to_have_text("No conversations in this period.")
    expect(handoffs).to_be_hidden()
    assert quiet_runs(page) == [("2024-01-01", "2024-01-07", "7")]
    assert insight_rows(page, "daily") == []

    # A year: weeks (CSAT as a line), the busy days a month of rows at a time, and still no scroll inside a table.
    show_period(page, "2024-06-01", "2025-05-31", 365)
    expect(csat).to_have_attribute("data-type", "line")
    expect(csat).to_have_attribute("data-unit", "week")
    expect(page.get_by_test_id("insight-chart-note-csat")).to_have_text("Ratings in 2 of 53 weeks.")
    expect(page.get_by_test_id("insight-chart-note-handoffs")).to_have_text(
        re.compile(r"^Conversations in \d+ of 53 weeks\. Each bar is a week \(from Monday\)\.$")
    )
    expect(page.locator("#insight-chart-handoffs-title")).to_have_text("Conversations and handoffs by week")
    rows = page.get_by_test_id("insight-table-daily").locator("tbody tr")
    expect(rows).to_have_count(31)
    more = page.get_by_test_id("insight-daily-more")
    expect(more).to_have_text("Show earlier days (20 more rows)")
    assert quiet_runs(page)[0] == ("2025-03-10", "2025-05-31", "83")
    more.click()
    expect(rows).to_have_count(51)
    expect(more).to_be_hidden()
    assert quiet_runs(page)[-1] == ("2024-06-01", "2024-08-31", "92")
    busy = [r["day"] for r in insight_rows(page, "daily") if r["day"] < "2025-01-01"]
    assert busy == [(BUSY_FROM + dt.timedelta(days=n)).isoformat() for n in reversed(range(BUSY_DAYS))]
    assert tables_scrolling_inside(page) == []
    assert_fits(page, "Insight for a year at 1366")

    narrow = console_page(browser, hub.hub_url, "demo.supervisor", viewport={"width": 1024, "height": 768})
    narrow.get_by_test_id("view-insight").click()
    show_period(narrow, INSIGHT_SINCE, INSIGHT_UNTIL, 7)
    expect(narrow.get_by_test_id("insight-chart-csat")).to_have_attribute("data-drawn", "true")
    screenshot(narrow, "insight-1024")
    assert_fits(narrow, "Insight at 1024")
    assert tables_scrolling_inside(narrow) == []
    assert_accessible(narrow, "Insight at 1024")
