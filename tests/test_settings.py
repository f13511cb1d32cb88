"""Configuration from the environment: working defaults, clear errors."""

from __future__ import annotations

import pytest

from actions.settings import Settings
from bot.domain.errors import ConfigurationError


def test_defaults_run_the_embedded_shop():
    settings = Settings.from_env({})
    assert settings.order_system == "sql"
    assert settings.shop_database_url.startswith("sqlite:///") and settings.shop_database_url.endswith("var/shop.db")


def test_the_http_order_system_needs_a_url():
    with pytest.raises(ConfigurationError, match="SHOP_API_URL"):
        Settings.from_env({"ORDER_SYSTEM": "http"})


@pytest.mark.parametrize(
    ("name", "value"), [("ORDER_SYSTEM", "ftp"), ("SHOP_API_TIMEOUT", "soon"), ("REFUND_WINDOW_DAYS", "-1")]
)
def test_bad_values_are_named_in_the_error(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})
