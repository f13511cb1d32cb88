"""Service figures for supervisors, checked against a week of service counted by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io

import pytest
from sqlalchemy import insert

from bot.core.report_tables import MAX_DAYS, TABLES, Column, Period, ReportError, Table, format_table
from bot.core.service_report import ServiceReport
from bot.store import schema as t
from bot.store.database import create_engine
from bot.store.schema import create_schema
from tests.postgres import fresh_postgres_database
from tests.service_history import (
    ADA,
    BEN,
    FORMULA,
    HOSTILE,
    SEARCHES,
    SINCE,
    UNTIL,
    SeededHistory,
    expected,
    seed_history,
)

WEEK = Period.parse(SINCE, UNTIL)
PAGE_ORDER = ["satisfaction", "containment", "handoff_reasons", "handoff_intents", "response_times", "agents", "daily"]


@dataclasses.dataclass
class Seeded:
    report: ServiceReport
    history: SeededHistory


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request, tmp_path_factory):
    """The known week in a fresh SQLite file and in a fresh PostgreSQL database; every test runs on both."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('report') / 'hub.db'}")
        create_schema(engine)
        yield Seeded(ServiceReport(engine), seed_history(engine))
        engine.dispose()
        return
    with fresh_postgres_database() as url:
        engine = create_engine(url)
        create_schema(engine)
        yield Seeded(ServiceReport(engine), seed_history(engine))
        engine.dispose()


def run(coroutine):
    return asyncio.run(coroutine)


def tables(seeded: Seeded, period: Period = WEEK) -> dict[str, Table]:
    return {table.name: table for table in run(seeded.report.tables(period))}


def comment_texts(table: Table) -> list[str]:
    return [row["comment"] for row in table.rows]


def parsed_csv(table: Table) -> list[list[str]]:
    return list(csv.reader(io.StringIO(table.to_csv(), newline="")))


# Every figure of every table


def test_the_tables_come_in_page_order_with_their_titles_and_labelled_columns(seeded):
    found = run(seeded.report.tables(WEEK))
    assert [table.name for table in found] == PAGE_ORDER
    for table in found:
        title, columns = TABLES[table.name]
        assert table.title == title
        assert [(c.key, c.label) for c in table.columns] == list(columns)


def test_satisfaction_is_credited_to_the_bot_and_to_each_agent_with_csat_average_and_nps(seeded):
    assert tables(seeded)["satisfaction"].rows == expected("satisfaction", seeded.history)


def test_containment_counts_conversations_started_in_the_period_in_which_the_customer_wrote(seeded):
    assert tables(seeded)["containment"].rows == expected("containment", seeded.history)


def test_handoffs_by_reason_count_every_handoff_and_the_distinct_conversations(seeded):
    assert tables(seeded)["handoff_reasons"].rows == expected("handoff_reasons", seeded.history)


def test_handoffs_by_intent_leave_out_small_talk_and_conversations_outside_the_period(seeded):
    rows = tables(seeded)["handoff_intents"].rows
    assert rows == expected("handoff_intents", seeded.history)
    assert not {"greet", "thank", "goodbye"} & {row["intent"] for row in rows}


def test_response_times_are_interpolated_like_percentile_cont_over_handoffs_asked_in_the_period(seeded):
    assert tables(seeded)["response_times"].rows == expected("response_times", seeded.history)


def test_every_active_agent_is_listed_the_idle_one_with_zero_but_not_trainers_or_former_staff(seeded):
    rows = tables(seeded)["agents"].rows
    assert rows == expected("agents", seeded.history)
    assert {"Tess (history trainer)", "Dan (left the team)"}.isdisjoint(row["agent"] for row in rows)


def test_every_day_of_the_period_has_a_row_even_the_days_without_conversations(seeded):
    assert tables(seeded)["daily"].rows == expected("daily", seeded.history)


