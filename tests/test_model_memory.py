"""A loaded model is kept out of the cycle collector's way, and a replaced one is let go once the server serves
with the new one."""

from __future__ import annotations

import gc
import weakref

from bot.rasa.model_memory import ModelMemory
from bot.rasa.tracker_store import DatabaseUrlTrackerStore
from tests.test_tracker_store import DOMAIN


class Model:
    """Stands for a model's objects: in a reference cycle, as TensorFlow's and Rasa's are."""

    def __init__(self) -> None:
        self.itself = self


def test_a_loaded_model_is_frozen_and_a_replaced_one_is_let_go_on_the_first_turn_after_the_reload():
    memory = ModelMemory()
    try:
        serving = Model()
        old = weakref.ref(serving)
        memory.model_loaded()
        assert gc.get_freeze_count() > 0
        memory.serving()
        gc.collect()
        assert old() is not None, "frozen: the collector does not even look at it"
        memory.model_loaded()  # a reload: the new model loads while the old one still serves
        serving = Model()  # the server swaps them
        gc.collect()
        assert old() is not None, "frozen again along with the new model"
        memory.serving()
        assert old() is None, "the first turn after the reload lets the replaced model's cycles go"
        assert serving.itself is serving
    finally:
        gc.unfreeze()


def test_rasa_setting_the_domain_after_a_model_load_counts_as_a_load_but_constructing_the_store_does_not(
    tmp_path, monkeypatch
):
    memory = ModelMemory()
    monkeypatch.setattr("bot.rasa.tracker_store.MODEL_MEMORY", memory)
    monkeypatch.setattr("bot.rasa.model_memory._refreeze", lambda why: None)
    store = DatabaseUrlTrackerStore(DOMAIN, url=f"sqlite:///{tmp_path / 'rasa.db'}")
    assert memory.loads == 0
    store.domain = DOMAIN  # what Agent.load_model does once the model is loaded
    assert memory.loads == 1
    store.domain = None
    assert memory.loads == 1, "no model, nothing to freeze"
