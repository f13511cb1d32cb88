"""`make bench`: Frontline against stock `rasa run`, the same model and the same action server, in one run.

    python -m benchmarks.bench [--customers 10] [--turns 50] [--rounds 5] [--long 200] [--sockets 1000]
                               [--label NAME] [--rasa-env SANIC_WORKERS=2 ...]

Starts both set-ups (benchmarks/bench_stacks.py) on free ports and measures, one load at a time so they never
share the CPU:
(a) N customers x M routine turns at once: Frontline through the hub's WebSocket, stock through the REST channel;
    messages/s, p50, p95, and Frontline's ratios to stock. The machine's speed drifts by a third within minutes
    here (stock alone gave 14 to 23 messages/s in three runs one after another), so (a) and (c) run in rounds, each
    round stock, then Frontline, then Rasa alone, back to back, and the ratios are the medians of the rounds';
(b) one long conversation: the mean reply time of turns 1-10 against the last 10, both set-ups;
(c) the hub's overhead: the load of (a) through the hub against the same load straight to Frontline's Rasa
    servers (the customers shared evenly), p50;
(d) many idle customer sockets on one hub: its memory, and the delivery time of a message to one customer.
Prints a table and writes results/bench/<label>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.bench_sockets import idle_sockets
from benchmarks.bench_stacks import FrontlineStack, StockRasa
from benchmarks.hub_latency import straight_to_rasa, straight_to_servers, summary, through_hub
from tests.shop_api_server import ShopApiServer

RESULTS = Path("results") / "bench"
WARM_UP_TURNS = 10
"""Each customer's turns before anything is measured: with 2 x 4, Frontline's first round ran 20% slower than its
third while stock's did not change."""


def growth(timings: list[float]) -> dict[str, float]:
    first, last = statistics.fmean(timings[:10]), statistics.fmean(timings[-10:])
    return {"turns_1_10_ms": round(first, 1), "last_10_ms": round(last, 1), "growth": round(last / first, 2)}


def ratio(ours: float, theirs: float) -> float:
    return round(ours / theirs, 2) if theirs else float("nan")


