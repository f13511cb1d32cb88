"""Keeps Python's cycle collector off the loaded model, which the Rasa server holds for its whole life.

Measured under the 10 x 50 load of `make bench`: each Rasa server ran a full (generation 2) collection every few
seconds, 450-670 ms each, the whole server stalled meanwhile; nearly all of what it walked through was the model
(TensorFlow's and Rasa's Python objects), which never becomes garbage while it serves. `gc.freeze()` moves every
object alive at that moment into a permanent generation the collector skips.

On a reload (`PUT /model`) Rasa loads the new model while the old one still serves, so the old one is frozen too;
once the server has swapped them, the first turn after lets it go (unfreeze, collect what is garbage, freeze again).
"""

from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)


class ModelMemory:
    """The freezes of one Rasa server process."""

    def __init__(self) -> None:
        self.loads = 0
        self._replaced_model_pending = False

    def model_loaded(self) -> None:
        """Call once a model is loaded (one pause, at load time)."""
        _refreeze("model loaded")
        self.loads += 1
        self._replaced_model_pending = self.loads > 1

    def serving(self) -> None:
        """Call on every turn: cheap, except for the first turn after a reload, which lets the replaced model go."""
        if self._replaced_model_pending:
            self._replaced_model_pending = False
            _refreeze("replaced model let go")


MODEL_MEMORY = ModelMemory()


def _refreeze(why: str) -> None:
    started = time.perf_counter()
    gc.unfreeze()
    collected = gc.collect()
    gc.freeze()
    logger.info(
        "%s: %d objects collected, %d frozen out of the cycle collector's way (%.0f ms)",
        why,
        collected,
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )
