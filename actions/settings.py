"""Configuration of the action server, read from environment variables with working local defaults."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from bot.domain.errors import ConfigurationError
from bot.domain.production_guard import DEV_ACTIONS_TOKEN

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHOP_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'shop.db'}"
DEFAULT_ACTIONS_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'actions.db'}"


@dataclasses.dataclass(frozen=True)
class Settings:
    order_system: str
    shop_database_url: str
    shop_api_url: str | None
    shop_api_key: str | None
    shop_api_timeout: float
    shop_public_url: str
    processing_cancellation_fee: Decimal
    refund_window_days: int
    refund_days: int
    channel_secret: str
    actions_token: str
    """What Rasa must send as `Authorization: Bearer ...` on every call but /health (`python -m actions`)."""
    actions_host: str
    actions_port: int
    actions_database_url: str
    """The action server's own records (email verification attempts), apart from the shop's database."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        order_system = env.get("ORDER_SYSTEM", "sql").strip().lower()
        if order_system not in {"sql", "http"}:
            raise ConfigurationError(f"ORDER_SYSTEM must be 'sql' or 'http', not {order_system!r}")
        api_url = env.get("SHOP_API_URL") or None
        if order_system == "http" and not api_url:
            raise ConfigurationError("ORDER_SYSTEM=http needs SHOP_API_URL (the shop API's base URL)")
        return cls(
            order_system=order_system,
            shop_database_url=env.get("SHOP_DATABASE_URL", DEFAULT_SHOP_DATABASE_URL),
            shop_api_url=api_url,
            shop_api_key=env.get("SHOP_API_KEY") or None,
            shop_api_timeout=_number(env, "SHOP_API_TIMEOUT", "5", float),
            shop_public_url=env.get("SHOP_PUBLIC_URL", "http://localhost:8080/shop").rstrip("/"),
            processing_cancellation_fee=_number(env, "CANCELLATION_FEE_PROCESSING", "4.95", Decimal),
            refund_window_days=_number(env, "REFUND_WINDOW_DAYS", "30", int),
            refund_days=_number(env, "REFUND_PAYOUT_DAYS", "5", int),
            channel_secret=env.get("CHANNEL_SECRET", "frontline-dev-channel-secret"),
            actions_token=_token(env, "ACTIONS_TOKEN", DEV_ACTIONS_TOKEN),
            actions_host=env.get("ACTIONS_HOST", "127.0.0.1").strip() or "127.0.0.1",
            actions_port=_port(env, "ACTIONS_PORT", "5055"),
            actions_database_url=env.get("ACTIONS_DATABASE_URL", DEFAULT_ACTIONS_DATABASE_URL),
        )


def _token(env: Mapping[str, str], name: str, default: str) -> str:
    """A bearer token, the development default when unset or blank; one with spaces could never match a header."""
    value = env.get(name, "").strip()
    if not value:
        return default
    if any(char.isspace() for char in value):
        raise ConfigurationError(f"{name} must be a token without spaces")
    return value


def _port(env: Mapping[str, str], name: str, default: str) -> int:
    port = _number(env, name, default, int)
    if not 0 < port < 65536:
        raise ConfigurationError(f"{name} must be a TCP port (1-65535), not {port}")
    return port


def _number(env: Mapping[str, str], name: str, default: str, kind: type):
    raw = env.get(name, default)
    try:
        value = kind(raw)
    except (ValueError, ArithmeticError) as exc:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from exc
    if value < 0:
        raise ConfigurationError(f"{name} must not be negative")
    return value
