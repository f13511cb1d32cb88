"""The rules by which a server refuses to run in production with development secrets or demo accounts.

The development values are published (README, this repository), so a hub or action server reachable from other
machines with any of them in place lets anyone sign in as a demo account, vouch for a shop customer or replace
the bot's model. Locally (loopback only) they keep the project zero-config. The rules are pure: the caller reads
the environment and, for the hub, asks the account store which demo accounts still accept the demo password.
The development values are defined here, once; the settings modules use them as their defaults.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping, Sequence

from bot.domain.errors import ConfigurationError

DEV_CHANNEL_SECRET = "frontline-dev-channel-secret"
DEV_RASA_TOKEN = "frontline-dev-token"
DEV_ACTIONS_TOKEN = "frontline-dev-actions-token"
DEV_SECRETS = {"CHANNEL_SECRET": DEV_CHANNEL_SECRET, "RASA_TOKEN": DEV_RASA_TOKEN, "ACTIONS_TOKEN": DEV_ACTIONS_TOKEN}
"""Each secret's development default, by the variable that replaces it."""
DEMO_USERNAMES = ("demo.agent", "demo.supervisor", "demo.trainer")
DEMO_PASSWORD = "frontline-demo"
MIN_SECRET_CHARS = 32
HUB_SECRETS = ("CHANNEL_SECRET", "RASA_TOKEN", "ACTIONS_TOKEN")
ACTION_SERVER_SECRETS = ("CHANNEL_SECRET", "ACTIONS_TOKEN")
MAKE_SECRETS = "`make secrets` writes strong random ones to .env, which `make run` loads; else `set -a; . ./.env`"


@dataclasses.dataclass(frozen=True)
class Problem:
    """One development default in place: what it is (`variable`, or `accounts`), why it matters, what to do."""

    variable: str
    found: str
    fix: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.found}. Fix: {self.fix}."


class InsecureProduction(ConfigurationError):
    """A server reachable from other machines would run with a development secret or a demo account."""

    code = "insecure_production"

    def __init__(self, server: str, why: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [f"Refusing to start the {server}: {why}, and it still has development defaults in place:"]
        lines += [f"  - {problem}" for problem in self.problems]
        lines.append(
            "Production checklist (README, 'Running in production'): `make secrets`, SEED_DEMO_AGENT=false, real "
            "accounts instead of the demo ones, FRONTLINE_ENV=production. For local development keep the server "
            "on a loopback address (127.0.0.1) and leave FRONTLINE_ENV unset."
        )
        super().__init__("\n".join(lines))


def is_loopback(host: str) -> bool:
    """Whether a server bound to `host` is reachable from this machine only (an empty host binds them all)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure(host: str, env: Mapping[str, str]) -> str | None:
    """Why a server on `host` counts as production (then the development defaults are refused), or None."""
    if env.get("FRONTLINE_ENV", "").strip().lower() == "production":
        return "FRONTLINE_ENV=production"
    if not is_loopback(host):
        return f"it listens on {host or 'every interface'}, which is not a loopback address"
    return None


def secret_problems(env: Mapping[str, str], names: Sequence[str]) -> list[Problem]:
    """The secrets among `names` that are unset, the published development value, or too short to resist guessing."""
    problems = []
    for name in names:
        value = env.get(name, "")
        fix = f"set {name} to a random value of at least {MIN_SECRET_CHARS} characters ({MAKE_SECRETS})"
        if not value.strip():
            found = f"not set, so the published development value {DEV_SECRETS[name]!r} would be used"
        elif value == DEV_SECRETS[name]:
            found = f"the published development value {DEV_SECRETS[name]!r}"
        elif len(value) < MIN_SECRET_CHARS:
            found = f"only {len(value)} characters long"
        else:
            continue
        problems.append(Problem(name, found, fix))
    return problems


def hub_problems(env: Mapping[str, str], seed_demo_agent: bool, open_demo_accounts: Sequence[str]) -> list[Problem]:
    """Everything the hub must not run with in production; `open_demo_accounts` are the demo accounts that still
    accept the demo password."""
    problems = secret_problems(env, HUB_SECRETS)
    if seed_demo_agent:
        problems.append(
            Problem(
                "SEED_DEMO_AGENT",
                f"on (the default), so every start creates {', '.join(DEMO_USERNAMES)} with the published password",
                "set SEED_DEMO_AGENT=false",
            )
        )
    if open_demo_accounts:
        names = " ".join(open_demo_accounts)
        problems.append(
            Problem(
                "accounts",
                f"{', '.join(open_demo_accounts)} still accept the published demo password",
                "create real accounts with `python -m bot agents add --username NAME --name 'Shown name' "
                f"--role supervisor` (or agent, trainer), then switch the demo ones off with "
                f"`python -m bot agents deactivate {names}`",
            )
        )
    return problems


def check_hub(env: Mapping[str, str], host: str, seed_demo_agent: bool, open_demo_accounts: Sequence[str] = ()) -> None:
    """Raise `InsecureProduction`, listing every problem, when a hub on `host` counts as production and has any."""
    why = exposure(host, env)
    problems = hub_problems(env, seed_demo_agent, open_demo_accounts) if why else []
    if why and problems:
        raise InsecureProduction("hub", why, problems)


def check_action_server(env: Mapping[str, str] | None = None, host: str | None = None) -> None:
    """For the action server's entry point: raise `InsecureProduction` when it listens beyond loopback
    (`host`, else ACTIONS_HOST, else 127.0.0.1) or FRONTLINE_ENV=production, with a development CHANNEL_SECRET
    or ACTIONS_TOKEN. The caller prints the message and exits with status 2."""
    env = os.environ if env is None else env
    host = env.get("ACTIONS_HOST", "127.0.0.1") if host is None else host
    why = exposure(host, env)
    problems = secret_problems(env, ACTION_SERVER_SECRETS) if why else []
    if why and problems:
        raise InsecureProduction("action server", why, problems)
