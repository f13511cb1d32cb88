"""`python -m bot` runs the hub; `python -m bot agents add|list` manages console accounts."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys

from actions.database import create_engine
from bot.agents import AgentError, AgentStore
from bot.conversations import ConversationStore
from bot.schema import ROLES
from bot.settings import HubSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Frontline's conversation hub.")
    commands = parser.add_subparsers(dest="command")
    agents = commands.add_parser("agents", help="console accounts").add_subparsers(dest="action", required=True)
    add = agents.add_parser("add", help="create an account (the password is asked for, or read from stdin)")
    add.add_argument("--username", required=True)
    add.add_argument("--name", required=True, help="the name customers see")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.add_argument("--capacity", type=int, default=None, help="conversations at once (default AGENT_CAPACITY)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    agents.add_parser("list", help="list the accounts")
    args = parser.parse_args(argv)
    settings = HubSettings.from_env()
    if args.command == "agents":
        return asyncio.run(_agents(args, settings))
    return _serve(settings)


def _serve(settings: HubSettings) -> int:
    from bot.app import create_app

    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    create_app(settings).run(host=settings.host, port=settings.port, access_log=False, motd=False, workers=1)
    return 0


async def _agents(args: argparse.Namespace, settings: HubSettings) -> int:
    engine = create_engine(settings.database_url)
    ConversationStore(engine).create_schema()
    store = AgentStore(engine)
    if args.action == "list":
        for agent in await store.all():
            print(f"{agent.id}\t{agent.username}\t{agent.role}\t{agent.display_name}")
        return 0
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    try:
        agent = await store.add(
            args.username, args.name, password, args.role, args.capacity or settings.default_capacity
        )
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created {agent.role} {agent.username} ({agent.display_name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
