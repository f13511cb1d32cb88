"""Rasa's own NLU evaluation on customer messages nobody on the project wrote, summed up on one screen.

Converts the Bitext dev split (with its `order_id` and `invoice_id` spans) and the CLINC150 out-of-scope queries
(labelled `out_of_scope`) into a Rasa NLU test file under results/ (never data/: it is for measuring, never for
training), runs `rasa test nlu` on it with the trained model, and prints accuracy, macro and weighted averages,
a per-intent table, the commonest confusions and where Rasa put the confusion matrix and reports.

Rasa's test scores the classifier alone: it undoes the FallbackClassifier's `nlu_fallback`, so nothing falls
back here and out-of-scope recall is the intent classifier's own. benchmarks/bitext_eval.py gives the figures
with the fallback.

    python -m benchmarks.nlu_report [--model models/frontline.tar.gz] [--out results/nlu]
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.bitext_eval import PROJECT_ROOT, datasets_dir, latest_model, load_clinc_oos

TEST_DATA = PROJECT_ROOT / "results" / "nlu_eval_data.yml"
OUT_DIR = PROJECT_ROOT / "results" / "nlu"
OUT_OF_SCOPE = "out_of_scope"
ENTITY_TYPES = frozenset({"order_id", "invoice_id"})
"""Bitext entity types that are also ours; its names, amounts and cities stay unannotated."""
ENTITY_REPORT = "CRFEntityExtractor_report.json"
HEADER = (
    "# Made by benchmarks/nlu_report.py from benchmarks/data (Bitext dev split, CLINC150 out-of-scope queries)\n"
    "# for measuring only: never copy it into data/ or train on it.\n"
)
AVERAGES = ("macro avg", "weighted avg")
NOT_LABELS = frozenset({"accuracy", "micro avg", *AVERAGES})


def bitext_examples(path: Path) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(text, intent, entities) per utterance; a CSV may repeat an utterance once per entity it carries.

    Args:
        path: the Bitext CSV (utterance, intent, entity_type, entity_value, start_offset, end_offset).

    Returns:
        One entry per distinct utterance, in file order, with its order and invoice number spans.
    """
    merged: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            entities = merged.setdefault((row["utterance"], row["intent"]), [])
            if row["entity_type"] in ENTITY_TYPES:
                span = entity_span(row)
                if span not in entities:
                    entities.append(span)
    return [(text, intent, entities) for (text, intent), entities in merged.items()]


def entity_span(row: dict[str, str]) -> dict[str, Any]:
    """The row's entity at its offsets, checked against the value the row says is there.

    Raises:
        ValueError: the value is nowhere in the utterance, so the row cannot be annotated honestly.
    """
    text, value = row["utterance"], row["entity_value"]
    start, end = int(row["start_offset"]), int(row["end_offset"])
    if text[start:end] != value:
        start = text.find(value)
        if start < 0:
            raise ValueError(f"{row['entity_type']} {value!r} is not in {text!r}")
        end = start + len(value)
    return {"start": start, "end": end, "value": value, "entity": row["entity_type"]}


def to_rasa_yaml(examples: Iterable[tuple[str, str, Sequence[dict[str, Any]]]]) -> str:
    """Rasa NLU YAML for the examples, written by Rasa's own writer (entity annotation, quoting).

    Args:
        examples: (text, intent, entities) triples; entities as Rasa has them (start, end, value, entity).

    Returns:
        The YAML text, headed by a comment saying it is never to be trained on.
    """
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [Message.build(text=text, intent=intent, entities=list(entities)) for text, intent, entities in examples]
    return HEADER + RasaYAMLWriter().dumps(TrainingData(training_examples=messages))


def write_test_data(path: Path = TEST_DATA, datasets: Path | None = None) -> int:
    """Writes the Bitext dev split and the CLINC150 out-of-scope queries as one Rasa NLU test file.

    Args:
        path: where to write it; under results/, never data/.
        datasets: the shared datasets folder; `datasets_dir()` when None.

    Returns:
        The number of examples written.
    """
    datasets = datasets or datasets_dir()
    examples = bitext_examples(datasets / "bitext" / "validation.csv")
    examples += [(text, OUT_OF_SCOPE, []) for text in load_clinc_oos(datasets / "clinc150" / "oos_val.json")]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_rasa_yaml(examples), encoding="utf-8")
    return len(examples)