def test_a_table_asked_for_by_name_has_the_same_rows_and_an_unknown_name_is_refused(seeded):
    assert run(seeded.report.table("agents", WEEK)).rows == expected("agents", seeded.history)
    assert run(seeded.report.table("comments", WEEK, "the")).rows == [
        row for row in expected("comments", seeded.history) if row["comment"] in SEARCHES["the"]
    ]
    with pytest.raises(ReportError) as refused:
        run(seeded.report.table("leaderboard", WEEK))
    assert refused.value.code == "unknown_table"


def test_only_the_tables_asked_for_are_counted_in_the_order_asked(seeded):
    found = run(seeded.report.tables(WEEK, ["daily", "handoff_reasons"]))
    assert [table.name for table in found] == ["daily", "handoff_reasons"]
    assert [table.rows for table in found] == [
        expected("daily", seeded.history),
        expected("handoff_reasons", seeded.history),
    ]
    with pytest.raises(ReportError) as refused:
        run(seeded.report.tables(WEEK, ["comments"]))
    assert refused.value.code == "unknown_table"


def test_a_period_without_activity_has_zeros_and_no_figures_rather_than_errors(seeded):
    quiet = tables(seeded, Period.parse("2024-01-01", "2024-01-03"))
    bot = {
        "credited_to": "Bot",
        "agent_id": None,
        "ratings": 0,
        "satisfied": 0,
        "csat": None,
        "average": None,
        "nps_answers": 0,
        "promoters": 0,
        "detractors": 0,
        "nps": None,
    }
    assert quiet["satisfaction"].rows == [bot]
    assert quiet["containment"].rows == [
        {"conversations": 0, "contained": 0, "handed_off": 0, "containment": None, "handoff_rate": None}
    ]
    assert quiet["handoff_reasons"].rows == [] and quiet["handoff_intents"].rows == []
    assert [(r["count"], r["median_seconds"], r["p90_seconds"]) for r in quiet["response_times"].rows] == [
        (0, None, None)
    ] * 3
    assert [(r["agent"], r["conversations"], r["resolve_median_seconds"]) for r in quiet["agents"].rows] == [
        (ADA, 0, None),
        (BEN, 0, None),
        ("Cleo (idle agent)", 0, None),
    ]
    assert [(r["day"], r["conversations"], r["ratings"], r["csat"]) for r in quiet["daily"].rows] == [
        ("2024-01-01", 0, 0, None),
        ("2024-01-02", 0, 0, None),
        ("2024-01-03", 0, 0, None),
    ]


def test_one_day_periods_end_at_midnight_utc_on_both_sides(seeded):
    last_day = tables(seeded, Period.parse(UNTIL, UNTIL))
    assert last_day["containment"].rows[0]["conversations"] == 1  # c11 at 23:50; c99 at 00:00 the next day is not
    assert last_day["satisfaction"].rows[0]["ratings"] == 1  # the rating at 23:59:59
    day_after = tables(seeded, Period.parse("2025-05-12", "2025-05-12"))
    assert day_after["containment"].rows[0]["conversations"] == 1  # c99
    assert [(r["credited_to"], r["ratings"], r["nps"]) for r in day_after["satisfaction"].rows] == [
        ("Bot", 0, None),
        (BEN, 1, -100.0),  # one answer of 0: 100 * (0 - 1) / 1
    ]


# Comments


def test_comments_are_newest_first_with_who_was_credited_and_without_empty_ones(seeded):
    found = run(seeded.report.comments(WEEK))
    assert found.rows == expected("comments", seeded.history)
    assert run(seeded.report.count_comments(WEEK)) == 11


@pytest.mark.parametrize("search", sorted(SEARCHES))
def test_a_search_finds_comments_with_every_word_in_any_case_taking_percent_and_underscore_literally(seeded, search):
    found = run(seeded.report.comments(WEEK, search))
    assert comment_texts(found) == SEARCHES[search]
    assert run(seeded.report.count_comments(WEEK, search)) == len(SEARCHES[search])


