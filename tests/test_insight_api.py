"""The supervisors' insight API on the running hub: a known week in its database, figures, CSV files, comments."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.core.report_tables import TABLES
from bot.store import schema as t
from bot.store.database import create_engine
from tests.hub_clients import AgentClient
from tests.service_history import (
    ADA,
    BEN,
    CLEO,
    FORMULA,
    HOSTILE,
    SEARCHES,
    SINCE,
    UNTIL,
    SeededHistory,
    expected_tables,
    seed_history,
)

WEEK = {"since": SINCE, "until": UNTIL}
DEMO_STAFF = {"demo.agent": "Sam (demo agent)", "demo.supervisor": "Alex (demo supervisor)"}


@pytest.fixture(scope="module")
def insight(hub) -> dict[str, list[dict[str, Any]]]:
    """The known week seeded into the hub's own database (next to its demo accounts); every table's rows as the
    hub must show them."""
    engine = create_engine(f"sqlite:///{hub.hub_database}")
    history: SeededHistory = seed_history(engine)
    with engine.connect() as conn:
        demo_ids = dict(
            conn.execute(select(t.agents.c.username, t.agents.c.id).where(t.agents.c.username.in_(DEMO_STAFF))).all()
        )
    engine.dispose()
    tables = expected_tables(history)
    idle = {"conversations": 0, "resolved": 0, "first_reply_median_seconds": None, "resolve_median_seconds": None}
    demo_rows = [{"agent": name, "agent_id": demo_ids[username], **idle} for username, name in DEMO_STAFF.items()]
    # The demo agent and supervisor are staff with nothing in that week, listed by name among the idle ones.
    tables["agents"] = sorted(tables["agents"] + demo_rows, key=lambda r: (-r["conversations"], r["agent"]))
    return tables


def run(scenario):
    return asyncio.run(scenario())


async def get_as(hub, username: str | None, path: str, **params: Any) -> httpx.Response:
    client = AgentClient(hub.hub_url)
    try:
        if username:
            assert (await client.login(username)).status_code == 200
        return await client.http.get(path, params=params)
    finally:
        await client.close()


def supervisor_gets(hub, path: str, **params: Any) -> httpx.Response:
    return run(lambda: get_as(hub, "demo.supervisor", path, **params))


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(response.text[1:], newline="")))


def as_csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return str(value)


def test_the_agents_table_lists_the_hubs_demo_staff_as_idle_and_the_week_in_the_right_order(insight):
    assert [row["agent"] for row in insight["agents"]] == [ADA, BEN, "Alex (demo supervisor)", CLEO, "Sam (demo agent)"]


def test_a_supervisor_gets_every_figure_of_the_period_as_counted_by_hand(hub, insight):
    response = supervisor_gets(hub, "/api/insight", **WEEK)

    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["period"] == {"since": SINCE, "until": UNTIL, "timezone": "UTC"}
    assert body["feedback_questions"] == ["csat"]
    assert [table["name"] for table in body["tables"]] == [name for name in TABLES if name != "comments"]
    for table in body["tables"]:
        title, columns = TABLES[table["name"]]
        assert table["title"] == title
        assert table["columns"] == [{"key": key, "label": label} for key, label in columns]
        assert table["rows"] == insight[table["name"]], table["name"]


def test_without_dates_the_page_covers_the_last_thirty_days_up_to_today(hub):
    body = supervisor_gets(hub, "/api/insight").json()
    today = dt.datetime.now(dt.timezone.utc).date()
    assert body["period"]["until"] == today.isoformat()
    assert body["period"]["since"] == (today - dt.timedelta(days=29)).isoformat()
    assert len(next(table for table in body["tables"] if table["name"] == "daily")["rows"]) == 30


@pytest.mark.parametrize("name", list(TABLES))
def test_every_table_downloads_as_a_csv_file_with_its_labels_and_values(hub, insight, name):
    response = supervisor_gets(hub, f"/api/insight/{name}.csv", **WEEK)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="frontline-{name}-2025-05-05-2025-05-11.csv"'
    )
    rows = csv_rows(response)
    _, columns = TABLES[name]
    assert rows[0] == [label for _, label in columns]
    assert rows[1:] == [[as_csv_cell(row[key]) for key, _ in columns] for row in insight[name]]


def test_the_satisfaction_csv_reads_as_the_hand_count(hub, insight):
    rows = csv_rows(supervisor_gets(hub, "/api/insight/satisfaction.csv", **WEEK))
    assert rows == [
        ["Credited to", "Ratings", "Rated 4-5", "CSAT", "Average rating", "NPS answers", "Promoters", "Detractors",
         "NPS"],
        ["Bot", "4", "2", "0.5", "3.25", "3", "2", "0", "66.7"],
        [ADA, "3", "2", "0.6667", "3.67", "2", "1", "1", "0.0"],
        [BEN, "2", "1", "0.5", "4.0", "2", "0", "1", "-50.0"],
    ]  # fmt: skip


def test_the_comments_csv_is_searched_and_defuses_formulas(hub, insight):
    found = csv_rows(supervisor_gets(hub, "/api/insight/comments.csv", q="HYPERLINK", **WEEK))
    everything = csv_rows(supervisor_gets(hub, "/api/insight/comments.csv", **WEEK))
    assert [row[-1] for row in found[1:]] == ["'" + FORMULA]
    assert len(everything) == 1 + 11 and HOSTILE in [row[-1] for row in everything]


def test_comments_come_newest_first_fifty_a_page_with_the_total(hub, insight):
    body = supervisor_gets(hub, "/api/insight/comments", **WEEK).json()
    assert (body["search"], body["offset"], body["limit"], body["total"]) == ("", 0, 50, 11)
    assert body["period"] == {"since": SINCE, "until": UNTIL, "timezone": "UTC"}
    assert body["table"]["name"] == "comments"
    assert body["table"]["rows"] == insight["comments"]


def test_hostile_comments_come_back_verbatim_as_json(hub, insight):
    response = supervisor_gets(hub, "/api/insight/comments", q="drop table", **WEEK)
    assert response.headers["content-type"].startswith("application/json")
    assert [row["comment"] for row in response.json()["table"]["rows"]] == [HOSTILE]


@pytest.mark.parametrize("search", ["100%", "order_id", "LOVE shop", "the", "outside"])
def test_comments_are_searched_for_every_word_in_any_case_with_percent_and_underscore_as_themselves(
    hub, insight, search
):
    body = supervisor_gets(hub, "/api/insight/comments", q=search, **WEEK).json()
    assert body["search"] == search and body["total"] == len(SEARCHES[search])
    assert [row["comment"] for row in body["table"]["rows"]] == SEARCHES[search]


def test_comment_pages_start_at_the_offset_and_keep_the_total(hub, insight):
    searched = supervisor_gets(hub, "/api/insight/comments", q="the", offset="2", **WEEK).json()
    last = supervisor_gets(hub, "/api/insight/comments", offset="10", **WEEK).json()
    beyond = supervisor_gets(hub, "/api/insight/comments", offset="11", **WEEK).json()
    assert (searched["offset"], searched["total"]) == (2, 3)
    assert [row["comment"] for row in searched["table"]["rows"]] == SEARCHES["the"][2:]
    assert last["table"]["rows"] == insight["comments"][10:] and last["total"] == 11
    assert beyond["table"]["rows"] == [] and beyond["total"] == 11


PATHS = ["/api/insight", "/api/insight/comments", "/api/insight/satisfaction.csv"]


@pytest.mark.parametrize("path", PATHS)
def test_without_a_session_the_figures_are_401(hub, path):
    response = run(lambda: get_as(hub, None, path, **WEEK))
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("username", ["demo.agent", "demo.trainer"])
@pytest.mark.parametrize("path", PATHS)
def test_agents_and_trainers_get_403(hub, username, path):
    response = run(lambda: get_as(hub, username, path, **WEEK))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert "Ada" not in response.text


@pytest.mark.parametrize(
    "path, params, code",
    [
        ("/api/insight", {"since": "2025-02-30", "until": UNTIL}, "bad_period"),
        ("/api/insight", {"since": "last week"}, "bad_period"),
        ("/api/insight", {"since": "2025-05-12", "until": "2025-05-11"}, "bad_period"),
        ("/api/insight", {"since": "2020-01-01", "until": "2025-05-11"}, "bad_period"),
        ("/api/insight", {"since": "9999-12-30", "until": "9999-12-31"}, "bad_period"),
        ("/api/insight/daily.csv", {"until": "0001-01-05"}, "bad_period"),
        ("/api/insight/comments", {"since": "2025-05-12", "until": "2025-05-11"}, "bad_period"),
        ("/api/insight/daily.csv", {"since": "2025-05-12", "until": "2025-05-11"}, "bad_period"),
        ("/api/insight/comments", {**WEEK, "q": "x" * 201}, "search_too_long"),
        ("/api/insight/comments.csv", {**WEEK, "q": "x" * 201}, "search_too_long"),
        ("/api/insight/comments", {**WEEK, "offset": "-1"}, "bad_offset"),
        ("/api/insight/comments", {**WEEK, "offset": "abc"}, "bad_offset"),
        ("/api/insight/comments", {**WEEK, "offset": "1.5"}, "bad_offset"),
        ("/api/insight/comments", {**WEEK, "offset": "\u0661"}, "bad_offset"),  # an Arabic-Indic digit one
        ("/api/insight/comments", {**WEEK, "offset": "10000001"}, "bad_offset"),
    ],
)
def test_bad_requests_are_400_with_a_code(hub, path, params, code):
    response = supervisor_gets(hub, path, **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]


def test_the_longest_search_and_offset_allowed_are_answered(hub, insight):
    longest = supervisor_gets(hub, "/api/insight/comments", q="x" * 200, offset="10000000", **WEEK)
    assert longest.status_code == 200 and longest.json()["total"] == 0


def test_an_unknown_csv_table_is_404(hub):
    response = supervisor_gets(hub, "/api/insight/leaderboard.csv", **WEEK)
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_table"
