"""Soak: many web customers and a few agents for minutes on the real stack, on SQLite and on PostgreSQL; does the
hub lose anything, and how do replies and memory hold up?

    python -m benchmarks.soak [--customers 200] [--minutes 5] [--database sqlite|postgres|both] [--seed 1]

For each database: its own Rasa server, action server and hub (tests/rasa_stack.py) over a copy of the demo shop;
on PostgreSQL the hub and Rasa's trackers use a fresh database on 127.0.0.1:5432 (tests/postgres.py). The
customers (benchmarks/soak_customer.py) talk over real WebSockets as the widget does, reconnecting and resending
after dropped connections; three agents watch the queue, claim, reply once and resolve. Then sending stops (the
agents' shift ends too), routing is given time to settle, and the database is checked against what the customers
saw. Prints a table, merges the figures into results/soak.json, and exits 1 if a message was lost, stored twice, or
anything failed (the stack's logs are then kept in results/soak-<database>-logs/).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from benchmarks.hub_latency import summary
from benchmarks.soak_customer import SoakCustomer, Tally
from bot.core.settings import HubSettings
from bot.domain.vocabulary import ROUTING_DONE, Role
from bot.store import schema as t
from bot.store.agents import AgentStore
from bot.store.database import create_engine
from bot.store.routing import RoutingStore
from tests.hub_clients import AgentClient
from tests.postgres import fresh_postgres_database
from tests.rasa_stack import RasaStack
from tests.shop_api_server import ShopApiServer

RESULTS = Path("results") / "soak.json"
AGENTS = 3
AGENT_PASSWORD = "soak-agent-password"
AGENT_REPLY = "Hello, I'm from the team and I've looked at your conversation: it's sorted now. Anything else?"
CONSOLE_TIMEOUT = 60.0
"""How long an agent's console request may take (a browser waits longer); slower counts as an error."""
SETTLE_QUIET_SECONDS = 10.0
_HUB = HubSettings.from_env({})
SETTLE_CAP_SECONDS = _HUB.rasa_timeout + _HUB.rasa_turn_deadline + 60
"""Longer than the hub waits for a turn (RASA_TIMEOUT_MS, then the tracker until RASA_TURN_DEADLINE_SECONDS), so a
message whose turn Rasa never finished has been handed over to people before the database is checked."""
PENDING = ("stored", "sent", "replied")
DONE = tuple(state.value for state in ROUTING_DONE)


@dataclasses.dataclass
class AgentTally:
    claims: int = 0
    conflicts: int = 0
    replies: int = 0
    resolves: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)
    request_ms: list[float] = dataclasses.field(default_factory=list)


async def agent_shift(hub_url: str, username: str, rng: random.Random, off_duty: asyncio.Event) -> AgentTally:
    """An agent with the console open: take the most urgent waiting conversations, reply once, resolve."""
    tally, agent = AgentTally(), AgentClient(hub_url)
    agent.http.timeout = httpx.Timeout(CONSOLE_TIMEOUT)
    drain: asyncio.Task[None] | None = None
    try:
        login = await _timed(tally, agent.login(username, AGENT_PASSWORD))
        if login.status_code != 200:
            tally.errors.append(f"login answered {login.status_code}")
            return tally
        await agent.go_online()
        drain = asyncio.create_task(_drain(agent.ws))
        while not off_duty.is_set():
            try:
                await _round(agent, rng, tally)
            except httpx.HTTPError as exc:  # counted; the agent carries on, as a person would retry
                tally.errors.append(f"console request failed: {type(exc).__name__}")
                await asyncio.sleep(1.0)
    except (httpx.HTTPError, OSError, websockets.WebSocketException) as exc:
        tally.errors.append(f"agent could not start: {type(exc).__name__}")
    finally:
        if drain is not None:
            drain.cancel()
        await agent.close()
    return tally


