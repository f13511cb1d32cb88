"""The hub's start-up check against development defaults in production (the rules: bot/domain/production_guard.py).

Only when the hub counts as production does it look in the database: with the real account store, whether a
demo account still accepts the published demo password (an argon2 check each, a fraction of a second).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.settings import HubSettings
from bot.domain.production_guard import DEMO_PASSWORD, DEMO_USERNAMES, check_hub, exposure
from bot.store.agents import AgentStore
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine


async def open_demo_accounts(agents: AgentStore) -> list[str]:
    """The demo accounts that are active and still accept the demo password."""
    return [name for name in DEMO_USERNAMES if await agents.authenticate(name, DEMO_PASSWORD) is not None]


async def check_hub_start(settings: HubSettings, env: Mapping[str, str]) -> None:
    """Raise `InsecureProduction` when the hub would run in production with a development default in place."""
    if exposure(settings.host, env) is None:
        return
    engine = create_engine(settings.database_url)
    try:
        ConversationStore(engine).create_schema()
        demo = await open_demo_accounts(AgentStore(engine))
    finally:
        engine.dispose()
    check_hub(env, settings.host, settings.seed_demo_agent, demo)