def test_a_blank_search_finds_every_comment(seeded):
    assert len(run(seeded.report.comments(WEEK, "   ")).rows) == 11
    assert run(seeded.report.count_comments(WEEK, "  ")) == 11


def test_comments_are_paged_with_limit_and_offset_while_the_count_stays_the_total(seeded):
    everything = expected("comments", seeded.history)
    assert run(seeded.report.comments(WEEK, limit=4, offset=0)).rows == everything[:4]
    assert run(seeded.report.comments(WEEK, limit=4, offset=4)).rows == everything[4:8]
    assert run(seeded.report.comments(WEEK, limit=4, offset=10)).rows == everything[10:]
    assert run(seeded.report.comments(WEEK, limit=4, offset=11)).rows == []
    assert comment_texts(run(seeded.report.comments(WEEK, "the", limit=2, offset=1))) == SEARCHES["the"][1:3]
    assert run(seeded.report.count_comments(WEEK, "the")) == 3


def test_comments_just_outside_the_period_belong_to_the_neighbouring_days(seeded):
    before = run(seeded.report.comments(Period.parse("2025-05-04", "2025-05-04")))
    after = run(seeded.report.comments(Period.parse("2025-05-12", "2025-05-12")))
    assert [(r["comment"], r["credited_to"]) for r in before.rows] == [("outside, before: the agent was rude", ADA)]
    assert [(r["question"], r["score"], r["comment"]) for r in after.rows] == [
        ("nps", 0, "outside, after: no agent"),
        ("csat", 1, "outside, after: the agent never came"),
    ]


def test_hostile_comments_come_back_exactly_as_written(seeded):
    found = comment_texts(run(seeded.report.comments(WEEK)))
    assert HOSTILE in found and FORMULA in found
    assert run(seeded.report.count_comments(WEEK, "'; DROP TABLE hub_ratings;--")) == 1


# CSV exports of the real tables


def test_the_satisfaction_csv_has_the_column_labels_and_plain_numbers(seeded):
    assert run(seeded.report.table("satisfaction", WEEK)).to_csv() == (
        "Credited to,Ratings,Rated 4-5,CSAT,Average rating,NPS answers,Promoters,Detractors,NPS\r\n"
        "Bot,4,2,0.5,3.25,3,2,0,66.7\r\n"
        "Ada (history agent),3,2,0.6667,3.67,2,1,1,0.0\r\n"
        "Ben (history agent),2,1,0.5,4.0,2,0,1,-50.0\r\n"
    )


def test_the_daily_csv_leaves_missing_figures_empty(seeded):
    rows = parsed_csv(run(seeded.report.table("daily", WEEK)))
    header = ["Day", "Conversations", "Handed to a person", "Handoff rate", "Ratings", "CSAT", "Average rating"]
    assert rows[0] == header
    assert rows[1] == ["2025-05-05", "3", "2", "0.6667", "3", "0.6667", "3.67"]
    assert rows[3] == ["2025-05-07", "0", "0", "", "0", "", ""]
    assert len(rows) == 1 + 7


def test_the_response_times_and_agents_csv_carry_the_interpolated_seconds(seeded):
    times = parsed_csv(run(seeded.report.table("response_times", WEEK)))
    assert times == [
        ["Measure", "Handoffs", "Median (s)", "90th percentile (s)"],
        ["Waiting in the queue", "6", "180.0", "450.0"],
        ["Time to first agent reply", "6", "240.0", "572.5"],
        ["Time to resolve", "5", "900.0", "1560.0"],
    ]
    agents = parsed_csv(run(seeded.report.table("agents", WEEK)))
    assert agents == [
        ["Agent", "Conversations", "Resolved", "Median first reply (s)", "Median time to resolve (s)"],
        [ADA, "3", "3", "180.0", "900.0"],
        [BEN, "3", "2", "420.0", "1050.0"],
        ["Cleo (idle agent)", "0", "0", "", ""],
    ]