async def _round(agent: AgentClient, rng: random.Random, tally: AgentTally) -> None:
    queue = await _timed(tally, agent.get("/api/queue"))
    if queue.status_code != 200:
        tally.errors.append(f"queue answered {queue.status_code}")
        await asyncio.sleep(1.0)
        return
    for conversation in queue.json()["mine"]:
        await _serve(agent, conversation["id"], rng, tally)
    waiting = queue.json()["waiting"]
    if not waiting:
        await asyncio.sleep(1.0)
        return
    conversation_id = rng.choice(waiting[:AGENTS])["id"]
    claim = await _timed(tally, agent.post(f"/api/conversations/{conversation_id}/claim"))
    if claim.status_code == 409:  # another agent was faster
        tally.conflicts += 1
    elif claim.status_code != 200:
        tally.errors.append(f"claim answered {claim.status_code}")
    else:
        tally.claims += 1
        await _serve(agent, conversation_id, rng, tally)


async def _serve(agent: AgentClient, conversation_id: str, rng: random.Random, tally: AgentTally) -> None:
    await asyncio.sleep(rng.uniform(0.5, 1.5))  # reading the handoff packet and the transcript
    reply = await _timed(tally, agent.post(f"/api/conversations/{conversation_id}/messages", {"text": AGENT_REPLY}))
    if reply.status_code != 201:
        tally.errors.append(f"reply answered {reply.status_code}")
        return
    tally.replies += 1
    await asyncio.sleep(rng.uniform(0.5, 1.5))
    resolve = await _timed(tally, agent.post(f"/api/conversations/{conversation_id}/resolve"))
    if resolve.status_code != 200:
        tally.errors.append(f"resolve answered {resolve.status_code}")
        return
    tally.resolves += 1


async def _timed(tally: AgentTally, request: Awaitable[httpx.Response]) -> httpx.Response:
    started = time.perf_counter()
    response = await request
    tally.request_ms.append((time.perf_counter() - started) * 1000)
    return response


async def _drain(ws: Any) -> None:
    """Read the console socket's events, so the hub never waits on a full buffer."""
    with contextlib.suppress(websockets.ConnectionClosed):
        async for _ in ws:
            pass


async def add_agents(engine: Engine) -> list[str]:
    store, names = AgentStore(engine), []
    for number in range(1, AGENTS + 1):
        agent = await store.add(f"soak.agent{number}", f"Soak Agent {number}", AGENT_PASSWORD, Role.AGENT.value, 5)
        names.append(agent.username)
    return names


async def settle(routing: RoutingStore) -> tuple[dict[str, int], float]:
    """Routing counts once nothing is pending and they stayed the same for SETTLE_QUIET_SECONDS (or at the cap)."""
    started = time.monotonic()
    last, quiet_since = await routing.counts(), time.monotonic()
    while time.monotonic() - started < SETTLE_CAP_SECONDS:
        await asyncio.sleep(1.0)
        counts = await routing.counts()
        if counts != last or any(counts[state] for state in PENDING):
            last, quiet_since = counts, time.monotonic()
        elif time.monotonic() - quiet_since >= SETTLE_QUIET_SECONDS:
            break
    return last, time.monotonic() - started


async def soak(hub_url: str, engine: Engine, customers: int, minutes: float, seed: int) -> dict[str, Any]:
    """The customers talk and the agents work until `minutes` have passed; then the figures, once routing settled."""
    rng = random.Random(seed)
    names = await add_agents(engine)
    loop = asyncio.get_running_loop()
    until = loop.time() + minutes * 60
    crowd = [SoakCustomer(hub_url, random.Random(rng.random())) for _ in range(customers)]
    off_duty = asyncio.Event()
    agents = [asyncio.create_task(agent_shift(hub_url, name, random.Random(rng.random()), off_duty)) for name in names]
    talking = []
    for customer in crowd:  # arrivals spread over the first 10 s, not one burst of handshakes
        talking.append(asyncio.create_task(customer.run(until)))
        await asyncio.sleep(min(10.0, minutes * 6) / customers)
    await asyncio.gather(*talking)
    off_duty.set()  # the shift ends with the customers: a resolve now would send waiting messages to Rasa again
    agent_tallies = await asyncio.gather(*agents)
    print(f"sending stopped; waiting for routing to settle (at most {SETTLE_CAP_SECONDS:.0f} s)", flush=True)
    routing, settle_seconds = await settle(RoutingStore(engine))
    return figures(engine, [c.tally for c in crowd], agent_tallies, routing, settle_seconds)


