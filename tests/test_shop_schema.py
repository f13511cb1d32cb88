"""Money is stored exactly, in cents, on every database."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from bot.store.database import Money, create_engine


def test_money_round_trips_exactly(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'money.db'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("amount", Money()))
    table.metadata.create_all(engine)
    values = [Decimal("0.10"), Decimal("0.20"), Decimal("1999.99"), Decimal("0.01")]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"amount": v} for v in values])
        stored = [row.amount for row in conn.execute(select(table).order_by(table.c.id))]
    assert stored == values
    assert sum(stored) == Decimal("2000.30")
