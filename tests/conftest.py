"""Shared pytest fixtures, and the two tiers: `make test-fast` runs what needs no trained model and no servers.

A test that uses a live Rasa stack or the browser is marked `stack` here, from its fixtures; a test module that
loads the trained model or trains one itself marks itself `model`.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from actions.orders import order_system_provider as provider
from actions.orders.sql_order_system import SqlOrderSystem
from actions.orders.verification_attempts import verification_attempts
from bot.store.database import create_engine
from tests.rasa_stack import RasaStack
from tests.shop_api_server import ShopApiServer

pytest_plugins = ["tests.review_databases"]  # the review inbox's hub and Rasa databases
STACK_FIXTURES = frozenset({"assistant", "hub", "browser"})
"""Fixtures that start the real Rasa server, action server and hub, or Chromium."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stack: starts the real Rasa server, action server, hub or browser")
    config.addinivalue_line("markers", "model: needs the trained model (or trains one)")
    config.addinivalue_line("markers", "trains(minutes): trains a model; its module runs first, the longest first")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.stack)
    # With `make test`'s two workers, a module that trains for minutes must start first, not be the tail.
    minutes: dict[Path, float] = {}
    for item in items:
        if (marker := item.get_closest_marker("trains")) is not None:
            minutes[item.path] = max(minutes.get(item.path, 0.0), float(marker.args[0]))
    items.sort(key=lambda item: -minutes.get(item.path, 0.0))


@pytest.fixture(scope="session")
def demo_shop_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shop seeded once per session; tests get copies, so none sees another's changes."""
    return ShopApiServer.seed_template(tmp_path_factory.mktemp("demo-shop") / "template.db")


@pytest.fixture
def shop_api(tmp_path: Path, demo_shop_template: Path) -> Iterator[ShopApiServer]:
    """A running reference shop API over a fresh copy of the demo shop, private to one test."""
    server = ShopApiServer(tmp_path / "shop.db", template=demo_shop_template).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shop(tmp_path: Path, demo_shop_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlOrderSystem]:
    """A private copy of the seeded demo shop that the actions use (ORDER_SYSTEM=sql) and the test can read."""
    database = tmp_path / "shop.db"
    shutil.copyfile(demo_shop_template, database)
    monkeypatch.setenv("ORDER_SYSTEM", "sql")
    monkeypatch.setenv("SHOP_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("ACTIONS_DATABASE_URL", f"sqlite:///{tmp_path / 'actions.db'}")
    provider.settings.cache_clear()
    provider.order_system.cache_clear()
    verification_attempts.cache_clear()
    system = SqlOrderSystem(create_engine(f"sqlite:///{database}"))
    try:
        yield system
    finally:
        asyncio.run(system.close())
        if provider.order_system.cache_info().currsize:
            asyncio.run(provider.order_system().close())
        if verification_attempts.cache_info().currsize:
            asyncio.run(verification_attempts().close())
        provider.settings.cache_clear()
        provider.order_system.cache_clear()
        verification_attempts.cache_clear()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory, demo_shop_template: Path) -> Iterator[RasaStack]:
    """The trained bot served for real: Rasa server and action server on loopback, over a private shop copy."""
    stack = RasaStack(tmp_path_factory.mktemp("rasa-stack"), demo_shop_template)
    try:
        stack.start()
    except RuntimeError:
        stack.stop()
        raise
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def assistant_shop(assistant: RasaStack) -> Iterator[SqlOrderSystem]:
    """The shop database the running action server uses, for checking what a conversation changed."""
    system = SqlOrderSystem(create_engine(f"sqlite:///{assistant.shop_db}"))
    try:
        yield system
    finally:
        asyncio.run(system.close())


@pytest.fixture(scope="module")
def hub(assistant: RasaStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    """The conversation hub in front of the real Rasa stack, with a database of its own for this module."""
    database = tmp_path_factory.mktemp("hub") / "hub.db"
    assistant.start_hub(env={"DATABASE_URL": f"sqlite:///{database}"})
    assistant.hub_database = database
    try:
        yield assistant
    finally:
        assistant.stop_hub()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium (installed by `make test`), driven by Playwright; one per test module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()
