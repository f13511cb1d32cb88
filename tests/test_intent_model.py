"""The intent classifier: learns intents from examples, generalises to new wordings, saves as plain arrays."""

from __future__ import annotations

import numpy as np
import pytest

from bot.rasa.intent_model import IntentModel
from bot.rasa.sentence_vectors import SentenceVectors

EXAMPLES = {
    "track_order": [
        "where is my order",
        "has my parcel shipped yet",
        "track my package please",
        "when will my order arrive",
        "my delivery hasn't come",
    ],
    "cancel_order": [
        "cancel my order",
        "I don't want the order anymore",
        "please stop my purchase",
        "can I cancel what I ordered",
        "call off my order",
    ],
    "get_invoice": [
        "send me the invoice",
        "I need a copy of my bill",
        "where can I download the invoice",
        "email me the receipt for my order",
        "I want the VAT invoice",
    ],
}
SETTINGS = {"word_ngrams": 2, "char_ngrams": 5, "meaning_weight": 1.5, "regularisation": 30.0}


@pytest.fixture(scope="module")
def vectors() -> SentenceVectors:
    return SentenceVectors.from_package()


@pytest.fixture(scope="module")
def model(vectors) -> IntentModel:
    texts = [text for examples in EXAMPLES.values() for text in examples]
    intents = [intent for intent, examples in EXAMPLES.items() for _ in examples]
    return IntentModel.train(vectors, texts, intents, SETTINGS)


def top(model: IntentModel, text: str) -> str:
    return model.intents[int(model.rank([text])[0].argmax())]


def test_it_names_the_intent_of_wordings_it_never_saw(model):
    assert top(model, "where's my parcel got to") == "track_order"
    assert top(model, "I'd like to cancel the purchase") == "cancel_order"
    assert top(model, "could you send the invoice again") == "get_invoice"


def test_misspellings_still_find_their_intent(model):
    assert top(model, "cancle my ordr") == "cancel_order"
    assert top(model, "invoise plz") == "get_invoice"


def test_each_row_is_a_probability_over_every_intent(model):
    rows = model.rank(["where is my order", "", "<script>alert(1)</script>' OR 1=1 --", "x" * 100_000])
    assert rows.shape == (4, 3)
    assert np.allclose(rows.sum(axis=1), 1.0)


def test_the_same_examples_give_the_same_weights(vectors, model):
    texts = [text for examples in EXAMPLES.values() for text in examples]
    intents = [intent for intent, examples in EXAMPLES.items() for _ in examples]
    again = IntentModel.train(vectors, texts, intents, SETTINGS)
    probe = ["where is it", "stop the order", "bill please"]
    assert np.array_equal(again.rank(probe), model.rank(probe))


def test_a_saved_model_reads_back_the_same(vectors, model, tmp_path):
    model.save(tmp_path)
    loaded = IntentModel.load(tmp_path, vectors)
    probe = ["where is my order", "cancel it", "the invoice", "something else entirely"]
    assert loaded.intents == model.intents
    assert np.allclose(loaded.rank(probe), model.rank(probe), atol=1e-6)


def test_two_intents_are_enough_to_train(vectors):
    two = IntentModel.train(
        vectors, EXAMPLES["track_order"] + EXAMPLES["cancel_order"], ["t"] * 5 + ["c"] * 5, SETTINGS
    )
    assert two.intents == ["c", "t"]
    assert two.intents[int(two.rank(["where is my parcel"])[0].argmax())] == "t"


def test_a_warm_start_learns_a_new_intent_and_lands_where_a_cold_fit_does(vectors, model):
    gift = ["can you gift wrap it", "do you offer gift wrapping", "wrap it as a present please", "is there gift paper"]
    texts = [text for examples in EXAMPLES.values() for text in examples] + gift
    intents = [intent for intent, examples in EXAMPLES.items() for _ in examples] + ["ask_gift_wrapping"] * 4
    cold = IntentModel.train(vectors, texts, intents, SETTINGS)
    warm = IntentModel.train(vectors, texts, intents, SETTINGS, start=model)
    probe = ["could you gift-wrap my parcel", "where is my order", "cancel it", "the invoice"]
    assert warm.intents == cold.intents == ["ask_gift_wrapping", "cancel_order", "get_invoice", "track_order"]
    assert top(warm, probe[0]) == "ask_gift_wrapping"
    assert np.abs(warm.rank(probe) - cold.rank(probe)).max() < 0.05