def compare_rounds(rounds: list[dict[str, dict[str, float]]]) -> dict[str, Any]:
    """Each round's ratios (Frontline to stock, through the hub to Rasa alone) and their medians: a ratio within a
    round compares loads run back to back, so the machine's drift between rounds cancels out."""
    ratios = [
        {
            "throughput": ratio(r["frontline"]["per_second"], r["stock"]["per_second"]),
            "p50": ratio(r["frontline"]["p50_ms"], r["stock"]["p50_ms"]),
            "p95": ratio(r["frontline"]["p95_ms"], r["stock"]["p95_ms"]),
            "hub_overhead_p50_percent": round((r["frontline"]["p50_ms"] / r["rasa_alone"]["p50_ms"] - 1) * 100, 1),
        }
        for r in rounds
    ]
    middle = sorted(range(len(rounds)), key=lambda i: ratios[i]["throughput"])[len(rounds) // 2]
    return {
        "load": {
            "median_round": middle + 1,
            "stock": rounds[middle]["stock"],
            "frontline": rounds[middle]["frontline"],
            "throughput_ratio": statistics.median(r["throughput"] for r in ratios),
            "p50_ratio": statistics.median(r["p50"] for r in ratios),
            "p95_ratio": statistics.median(r["p95"] for r in ratios),
            "rounds": rounds,
            "ratios": ratios,
        },
        "hub_overhead": {
            "through_hub": rounds[middle]["frontline"],
            "rasa_alone": rounds[middle]["rasa_alone"],
            "p50_percent": statistics.median(r["hub_overhead_p50_percent"] for r in ratios),
        },
    }


async def measure(frontline: FrontlineStack, stock: StockRasa, args: argparse.Namespace) -> dict[str, Any]:
    print("warming up ...", flush=True)  # the same for both: TensorFlow traces its functions on first use
    await straight_to_rasa(stock.url, args.customers, WARM_UP_TURNS)
    await through_hub(frontline.hub_url, args.customers, WARM_UP_TURNS)
    await straight_to_servers(frontline.rasa_urls, args.customers, WARM_UP_TURNS)
    rounds = []
    for n in range(1, args.rounds + 1):
        print(f"(a, c) round {n}: {args.customers} customers x {args.turns} turns: stock ...", flush=True)
        stock_times, stock_seconds = await straight_to_rasa(stock.url, args.customers, args.turns)
        print(f"(a, c) round {n}: ... Frontline through the hub ...", flush=True)
        hub_times, hub_seconds = await through_hub(frontline.hub_url, args.customers, args.turns)
        print(f"(a, c) round {n}: ... straight to Frontline's Rasa server(s) ...", flush=True)
        rasa_times, rasa_seconds = await straight_to_servers(frontline.rasa_urls, args.customers, args.turns)
        rounds.append(
            {
                "stock": summary(stock_times, stock_seconds),
                "frontline": summary(hub_times, hub_seconds),
                "rasa_alone": summary(rasa_times, rasa_seconds),
            }
        )
    print(f"(b) one {args.long}-turn conversation: stock ...", flush=True)
    stock_long, _ = await straight_to_rasa(stock.url, 1, args.long)
    print("(b) ... Frontline ...", flush=True)
    ours_long, _ = await through_hub(frontline.hub_url, 1, args.long)
    report: dict[str, Any] = compare_rounds(rounds)
    report["load"] |= {"customers": args.customers, "turns_each": args.turns}
    report["long_conversation"] = {"turns": args.long, "stock": growth(stock_long), "frontline": growth(ours_long)}
    if args.sockets:
        print(f"(d) {args.sockets} idle customer sockets on one hub ...", flush=True)
        report["idle_sockets"] = await idle_sockets(
            frontline.hub_url, frontline.process_ids()["hub"], args.sockets, args.deliveries
        )
    return report


def print_report(report: dict[str, Any]) -> None:
    load, long, overhead = report["load"], report["long_conversation"], report["hub_overhead"]
    print(f"\n(a) {load['customers']} customers x {load['turns_each']} routine turns, round by round")
    print("| round | stock messages/s, p50, p95 | Frontline messages/s, p50, p95 | ratios | hub overhead p50 |")
    print("|---|---|---|---|---|")
    for n, (row, ratios) in enumerate(zip(load["rounds"], load["ratios"], strict=True), 1):
        theirs, ours = row["stock"], row["frontline"]
        print(
            f"| {n} | {theirs['per_second']}, {theirs['p50_ms']}, {theirs['p95_ms']} | {ours['per_second']}, "
            f"{ours['p50_ms']}, {ours['p95_ms']} | {ratios['throughput']}x, {ratios['p50']}x, {ratios['p95']}x | "
            f"{ratios['hub_overhead_p50_percent']}% |"
        )
    print(
        f"| median | | | {load['throughput_ratio']}x, {load['p50_ratio']}x, {load['p95_ratio']}x | "
        f"{overhead['p50_percent']}% |"
    )
    print(f"\n(b) one {long['turns']}-turn conversation, mean reply ms")
    print("| | turns 1-10 | last 10 | growth |\n|---|---|---|---|")
    for name in ("frontline", "stock"):
        row = long[name]
        print(f"| {name} | {row['turns_1_10_ms']} | {row['last_10_ms']} | {row['growth']}x |")
    if "idle_sockets" in report:
        idle = report["idle_sockets"]
        print(
            f"\n(d) {idle['idle_sockets']} idle sockets: hub RSS {idle['hub_rss_mb_before']} -> "
            f"{idle['hub_rss_mb_with_sockets']} MB ({idle['hub_rss_kb_per_socket']} kB each); agent -> customer "
            f"p50 {idle['agent_to_customer']['p50_ms']} ms, p95 {idle['agent_to_customer']['p95_ms']} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--long", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="of (a) and (c), interleaved; the medians are reported")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--deliveries", type=int, default=100)
    parser.add_argument("--label", default="latest")
    parser.add_argument(
        "--rasa-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="on top of the Procfile's, e.g. SANIC_WORKERS=2",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        template = workdir / "template.db"
        ShopApiServer.seed_template(template)
        frontline = FrontlineStack(workdir, template)
        frontline.rasa_env.update(dict(pair.split("=", 1) for pair in args.rasa_env))
        stock = StockRasa(workdir, frontline.actions_port, frontline.env)
        try:
            print(
                f"starting Frontline ({len(frontline.rasa_urls)} Rasa servers, environment from the Procfile: "
                f"{frontline.rasa_env}) ...",
                flush=True,
            )
            frontline.start(timeout=900)
            frontline.start_hub()
            print("starting stock rasa run ...", flush=True)
            stock.start(timeout=900)
            report = asyncio.run(measure(frontline, stock, args))
        finally:
            stock.stop()
            frontline.stop()
    report["label"] = args.label
    report["measured_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    report["frontline_rasa_env"] = frontline.rasa_env
    report["frontline_rasa_servers"] = len(frontline.rasa_urls)
    print_report(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.label}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
