"""What the intent classifier and the escalation judgement share: logistic regressions kept as one row of weights
per class, applied with NumPy and turned into probabilities by softmax."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from bot.rasa.sentence_vectors import Array


def class_rows(model: LogisticRegression) -> tuple[Array, Array]:
    """The fitted weights and biases as one row per class, in float32; scikit-learn keeps a two-class model as a
    single row, which becomes two opposite halves so softmax over the rows gives its probabilities."""
    weights, bias = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
    if len(model.classes_) == 2:
        weights, bias = np.vstack([-weights, weights]) / 2, np.concatenate([-bias, bias]) / 2
    return weights, bias


def softmax(logits: Array) -> Array:
    """Each row's logits as probabilities (shifted first, so large logits cannot overflow)."""
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    shares: Array = exp / exp.sum(axis=1, keepdims=True)
    return shares
