"""Sentence vectors from MiniLM's distilled word pieces: similar requests land close, and load offline."""

from __future__ import annotations

import numpy as np
import pytest

from bot.rasa.sentence_vectors import DIMENSIONS, SentenceVectors


@pytest.fixture(scope="module")
def vectors():
    return SentenceVectors.from_package()


def test_messages_that_mean_the_same_are_closer_than_unrelated_ones(vectors):
    money, refund, sofa = vectors.embed(
        ["I want my money back", "please refund me", "what colours does the sofa come in"]
    )
    assert money @ refund > money @ sofa + 0.05
    furious, angry, thanks = vectors.embed(
        ["I am furious with you", "I am so angry with you", "thank you, great service"]
    )
    assert furious @ angry > furious @ thanks + 0.05


def test_every_row_is_unit_length_and_an_empty_message_is_zero(vectors):
    rows = vectors.embed(["hello", "", "   ", "WHERE IS MY PARCEL 00123842"])
    assert rows.shape == (4, DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(rows[[0, 3]], axis=1), 1.0, rtol=1e-5)
    assert not rows[1].any() and not rows[2].any()


def test_a_very_long_message_costs_no_more_than_its_first_pieces(vectors):
    long = "refund " * 5000
    assert vectors.embed([long]).shape == (1, DIMENSIONS)


def test_saved_vectors_load_back_the_same(vectors, tmp_path):
    vectors.save(tmp_path)
    loaded = SentenceVectors.load(tmp_path)
    texts = ["where is my order", "I'm panicking, they took my money twice"]
    np.testing.assert_allclose(loaded.embed(texts), vectors.embed(texts), atol=2e-3)