def test_the_comments_csv_defuses_spreadsheet_formulas_and_keeps_other_text_verbatim(seeded):
    rows = parsed_csv(run(seeded.report.table("comments", WEEK)))
    assert rows[0] == ["At", "Question", "Score", "Credited to", "Conversation", "Channel", "Comment"]
    comments = [row[-1] for row in rows[1:]]
    assert "'" + FORMULA in comments and FORMULA not in comments
    assert HOSTILE in comments
    assert rows[1] == ["2025-05-11T23:59:59Z", "csat", "1", "Bot", seeded.history.conversation_ids["c11"], "web",
                       "My order_id was lost"]  # fmt: skip


# Periods


def test_a_period_defaults_to_the_last_thirty_days_up_to_today():
    today = dt.date(2025, 5, 30)
    assert Period.parse(None, None, today=today) == Period(dt.date(2025, 5, 1), today)
    assert Period.parse("", "", today=today) == Period(dt.date(2025, 5, 1), today)
    assert Period.parse(None, "2025-05-11", today=today) == Period(dt.date(2025, 4, 12), dt.date(2025, 5, 11))
    assert Period.parse("2025-05-20", None, today=today) == Period(dt.date(2025, 5, 20), today)


def test_a_period_is_whole_utc_days_both_included():
    week = Period.parse(" 2025-05-05 ", "2025-05-11")
    assert week.start == dt.datetime(2025, 5, 5) and week.end == dt.datetime(2025, 5, 12)
    assert len(week.days()) == 7 and week.days()[-1] == dt.date(2025, 5, 11)
    assert week.to_json() == {"since": "2025-05-05", "until": "2025-05-11", "timezone": "UTC"}
    assert Period.parse("2025-05-05", "2025-05-05").days() == [dt.date(2025, 5, 5)]


@pytest.mark.parametrize(
    "since, until, message",
    [
        ("2025-13-01", "2025-05-11", "'since' must be a date like"),
        ("yesterday", "2025-05-11", "'since' must be a date like"),
        ("2025-05-05", "2025-05-11T00:00", "'until' must be a date like"),
        ("2025-05-05", "11/05/2025", "'until' must be a date like"),
        ("2025-05-12", "2025-05-11", "is after"),
    ],
)
def test_bad_periods_are_refused_with_a_bad_period_error(since, until, message):
    with pytest.raises(ReportError) as refused:
        Period.parse(since, until)
    assert refused.value.code == "bad_period" and message in refused.value.message


def test_a_period_is_at_most_max_days_long():
    start = dt.date(2023, 1, 1)
    longest = start + dt.timedelta(days=MAX_DAYS - 1)
    assert len(Period.parse(start.isoformat(), longest.isoformat()).days()) == MAX_DAYS
    with pytest.raises(ReportError) as refused:
        Period.parse(start.isoformat(), (longest + dt.timedelta(days=1)).isoformat())
    assert refused.value.code == "bad_period"


@pytest.mark.parametrize("since, until", [("9999-12-30", "9999-12-31"), (None, "0001-01-05")])
def test_periods_at_the_edge_of_the_calendar_are_refused_as_bad_periods_not_crashes(since, until):
    with pytest.raises(ReportError) as refused:
        Period.parse(since, until).end  # noqa: B018 - the first moment after the period must exist
    assert refused.value.code == "bad_period"


def test_a_long_bad_date_is_cut_short_in_the_message():
    with pytest.raises(ReportError) as refused:
        Period.parse("x" * 500, None)
    assert "x" * 40 in refused.value.message and "x" * 41 not in refused.value.message


# CSV and text rendering of any table

ONE_COLUMN = (Column("value", "Value"),)


