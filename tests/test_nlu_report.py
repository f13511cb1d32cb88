"""The NLU report turns the evaluation data into a Rasa test file and Rasa's reports into one screen."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from benchmarks import nlu_report
from benchmarks.nlu_report import confusions, entity_span, read_results, summary, write_test_data

COLUMNS = ["utterance", "intent", "entity_type", "entity_value", "start_offset", "end_offset", "category", "tags"]
ROWS = [
    ["where is order 00123842 now?", "track_order", "order_id", "00123842", "15", "23", "ORDER", "B"],
    ["please cancel purchase #4587345", "cancel_order", "order_id", "#4587345", "0", "8", "ORDER", "BZ"],
    ["I need invoice #12588 for my records", "get_invoice", "invoice_id", "12588", "16", "21", "INVOICE", "B"],
    ["how long does delivery take", "delivery_period", "", "", "", "", "DELIVERY", "B"],
    ["swap an item in order 00077777 and 00088888", "change_order", "order_id", "00077777", "22", "30", "ORDER", "B"],
    ["swap an item in order 00077777 and 00088888", "change_order", "order_id", "00088888", "35", "43", "ORDER", "B"],
]
OUT_OF_SCOPE = [["what is the weather on mars", "oos"], ["play some jazz", "oos"]]


@pytest.fixture
def datasets(tmp_path: Path) -> Path:
    """A tiny shared-datasets folder in the layout of benchmarks/data."""
    (tmp_path / "bitext").mkdir()
    (tmp_path / "clinc150").mkdir()
    with (tmp_path / "bitext" / "validation.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([COLUMNS, *ROWS])
    (tmp_path / "clinc150" / "oos_val.json").write_text(json.dumps({"oos_val": OUT_OF_SCOPE}), encoding="utf-8")
    return tmp_path


def examples_by_text(path: Path) -> dict[str, Any]:
    return {m.get("text"): m for m in load_data(str(path)).training_examples}


def test_the_test_file_is_rasa_nlu_yaml_with_one_example_per_utterance(datasets, tmp_path):
    path = tmp_path / "results" / "nlu_eval_data.yml"
    assert write_test_data(path, datasets) == 7
    examples = examples_by_text(path)
    assert {text: m.get("intent") for text, m in examples.items()} == {
        "where is order 00123842 now?": "track_order",
        "please cancel purchase #4587345": "cancel_order",
        "I need invoice #12588 for my records": "get_invoice",
        "how long does delivery take": "delivery_period",
        "swap an item in order 00077777 and 00088888": "change_order",
        "what is the weather on mars": "out_of_scope",
        "play some jazz": "out_of_scope",
    }
    assert path.read_text(encoding="utf-8").startswith("# Made by benchmarks/nlu_report.py")


def test_order_numbers_are_annotated_at_their_offsets(datasets, tmp_path):
    path = tmp_path / "nlu_eval_data.yml"
    write_test_data(path, datasets)
    examples = examples_by_text(path)
    spans = {
        text: [(e["entity"], e["start"], e["end"], text[e["start"] : e["end"]]) for e in m.get("entities", [])]
        for text, m in examples.items()
    }
    assert spans["where is order 00123842 now?"] == [("order_id", 15, 23, "00123842")]
    assert spans["please cancel purchase #4587345"] == [("order_id", 23, 31, "#4587345")]
    assert spans["swap an item in order 00077777 and 00088888"] == [
        ("order_id", 22, 30, "00077777"),
        ("order_id", 35, 43, "00088888"),
    ]


def test_wrong_offsets_are_corrected_from_the_value_and_a_missing_value_is_an_error():
    row = dict(zip(COLUMNS, ROWS[1], strict=True))
    assert entity_span(row) == {"start": 23, "end": 31, "value": "#4587345", "entity": "order_id"}
    with pytest.raises(ValueError, match="not in"):
        entity_span(row | {"entity_value": "00999999"})


def test_invoice_numbers_are_annotated_and_other_entities_are_not(datasets, tmp_path):
    path = tmp_path / "nlu_eval_data.yml"
    write_test_data(path, datasets)
    examples = examples_by_text(path)
    [invoice] = examples["I need invoice #12588 for my records"].get("entities")
    assert (invoice["entity"], invoice["value"]) == ("invoice_id", "12588")
    assert not examples["what is the weather on mars"].get("entities")


def figures(precision: float, recall: float, f1: float, support: int, **confused: int) -> dict[str, Any]:
    return {"precision": precision, "recall": recall, "f1-score": f1, "support": support, "confused_with": confused}


REPORT = {
    "track_order": figures(0.8, 1.0, 0.889, 8),
    "delivery_period": figures(1.0, 0.5, 0.667, 4, track_order=2),
    "out_of_scope": figures(1.0, 0.75, 0.857, 4, track_order=1),
    "accuracy": 0.8125,
    "macro avg": {"precision": 0.933, "recall": 0.75, "f1-score": 0.804, "support": 16},
    "weighted avg": {"precision": 0.9, "recall": 0.8125, "f1-score": 0.825, "support": 16},
}
ERRORS = [
    {"text": "when will it come", "intent": "delivery_period", "intent_prediction": {"name": "track_order"}},
    {"text": "how long to ship", "intent": "delivery_period", "intent_prediction": {"name": "track_order"}},
    {"text": "tell me a joke", "intent": "out_of_scope", "intent_prediction": {"name": "goodbye"}},
]
ENTITIES = {
    "order_id": {"precision": 0.95, "recall": 1.0, "f1-score": 0.974, "support": 91},
    "invoice_id": {"precision": 1.0, "recall": 0.8, "f1-score": 0.889, "support": 19},
}


def test_the_summary_gives_accuracy_averages_and_the_entity_lines():
    lines = summary(REPORT, ERRORS, ENTITIES, out=Path("results/nlu")).splitlines()
    assert lines[0] == "Rasa NLU evaluation (16 utterances, 3 intents; Bitext dev + CLINC150 out-of-scope)"
    assert "  accuracy           0.812" in lines
    assert "  macro avg           0.933  0.750  0.804" in lines
    assert "  weighted avg        0.900  0.812  0.825" in lines
    assert "  order_id (tokens)   0.950  1.000  0.974  (91 gold tokens)" in lines
    assert "  invoice_id (tokens)  1.000  0.800  0.889  (19 gold tokens)" in lines


def test_the_summary_lists_intents_weakest_first():
    table = summary(REPORT, ERRORS, ENTITIES).split("intent, weakest first")[1].splitlines()[1:4]
    assert [row.split()[0] for row in table] == ["delivery_period", "out_of_scope", "track_order"]
    assert table[0].split()[1:] == ["1.000", "0.500", "0.667", "4"]


def test_the_summary_lists_the_commonest_confusions_and_where_the_files_are():
    text = summary(REPORT, ERRORS, ENTITIES, out=Path("results/nlu"))
    assert "    2  delivery_period -> track_order\n    1  out_of_scope -> goodbye\n" in text
    assert "confusion matrix  results/nlu/intent_confusion_matrix.png" in text
    assert "intent report     results/nlu/intent_report.json" in text


def test_confusions_fall_back_on_the_reports_confused_with():
    assert confusions(REPORT) == [("delivery_period", "track_order", 2), ("out_of_scope", "track_order", 1)]
    assert confusions(REPORT, ERRORS)[0] == ("delivery_period", "track_order", 2)


def test_results_are_read_from_rasas_files_and_the_optional_ones_may_be_missing(tmp_path):
    (tmp_path / "intent_report.json").write_text(json.dumps(REPORT), encoding="utf-8")
    assert read_results(tmp_path) == (REPORT, None, None)
    (tmp_path / "intent_errors.json").write_text(json.dumps(ERRORS), encoding="utf-8")
    assert read_results(tmp_path)[1] == ERRORS


def test_main_converts_runs_rasa_and_prints_the_summary(datasets, tmp_path, monkeypatch, capsys):
    def fake_rasa_test(data: Path, model: str, out: Path) -> None:
        assert load_data(str(data)).training_examples
        out.mkdir(parents=True)
        (out / "intent_report.json").write_text(json.dumps(REPORT), encoding="utf-8")

    model = tmp_path / "model.tar.gz"
    model.touch()
    monkeypatch.setattr(nlu_report, "datasets_dir", lambda: datasets)
    monkeypatch.setattr(nlu_report, "run_rasa_test", fake_rasa_test)
    argv = ["--model", str(model), "--data", str(tmp_path / "eval.yml"), "--out", str(tmp_path / "nlu")]
    assert nlu_report.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("Rasa NLU evaluation (16 utterances")
    assert "7 examples written to" in out
