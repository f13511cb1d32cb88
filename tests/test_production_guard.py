"""The rules by which the hub and the action server refuse production with development secrets or demo accounts."""

from __future__ import annotations

import pytest

from actions.settings import Settings
from bot.api.app import DEMO_AGENTS, DEMO_PASSWORD
from bot.core.settings import HubSettings
from bot.domain import production_guard as guard
from bot.domain.production_guard import InsecureProduction, check_action_server, check_hub

STRONG = {name: f"{name.lower()}-{'x' * 40}" for name in guard.HUB_SECRETS}
"""Long, not a development value: what `make secrets` writes, as far as the rules can tell."""


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "localhost", "LocalHost", "::1", "[::1]"])
def test_loopback_addresses_are_local(host):
    assert guard.is_loopback(host)
    assert guard.exposure(host, {}) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.0.5", "192.168.1.20", "hub.example.com"])
def test_any_other_address_faces_the_network(host):
    assert not guard.is_loopback(host)
    assert "not a loopback address" in (guard.exposure(host, {}) or "")


def test_frontline_env_production_counts_even_on_loopback():
    assert guard.exposure("127.0.0.1", {"FRONTLINE_ENV": " Production "}) == "FRONTLINE_ENV=production"
    assert guard.exposure("127.0.0.1", {"FRONTLINE_ENV": "staging"}) is None


def test_locally_the_development_defaults_are_fine():
    check_hub({}, "127.0.0.1", seed_demo_agent=True, open_demo_accounts=guard.DEMO_USERNAMES)
    check_action_server({}, "127.0.0.1")
    check_action_server({})


def test_in_production_every_problem_is_listed_with_what_to_do():
    env = {"RASA_TOKEN": guard.DEV_RASA_TOKEN, "ACTIONS_TOKEN": "short-token"}
    with pytest.raises(InsecureProduction) as refused:
        check_hub(env, "0.0.0.0", seed_demo_agent=True, open_demo_accounts=["demo.agent", "demo.trainer"])
    problems = {p.variable: p.found for p in refused.value.problems}
    assert problems == {
        "CHANNEL_SECRET": "not set, so the published development value 'frontline-dev-channel-secret' would be used",
        "RASA_TOKEN": "the published development value 'frontline-dev-token'",
        "ACTIONS_TOKEN": "only 11 characters long",
        "SEED_DEMO_AGENT": "on (the default), so every start creates demo.agent, demo.supervisor, demo.trainer with "
        "the published password",
        "accounts": "demo.agent, demo.trainer still accept the published demo password",
    }
    message = refused.value.message
    assert message.startswith("Refusing to start the hub: it listens on 0.0.0.0, which is not a loopback address")
    assert message.count("`make secrets`") == 4, "each secret says how, and the checklist"
    assert "set SEED_DEMO_AGENT=false" in message
    assert "`python -m bot agents add --username NAME" in message
    assert "`python -m bot agents deactivate demo.agent demo.trainer`" in message
    assert "FRONTLINE_ENV=production" in message
    assert refused.value.code == "insecure_production"


def test_strong_secrets_no_seeding_and_no_open_demo_account_may_run_in_production():
    check_hub(STRONG, "0.0.0.0", seed_demo_agent=False, open_demo_accounts=[])
    check_hub({**STRONG, "FRONTLINE_ENV": "production"}, "127.0.0.1", seed_demo_agent=False)


@pytest.mark.parametrize("length, refused", [(guard.MIN_SECRET_CHARS - 1, True), (guard.MIN_SECRET_CHARS, False)])
def test_a_secret_needs_at_least_32_characters(length, refused):
    problems = guard.secret_problems({"RASA_TOKEN": "k" * length}, ["RASA_TOKEN"])
    assert [p.variable for p in problems] == (["RASA_TOKEN"] if refused else [])


def test_a_blank_secret_counts_as_unset():
    assert guard.secret_problems({"CHANNEL_SECRET": "   "}, ["CHANNEL_SECRET"])[0].found.startswith("not set")


def test_the_action_server_refuses_the_development_channel_secret_and_actions_token_beyond_loopback():
    env = {"ACTIONS_HOST": "0.0.0.0", "CHANNEL_SECRET": guard.DEV_CHANNEL_SECRET, "RASA_TOKEN": "dev is fine here"}
    with pytest.raises(InsecureProduction) as refused:
        check_action_server(env)
    assert [p.variable for p in refused.value.problems] == ["CHANNEL_SECRET", "ACTIONS_TOKEN"]
    assert refused.value.message.startswith("Refusing to start the action server: it listens on 0.0.0.0")
    check_action_server({**env, **STRONG})
    with pytest.raises(InsecureProduction):
        check_action_server({"FRONTLINE_ENV": "production"}, host="127.0.0.1")


def test_the_development_values_checked_are_the_ones_the_servers_default_to():
    hub, actions = HubSettings.from_env({}), Settings.from_env({})
    assert (hub.channel_secret, hub.rasa_token, actions.channel_secret) == (
        guard.DEV_CHANNEL_SECRET,
        guard.DEV_RASA_TOKEN,
        guard.DEV_CHANNEL_SECRET,
    )
    assert hub.seed_demo_agent
    assert tuple(username for username, _, _ in DEMO_AGENTS) == guard.DEMO_USERNAMES
    assert DEMO_PASSWORD == guard.DEMO_PASSWORD
