"""`python -m bot` facing the network (HUB_HOST=0.0.0.0) or with FRONTLINE_ENV=production refuses to start, exit
status 2 and no traceback, while any development secret or demo account is in place; properly set, it serves.

Real processes on their own SQLite databases; no Rasa or action server is needed (the hub starts without them)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.domain.production_guard import DEMO_PASSWORD, DEV_CHANNEL_SECRET, DEV_RASA_TOKEN
from bot.store.agents import AgentStore
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine
from tests.rasa_stack import PROJECT_ROOT

NOWHERE = "http://127.0.0.1:9"
SETTINGS = ("HUB_HOST", "HUB_PORT", "DATABASE_URL", "FRONTLINE_ENV", "SEED_DEMO_AGENT", "TELEGRAM_TOKEN")
SECRETS = {
    "CHANNEL_SECRET": "a-channel-secret-long-enough-for-production",
    "RASA_TOKEN": "a-rasa-token-that-is-long-enough-for-production",
    "ACTIONS_TOKEN": "an-actions-token-long-enough-for-production",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def production_env(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    """A hub on every interface, set up properly, with `changes` (None: the variable is unset)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and k not in SECRETS}
    env |= {
        "HUB_HOST": "0.0.0.0",
        "HUB_PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "RASA_URL": NOWHERE,
        "ACTIONS_URL": NOWHERE,
        "SEED_DEMO_AGENT": "false",
        **SECRETS,
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def refused(env: dict[str, str]) -> str:
    """What the hub says when it refuses to start (it must, with exit status 2 and no traceback)."""
    result = bot(env)
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Refusing to start the hub:"), result.stderr
    return result.stderr


def demo_account(tmp_path: Path, username: str) -> None:
    """A demo account with the demo password, as `SEED_DEMO_AGENT` leaves it, in the hub's database."""
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    ConversationStore(engine).create_schema()
    asyncio.run(AgentStore(engine).add(username, "Demo", DEMO_PASSWORD, "trainer"))
    engine.dispose()


@pytest.mark.parametrize(
    "variable, value, says",
    [
        ("CHANNEL_SECRET", None, "CHANNEL_SECRET: not set, so the published development value"),
        ("CHANNEL_SECRET", DEV_CHANNEL_SECRET, "CHANNEL_SECRET: the published development value"),
        ("RASA_TOKEN", None, "RASA_TOKEN: not set"),
        ("RASA_TOKEN", DEV_RASA_TOKEN, "RASA_TOKEN: the published development value 'frontline-dev-token'"),
        ("ACTIONS_TOKEN", None, "ACTIONS_TOKEN: not set"),
        ("ACTIONS_TOKEN", "only-twenty-chars-xx", "ACTIONS_TOKEN: only 20 characters long"),
        ("SEED_DEMO_AGENT", None, "SEED_DEMO_AGENT: on (the default)"),
        ("SEED_DEMO_AGENT", "true", "Fix: set SEED_DEMO_AGENT=false."),
    ],
)
def test_a_hub_facing_the_network_refuses_each_development_default_by_name(tmp_path, variable, value, says):
    message = refused(production_env(tmp_path, **{variable: value}))
    assert says in message
    assert "it listens on 0.0.0.0, which is not a loopback address" in message
    assert message.count("\n  - ") == 1, "only the one problem is listed"
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    assert asyncio.run(AgentStore(engine).all()) == [], "refused before seeding anything"
    engine.dispose()


def test_a_demo_account_refuses_production_until_it_is_deactivated_from_the_command_line(tmp_path):
    demo_account(tmp_path, "demo.trainer")
    env = production_env(tmp_path)
    message = refused(env)
    assert "accounts: demo.trainer still accept the published demo password" in message
    assert "`python -m bot agents deactivate demo.trainer`" in message

    switched_off = bot(env, "agents", "deactivate", "demo.trainer", "nobody")
    assert switched_off.returncode == 1, "one of the two names had no account"
    assert switched_off.stdout.splitlines() == ["demo.trainer: deactivated", "nobody: no active account of that name"]
    with serving(env) as health:
        assert set(health) == {"ok", "checks"}


def test_frontline_env_production_with_every_default_lists_every_problem(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and k not in SECRETS}
    env |= {"FRONTLINE_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    message = refused(env)
    assert message.startswith("Refusing to start the hub: FRONTLINE_ENV=production, and it still has development")
    listed = [line.split(":")[0].strip(" -") for line in message.splitlines() if line.startswith("  - ")]
    assert listed == ["CHANNEL_SECRET", "RASA_TOKEN", "ACTIONS_TOKEN", "SEED_DEMO_AGENT"]
    assert "`make secrets`" in message


class serving:
    """The hub started with `env` until the block ends, then stopped as a process manager stops it (SIGTERM);
    the block gets its /healthz answer."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.log = Path(env["DATABASE_URL"].removeprefix("sqlite:///")).with_suffix(".log")

    def __enter__(self) -> dict[str, object]:
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot"], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        url = f"http://127.0.0.1:{self.env['HUB_PORT']}/healthz"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the hub exited with {self.process.returncode}:\n{self.output()}"
            try:
                response = httpx.get(url, timeout=5)
            except httpx.TransportError:
                time.sleep(0.3)
                continue
            assert response.status_code == 503, "Rasa and the actions are not running"
            return dict(response.json())
        raise AssertionError(f"the hub did not answer {url} in 60 s")

    def __exit__(self, *_exc: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        assert "Traceback" not in self.output(), self.output()

    def output(self) -> str:
        return self.log.read_text()


def test_a_hub_facing_the_network_with_everything_set_properly_starts_and_stops(tmp_path):
    with serving(production_env(tmp_path)) as health:
        assert health["checks"] == {"database": True, "rasa": False, "actions": False}


def test_a_hub_on_loopback_keeps_the_development_defaults_zero_config(tmp_path):
    env = production_env(tmp_path, HUB_HOST="127.0.0.1", SEED_DEMO_AGENT=None, **dict.fromkeys(SECRETS))
    with serving(env) as health:
        assert health["checks"]["database"] is True
