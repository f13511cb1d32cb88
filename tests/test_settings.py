"""Configuration from the environment: working defaults, clear errors."""

from __future__ import annotations

import pytest

from actions.settings import DEV_ACTIONS_TOKEN, Settings
from bot.domain.errors import ConfigurationError


def test_defaults_run_the_embedded_shop():
    settings = Settings.from_env({})
    assert settings.order_system == "sql"
    assert settings.shop_database_url.startswith("sqlite:///") and settings.shop_database_url.endswith("var/shop.db")


def test_the_http_order_system_needs_a_url():
    with pytest.raises(ConfigurationError, match="SHOP_API_URL"):
        Settings.from_env({"ORDER_SYSTEM": "http"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ORDER_SYSTEM", "ftp"),
        ("SHOP_API_TIMEOUT", "soon"),
        ("REFUND_WINDOW_DAYS", "-1"),
        ("ACTIONS_PORT", "70000"),
        ("ACTIONS_TOKEN", "two words"),
    ],
)
def test_bad_values_are_named_in_the_error(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})


def test_the_action_server_defaults_to_loopback_and_the_published_development_token():
    settings = Settings.from_env({})
    assert (settings.actions_host, settings.actions_port) == ("127.0.0.1", 5055)
    assert settings.actions_token == DEV_ACTIONS_TOKEN == "frontline-dev-actions-token"
    assert settings.actions_database_url.endswith("var/actions.db")
    assert Settings.from_env({"ACTIONS_TOKEN": "  "}).actions_token == DEV_ACTIONS_TOKEN, "blank is unset"
