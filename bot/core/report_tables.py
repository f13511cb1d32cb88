"""What the service report is made of: the period it covers and its tables, as JSON, CSV and terminal text."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from typing import Any

from sqlalchemy import and_
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.errors import FrontlineError
from bot.store.schema import utcnow

SHARES = frozenset({"csat", "containment", "handoff_rate", "rate"})
"""Columns that hold a fraction of 1 (the page and the text report show them as percentages)."""
MAX_DAYS = 1100


class ReportError(FrontlineError, ValueError):
    """A report asked for in a way that cannot be answered (a bad date, an unknown table)."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


@dataclasses.dataclass(frozen=True)
class Period:
    """Whole UTC days, `since` and `until` both included."""

    since: dt.date
    until: dt.date

    @classmethod
    def parse(cls, since: str | None, until: str | None, today: dt.date | None = None) -> Period:
        """From `YYYY-MM-DD` strings; without them, the last 30 days up to today."""
        today = today or utcnow().date()
        end = parse_day(until, "until") if until else today
        if not dt.date.min + dt.timedelta(days=29) <= end < dt.date.max:
            raise ReportError("bad_period", f"'until' must be between 0001-01-30 and 9999-12-30, not {end}.")
        start = parse_day(since, "since") if since else end - dt.timedelta(days=29)
        if start > end:
            raise ReportError("bad_period", f"'since' ({start}) is after 'until' ({end}).")
        if (end - start).days >= MAX_DAYS:
            raise ReportError("bad_period", f"A report covers at most {MAX_DAYS} days.")
        return cls(start, end)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.since, dt.time())

    @property
    def end(self) -> dt.datetime:
        """The first moment after the period."""
        return dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time())

    def contains(self, moment: ColumnElement[Any]) -> ColumnElement[bool]:
        """`moment` falls in the period (a range on an indexed time column)."""
        return and_(moment >= self.start, moment < self.end)

    def days(self) -> list[dt.date]:
        return [self.since + dt.timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    def to_json(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "timezone": "UTC"}


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclasses.dataclass(frozen=True)
class Table:
    """One table of the report: the page renders it, the CSV export writes it, the CLI prints it."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": [dataclasses.asdict(c) for c in self.columns],
            "rows": self.rows,
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([c.label for c in self.columns])
        for row in self.rows:
            writer.writerow([_csv_cell(row.get(c.key)) for c in self.columns])
        return out.getvalue()


TABLES = {
    "satisfaction": (
        "Satisfaction by who handled it",
        (
            ("credited_to", "Credited to"),
            ("ratings", "Ratings"),
            ("satisfied", "Rated 4-5"),
            ("csat", "CSAT"),
            ("average", "Average rating"),
            ("nps_answers", "NPS answers"),
            ("promoters", "Promoters"),
            ("detractors", "Detractors"),
            ("nps", "NPS"),
        ),
    ),
    "containment": (
        "Bot containment",
        (
            ("conversations", "Conversations"),
            ("contained", "Finished by the bot"),
            ("handed_off", "Handed to a person"),
            ("containment", "Containment"),
            ("handoff_rate", "Handoff rate"),
        ),
    ),
    "handoff_reasons": (
        "Handoffs by reason",
        (
            ("reason", "Reason"),
            ("handoffs", "Handoffs"),
            ("conversations", "Conversations"),
            ("rate", "Share of all conversations"),
        ),
    ),
    "handoff_intents": (
        "Handoffs by intent",
        (
            ("intent", "Intent"),
            ("conversations", "Conversations with it"),
            ("handed_off", "Handed to a person"),
            ("rate", "Handoff rate"),
        ),
    ),
    "response_times": (
        "Waiting and handling times",
        (
            ("measure", "Measure"),
            ("count", "Handoffs"),
            ("median_seconds", "Median (s)"),
            ("p90_seconds", "90th percentile (s)"),
        ),
    ),
    "agents": (
        "Conversations per agent",
        (
            ("agent", "Agent"),
            ("conversations", "Conversations"),
            ("resolved", "Resolved"),
            ("first_reply_median_seconds", "Median first reply (s)"),
            ("resolve_median_seconds", "Median time to resolve (s)"),
        ),
    ),
    "daily": (
        "By day",
        (
            ("day", "Day"),
            ("conversations", "Conversations"),
            ("handed_off", "Handed to a person"),
            ("handoff_rate", "Handoff rate"),
            ("ratings", "Ratings"),
            ("csat", "CSAT"),
            ("average", "Average rating"),
        ),
    ),
    "comments": (
        "Comments with ratings",
        (
            ("at", "At"),
            ("question", "Question"),
            ("score", "Score"),
            ("credited_to", "Credited to"),
            ("conversation_id", "Conversation"),
            ("channel", "Channel"),
            ("comment", "Comment"),
        ),
    ),
}
"""Every table the report has, in the order the page shows them: name → (title, columns)."""


def format_table(table: Table) -> str:
    """A table as aligned plain text for a terminal: shares as percentages, missing figures as '-'."""
    header = [c.label for c in table.columns]
    lines = [[_text_cell(c.key, row.get(c.key)) for c in table.columns] for row in table.rows]
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=True)]
    rendered = [table.title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    rendered += ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    if not table.rows:
        rendered.append("(nothing in this period)")
    return "\n".join(rendered)


def _text_cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in SHARES:
        return f"{100 * value:.1f}%"
    # A customer's comment may hold terminal escapes or line breaks: shown as spaces, never sent to the terminal.
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return text if len(text) <= 80 else text[:79] + "…"


def _csv_cell(value: Any) -> Any:
    """Numbers as they are; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def parse_day(text: str, name: str) -> dt.date:
    """A day as people and the pages send it (ISO, 2026-11-30); anything else is a 400 `bad_period`."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ReportError("bad_period", f"'{name}' must be a date like 2026-11-30, not {text[:40]!r}.") from exc
