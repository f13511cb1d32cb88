"""The action server builds the order system the environment asks for."""

from __future__ import annotations

import pytest

from actions.orders import order_system_provider as provider
from actions.orders.http_order_system import HttpOrderSystem
from actions.orders.sql_order_system import SqlOrderSystem
from bot.domain.errors import ConfigurationError


@pytest.fixture(autouse=True)
def fresh_provider():
    provider.settings.cache_clear()
    provider.order_system.cache_clear()
    yield
    provider.settings.cache_clear()
    provider.order_system.cache_clear()


def test_the_sql_shop_is_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv("ORDER_SYSTEM", raising=False)
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 's.db'}")
    assert isinstance(provider.order_system(), SqlOrderSystem)
    assert provider.order_system() is provider.order_system()


def test_a_shop_api_can_be_configured(monkeypatch):
    monkeypatch.setenv("ORDER_SYSTEM", "http")
    monkeypatch.setenv("SHOP_API_URL", "http://127.0.0.1:9/api")
    assert isinstance(provider.order_system(), HttpOrderSystem)


def test_a_misconfiguration_fails_loudly(monkeypatch):
    monkeypatch.setenv("ORDER_SYSTEM", "http")
    monkeypatch.delenv("SHOP_API_URL", raising=False)
    with pytest.raises(ConfigurationError):
        provider.order_system()
