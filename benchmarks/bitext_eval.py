"""How well the trained NLU model generalises to customer messages nobody on the project wrote.

Scores intent accuracy (an `nlu_fallback` or `out_of_scope` counts as a miss) and `order_id` and `invoice_id`
extraction on the Bitext customer-service dev split (values compared in the shop's stored form), plus the share
of CLINC150 out-of-scope queries caught (`nlu_fallback` or the trained `out_of_scope` intent).

    python -m benchmarks.bitext_eval [--model models/] [--json results/bitext_eval.json]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import dataclasses
import json
import logging
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from actions.orders.invoice_number import canonical_invoice_number
from actions.orders.order_number import canonical_order_number

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def datasets_dir() -> Path:
    """`benchmarks/data/` in this repository (each set with its licence); DATASETS_DIR points elsewhere."""
    return Path(os.environ.get("DATASETS_DIR") or PROJECT_ROOT / "benchmarks" / "data")


DATASETS = datasets_dir()
BITEXT = DATASETS / "bitext" / "validation.csv"
CLINC_OOS = DATASETS / "clinc150" / "oos_val.json"
FALLBACK = "nlu_fallback"
CAUGHT = {FALLBACK, "out_of_scope"}
"""What counts as caught out of scope: the fallback, or the trained out-of-scope intent."""
STORED_FORMS = {"order_id": canonical_order_number, "invoice_id": canonical_invoice_number}
"""The entities scored, each with how the shop stores a value typed as `#00108` or `00108`."""


@dataclasses.dataclass
class Example:
    text: str
    intent: str
    entities: dict[str, frozenset[str]]


@dataclasses.dataclass
class Report:
    examples: int
    intent_accuracy: float
    fallback_rate: float
    per_intent: dict[str, dict[str, float]]
    confusions: list[tuple[str, str, int]]
    order_id: dict[str, float]
    invoice_id: dict[str, float]
    oos_examples: int
    oos_caught: float
    parse_ms_p50: float
    threshold_sweep: list[dict[str, float]]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_bitext(path: Path = BITEXT) -> list[Example]:
    """One example per utterance; the CSV repeats an utterance once per entity it carries."""
    merged: dict[tuple[str, str], dict[str, set[str]]] = collections.OrderedDict()
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found = merged.setdefault((row["utterance"], row["intent"]), {name: set() for name in STORED_FORMS})
            if row["entity_type"] in STORED_FORMS:
                found[row["entity_type"]].add(_stored(row["entity_type"], row["entity_value"]))
    return [
        Example(text, intent, {name: frozenset(values) for name, values in found.items()})
        for (text, intent), found in merged.items()
    ]


def _stored(entity: str, value: str) -> str:
    return STORED_FORMS[entity](value) or value


def load_clinc_oos(path: Path = CLINC_OOS) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [text for text, _label in data["oos_val"]]


async def _parse_all(model: str, texts: Iterable[str]) -> tuple[list[dict[str, Any]], list[float]]:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    agent = Agent.load(model)
    results, timings = [], []
    for text in texts:
        started = time.perf_counter()
        results.append(await agent.parse_message(text))
        timings.append((time.perf_counter() - started) * 1000)
    return results, timings


def score(examples: list[Example], parses: list[dict[str, Any]]) -> dict[str, Any]:
    """Intent and entity figures for parses aligned with examples."""
    gold = [e.intent for e in examples]
    predicted = [p["intent"]["name"] for p in parses]
    labels = sorted(set(gold))
    per_intent = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=False))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=False))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=False))
        per_intent[label] = _prf(tp, fp, fn) | {"support": float(tp + fn)}
    confusions = collections.Counter((g, p) for g, p in zip(gold, predicted, strict=False) if g != p)
    entities = {}
    for name in STORED_FORMS:
        tp = fp = fn = 0
        for example, parse in zip(examples, parses, strict=False):
            found = {_stored(name, str(e["value"])) for e in parse.get("entities", []) if e["entity"] == name}
            tp += len(found & example.entities[name])
            fp += len(found - example.entities[name])
            fn += len(example.entities[name] - found)
        entities[name] = _prf(tp, fp, fn) | {"support": float(tp + fn)}
    return {
        "intent_accuracy": sum(g == p for g, p in zip(gold, predicted, strict=False)) / len(gold),
        "fallback_rate": predicted.count(FALLBACK) / len(predicted),
        "per_intent": per_intent,
        "confusions": [(g, p, n) for (g, p), n in confusions.most_common(15)],
        **entities,
    }


def _top_intent(parse: dict[str, Any]) -> tuple[str, float]:
    """The best real intent, looking past the fallback the model may have put on top."""
    for candidate in parse.get("intent_ranking") or [parse["intent"]]:
        if candidate["name"] != FALLBACK:
            return candidate["name"], float(candidate["confidence"])
    return FALLBACK, 0.0


def sweep(
    examples: list[Example], parses: list[dict[str, Any]], oos_parses: list[dict[str, Any]], thresholds: Iterable[float]
) -> list[dict[str, float]]:
    """Accuracy against out-of-scope catch rate for other FallbackClassifier thresholds, without retraining."""
    rows = []
    for threshold in thresholds:
        tops = [_top_intent(p) for p in parses]
        correct = sum(
            name == e.intent and confidence >= threshold for (name, confidence), e in zip(tops, examples, strict=True)
        )
        caught = sum(name in CAUGHT or confidence < threshold for name, confidence in map(_top_intent, oos_parses))
        rows.append(
            {
                "threshold": threshold,
                "intent_accuracy": round(correct / len(examples), 4),
                "oos_caught": round(caught / len(oos_parses), 4),
            }
        )
    return rows


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate(model: str) -> Report:
    examples = load_bitext()
    oos = load_clinc_oos()
    parses, timings = asyncio.run(_parse_all(model, [e.text for e in examples] + oos))
    figures = score(examples, parses[: len(examples)])
    oos_parses = parses[len(examples) :]
    timings.sort()
    return Report(
        examples=len(examples),
        oos_examples=len(oos),
        oos_caught=sum(p["intent"]["name"] in CAUGHT for p in oos_parses) / len(oos_parses),
        parse_ms_p50=round(timings[len(timings) // 2], 2),
        threshold_sweep=sweep(examples, parses[: len(examples)], oos_parses, (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)),
        **figures,
    )


def latest_model(path: str) -> str:
    candidate = Path(path)
    if candidate.is_file():
        return str(candidate)
    models = sorted(candidate.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        sys.exit(f"no trained model in {candidate}; run `make train` first")
    return str(models[-1])


def print_report(report: Report, out=sys.stdout) -> None:
    print(f"Bitext dev ({report.examples} utterances, 27 intents)", file=out)
    print(f"  intent accuracy      {report.intent_accuracy:.3f}", file=out)
    print(f"  fell back            {report.fallback_rate:.3f}", file=out)
    for name, figures in (("order_id", report.order_id), ("invoice_id", report.invoice_id)):
        print(
            f"  {name:<20} P {figures['precision']:.3f}  R {figures['recall']:.3f}  F1 {figures['f1']:.3f}"
            f"  ({int(figures['support'])} gold)",
            file=out,
        )
    print(f"CLINC150 out-of-scope ({report.oos_examples}): caught {report.oos_caught:.3f}", file=out)
    print(f"parse latency p50      {report.parse_ms_p50:.1f} ms", file=out)
    print("\nfallback threshold   intent accuracy   out-of-scope caught   (ambiguity rule not applied)", file=out)
    for row in report.threshold_sweep:
        print(
            f"  {row['threshold']:.1f}                {row['intent_accuracy']:.3f}             {row['oos_caught']:.3f}",
            file=out,
        )
    print(f"\n{'intent':28} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}", file=out)
    for name, f in report.per_intent.items():
        print(f"{name:28} {f['precision']:6.3f} {f['recall']:6.3f} {f['f1']:6.3f} {int(f['support']):4d}", file=out)
    print("\nmost frequent confusions (gold -> predicted):", file=out)
    for gold, predicted, count in report.confusions:
        print(f"  {count:3d}  {gold} -> {predicted}", file=out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models"), help="model file or folder")
    parser.add_argument("--json", default=str(PROJECT_ROOT / "results" / "bitext_eval.json"))
    args = parser.parse_args(argv)
    report = evaluate(latest_model(args.model))
    print_report(report)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report.to_json(), indent=2))
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    main()
