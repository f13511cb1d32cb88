"""The learned judgement: trained on labelled examples, saved as plain arrays, read back the same."""

from __future__ import annotations

import numpy as np
import pytest

from bot.domain.emotion import scorer_for
from bot.rasa.escalation_examples import Example
from bot.rasa.escalation_model import EscalationModel, Featurizer, routine_examples, to_json
from bot.rasa.sentence_vectors import SentenceVectors

CALM = [
    "where is my parcel",
    "how long does delivery take",
    "can I pay with paypal",
    "send me the invoice please",
    "do you ship to spain",
    "I want to change my address",
    "what sizes do you have",
    "cancel order 00123456",
]
ANGRY = [
    "this is a disgrace, I am furious",
    "you are useless, absolutely livid",
    "worst shop ever, I hate you",
    "I am so angry I could scream",
    "pathetic service, shame on you",
    "furious!!! nobody helps me",
]
OFF_TOPIC = [
    "what a goal, best match of the season",
    "sunny day at the beach with the kids",
    "new episode tonight, can't wait",
    "my cat just learned to open doors lol",
]
FRAUD = [
    "a payment on my card that I never made",
    "there is a charge from you I don't recognise",
    "someone used my card on your site",
    "unknown charge of 80 euros on my statement",
]


@pytest.fixture(scope="module")
def featurizer():
    return Featurizer(SentenceVectors.from_package(), scorer_for())


@pytest.fixture(scope="module")
def model(featurizer):
    examples = [Example(t) for t in CALM]
    examples += [Example(t, "anger", "strong", (), True) for t in ANGRY]
    examples += [Example(t, "none", "none", ("fraud",), True) for t in FRAUD]
    examples += [Example("bit annoying, where is it", "frustration", "mild")]
    examples += [Example(t, shop=False) for t in OFF_TOPIC]
    return EscalationModel.train(featurizer, examples)


def test_it_tells_the_classes_it_learned_apart(model):
    calm, angry, fraud = model.judge(["where is my order", "I am furious, useless shop", "a charge I never made"])
    assert angry.strength["strong"] > calm.strength["strong"] and angry.strength["strong"] > 0.5
    assert angry.feeling == "anger"
    assert fraud.topics["fraud"] > 0.5 > calm.topics["fraud"]
    assert fraud.person > 0.5 > calm.person
    assert set(calm.topics) == {"fraud"}, "topics with no examples get no head"
    assert sum(calm.strength.values()) == pytest.approx(1.0, abs=1e-5)
    (match,) = model.judge(["what a match, the goal in the last minute!"])
    assert match.shop < 0.5 < calm.shop


def test_it_is_saved_as_arrays_and_reads_back_identical(model, featurizer, tmp_path):
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["judgement.json", "judgement.npz"]
    again = EscalationModel.load(tmp_path, featurizer)
    texts = ["where is my order", "I am furious", "unknown charge on my card", "", "ok"]
    assert [to_json(j) for j in again.judge(texts)] == [to_json(j) for j in model.judge(texts)]


def test_a_warm_start_from_the_last_training_lands_where_a_cold_fit_does(model, featurizer):
    examples = [Example(t) for t in [*CALM, "do you gift wrap", "can it come in a gift box"]]
    examples += [Example(t, "anger", "strong", (), True) for t in ANGRY]
    examples += [Example(t, "none", "none", ("fraud",), True) for t in FRAUD]
    examples += [Example("bit annoying, where is it", "frustration", "mild")]
    examples += [Example(t, shop=False) for t in OFF_TOPIC]
    cold = EscalationModel.train(featurizer, examples)
    warm = EscalationModel.train(featurizer, examples, start=model)
    texts = ["where is my order", "I am furious, useless shop", "a charge I never made", "gift wrap please"]
    for a, b in zip(cold.judge(texts), warm.judge(texts), strict=True):
        assert abs(a.person - b.person) < 0.05
        assert max(abs(a.strength[k] - b.strength[k]) for k in a.strength) < 0.05
        assert a.feeling == b.feeling


def test_a_trainers_needs_a_person_label_moves_the_person_score(featurizer):
    base = [Example(t) for t in CALM] + [Example(t, "anger", "strong", (), True) for t in ANGRY]
    text = "my parcel went to my neighbour again, the third time now"
    before = EscalationModel.train(featurizer, base).judge([text])[0].person
    labelled = [Example(text, None, None, (), True), Example(text + "!", None, None, (), True)]
    after = EscalationModel.train(featurizer, base + labelled).judge([text])[0].person
    assert after > before + 0.1


def test_hostile_and_huge_messages_are_scored_like_any_other(model):
    judgements = model.judge(["<script>alert(1)</script>", "'; DROP TABLE orders; --", "x" * 100_000, "🙂" * 50])
    for judgement in judgements:
        assert 0.0 <= judgement.person <= 1.0 and np.isfinite(list(judgement.strength.values())).all()


def test_routine_nlu_examples_are_calm_and_handoff_intents_are_left_out():
    routine = routine_examples(
        [("where is it", "track_order"), ("I want a human", "contact_human_agent"), (" ", "greet")],
        {"contact_human_agent"},
    )
    assert routine == [Example("where is it")]
    assert routine[0].person is False and routine[0].strength == "none"