def figures(
    engine: Engine, tallies: list[Tally], agents: list[AgentTally], routing: dict[str, int], settle_seconds: float
) -> dict[str, Any]:
    """What the customers saw, checked against what the database holds."""
    with engine.connect() as conn:
        stored = conn.execute(
            select(t.messages.c.client_message_id, t.messages.c.id, t.routing.c.state)
            .select_from(t.messages.outerjoin(t.routing, t.routing.c.message_id == t.messages.c.id))
            .where(t.messages.c.sender == "customer")
        ).all()
        by_sender = dict(conn.execute(select(t.messages.c.sender, func.count()).group_by(t.messages.c.sender)).all())
        reasons = dict(conn.execute(select(t.handoffs.c.reason, func.count()).group_by(t.handoffs.c.reason)).all())
        still_waiting = conn.execute(
            select(func.count()).select_from(t.conversations).where(t.conversations.c.state.in_(("queued", "agent")))
        ).scalar_one()
    stored_ids: dict[str, list[int]] = {}
    for client_id, message_id, _state in stored:
        stored_ids.setdefault(client_id or "", []).append(message_id)
    sent = {c for tally in tallies for c in tally.sent}
    acked = {c: m for tally in tallies for c, m in tally.acked.items()}
    acked_not_stored = [c for c, m in acked.items() if m is not None and m not in stored_ids.get(c, [])]
    not_routed = [c for c, _m, state in stored if state not in DONE]
    refused = {c for tally in tallies for c in tally.refused}
    unacknowledged = sent - set(acked) - refused
    errors = Counter(e for tally in tallies for e in tally.errors) + Counter(e for a in agents for e in a.errors)
    errors.update({"never acknowledged": len(unacknowledged)} if unacknowledged else {})
    latencies = [ms for tally in tallies for ms in tally.latencies_ms]
    console = [ms for agent in agents for ms in agent.request_ms]
    return {
        "customers": len(tallies),
        "messages_sent": len(sent),
        "acknowledged": len(acked),
        "stored": len(stored),
        "answered_by_bot": routing.get("answered", 0),
        "handed_over": routing.get("handed_over", 0),
        "lost": len(acked_not_stored) + len(not_routed),
        "lost_acked_not_stored": len(acked_not_stored),
        "lost_not_routed": len(not_routed),
        "duplicates": sum(1 for c, ids in stored_ids.items() if c and len(ids) > 1),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common()),
        "reconnects": sum(tally.reconnects for tally in tallies),
        "drops": sum(tally.drops for tally in tallies),
        "resent": sum(tally.resent for tally in tallies),
        "person_requests": sum(tally.person_requests for tally in tallies),
        "handoffs": sum(reasons.values()),
        "handoff_reasons": reasons,
        "claims": sum(a.claims for a in agents),
        "claim_conflicts": sum(a.conflicts for a in agents),
        "agent_replies": sum(a.replies for a in agents),
        "agent_messages_stored": by_sender.get("agent", 0),
        "resolves": sum(a.resolves for a in agents),
        "still_with_people": still_waiting,
        "ratings": sum(tally.ratings for tally in tallies),
        "bot_messages_stored": by_sender.get("bot", 0),
        "system_messages_stored": by_sender.get("system", 0),
        "reply_latency": summary(latencies) if latencies else {"n": 0},
        "reply_timeouts": sum(tally.reply_timeouts for tally in tallies),
        "console_requests": summary(console) | {"max_ms": round(max(console), 1)} if console else {"n": 0},
        "routing": routing,
        "settle_seconds": round(settle_seconds, 1),
    }


