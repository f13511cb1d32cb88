"""Running a coroutine from a test whose thread already has an event loop (Playwright's sync API owns one)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_on_own_loop(work: Coroutine[Any, Any, T]) -> T:
    """Runs `work` to its end on a fresh event loop in a thread of its own, and returns what it returned."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()
