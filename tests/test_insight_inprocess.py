"""The supervisors' insight API on the hub in-process, over the known week of tests/service_history.py: the figures
as JSON, a table as a CSV download, comments searched and paged, supervisors only, and bad requests as JSON 400s.
(The figures themselves are checked against the hand count in tests/test_service_report.py.)"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.report_tables import TABLES
from tests.inprocess import ACCOUNTS, InProcessHub, accounts, prepare_database, running_hub
from tests.service_history import FORMULA, HOSTILE, SINCE, UNTIL, expected_tables, seed_history

WEEK = {"since": SINCE, "until": UNTIL}
IDLE = {"conversations": 0, "resolved": 0, "first_reply_median_seconds": None, "resolve_median_seconds": None}


def with_week(
    tmp_path: Path, story: Callable[[InProcessHub, dict[str, list[dict[str, Any]]]], Awaitable[None]]
) -> None:
    """`story` against a hub whose database holds the known week; with every table's rows as the hub must show
    them (this hub's own staff are in the agents table too, idle)."""
    engine = prepare_database(tmp_path / "hub.db")
    tables = expected_tables(seed_history(engine))
    staff = accounts(engine)
    engine.dispose()
    idle = [
        {"agent": name, "agent_id": staff[username].id, **IDLE}
        for username, (name, role) in ACCOUNTS.items()
        if role != "trainer"
    ]
    tables["agents"] = sorted(tables["agents"] + idle, key=lambda row: (-row["conversations"], row["agent"]))

    async def main() -> None:
        async with running_hub(tmp_path / "hub.db") as hub:
            await story(hub, tables)

    asyncio.run(main())


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.text.startswith("\ufeff"), "a BOM, so spreadsheets read UTF-8"
    return list(csv.reader(io.StringIO(response.text[1:], newline="")))


def cell(value: Any) -> str:
    return "" if value is None else str(value)


def test_a_supervisor_gets_every_table_of_the_period_with_its_title_columns_and_rows(tmp_path):
    async def story(hub: InProcessHub, expected: dict[str, list[dict[str, Any]]]) -> None:
        alex = await hub.agent("alex")
        response = await alex.http.get("/api/insight", params=WEEK)
        assert response.status_code == 200
        body = response.json()
        assert body["period"] == {"since": SINCE, "until": UNTIL, "timezone": "UTC"}
        assert body["feedback_questions"] == ["csat"]
        assert [table["name"] for table in body["tables"]] == [name for name in TABLES if name != "comments"]
        for table in body["tables"]:
            title, columns = TABLES[table["name"]]
            assert table["title"] == title
            assert table["columns"] == [{"key": key, "label": label} for key, label in columns]
            assert table["rows"] == expected[table["name"]], table["name"]

    with_week(tmp_path, story)


def test_a_table_downloads_as_a_named_csv_file_with_its_labels_and_formulas_defused(tmp_path):
    async def story(hub: InProcessHub, expected: dict[str, list[dict[str, Any]]]) -> None:
        alex = await hub.agent("alex")
        response = await alex.http.get("/api/insight/agents.csv", params=WEEK)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert (
            response.headers["content-disposition"]
            == 'attachment; filename="frontline-agents-2025-05-05-2025-05-11.csv"'
        )
        rows = csv_rows(response)
        _, columns = TABLES["agents"]
        assert rows[0] == [label for _, label in columns]
        assert rows[1:] == [[cell(row[key]) for key, _ in columns] for row in expected["agents"]]

        found = csv_rows(await alex.http.get("/api/insight/comments.csv", params={**WEEK, "q": "HYPERLINK"}))
        assert [row[-1] for row in found[1:]] == ["'" + FORMULA]

    with_week(tmp_path, story)


def test_comments_are_searched_and_paged_and_hostile_ones_come_back_verbatim_as_json(tmp_path):
    async def story(hub: InProcessHub, expected: dict[str, list[dict[str, Any]]]) -> None:
        alex = await hub.agent("alex")
        hostile = (await alex.http.get("/api/insight/comments", params={**WEEK, "q": "drop table"})).json()
        assert [row["comment"] for row in hostile["table"]["rows"]] == [HOSTILE]
        page = (await alex.http.get("/api/insight/comments", params={**WEEK, "offset": "10"})).json()
        assert (page["offset"], page["limit"], page["total"]) == (10, 50, 11)
        assert page["table"]["rows"] == expected["comments"][10:]

    with_week(tmp_path, story)


PATHS = ["/api/insight", "/api/insight/comments", "/api/insight/satisfaction.csv"]


def test_figures_are_for_supervisors_only(tmp_path):
    async def story(hub: InProcessHub, expected: dict[str, list[dict[str, Any]]]) -> None:
        clients = {"nobody": await hub.agent(), "sam": await hub.agent("sam"), "robin": await hub.agent("robin")}
        answers = {
            (who, path): await client.http.get(path, params=WEEK) for who, client in clients.items() for path in PATHS
        }
        for (who, path), response in answers.items():
            expected_error = (401, "unauthenticated") if who == "nobody" else (403, "forbidden")
            assert (response.status_code, response.json()["error"]["code"]) == expected_error, (who, path)
            assert "Ada" not in response.text

    with_week(tmp_path, story)


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/insight", {"since": "2025-02-30", "until": UNTIL}, 400, "bad_period"),
        ("/api/insight", {"since": "last week"}, 400, "bad_period"),
        ("/api/insight", {"since": "2025-05-12", "until": "2025-05-11"}, 400, "bad_period"),
        ("/api/insight/daily.csv", {"since": "2025-05-12", "until": "2025-05-11"}, 400, "bad_period"),
        ("/api/insight/comments", {**WEEK, "q": "x" * 201}, 400, "search_too_long"),
        ("/api/insight/comments", {**WEEK, "offset": "-1"}, 400, "bad_offset"),
        ("/api/insight/leaderboard.csv", WEEK, 404, "unknown_table"),
    ],
)
def test_bad_requests_are_refused_as_json_with_a_code(tmp_path, path, params, status, code):
    async def story(hub: InProcessHub, expected: dict[str, list[dict[str, Any]]]) -> None:
        response = await (await hub.agent("alex")).http.get(path, params=params)
        assert response.headers["content-type"].startswith("application/json")
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
        assert response.json()["error"]["message"]

    with_week(tmp_path, story)
