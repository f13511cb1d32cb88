"""Keeps Python's cycle collector off the loaded model, which the Rasa server holds for its whole life.

Measured under the 10 x 50 load of `make bench`: each Rasa server ran a full (generation 2) collection every few
seconds, 450-670 ms each, the whole server stalled meanwhile; nearly all of what it walked through was the model
(TensorFlow's and Rasa's Python objects), which never becomes garbage while it serves. `gc.freeze()` moves every
object alive at that moment into a permanent generation the collector skips. The objects of a replaced model are
unfrozen first, so that whatever of them is in reference cycles can still be collected.
"""

from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)


def freeze_loaded_model() -> None:
    """Call once a model is loaded: collect what the previous one left (one pause, at load time), then freeze."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    logger.info(
        "model loaded: %d objects frozen out of the cycle collector's way (%.0f ms)",
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )
