"""Where one turn's time goes, at the start of a conversation and ~200 turns in.

    python -m benchmarks.turn_profile [--turns 200] [--tracker-store sql|memory] [--json results/bench/profile.json]

Rasa: the trained model is loaded in this process (`rasa.core.agent.load_agent`) with the project's tracker store
(`sql`, a fresh SQLite file) or Rasa's in-memory one, and the real action server on a free port. One conversation
of routine messages goes through `Agent.handle_message`; each piece is timed exclusively (a piece's time leaves
out the pieces inside it): the tracker store's retrieve and save, each graph node (NLU components, policies),
Rasa's tracker copies, the action server calls (building the payload, the HTTP round trip).

Hub: the real hub in this process (tests/inprocess.py) in front of a fake Rasa that answers at once, one customer
over the WebSocket; each store call on a message's way is timed, and the rest is the hub's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import inspect
import json
import logging
import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore

from bot.rasa.tracker_store import DatabaseUrlTrackerStore
from tests.rasa_stack import ACTIONS_TOKEN, MODEL, RasaStack
from tests.shop_api_server import ShopApiServer

MESSAGES = (
    "where is my order 00123842?",
    "what payment methods do you accept?",
    "how long does delivery take to Germany?",
    "what is your refund policy?",
)
WINDOWS = ((0, 10), (190, 200))


class Timers:
    """Exclusive wall-clock time per piece: nested pieces are subtracted from the piece that holds them."""

    def __init__(self) -> None:
        self.turn: dict[str, float] = defaultdict(float)
        self._stack: list[list[float]] = []

    @contextlib.contextmanager
    def piece(self, name: str) -> Iterator[None]:
        frame = [time.perf_counter(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            elapsed = time.perf_counter() - frame[0]
            self.turn[name] += (elapsed - frame[1]) * 1000
            if self._stack:
                self._stack[-1][1] += elapsed

    def take(self) -> dict[str, float]:
        taken, self.turn = dict(self.turn), defaultdict(float)
        return taken

    def wrap(self, owner: Any, attribute: str, name: str | Callable[..., str]) -> None:
        """Replace `owner.attribute` (a function or coroutine function) with a timed one."""
        original = getattr(owner, attribute)
        label = name if callable(name) else (lambda *_a, **_k: name)

        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                with self.piece(label(*args, **kwargs)):
                    return await original(*args, **kwargs)

            setattr(owner, attribute, timed_async)
        else:

            @functools.wraps(original)
            def timed(*args: Any, **kwargs: Any) -> Any:
                with self.piece(label(*args, **kwargs)):
                    return original(*args, **kwargs)

            setattr(owner, attribute, timed)


class UncachedTrackerStore(DatabaseUrlTrackerStore):
    """The tracker store before the per-worker cache: every retrieve reads and rebuilds the session from SQL."""

    async def retrieve(self, sender_id: str) -> Any:
        return await SQLTrackerStore.retrieve(self, sender_id)

    async def save(self, tracker: Any) -> None:
        await SQLTrackerStore.save(self, tracker)


def node_label(node: Any, *_args: Any) -> str:
    name = str(node._node_name).removeprefix("run_")
    name = name.rstrip("0123456789") if name[-1:].isdigit() else name
    if name.endswith("Policy"):
        return f"policy: {name}"
    if name in {"select_prediction"}:
        return "policy: ensemble"
    if name in {"nlu_message_converter", "domain_provider", "rule_only_data_provider", "provide"}:
        return "graph: providers"
    return f"NLU: {name}"


def instrument_rasa(timers: Timers, agent: Any) -> None:
    from rasa.core.actions.action import ActionExtractSlots, RemoteAction
    from rasa.engine.graph import GraphNode
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    store = agent.tracker_store
    timers.wrap(store, "retrieve", "tracker store: retrieve (SQL + rebuild)")
    timers.wrap(store, "save", "tracker store: save")
    timers.wrap(GraphNode, "__call__", node_label)
    timers.wrap(DialogueStateTracker, "copy", "tracker.copy (per action)")
    timers.wrap(ActionExtractSlots, "run", "action_extract_slots")
    timers.wrap(RemoteAction, "run", "action server: Rasa side (events, replies)")
    timers.wrap(RemoteAction, "_action_call_format", "action server: tracker to JSON")
    timers.wrap(EndpointConfig, "request", "action server: HTTP round trip")


async def rasa_profile(endpoints: Path, turns: int) -> tuple[list[dict[str, float]], list[dict[str, Any]]]:
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import EventVerbosity
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.INFO)  # as `rasa run` does: debug logs print every state, O(n)
    configure_structlog(logging.INFO)
    agent = await load_agent(model_path=str(MODEL), endpoints=AvailableEndpoints.read_endpoints(str(endpoints)))
    timers = Timers()
    instrument_rasa(timers, agent)
    warm = CollectingOutputChannel()
    for text in MESSAGES:
        await agent.handle_message(UserMessage(text, warm, "warm-up"))
    timers.take()
    per_turn, sizes = [], []
    sender = f"profile-{os.getpid()}"
    for n in range(turns):
        out = CollectingOutputChannel()
        started = time.perf_counter()
        await agent.handle_message(UserMessage(MESSAGES[n % len(MESSAGES)], out, sender))
        total = (time.perf_counter() - started) * 1000
        pieces = timers.take()
        pieces["other (Rasa's own code)"] = total - sum(pieces.values())
        pieces["total"] = total
        per_turn.append(pieces)
        if not any(m.get("text") for m in out.messages):
            raise RuntimeError(f"turn {n + 1} had no answer: {out.messages}")
        if n + 1 in (1, 10, 100, 200) or n + 1 == turns:
            tracker = await agent.tracker_store.retrieve(sender)
            timers.take()
            state = tracker.current_state(EventVerbosity.ALL)
            users = sum(isinstance(e, UserUttered) for e in tracker.events)
            sizes.append(
                {
                    "turn": n + 1,
                    "events": len(tracker.events),
                    "user_turns": users,
                    "payload_kb": round(len(json.dumps(state)) / 1024, 1),
                }
            )
    return per_turn, sizes


def window_means(per_turn: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    names = sorted({k for turn in per_turn for k in turn}, key=lambda k: (k.startswith(("total", "reply")), k))
    table: dict[str, dict[str, float]] = {}
    for start, end in WINDOWS:
        chunk = per_turn[start:end]
        if not chunk:
            continue
        label = f"turns {start + 1}-{end}"
        table[label] = {name: round(statistics.fmean(t.get(name, 0.0) for t in chunk), 2) for name in names}
    return table


async def hub_profile(workdir: Path, turns: int) -> list[dict[str, float]]:
    """The hub alone: a fake Rasa that answers at once, so what is measured is the hub's own cost per message."""
    from tests.inprocess import FakeRasa, running_hub, says

    timers = Timers()
    per_turn = []
    async with running_hub(workdir / "hub.db", FakeRasa(default=[says("An answer.")])) as running:
        hub = running.hub
        for store, prefix in (
            (hub.conversations, "hub SQL: conversations."),
            (hub.conversations.routing, "hub SQL: routing."),
        ):
            for name, member in inspect.getmembers(store):
                if not name.startswith("_") and inspect.iscoroutinefunction(member):
                    timers.wrap(store, name, prefix + name)
        timers.wrap(hub.rasa, "send", "fake Rasa")
        customer = await running.connected_customer()
        for n in range(turns):
            seen = len(customer.events)
            timers.take()
            started = time.perf_counter()
            await customer.say(MESSAGES[n % len(MESSAGES)])
            await customer.wait_for(lambda e: e["type"] == "message" and e["message"]["sender"] == "bot", after=seen)
            replied = (time.perf_counter() - started) * 1000
            await hub.drain()
            total = (time.perf_counter() - started) * 1000
            pieces = timers.take()
            pieces["hub: the rest (sockets, bus, router, thread hops)"] = total - sum(pieces.values())
            pieces["reply seen by the customer (of total)"] = replied
            pieces["total (until the message is finished with)"] = total
            per_turn.append(pieces)
    return per_turn


def print_table(title: str, table: dict[str, dict[str, float]]) -> None:
    windows = list(table)
    print(f"\n{title} (ms per turn, mean)")
    print(f"| {'piece':<48} | " + " | ".join(f"{w:>13}" for w in windows) + " |")
    print(f"|{'-' * 50}|" + "|".join("-" * 15 for _ in windows) + "|")
    for name in table[windows[0]]:
        print(f"| {name:<48} | " + " | ".join(f"{table[w].get(name, 0):>13.1f}" for w in windows) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--tracker-store", choices=("sql", "memory"), default="sql")
    parser.add_argument("--tracker-store-class", default="bot.rasa.tracker_store.DatabaseUrlTrackerStore")
    parser.add_argument("--part", choices=("rasa", "hub", "both"), default="both")
    parser.add_argument("--json", type=Path, default=Path("results") / "bench" / "turn_profile.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        ShopApiServer.seed_template(workdir / "template.db")
        stack = RasaStack(workdir, workdir / "template.db")
        os.environ.update({k: v for k, v in stack.env.items() if k in ("DATABASE_URL", "ACTIONS_TOKEN")})
        os.environ["ACTIONS_TOKEN"] = ACTIONS_TOKEN
        endpoints = workdir / "profile-endpoints.yml"
        store = f"tracker_store:\n  type: {args.tracker_store_class}\n" if args.tracker_store == "sql" else ""
        endpoints.write_text(stack.endpoints.read_text().split("tracker_store:")[0] + store)
        rasa_turns: list[dict[str, float]] = []
        sizes: list[dict[str, Any]] = []
        if args.part != "hub":
            stack.start_actions()
            try:
                rasa_turns, sizes = asyncio.run(rasa_profile(endpoints, args.turns))
            finally:
                stack.stop()
        hub_turns = asyncio.run(hub_profile(workdir, args.turns)) if args.part != "rasa" else []
    report = {
        "tracker_store": args.tracker_store if args.tracker_store == "memory" else args.tracker_store_class,
        "rasa": window_means(rasa_turns) if rasa_turns else {},
        "tracker_sizes": sizes,
        "hub_with_instant_rasa": window_means(hub_turns) if hub_turns else {},
    }
    if rasa_turns:
        print_table(f"Rasa in process, tracker store {report['tracker_store']}", report["rasa"])
        print("\ntracker size:", json.dumps(sizes))
    if hub_turns:
        print_table("Hub alone (fake Rasa answering at once)", report["hub_with_instant_rasa"])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
