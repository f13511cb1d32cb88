"""`make bench`, part two: the scaled mode on this machine with 1 and with 2 hubs and Rasa servers, and a model of
what N machines would reach.

    python -m benchmarks.bench_scaled [--customers 10] [--turns 50] [--sizes 1x1,2x2] [--label NAME]

Each size HxR starts the plan `make run-scaled HUBS=H RASA=R` runs (deploy/scaled.py through
tests/scaled_stack.py): H hubs and R Rasa servers over a fresh PostgreSQL database and Redis, the action server,
nginx in front. The load is the one `make bench` gives both set-ups (N customers x M routine turns at once), through
nginx. While it runs, the CPU time of each piece is read from /proc; CPU-ms per message, piece by piece, is what
the model scales:

    app machine (hub + Rasa + action server) : cores x 1000 / its CPU-ms per message, times N machines
    PostgreSQL and Redis, shared by all      : their capacity, which N does not raise (Redis uses one core)

so throughput(N) = min(N x app, PostgreSQL, Redis, nginx). On 2 shared cores more processes cannot add CPU;
the figures say what each message costs, which is what the model needs.
Writes results/bench/<label>-scaled.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.hub_latency import summary, through_hub
from tests.postgres import fresh_postgres_database
from tests.scaled_stack import ScaledStack
from tests.shop_api_server import ShopApiServer

RESULTS = Path("results") / "bench"
SHARED = {"postgres": "postgresql", "redis-server": "redis"}
"""Servers every hub and Rasa server share, by process name: their CPU time is counted machine-wide."""
TICKS = os.sysconf("SC_CLK_TCK")
MACHINES = (1, 2, 4, 8, 16)


def _stat(pid: str) -> tuple[str, int, float] | None:
    """(process name, process group, CPU seconds including reaped children) from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[2]), sum(int(v) for v in fields[11:15]) / TICKS


def cpu_seconds(groups: dict[int, str]) -> dict[str, float]:
    """CPU seconds so far of each piece: its process group (`groups`: group id -> kind) and the shared servers."""
    used: dict[str, float] = defaultdict(float)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        stat = _stat(pid)
        if stat is None:
            continue
        name, group, seconds = stat
        if group in groups:
            used[groups[group]] += seconds
        elif name in SHARED:
            used[SHARED[name]] += seconds
    return dict(used)


async def load(stack: ScaledStack, customers: int, turns: int) -> dict[str, Any]:
    await through_hub(stack.url, 2, 4)
    groups = stack.process_groups()
    before = cpu_seconds(groups)
    times, seconds = await through_hub(stack.url, customers, turns)
    after = cpu_seconds(groups)
    messages = len(times)
    cpu_ms = {kind: round((after[kind] - before.get(kind, 0.0)) * 1000 / messages, 1) for kind in sorted(after)}
    return {"load": summary(times, seconds), "cpu_ms_per_message": cpu_ms, "wall_seconds": round(seconds, 1)}


def measure_size(hubs: int, rasa: int, template: Path, workdir: Path, customers: int, turns: int) -> dict[str, Any]:
    with fresh_postgres_database() as database_url:
        folder = workdir / f"size{hubs}x{rasa}"
        folder.mkdir()
        stack = ScaledStack(folder, database_url, template, hubs=hubs, rasa=rasa)
        try:
            started = time.monotonic()
            stack.start(timeout=900)
            print(f"  up in {time.monotonic() - started:.0f}s; {customers} x {turns} through nginx ...", flush=True)
            return {"hubs": hubs, "rasa_servers": rasa, **asyncio.run(load(stack, customers, turns))}
        finally:
            stack.stop()


def machines_model(cpu_ms: dict[str, float], cores: int) -> list[dict[str, Any]]:
    """Throughput of N app machines (hub + Rasa + action server each) over one PostgreSQL and one Redis."""
    app_ms = sum(cpu_ms.get(kind, 0.0) for kind in ("hub", "rasa", "actions"))
    capacity = {
        "postgresql": cores * 1000 / cpu_ms["postgresql"] if cpu_ms.get("postgresql") else float("inf"),
        "redis": 1000 / cpu_ms["redis"] if cpu_ms.get("redis") else float("inf"),
        "nginx": cores * 1000 / cpu_ms["nginx"] if cpu_ms.get("nginx") else float("inf"),
    }
    rows = []
    for machines in MACHINES:
        bounds = {"app machines": machines * cores * 1000 / app_ms, **capacity}
        limit = min(bounds, key=bounds.__getitem__)
        rows.append({"machines": machines, "messages_per_second": round(bounds[limit], 1), "bound_by": limit})
    return rows


def print_report(report: dict[str, Any]) -> None:
    print(f"\n(e) the scaled mode on this machine ({report['cores']} cores), {report['customers']} customers x "
          f"{report['turns']} turns through nginx")  # fmt: skip
    print("| hubs + Rasa servers | messages/s | p50 ms | p95 ms | CPU-ms per message |\n|---|---|---|---|---|")
    for size in report["sizes"]:
        row, cpu = size["load"], ", ".join(f"{k} {v}" for k, v in size["cpu_ms_per_message"].items())
        print(f"| {size['hubs']} + {size['rasa_servers']} | {row['per_second']} | {row['p50_ms']} | {row['p95_ms']} "
              f"| {cpu} |")  # fmt: skip
    print(f"\n(f) model, from the CPU cost per message of {report['model_from']} (machines of {report['cores']} cores)")
    print("| app machines | messages/s | bound by |\n|---|---|---|")
    for row in report["model"]:
        print(f"| {row['machines']} | {row['messages_per_second']} | {row['bound_by']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--sizes", default="1x1,2x2", help="HUBSxRASA per run, comma-separated, e.g. 1x1,1x2,2x2")
    parser.add_argument("--label", default="latest")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    report: dict[str, Any] = {"customers": args.customers, "turns": args.turns, "cores": cores, "sizes": []}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        template = workdir / "template.db"
        ShopApiServer.seed_template(template)
        for size in args.sizes.split(","):
            hubs, rasa = (int(n) for n in size.split("x"))
            print(f"(e) scaled mode, {hubs} hub(s) and {rasa} Rasa server(s) ...", flush=True)
            report["sizes"].append(measure_size(hubs, rasa, template, workdir, args.customers, args.turns))
    smallest = report["sizes"][0]
    report["model_from"] = f"{smallest['hubs']} hub + {smallest['rasa_servers']} Rasa"
    report["model"] = machines_model(smallest["cpu_ms_per_message"], cores)
    report["measured_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    print_report(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.label}-scaled.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
