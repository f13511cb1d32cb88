"""The soak's own machinery (benchmarks/soak.py and soak_customer.py) against the hub in-process with a fake Rasa:
its customers keep every message through dropped connections, resends and handoffs, its agents serve the queue,
and its figures call an acknowledged message the database does not have, or one never acknowledged, a failure."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from benchmarks import soak, soak_customer
from benchmarks.soak_customer import PERSON_TEXTS, Tally
from bot.core.hub import HUMAN_PAYLOAD
from tests.inprocess import FakeRasa, Reply, hands_off, prepare_database, running_hub, says

NOTHING_ROUTED = {"stored": 0, "sent": 0, "replied": 0, "answered": 0, "handed_over": 0}


def person_or_answer(_sender: str, text: str, _metadata: dict[str, Any]) -> list[Reply]:
    return [hands_off()] if text in {HUMAN_PAYLOAD, *PERSON_TEXTS} else [says("Here is what I found.")]


@pytest.fixture
def hurried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Customers who think for a blink, drop their connection often and all ask for a person once."""
    monkeypatch.setattr(soak_customer, "THINK_SECONDS", (0.05, 0.2))
    monkeypatch.setattr(soak_customer, "RECONNECT_SECONDS", (0.05, 0.1))
    monkeypatch.setattr(soak_customer, "DROP_SHARE", 0.3)
    monkeypatch.setattr(soak_customer, "PERSON_SHARE", 1.0)
    monkeypatch.setattr(soak, "SETTLE_QUIET_SECONDS", 1.0)


def test_soak_customers_lose_nothing_through_drops_resends_and_handoffs(tmp_path: Path, hurried: None) -> None:
    async def main() -> dict[str, Any]:
        async with running_hub(tmp_path / "hub.db", FakeRasa(responder=person_or_answer)) as hub:
            return await soak.soak(hub.url, hub.engine, customers=6, minutes=0.15, seed=7)

    report = asyncio.run(main())

    assert report["errors"] == 0, report["error_kinds"]
    assert report["messages_sent"] >= 30
    assert report["acknowledged"] == report["messages_sent"]
    assert report["stored"] + report["person_requests"] >= report["messages_sent"] >= report["stored"]
    assert report["lost"] == 0
    assert report["duplicates"] == 0
    assert report["drops"] > 0 and report["reconnects"] >= report["drops"] and report["resent"] > 0
    assert report["handoffs"] >= 1 and report["claims"] >= 1
    assert report["agent_replies"] == report["agent_messages_stored"] == report["claims"]
    assert report["routing"]["answered"] + report["routing"]["handed_over"] == report["stored"]
    assert report["reply_latency"]["n"] > 0
    assert not soak.failed(report)


def test_an_acknowledged_message_missing_from_the_database_is_lost(tmp_path: Path) -> None:
    engine = prepare_database(tmp_path / "hub.db")
    report = soak.figures(engine, [Tally(sent={"c1"}, acked={"c1": 12345})], [], NOTHING_ROUTED, 0.0)

    assert report["lost"] == report["lost_acked_not_stored"] == 1
    assert soak.failed(report)


def test_a_message_never_acknowledged_is_an_error(tmp_path: Path) -> None:
    engine = prepare_database(tmp_path / "hub.db")
    report = soak.figures(engine, [Tally(sent={"c1", "c2"}, acked={"c1": None})], [], NOTHING_ROUTED, 0.0)

    assert report["lost"] == 0
    assert report["error_kinds"] == {"never acknowledged": 1}
    assert soak.failed(report)


def test_the_table_has_a_column_per_database_and_names_the_errors() -> None:
    reports = [
        {"database": "sqlite", "customers": 200, "lost": 0, "errors": 0, "error_kinds": {}},
        {"database": "postgres", "customers": 200, "lost": 0, "errors": 2, "error_kinds": {"error frame x": 2}},
    ]

    lines = soak.table(reports).splitlines()

    assert lines[0].split() == ["sqlite", "postgres"]
    assert next(line for line in lines if line.startswith("customers")).split()[-2:] == ["200", "200"]
    assert lines[-1] == "errors on postgres: {'error frame x': 2}"