def rss_mb(pid: int) -> float:
    """Resident memory of a process and everything in its process group (the stack starts each in its own)."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (proc / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pid:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return round(total / 1024, 1)


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "postgres":
        with fresh_postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{workdir / 'frontline.db'}"


def run_one(kind: str, customers: int, minutes: float, seed: int, keep_logs: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        workdir = Path(tmp)
        template = workdir / "template.db"
        ShopApiServer.seed_template(template)
        stack = RasaStack(workdir, template, env={"DATABASE_URL": url})
        engine = create_engine(url)
        report: dict[str, Any] | None = None
        try:
            print(f"[{kind}] starting Rasa, the action server and the hub ...", flush=True)
            stack.start()
            stack.start_hub()
            print(f"[{kind}] {customers} customers for {minutes} min", flush=True)
            started = time.monotonic()
            report = asyncio.run(soak(stack.hub_url, engine, customers, minutes, seed))
            report["wall_seconds"] = round(time.monotonic() - started, 1)
            report["rss_mb"] = {name: rss_mb(pid) for name, pid in stack.process_ids().items()}
        finally:
            stack.stop()
            engine.dispose()
            if keep_logs or failed(report):
                keep = RESULTS.parent / f"soak-{kind}-logs"
                keep.mkdir(parents=True, exist_ok=True)
                for log in workdir.glob("*.log"):
                    shutil.copy(log, keep / log.name)
                print(f"[{kind}] logs kept in {keep}", flush=True)
    assert report is not None
    return {"database": kind, "minutes": minutes} | report


def failed(report: dict[str, Any] | None) -> bool:
    return report is None or bool(report["lost"] or report["errors"] or report["duplicates"])


ROWS = (
    ("customers", "customers"),
    ("messages sent", "messages_sent"),
    ("acknowledged", "acknowledged"),
    ("stored (customer)", "stored"),
    ("answered by the bot", "answered_by_bot"),
    ("handed over", "handed_over"),
    ("LOST", "lost"),
    ("duplicates", "duplicates"),
    ("errors", "errors"),
    ("reconnects", "reconnects"),
    ("asked for a person", "person_requests"),
    ("handoffs", "handoffs"),
    ("  of which bot failed", "handoff_reasons.bot_error"),
    ("agent replies", "agent_replies"),
    ("resolved by agents", "resolves"),
    ("ratings given", "ratings"),
    ("reply latency p50 ms", "reply_latency.p50_ms"),
    ("reply latency p95 ms", "reply_latency.p95_ms"),
    ("replies awaited > 120 s", "reply_timeouts"),
    ("console request p95 ms", "console_requests.p95_ms"),
    ("console request max ms", "console_requests.max_ms"),
    ("settled after s", "settle_seconds"),
    ("hub RSS MB", "rss_mb.hub"),
    ("Rasa RSS MB", "rss_mb.rasa"),
    ("action server RSS MB", "rss_mb.actions"),
)


def table(reports: list[dict[str, Any]]) -> str:
    def value(report: dict[str, Any], path: str) -> str:
        found: Any = report
        for part in path.split("."):
            found = found.get(part, "-") if isinstance(found, dict) else "-"
        return f"{found:,}" if isinstance(found, (int, float)) else str(found)

    width = max(len(label) for label, _ in ROWS)
    lines = [f"{'':{width}}  " + "  ".join(f"{r['database']:>10}" for r in reports)]
    lines += [f"{label:{width}}  " + "  ".join(f"{value(r, path):>10}" for r in reports) for label, path in ROWS]
    for report in reports:
        if report["error_kinds"]:
            lines.append(f"errors on {report['database']}: {report['error_kinds']}")
    return "\n".join(lines)


def save(reports: list[dict[str, Any]]) -> None:
    """Merge into results/soak.json, so runs of one database at a time add up."""
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    saved.update({report["database"]: report for report in reports})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(saved, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-logs", action="store_true", help="keep the stack's logs even when nothing failed")
    args = parser.parse_args()
    if args.customers < 1 or args.minutes <= 0:
        parser.error("--customers and --minutes must be positive")
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    reports = [run_one(kind, args.customers, args.minutes, args.seed, args.keep_logs) for kind in kinds]
    print(table(reports))
    save(reports)
    print(f"written to {RESULTS}")
    return 1 if any(failed(report) for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
