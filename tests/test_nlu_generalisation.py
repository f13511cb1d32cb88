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


def test_intent_accuracy_on_the_bitext_dev_split_is_at_least_90_percent(report):
    assert report.examples == 810
    assert report.intent_accuracy >= 0.90


def test_order_numbers_are_extracted_as_customers_type_them(report):
    assert report.order_id["recall"] >= 0.95
    assert report.order_id["f1"] >= 0.90


def test_most_out_of_scope_questions_are_caught_by_the_fallback(report):
    assert report.oos_caught >= 0.5
