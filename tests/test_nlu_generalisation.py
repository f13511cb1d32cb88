"""The model understands customer messages nobody on the project wrote (benchmarks/data)."""

from __future__ import annotations

import pytest

from benchmarks.bitext_eval import BITEXT, evaluate
from tests.rasa_stack import MODEL

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def report():
    if not BITEXT.exists():
        pytest.fail(f"evaluation data missing at {BITEXT}")
    return evaluate(str(MODEL))


def test_intent_accuracy_on_the_bitext_dev_split_is_at_least_94_percent(report):
    assert report.examples == 810
    assert report.intent_accuracy >= 0.94


def test_order_numbers_are_extracted_as_customers_type_them(report):
    assert report.order_id["recall"] >= 0.99
    assert report.order_id["precision"] >= 0.97


def test_invoice_numbers_are_told_apart_from_order_numbers(report):
    assert report.invoice_id["f1"] >= 0.85
    assert report.invoice_id["precision"] >= 0.9


def test_most_out_of_scope_questions_are_caught(report):
    assert report.oos_caught >= 0.85
