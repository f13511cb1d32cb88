"""The order system this process talks to, built once from the environment (ORDER_SYSTEM=sql|http)."""

from __future__ import annotations

import functools

from actions.orders.order_system import OrderSystem
from actions.settings import Settings


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


@functools.lru_cache(maxsize=1)
def order_system() -> OrderSystem:
    """The configured implementation; the SQL demo shop unless ORDER_SYSTEM=http."""
    config = settings()
    if config.order_system == "http":
        from actions.orders.http_order_system import HttpOrderSystem

        return HttpOrderSystem.from_settings(config)
    from actions.orders.sql_order_system import SqlOrderSystem

    return SqlOrderSystem.from_settings(config)