def run_rasa_test(data: Path, model: str, out: Path) -> None:
    """`rasa test nlu` in a subprocess, its log kept beside the reports (it is long) and shown only on failure."""
    rasa = Path(sys.executable).parent / "rasa"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    out.mkdir(parents=True, exist_ok=True)
    (out / "intent_report.json").unlink(missing_ok=True)
    result = subprocess.run(
        [str(rasa), "test", "nlu", "--nlu", str(data), "--model", model, "--out", str(out)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    (out / "rasa_test.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0 or not (out / "intent_report.json").exists():
        raise RuntimeError(f"rasa test nlu failed ({result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")


def confusions(report: dict[str, Any], errors: list[dict[str, Any]] | None = None) -> list[tuple[str, str, int]]:
    """(gold, predicted, count), commonest first.

    From Rasa's intent_errors.json when there is one (every error); otherwise from the report's `confused_with`,
    which keeps only each intent's two or three commonest.
    """
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    if errors is not None:
        counts.update((e["intent"], e["intent_prediction"]["name"]) for e in errors)
    else:
        for label, figures in intent_rows(report):
            for predicted, count in figures.get("confused_with", {}).items():
                counts[(label, predicted)] += count
    return [(gold, predicted, n) for (gold, predicted), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def intent_rows(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The per-intent entries of intent_report.json, weakest F1 first (ties by name)."""
    rows = [(label, figures) for label, figures in report.items() if label not in NOT_LABELS]
    return sorted(rows, key=lambda row: (row[1]["f1-score"], row[0]))


def summary(
    report: dict[str, Any],
    errors: list[dict[str, Any]] | None = None,
    entity_report: dict[str, Any] | None = None,
    out: Path = OUT_DIR,
    top: int = 5,
) -> str:
    """The compact report `make eval` prints.

    Args:
        report: Rasa's intent_report.json.
        errors: Rasa's intent_errors.json, for complete confusion counts.
        entity_report: Rasa's report of the entity extractor, for the order_id and invoice_id lines.
        out: the folder Rasa wrote to, for the paths printed.
        top: how many confusions to list.

    Returns:
        The summary, lines ending in a newline.
    """
    rows = intent_rows(report)
    examples = sum(int(figures["support"]) for _, figures in rows)
    lines = [f"Rasa NLU evaluation ({examples} utterances, {len(rows)} intents; Bitext dev + CLINC150 out-of-scope)"]
    lines.append("  (the classifier alone: Rasa's test undoes the FallbackClassifier, so no message falls back here)")
    lines.append(f"  accuracy           {report['accuracy']:.3f}")
    lines.append(f"  {'':17}  {'prec':>6} {'rec':>6} {'f1':>6}")
    for name in AVERAGES:
        figures = report[name]
        lines.append(f"  {name:17}  {figures['precision']:6.3f} {figures['recall']:6.3f} {figures['f1-score']:6.3f}")
    for entity in sorted(ENTITY_TYPES, reverse=True):
        found = (entity_report or {}).get(entity)
        if found:
            lines.append(
                f"  {entity + ' (tokens)':<18} {found['precision']:6.3f} {found['recall']:6.3f} "
                f"{found['f1-score']:6.3f}  ({int(found['support'])} gold tokens)"
            )
    lines.append(f"\n{'intent, weakest first':28} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}")
    for label, f in rows:
        lines.append(f"{label:28} {f['precision']:6.3f} {f['recall']:6.3f} {f['f1-score']:6.3f} {int(f['support']):4d}")
    lines.append(f"\ncommonest confusions (gold -> predicted{'' if errors is not None else ', from confused_with'}):")
    lines.extend(f"  {count:3d}  {gold} -> {predicted}" for gold, predicted, count in confusions(report, errors)[:top])
    lines.append("")
    lines.append(f"confusion matrix  {out / 'intent_confusion_matrix.png'}")
    lines.append(f"histogram         {out / 'intent_histogram.png'}")
    lines.append(f"intent report     {out / 'intent_report.json'}")
    if entity_report is not None:
        lines.append(f"entity report     {out / ENTITY_REPORT}")
    return "\n".join(lines) + "\n"


def read_results(out: Path) -> tuple[dict[str, Any], list[dict[str, Any]] | None, dict[str, Any] | None]:
    """intent_report.json, and intent_errors.json and the entity extractor's report when Rasa wrote them."""
    files = [out / "intent_report.json", out / "intent_errors.json", out / ENTITY_REPORT]
    report, errors, entities = (json.loads(f.read_text(encoding="utf-8")) if f.exists() else None for f in files)
    if report is None:
        raise FileNotFoundError(files[0])
    return report, errors, entities


def main(argv: list[str] | None = None) -> int:
    """Converts the data, runs `rasa test nlu`, prints the summary.

    Args:
        argv: command-line arguments (`--model`, `--data`, `--out`); `sys.argv[1:]` when None.

    Returns:
        The exit status: 0, or 1 when `rasa test nlu` failed.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models"), help="model file or folder")
    parser.add_argument("--data", type=Path, default=TEST_DATA, help="where to write the NLU test file")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where Rasa writes its reports and images")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    count = write_test_data(args.data)
    converted = time.perf_counter()
    try:
        run_rasa_test(args.data, latest_model(args.model), args.out)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    tested = time.perf_counter()
    print(summary(*read_results(args.out), out=args.out), end="")
    print(
        f"\n{count} examples written to {args.data} in {converted - started:.1f} s; "
        f"rasa test nlu took {tested - converted:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