def test_csv_cells_that_a_spreadsheet_would_run_get_a_leading_apostrophe():
    values = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "a=b", "plain", -3, 2.5, None]
    table = Table("t", "T", ONE_COLUMN, [{"value": v} for v in values])
    assert [row[0] for row in parsed_csv(table)] == [
        "Value",
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "a=b",
        "plain",
        "-3",
        "2.5",
        "",
    ]


def test_text_tables_are_aligned_with_shares_as_percentages(seeded):
    text = format_table(run(seeded.report.table("containment", WEEK)))
    assert text.splitlines() == [
        "Bot containment",
        "Conversations  Finished by the bot  Handed to a person  Containment  Handoff rate",
        "11" + " " * 13 + "5" + " " * 20 + "6" + " " * 19 + "45.5%" + " " * 8 + "54.5%",
    ]


def test_text_tables_show_missing_figures_as_a_dash(seeded):
    lines = format_table(run(seeded.report.table("daily", WEEK))).splitlines()
    assert lines[2].split() == ["2025-05-05", "3", "2", "66.7%", "3", "66.7%", "3.67"]
    assert lines[4].split() == ["2025-05-07", "0", "0", "-", "0", "-", "-"]
    assert lines[5].split() == ["2025-05-08", "2", "1", "50.0%", "3", "33.3%", "3.67"]
    satisfaction = format_table(run(seeded.report.table("satisfaction", WEEK))).splitlines()
    assert satisfaction[3].startswith(ADA) and satisfaction[3].split()[3:] == [
        "3", "2", "66.7%", "3.67", "2", "1", "1", "0.0"
    ]  # fmt: skip


def test_text_tables_cut_long_text_and_say_when_there_is_nothing():
    long = Table("t", "Long", ONE_COLUMN, [{"value": "y" * 100}])
    assert format_table(long).splitlines()[2] == "y" * 79 + "…"
    assert format_table(Table("t", "Empty", ONE_COLUMN, [])).splitlines() == [
        "Empty",
        "Value",
        "(nothing in this period)",
    ]


def test_text_tables_never_pass_a_customers_control_characters_to_the_terminal():
    sneaky = "red\x1b[31m alert\x1b]52;c;ZXZpbA==\x07\nnot a row\r\u2028\u202eevil"
    text = format_table(Table("comments", "Comments", ONE_COLUMN, [{"value": sneaky}]))
    assert text.splitlines() == ["Comments", "Value", text.splitlines()[2]]
    assert not any(not ch.isprintable() for ch in text.replace("\n", ""))
    assert "red" in text and "alert" in text and "not a row" in text and "evil" in text


def test_an_agent_who_resolves_a_conversation_twice_has_one_conversation_resolved(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    create_schema(engine)
    at = dt.datetime(2025, 5, 6, 10, 0)
    with engine.begin() as conn:
        agent_id = conn.execute(
            insert(t.agents).values(
                username="twice",
                display_name="Twice",
                password_hash="-",
                role="agent",
                capacity=3,
                active=True,
                created_at=at,
            )
        ).inserted_primary_key[0]
        conn.execute(insert(t.customers).values(id="cu-twice", channel="web", external_id="twice", created_at=at))
        conn.execute(
            insert(t.conversations).values(
                id="co-twice", customer_id="cu-twice", channel="web", state="resolved", created_at=at, updated_at=at
            )
        )
        for hour in (1, 3):
            requested = at + dt.timedelta(hours=hour)
            conn.execute(
                insert(t.handoffs).values(
                    conversation_id="co-twice",
                    reason="requested",
                    priority="normal",
                    summary="-",
                    packet="{}",
                    source="rasa",
                    requested_at=requested,
                    agent_id=agent_id,
                    claimed_at=requested,
                    first_reply_at=requested,
                    resolved_at=requested + dt.timedelta(minutes=10),
                )
            )
    (agents,) = run(ServiceReport(engine).tables(WEEK, ["agents"]))
    twice = next(row for row in agents.rows if row["agent_id"] == agent_id)
    assert (twice["conversations"], twice["resolved"]) == (1, 1)
