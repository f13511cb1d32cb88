"""A loaded model is kept out of the cycle collector's way, and a replaced one can still be collected."""

from __future__ import annotations

import gc
import weakref

from bot.rasa.model_memory import freeze_loaded_model
from bot.rasa.tracker_store import DatabaseUrlTrackerStore
from tests.test_tracker_store import DOMAIN


class Model:
    """Stands for a model's objects: in a reference cycle, as TensorFlow's and Rasa's are."""

    def __init__(self) -> None:
        self.itself = self


def test_a_loaded_model_is_frozen_and_a_replaced_one_is_collected_when_the_next_is_loaded():
    try:
        model = Model()
        alive = weakref.ref(model)
        freeze_loaded_model()
        assert gc.get_freeze_count() > 0
        del model
        gc.collect()
        assert alive() is not None, "frozen: the collector does not even look at it"
        freeze_loaded_model()
        assert alive() is None, "the next model's load lets the old one's cycles go"
    finally:
        gc.unfreeze()


def test_rasa_setting_the_domain_after_a_model_load_freezes_it_but_constructing_the_store_does_not(
    tmp_path, monkeypatch
):
    loads = []
    monkeypatch.setattr("bot.rasa.tracker_store.freeze_loaded_model", lambda: loads.append(1))
    store = DatabaseUrlTrackerStore(DOMAIN, url=f"sqlite:///{tmp_path / 'rasa.db'}")
    assert loads == []
    store.domain = DOMAIN  # what Agent.load_model does once the model is loaded
    assert loads == [1]
    store.domain = None
    assert loads == [1], "no model, nothing to freeze"
