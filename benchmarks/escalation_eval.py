"""How well the escalation policy finds the people who need a person, and leaves routine alone.

    python -m benchmarks.escalation_eval [--json results/escalation_eval.json]

On data nobody on the project wrote (../shared/datasets): recall of anger in the TweetEval emotion dev split
and of anger/annoyance in GoEmotions dev (flagged = the bot at least acknowledges it), how often each
escalates at once, and the false-escalation rate on the Bitext dev split's routine intents; then the same on
our own complex cases (benchmarks/complex_cases.yml). Every message is judged alone, as a first message.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.bitext_eval import DATASETS
from bot.emotion import scorer_for
from bot.escalation import Turn, rules_for

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HANDOFF_INTENTS = {"complaint", "contact_human_agent", "contact_customer_service"}


def judge(text: str) -> tuple[dict[str, Any], Any]:
    emotion = scorer_for().score(text).to_json()
    return emotion, rules_for().assess([Turn(text=text, intent=None, emotion=emotion)])


def rates(texts: list[str]) -> dict[str, float]:
    flagged = escalated = 0
    for text in texts:
        emotion, assessment = judge(text)
        flagged += emotion["level"] != "none" or assessment.escalate
        escalated += assessment.escalate
    return {"n": len(texts), "flagged": round(flagged / len(texts), 4), "escalated": round(escalated / len(texts), 4)}


def tweeteval() -> dict[str, dict[str, float]]:
    folder = DATASETS / "tweeteval_emotion"
    names = dict(line.split("\t") for line in (folder / "mapping.txt").read_text().splitlines() if line.strip())
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [names[label.strip()].strip() for label in (folder / "val_labels.txt").read_text().splitlines()]
    return {
        name: rates([t for t, label in zip(texts, labels, strict=True) if label == name])
        for name in sorted(set(labels))
    }


def goemotions() -> dict[str, dict[str, float]]:
    folder = DATASETS / "goemotions"
    names = (folder / "labels.txt").read_text().split()
    by_label: dict[str, list[str]] = {}
    with (folder / "dev.tsv").open(encoding="utf-8") as handle:
        for text, labels, _id in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            for index in labels.split(","):
                by_label.setdefault(names[int(index)], []).append(text)
    wanted = ("anger", "annoyance", "disgust", "sadness", "fear", "neutral", "joy", "gratitude", "approval")
    return {name: rates(by_label[name]) for name in wanted}


def bitext_routine() -> dict[str, float]:
    with (DATASETS / "bitext" / "validation.csv").open(encoding="utf-8") as handle:
        rows = {(r["utterance"], r["intent"]) for r in csv.DictReader(handle)}
    return rates([text for text, intent in rows if intent not in HANDOFF_INTENTS])


def complex_cases() -> dict[str, Any]:
    cases = yaml.safe_load((PROJECT_ROOT / "benchmarks" / "complex_cases.yml").read_text(encoding="utf-8"))
    missed = [t for t in cases["escalate"] if not judge(t)[1].escalate]
    wrongly = [t for t in cases["routine"] if judge(t)[1].escalate]
    overdone = [t for t in cases["acknowledge"] if judge(t)[1].escalate]
    return {
        "escalate": rates(cases["escalate"]) | {"missed": missed},
        "acknowledge": rates(cases["acknowledge"]) | {"wrongly_escalated": overdone},
        "routine": rates(cases["routine"]) | {"wrongly_escalated": wrongly},
    }


def latency_ms(texts: list[str]) -> float:
    scorer = scorer_for()
    started = time.perf_counter()
    for text in texts:
        scorer.score(text)
    return round((time.perf_counter() - started) * 1000 / len(texts), 4)


def print_report(report: dict[str, Any]) -> None:
    tweet, go, routine = report["tweeteval"], report["goemotions"], report["bitext_routine"]
    row = tweet["anger"]
    print(f"TweetEval anger ({row['n']}): flagged {row['flagged']:.3f}, escalated {row['escalated']:.3f}")
    for name in ("joy", "optimism", "sadness"):
        print(f"  {name:10} flagged {tweet[name]['flagged']:.3f}, escalated {tweet[name]['escalated']:.3f}")
    for name, row in go.items():
        print(f"GoEmotions {name:10} ({row['n']:4}): flagged {row['flagged']:.3f}, escalated {row['escalated']:.3f}")
    print(f"Bitext routine ({routine['n']}): escalated {routine['escalated']:.3f}, flagged {routine['flagged']:.3f}")
    cases = report["complex_cases"]
    for kind, key in (("escalate", "missed"), ("acknowledge", "wrongly_escalated"), ("routine", "wrongly_escalated")):
        found = cases[kind]
        print(
            f"our {kind} cases ({found['n']}): flagged {found['flagged']:.3f}, escalated {found['escalated']:.3f};"
            f" {key}: {found[key]}"
        )
    print(f"scoring: {report['scoring_ms_per_message']} ms per message")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=str(PROJECT_ROOT / "results" / "escalation_eval.json"))
    args = parser.parse_args()
    texts = (DATASETS / "tweeteval_emotion" / "val_text.txt").read_text(encoding="utf-8").splitlines()
    report = {
        "tweeteval": tweeteval(),
        "goemotions": goemotions(),
        "bitext_routine": bitext_routine(),
        "complex_cases": complex_cases(),
        "scoring_ms_per_message": latency_ms(texts * 5),
    }
    print_report(report)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
