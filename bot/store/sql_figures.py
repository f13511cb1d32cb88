"""Figures counted in SQL on SQLite and PostgreSQL alike: seconds between two timestamps, and medians and 90th
percentiles ranked with window functions and interpolated as PostgreSQL's `percentile_cont` does."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class SecondsBetween(FunctionElement):
    """Seconds from the first timestamp to the second, in each database's own date arithmetic."""

    type = Float()
    inherit_cache = True


@compiles(SecondsBetween)
def _seconds_sqlite(element: SecondsBetween, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)})) * 86400.0)"


@compiles(SecondsBetween, "postgresql")
def _seconds_postgres(element: SecondsBetween, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


def percentiles(
    conn: Connection, value: ColumnElement[Any], group: ColumnElement[Any], where: Sequence[ColumnElement[bool]]
) -> dict[Any, dict[str, Any]]:
    """Median and 90th percentile of `value` per `group`, ranked in SQL; only the needed ranks leave the database."""
    ranked = (
        select(
            group.label("grp"),
            value.label("value"),
            func.row_number().over(partition_by=group, order_by=value).label("rank"),
            func.count().over(partition_by=group).label("n"),
        )
        .where(*where)
        .subquery("ranked")
    )
    wanted = []
    for p in (0.5, 0.9):
        low = func.floor(p * (ranked.c.n - 1)) + 1
        wanted.extend([ranked.c.rank == low, ranked.c.rank == low + 1])
    rows = conn.execute(select(ranked.c.grp, ranked.c.value, ranked.c.rank, ranked.c.n).where(or_(*wanted))).all()
    values: dict[Any, dict[int, float]] = {}
    counts: dict[Any, int] = {}
    for grp, value_, rank, n in rows:
        values.setdefault(grp, {})[int(rank)] = float(value_)
        counts[grp] = int(n)
    return {
        grp: {
            "count": counts[grp],
            "median_seconds": rounded(_interpolate(ranks, counts[grp], 0.5), 1),
            "p90_seconds": rounded(_interpolate(ranks, counts[grp], 0.9), 1),
        }
        for grp, ranks in values.items()
    }


def _interpolate(ranks: dict[int, float], n: int, p: float) -> float:
    """`percentile_cont`: between the values at 1-based ranks floor(p(n-1))+1 and the next."""
    position = p * (n - 1)
    low = math.floor(position)
    below = ranks[low + 1]
    above = ranks.get(low + 2, below)
    return below + (above - below) * (position - low)


def rounded(value: Any, digits: int) -> float | None:
    return round(float(value), digits) if value is not None else None
