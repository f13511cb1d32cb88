"""Who the trained bot hands to a person after one message, on messages nobody on the project wrote.

    python -m benchmarks.escalation_eval [--model models/] [--json results/escalation_eval.json] [--goemotions]

Every message opens a new conversation with the trained model: the NLU (with the escalation judgement) parses
it and the dialogue policies predict the bot's first action. "Handed over" means that action is
`action_handoff`; "flagged" means handed over or at least mildly upset (the bot apologises). Data:
`benchmarks/data/` (escalation/dev.tsv, the Bitext dev split's routine intents, optionally GoEmotions dev),
TweetEval emotion dev when DATASETS_DIR holds it (`tweeteval_emotion/`), and our own cases
(benchmarks/complex_cases.yml, written by us, not trained on).
Then the judgement's own cost per message (the NLU component alone), p50 and p95.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import json
import logging
import operator
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from benchmarks.bitext_eval import DATASETS, PROJECT_ROOT, latest_model
from bot.domain.escalation import Turn, rules_for

HANDOFF = "action_handoff"
HANDOFF_INTENTS = {"complaint", "contact_human_agent", "contact_customer_service"}
TARGETS = {"emotional": (">=", 0.90), "complex": (">=", 0.85), "routine": ("<=", 0.03)}
COMPARE = {">=": operator.ge, "<=": operator.le}


class FirstTurns:
    """The trained model, asked what it does after one message."""

    def __init__(self, model: str) -> None:
        from rasa.core.agent import Agent
        from rasa.utils.common import configure_logging_and_warnings
        from rasa.utils.log_utils import configure_structlog

        configure_logging_and_warnings(logging.WARNING)
        configure_structlog(logging.WARNING)
        self._agent = Agent.load(model)

    async def outcome(self, number: int, text: str) -> dict[str, Any]:
        from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
        from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        parse = await self._agent.parse_message(text)
        events = [
            ActionExecuted(ACTION_SESSION_START_NAME),
            SessionStarted(),
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered(text, parse["intent"], parse["entities"], parse),
        ]
        tracker = DialogueStateTracker.from_events(f"eval-{number}", events, self._agent.domain.slots)
        predicted = self._agent.processor.predict_next_with_tracker(tracker) or {}
        action = max(predicted.get("scores", []), key=lambda s: s["score"], default={"action": None})["action"]
        level = (parse.get("emotion") or {}).get("level", "none")
        intent = (parse.get("intent") or {}).get("name")
        turn = Turn(text, intent, parse.get("emotion"), judgement=parse.get("judgement"))
        why = [s for s in rules_for().assess([turn]).signals if not s.startswith(("cue:", "emotion:mild"))]
        if action == HANDOFF and intent in HANDOFF_INTENTS:
            why.append(f"intent:{intent}")
        return {
            "handed_over": action == HANDOFF,
            "flagged": action == HANDOFF or level != "none",
            "action": action,
            "intent": intent,
            "why": why if action == HANDOFF else [],
        }

    async def rates(self, texts: Sequence[str]) -> dict[str, Any]:
        outcomes = [await self.outcome(i, t) for i, t in enumerate(texts)]
        n = len(outcomes)
        why = collections.Counter(_kind(signal) for o in outcomes for signal in o["why"])
        return {
            "n": n,
            "handed_over": round(sum(o["handed_over"] for o in outcomes) / n, 4),
            "flagged": round(sum(o["flagged"] for o in outcomes) / n, 4),
            "why": dict(why.most_common()),
            "outcomes": outcomes,
        }


def _kind(signal: str) -> str:
    """`topic:fraud` stays whole; `emotion:strong:anger` and `high_stakes:legal` count by their first part."""
    return signal if signal.startswith(("topic:", "intent:")) else signal.split(":")[0]


def escalation_dev() -> dict[str, list[str]]:
    by_label: dict[str, list[str]] = {}
    with (DATASETS / "escalation" / "dev.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            by_label.setdefault(row["label"], []).append(row["text"])
    return by_label


def bitext_routine() -> list[str]:
    with (DATASETS / "bitext" / "validation.csv").open(encoding="utf-8") as handle:
        rows = {(r["utterance"], r["intent"]) for r in csv.DictReader(handle)}
    return sorted(text for text, intent in rows if intent not in HANDOFF_INTENTS)


def tweeteval() -> dict[str, list[str]]:
    """TweetEval's emotion dev set, when DATASETS_DIR holds it: its licence keeps it out of this repository."""
    folder = DATASETS / "tweeteval_emotion"
    if not (folder / "val_text.txt").exists():
        return {}
    names = dict(line.split("\t") for line in (folder / "mapping.txt").read_text().splitlines() if line.strip())
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [names[label.strip()].strip() for label in (folder / "val_labels.txt").read_text().splitlines()]
    by_label: dict[str, list[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        by_label.setdefault(label, []).append(text)
    return by_label


def goemotions() -> dict[str, list[str]]:
    folder = DATASETS / "goemotions"
    names = (folder / "labels.txt").read_text().split()
    by_label: dict[str, list[str]] = {}
    with (folder / "dev.tsv").open(encoding="utf-8") as handle:
        for text, labels, _id in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            for index in labels.split(","):
                by_label.setdefault(names[int(index)], []).append(text)
    return {name: by_label[name] for name in ("anger", "annoyance", "sadness", "fear", "neutral", "joy")}


def own_cases() -> dict[str, list[str]]:
    return yaml.safe_load((PROJECT_ROOT / "benchmarks" / "complex_cases.yml").read_text(encoding="utf-8"))


def scoring_cost(model: str, texts: Sequence[str]) -> dict[str, float]:
    """Milliseconds the NLU component takes for one message (lexicon + sentence vector + every head)."""
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.shared.nlu.training_data.message import Message

    from bot.rasa.emotion_component import EmotionClassifier

    with tempfile.TemporaryDirectory() as folder:
        storage, metadata = LocalModelStorage.from_model_archive(Path(folder), Path(model))
        node = next(n for n in metadata.predict_schema.nodes.values() if n.uses is EmotionClassifier)
        config = EmotionClassifier.get_default_config() | node.config
        component = EmotionClassifier.load(config, storage, node.resource, ExecutionContext(metadata.predict_schema))
        timings = []
        for text in texts:
            message = Message(data={"text": text})
            started = time.perf_counter()
            component.process([message])
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "n": len(timings),
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(timings[int(len(timings) * 0.95)], 3),
    }


async def evaluate(model: str, with_goemotions: bool) -> dict[str, Any]:
    turns = FirstTurns(model)
    dev = escalation_dev()
    tweets = tweeteval()
    report: dict[str, Any] = {
        "model": model,
        "escalation_dev": {label: await turns.rates(texts) for label, texts in sorted(dev.items())},
        "bitext_routine": await turns.rates(bitext_routine()),
        "tweeteval": {label: await turns.rates(texts) for label, texts in sorted(tweets.items())},
        "own_cases": {kind: await turns.rates(texts) for kind, texts in own_cases().items()},
    }
    if with_goemotions:
        report["goemotions"] = {label: await turns.rates(texts) for label, texts in goemotions().items()}
    every_text = [t for texts in dev.values() for t in texts] + [t for texts in tweets.values() for t in texts]
    report["scoring"] = scoring_cost(model, every_text)
    return report


def print_report(report: dict[str, Any]) -> None:
    print("escalation/dev.tsv (written outside the project): handed to a person after the first message")
    for label, row in report["escalation_dev"].items():
        sign, target = TARGETS[label]
        met = "ok" if COMPARE[sign](row["handed_over"], target) else "MISSED"
        why = _why(row) if label == "routine" else ""
        print(f"  {label:10} ({row['n']:3}): {row['handed_over']:.3f} (aim {sign} {target:.2f}) {met}{why}")
    routine = report["bitext_routine"]
    print(
        f"Bitext dev, routine intents ({routine['n']}): handed over {routine['handed_over']:.3f} (aim <= 0.01),"
        f" flagged {routine['flagged']:.3f}{_why(routine)}"
    )
    tweets = report["tweeteval"]
    if tweets:
        anger = tweets["anger"]
        print(
            f"TweetEval anger ({anger['n']}): flagged {anger['flagged']:.3f} (aim >= 0.85),"
            f" handed over {anger['handed_over']:.3f}"
        )
    else:
        print("TweetEval: not measured (set DATASETS_DIR to a folder holding tweeteval_emotion/)")
    for label in ("joy", "optimism", "sadness") if tweets else ():
        row = tweets[label]
        aim, why = (" (aim <= 0.03)", _why(row)) if label != "sadness" else ("", "")
        print(
            f"  {label:9} ({row['n']:3}): handed over {row['handed_over']:.3f}{aim}, flagged {row['flagged']:.3f}{why}"
        )
    for label, row in report.get("goemotions", {}).items():
        print(
            f"GoEmotions {label:9} ({row['n']:4}): handed over {row['handed_over']:.3f}, flagged {row['flagged']:.3f}"
        )
    for kind, row in report["own_cases"].items():
        print(f"our {kind} cases ({row['n']}): handed over {row['handed_over']:.3f}, flagged {row['flagged']:.3f}")
    cost = report["scoring"]
    print(f"judgement cost per message ({cost['n']} messages): p50 {cost['p50_ms']} ms, p95 {cost['p95_ms']} ms")


def _why(row: dict[str, Any]) -> str:
    """What brought a person in where none was needed: the trainer's first place to look."""
    return f"; why: {', '.join(f'{k} {v}' for k, v in row['why'].items())}" if row["why"] else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models"))
    parser.add_argument("--json", default=str(PROJECT_ROOT / "results" / "escalation_eval.json"))
    parser.add_argument("--goemotions", action="store_true", help="also GoEmotions dev (5,000 messages, slower)")
    args = parser.parse_args(argv)
    report = asyncio.run(evaluate(latest_model(args.model), args.goemotions))
    print_report(report)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
