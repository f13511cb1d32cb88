"""The previous training's weights, for the next fit to start from: a trainer's small edit retrains in seconds.

Kept beside Rasa's training cache (`.rasa/`, or the folder `RASA_CACHE_DIRECTORY` names), so `make clean`,
and a fresh clone, train from scratch: two trainings from scratch give the same weights. A warm start stops
at the same tolerance near the same optimum, so its figures can differ from a cold start's in the third
decimal (README, "How well it understands").
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from rasa.engine.caching import LocalTrainingCache

logger = logging.getLogger(__name__)

T = TypeVar("T")


def location() -> Path:
    """Where the weights are kept: beside Rasa's cache, relative to the project when Rasa's is."""
    cache: Path = LocalTrainingCache._get_cache_location()
    return cache.parent / "frontline-warm"


def _folder(name: str) -> Path:
    return location() / name


def previous(name: str, load: Callable[[Path], T]) -> T | None:
    """The weights `name` saved last time, read by `load`; None when there are none or they do not read."""
    folder = _folder(name)
    if not folder.is_dir():
        return None
    try:
        return load(folder)
    except (OSError, ValueError, KeyError) as error:
        logger.info("no warm start for %s (%s): fitting from scratch", name, error.__class__.__name__)
        return None


@contextmanager
def remembered(name: str) -> Iterator[Path]:
    """A folder to save this training's weights in; it replaces the previous one only once complete."""
    target = _folder(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        yield staging
        old = target.with_name(f".{name}-old-{os.getpid()}")
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
