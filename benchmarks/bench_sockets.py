"""Many idle customer WebSockets on one hub: the hub's memory, and how fast a message still reaches one customer.

The idle customers connect as the widget does (hello, welcome) and then say nothing. One more customer asks for a
person, an agent claims the conversation, and each agent reply is timed from the POST until that customer's
socket has it (and each customer message until the agent's console socket has it).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from benchmarks.hub_latency import deliveries, summary
from tests.hub_clients import CustomerClient

BATCH = 50


def rss_mb(pid: int) -> float:
    """Resident memory of one process (the hub is a single process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def idle_sockets(hub_url: str, hub_pid: int, sockets: int, count: int) -> dict[str, object]:
    before = rss_mb(hub_pid)
    idle: list[CustomerClient] = []
    try:
        for start in range(0, sockets, BATCH):
            batch = [CustomerClient(hub_url) for _ in range(min(BATCH, sockets - start))]
            await asyncio.gather(*(c.connect() for c in batch))
            idle.extend(batch)
        await asyncio.sleep(1.0)  # let the hub finish what the hellos started (state events) before reading RSS
        with_sockets = rss_mb(hub_pid)
        to_agent, to_customer = await deliveries(hub_url, count)
        return {
            "idle_sockets": len(idle),
            "hub_rss_mb_before": before,
            "hub_rss_mb_with_sockets": with_sockets,
            "hub_rss_kb_per_socket": round((with_sockets - before) * 1024 / max(1, len(idle)), 1),
            "agent_to_customer": summary(to_agent),
            "customer_to_agent": summary(to_customer),
            "all_idle_still_open": sum(1 for c in idle if c.ws is not None and c.ws.open),
        }
    finally:
        for start in range(0, len(idle), BATCH):
            with contextlib.suppress(Exception):
                await asyncio.gather(*(c.close() for c in idle[start : start + BATCH]))
