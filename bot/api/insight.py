"""The supervisors' part of the console API: service figures, their CSV exports and the rating comments.

Supervisors only; agents and trainers get 403. Every figure comes from `ServiceReport`, so the page, the CSV
files and `python -m bot report` always agree; its `ReportError`s (a bad period) become 400s in bot/api/app.py.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text
from sanic.response import json as json_response

from bot.api.console import signed_in
from bot.core.report_tables import TABLES, Period
from bot.core.service_report import COMMENTS_PAGE
from bot.domain.errors import RequestRefused
from bot.domain.vocabulary import Role

insight_api = Blueprint("insight_api")
MAX_SEARCH_CHARS = 200


@insight_api.get("/api/insight")
@signed_in(Role.SUPERVISOR)
async def figures(request: Request) -> HTTPResponse:
    period = _period(request)
    tables = await request.app.ctx.report.tables(period)
    return json_response(
        {
            "period": period.to_json(),
            "feedback_questions": list(request.app.ctx.settings.feedback_questions),
            "tables": [table.to_json() for table in tables],
        }
    )


@insight_api.get("/api/insight/comments")
@signed_in(Role.SUPERVISOR)
async def comments(request: Request) -> HTTPResponse:
    period = _period(request)
    search = _search(request)
    offset = _offset(request)
    report = request.app.ctx.report
    table = await report.comments(period, search, COMMENTS_PAGE, offset)
    total = await report.count_comments(period, search)
    return json_response(
        {
            "period": period.to_json(),
            "search": search,
            "offset": offset,
            "limit": COMMENTS_PAGE,
            "total": total,
            "table": table.to_json(),
        }
    )


@insight_api.get(r"/api/insight/<filename:[a-z_]{1,40}\.csv>")
@signed_in(Role.SUPERVISOR)
async def export(request: Request, filename: str) -> HTTPResponse:
    name = filename.removesuffix(".csv")
    if name not in TABLES:
        raise RequestRefused(404, "unknown_table", f"There is no table {name!r}; there are {', '.join(TABLES)}.")
    period = _period(request)
    table = await request.app.ctx.report.table(name, period, _search(request))
    filename = f"frontline-{name}-{period.since}-{period.until}.csv"
    return text(
        "\ufeff" + table.to_csv(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _period(request: Request) -> Period:
    return Period.parse(request.args.get("since"), request.args.get("until"))


def _search(request: Request) -> str:
    search = request.args.get("q", "")
    if len(search) > MAX_SEARCH_CHARS:
        raise RequestRefused(400, "search_too_long", f"Search for at most {MAX_SEARCH_CHARS} characters.")
    return search


def _offset(request: Request) -> int:
    raw = request.args.get("offset", "0")
    if not raw.isascii() or not raw.isdigit() or int(raw) > 10_000_000:
        raise RequestRefused(400, "bad_offset", "offset must be a whole number from 0.")
    return int(raw)
