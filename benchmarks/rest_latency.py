"""Reply latency through Rasa's REST channel for a track-order message, with the real action server and shop.

    python -m benchmarks.rest_latency [--messages 200]

Starts its own Rasa server and action server on free ports (over a copy of the demo shop), warms up, then
sends "where is my order 00123842?" in fresh conversations and reports p50/p95/max in milliseconds. A second
run keeps one conversation going, to show how the reply time grows with its length.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from tests.rasa_stack import RasaStack, new_sender
from tests.shop_api_server import ShopApiServer

MESSAGE = "where is my order 00123842?"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(stack: RasaStack, sender: str, text: str) -> float:
    started = time.perf_counter()
    replies = stack.say(sender, text)
    elapsed = (time.perf_counter() - started) * 1000
    if not any("DHL" in (r.get("text") or "") for r in replies):
        raise RuntimeError(f"unexpected reply: {replies}")
    return elapsed


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "max_ms": round(max(values), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        template = Path(workdir) / "template.db"
        ShopApiServer.seed_template(template)
        stack = RasaStack(Path(workdir), template).start()
        try:
            for _ in range(10):
                timed(stack, new_sender(), MESSAGE)
            fresh = [timed(stack, new_sender(), MESSAGE) for _ in range(args.messages)]
            sender = new_sender()
            long_run = [timed(stack, sender, MESSAGE) for _ in range(args.messages)]
        finally:
            stack.stop()
    report = {
        "fresh_conversations": summary(fresh),
        "one_conversation_first_20": summary(long_run[:20]),
        "one_conversation_last_20": summary(long_run[-20:]),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
