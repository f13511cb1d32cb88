"""Medians and 90th percentiles counted in SQL match PostgreSQL's `percentile_cont`, per group, on SQLite too."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert

from bot.store.database import create_engine
from bot.store.sql_figures import SecondsBetween, percentiles


def test_percentiles_interpolate_between_ranks_per_group_and_seconds_between_timestamps(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'figures.db'}")
    table = Table(
        "waits",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("grp", String),
        Column("asked", DateTime),
        Column("answered", DateTime),
    )
    table.metadata.create_all(engine)
    start = dt.datetime(2026, 1, 1)
    rows = [{"grp": "a", "asked": start, "answered": start + dt.timedelta(seconds=s)} for s in range(1, 11)]
    rows.append({"grp": "b", "asked": start, "answered": start + dt.timedelta(seconds=42)})
    with engine.begin() as conn:
        conn.execute(insert(table), rows)
        found = percentiles(conn, SecondsBetween(table.c.asked, table.c.answered), table.c.grp, [])
    assert found["a"] == {"count": 10, "median_seconds": 5.5, "p90_seconds": 9.1}
    assert found["b"] == {"count": 1, "median_seconds": 42.0, "p90_seconds": 42.0}
