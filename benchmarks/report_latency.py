"""How fast the supervisors' Insight page answers with a year of history.

    python -m benchmarks.report_latency [--conversations 100000] [--messages 500000] [--database URL]

Fills a fresh database (a SQLite file by default; `--database postgresql://...` for PostgreSQL) with a year of
synthetic history: conversations spread over 365 days, five messages each, a fifth handed to one of eight
agents with queue/reply/resolve times, ratings and NPS answers with comments, one or two intents each. Then
starts the hub on it (with the test suite's starter; the report needs no Rasa) and times, as a signed-in
supervisor, what the page asks for: `GET /api/insight` for the last 30, 90 and 365 days, a comment search
and a CSV export.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text

from bot.store import schema as t
from bot.store.database import create_engine
from tests.rasa_stack import RasaStack
from tests.shop_api_server import ShopApiServer

REASONS = ("requested", "emotional", "complex", "not_understood", "bot_error")
INTENTS = ("track_order", "cancel_order", "get_refund", "get_invoice", "delivery_period", "payment_issue", "complaint")
COMMENTS = ("quick and friendly", "took far too long", "the bot did not get it", "great help, thanks", "ok")
BATCH = 20_000


def seed(url: str, conversations: int, messages: int, today: dt.date) -> dict[str, int]:
    engine = create_engine(url)
    t.create_schema(engine)
    rng = random.Random(7)
    start = dt.datetime.combine(today - dt.timedelta(days=364), dt.time())
    per_conversation = max(1, messages // conversations)
    with engine.begin() as conn:
        agent_ids = [
            conn.execute(
                insert(t.agents).values(
                    username=f"bench.agent{n}",
                    display_name=f"Agent {n}",
                    password_hash="-",
                    role="agent",
                    capacity=3,
                    active=True,
                    created_at=start,
                )
            ).inserted_primary_key[0]
            for n in range(8)
        ]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in ("cu", "co", "me", "ha", "ra", "np", "in")}
    handoff_id = 0
    for n in range(conversations):
        created = start + dt.timedelta(seconds=rng.randrange(365 * 86400))
        conversation_id = str(uuid.UUID(int=rng.getrandbits(128)))
        customer_id = str(uuid.UUID(int=rng.getrandbits(128)))
        rows["cu"].append({"id": customer_id, "channel": "web", "external_id": customer_id, "created_at": created})
        handed = rng.random() < 0.2
        agent_id = rng.choice(agent_ids) if handed else None
        if handed:
            handoff_id += 1
            requested = created + dt.timedelta(seconds=rng.randrange(30, 600))
            claimed = requested + dt.timedelta(seconds=rng.randrange(10, 1800))
            replied = claimed + dt.timedelta(seconds=rng.randrange(5, 300))
            resolved = replied + dt.timedelta(seconds=rng.randrange(60, 3600))
            rows["ha"].append(
                {
                    "id": handoff_id,
                    "conversation_id": conversation_id,
                    "reason": rng.choice(REASONS),
                    "priority": "normal",
                    "summary": "synthetic",
                    "packet": "{}",
                    "source": "rasa",
                    "requested_at": requested,
                    "agent_id": agent_id,
                    "claimed_at": claimed,
                    "first_reply_at": replied,
                    "resolved_at": resolved,
                }
            )
        rows["co"].append(
            {
                "id": conversation_id,
                "customer_id": customer_id,
                "channel": "web",
                "state": "resolved" if handed else "bot",
                "handoff_id": handoff_id if handed else None,
                "created_at": created,
                "updated_at": created,
            }
        )
        for m in range(per_conversation):
            rows["me"].append(
                {
                    "conversation_id": conversation_id,
                    "sender": "customer" if m % 2 == 0 else "bot",
                    "text": f"synthetic message {m}",
                    "created_at": created + dt.timedelta(seconds=m),
                }
            )
        for intent in rng.sample(INTENTS, rng.choice((1, 2))):
            rows["in"].append({"conversation_id": conversation_id, "intent": intent, "first_seen_at": created})
        if rng.random() < 0.3:
            answer = {
                "conversation_id": conversation_id,
                "handoff_id": handoff_id if handed else None,
                "agent_id": agent_id,
                "comment": rng.choice(COMMENTS) if rng.random() < 0.3 else None,
                "created_at": created + dt.timedelta(hours=1),
            }
            rows["ra"].append({**answer, "score": rng.randint(1, 5)})
            if rng.random() < 0.5:
                rows["np"].append({**answer, "score": rng.randint(0, 10)})
        if len(rows["me"]) >= BATCH or n == conversations - 1:
            _flush(engine, rows)
    if engine.dialect.name == "postgresql":  # a live database has planner statistics; a bulk load has none yet
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    with engine.connect() as conn:
        return {
            "conversations": conn.execute(select(func.count()).select_from(t.conversations)).scalar_one(),
            "messages": conn.execute(select(func.count()).select_from(t.messages)).scalar_one(),
            "handoffs": conn.execute(select(func.count()).select_from(t.handoffs)).scalar_one(),
            "ratings": conn.execute(select(func.count()).select_from(t.ratings)).scalar_one(),
            "nps_answers": conn.execute(select(func.count()).select_from(t.nps_scores)).scalar_one(),
        }


def _flush(engine: Any, rows: dict[str, list[dict[str, Any]]]) -> None:
    tables = {
        "cu": t.customers,
        "co": t.conversations,
        "ha": t.handoffs,
        "me": t.messages,
        "ra": t.ratings,
        "np": t.nps_scores,
        "in": t.conversation_intents,
    }
    with engine.begin() as conn:
        for key, table in tables.items():
            if rows[key]:
                conn.execute(insert(table), rows[key])
                rows[key].clear()


async def measure(hub_url: str, today: dt.date, runs: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=hub_url, timeout=120.0, headers={"Origin": hub_url}) as client:
        login = await client.post("/api/login", json={"username": "demo.supervisor", "password": "frontline-demo"})
        login.raise_for_status()
        requests = {
            f"insight_{days}_days": f"/api/insight?since={today - dt.timedelta(days=days - 1)}&until={today}"
            for days in (30, 90, 365)
        }
        since = today - dt.timedelta(days=364)
        requests["comments_search_365_days"] = f"/api/insight/comments?since={since}&until={today}&q=too+long"
        requests["csv_daily_365_days"] = f"/api/insight/daily.csv?since={since}&until={today}"
        results: dict[str, Any] = {}
        for name, path in requests.items():
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                response = await client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            results[name] = {
                "median_ms": round(statistics.median(timings), 1),
                "max_ms": round(max(timings), 1),
                "runs": runs,
                "bytes": len(response.content),
            }
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--database", help="a SQLAlchemy URL of an EMPTY database (default: a temporary SQLite file)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="frontline-report-bench-"))
    url = args.database or f"sqlite:///{workdir / 'hub.db'}"
    today = dt.datetime.now(dt.timezone.utc).date()
    started = time.perf_counter()
    counts = seed(url, args.conversations, args.messages, today)
    seeded = time.perf_counter() - started
    shop = workdir / "shop-template.db"
    ShopApiServer.seed_template(shop)
    stack = RasaStack(workdir, shop)
    stack.start_hub(env={"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    try:
        timings = asyncio.run(measure(stack.hub_url, today, args.runs))
    finally:
        stack.stop_hub()
    print(
        json.dumps(
            {"database": url.split("://")[0], "seeded": counts, "seed_seconds": round(seeded, 1), "timings": timings},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
