"""`python -m bot` runs the hub; `agents add|list` manages console accounts; `review export` writes the
trainers' labelled messages to data/; `reload` loads a newly trained model into the running Rasa server;
`report` prints the service figures the supervisors' page shows (as text, CSV or JSON); `secrets` writes random
secrets into .env (`make secrets`)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import json
import logging
import os
import sys
import time
from pathlib import Path

import httpx

from bot.core.model_reload import ModelOutsideModels, confined_model
from bot.core.production_guard import check_hub_start
from bot.core.rasa_client import RasaUnavailable
from bot.core.rasa_servers import connect_rasa
from bot.core.report_tables import TABLES, Period, ReportError, format_table
from bot.core.review_inbox import ReviewInbox
from bot.core.secrets_file import write_secrets
from bot.core.service_report import ServiceReport
from bot.core.settings import HubSettings
from bot.domain.errors import ConfigurationError
from bot.domain.production_guard import InsecureProduction
from bot.domain.vocabulary import Role
from bot.store.agents import AgentError, AgentStore
from bot.store.conversations import ConversationStore
from bot.store.database import create_engine
from bot.training.nlu_export import export_labelled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Frontline's conversation hub.")
    commands = parser.add_subparsers(dest="command")
    agents = commands.add_parser("agents", help="console accounts").add_subparsers(dest="action", required=True)
    add = agents.add_parser("add", help="create an account (the password is asked for, or read from stdin)")
    add.add_argument("--username", required=True)
    add.add_argument("--name", required=True, help="the name customers see")
    add.add_argument("--role", choices=Role.words(), default="agent")
    add.add_argument("--capacity", type=int, default=None, help="conversations at once (default AGENT_CAPACITY)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    agents.add_parser("list", help="list the accounts")
    deactivate = agents.add_parser("deactivate", help="switch accounts off (e.g. the demo ones): no more sign-ins")
    deactivate.add_argument("usernames", nargs="+", metavar="USERNAME")
    review = commands.add_parser("review", help="the trainers' review inbox").add_subparsers(
        dest="action", required=True
    )
    export = review.add_parser(
        "export", help="write labelled messages to data/nlu/reviewed.yml, escalation verdicts to data/escalation/"
    )
    export.add_argument("--by", default=getpass.getuser(), help="who exports (written in the file's comment)")
    reload = commands.add_parser("reload", help="load a trained model into the running Rasa server, via the hub")
    reload.add_argument("--model", default="models/frontline.tar.gz", help="a .tar.gz file in models/")
    secrets_file = commands.add_parser("secrets", help="write random CHANNEL_SECRET, RASA_TOKEN, ACTIONS_TOKEN to .env")
    secrets_file.add_argument("--env-file", type=Path, default=Path(".env"), help="default: .env")
    report = commands.add_parser("report", help="service figures: satisfaction, containment, handoffs, times")
    report.add_argument("--since", help="first day, YYYY-MM-DD (default: 30 days before --until)")
    report.add_argument("--until", help="last day, YYYY-MM-DD (default: today, UTC)")
    report.add_argument("--format", choices=("text", "csv", "json"), default="text")
    report.add_argument("--table", choices=tuple(TABLES), action="append", help="only this table (repeatable)")
    report.add_argument("--search", default="", help="with --table comments: only comments with these words")
    args = parser.parse_args(argv)
    if args.command == "secrets":
        return _secrets(args.env_file)
    try:
        settings = HubSettings.from_env()
    except ConfigurationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.command == "report":
        return asyncio.run(_report(args, settings))
    if args.command == "agents":
        return asyncio.run(_agents(args, settings))
    if args.command == "review":
        return asyncio.run(_export(args, settings))
    if args.command == "reload":
        return asyncio.run(_reload(args, settings))
    return _serve(settings)


def _serve(settings: HubSettings) -> int:
    """The hub, unless it would face the network with development secrets or demo accounts (exit status 2)."""
    from bot.api.app import create_app

    try:
        asyncio.run(check_hub_start(settings, os.environ))
    except InsecureProduction as exc:
        print(exc.message, file=sys.stderr)
        return 2
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
    if args.action == "deactivate":
        missing = [name for name in args.usernames if not await store.deactivate(name)]
        for name in args.usernames:
            print(f"{name}: no active account of that name" if name in missing else f"{name}: deactivated")
        return 1 if missing else 0
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


async def _export(args: argparse.Namespace, settings: HubSettings) -> int:
    engine = create_engine(settings.database_url)
    ConversationStore(engine).create_schema()
    inbox = ReviewInbox(engine, settings.review_confidence)
    await inbox.refresh()
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    result = export_labelled(settings.project_dir, await inbox.labelled(), args.by, now)
    print(
        f"{result.examples} examples in {result.path}: " + ", ".join(f"{k} {v}" for k, v in result.per_intent.items())
    )
    if result.new_intents:
        print(f"intents not in domain.yml yet, in {result.new_intents_path}: " + ", ".join(result.new_intents))
    if result.escalation_path:
        verdicts = ", ".join(f"{k} {v}" for k, v in result.per_escalation_label.items())
        print(f"escalation verdicts in {result.escalation_path}: {verdicts}")
    if result.duplicates_left_out:
        print(f"{result.duplicates_left_out} already in data/ or repeated, left out")
    return 0


async def _report(args: argparse.Namespace, settings: HubSettings) -> int:
    try:
        period = Period.parse(args.since, args.until)
    except ReportError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    names = args.table or [name for name in TABLES if name != "comments"]
    if args.format == "csv" and len(names) != 1:
        print("error: --format csv writes one table: add --table NAME", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url)
    ConversationStore(engine).create_schema()
    report = ServiceReport(engine)
    figures = [name for name in dict.fromkeys(names) if name != "comments"]
    found = {table.name: table for table in await report.tables(period, figures)} if figures else {}
    if "comments" in names:
        found["comments"] = await report.comments(period, args.search, limit=None)
    tables = [found[name] for name in dict.fromkeys(names)]
    if args.format == "csv":
        sys.stdout.write(tables[0].to_csv())
    elif args.format == "json":
        print(json.dumps({"period": period.to_json(), "tables": [table.to_json() for table in tables]}, indent=2))
    else:
        print(f"Frontline service report {period.since} to {period.until} (UTC days)")
        for table in tables:
            print()
            print(format_table(table))
    return 0


async def _reload(args: argparse.Namespace, settings: HubSettings) -> int:
    """Through the hub, which pauses the bot while Rasa loads; straight to Rasa when no hub runs."""
    try:
        model = str(confined_model(args.model, Path.cwd(), settings.project_dir / "models"))
    except ModelOutsideModels as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    hub = f"http://{settings.host}:{settings.port}/api/model/reload"
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30.0, headers={"Authorization": f"Bearer {settings.rasa_token}"}) as client:
        try:
            response = await client.post(hub, json={"model_file": model})
        except httpx.ConnectError:
            print("no hub running: loading the model straight into Rasa (no conversations to protect)")
            rasa = connect_rasa(settings, timeout=600.0)
            try:
                name = await rasa.replace_model(model)
            except RasaUnavailable as exc:
                print(f"error: the reload failed: {exc.message}", file=sys.stderr)
                return 1
            except httpx.HTTPError as exc:  # its message may hold the URL, and so the token
                print(f"error: Rasa did not confirm the model ({exc.__class__.__name__})", file=sys.stderr)
                return 1
            finally:
                await rasa.close()
            print(f"Rasa now runs {name} (loaded in {time.monotonic() - started:.1f} s)")
            return 0
        if response.status_code != 202:
            print(f"error: {response.status_code} {response.text}", file=sys.stderr)
            return 1
        status = response.json()["reload"]
        while status["state"] == "loading":
            await asyncio.sleep(1.0)
            status = (await client.get(hub)).json()["reload"]
    if status["state"] != "done":
        print(f"error: the reload failed: {status['error']}", file=sys.stderr)
        return 1
    print(
        f"Rasa now runs {status['model']} ({time.monotonic() - started:.1f} s); the bot paused "
        f"{status['paused_seconds']} s and no message was lost"
    )
    return 0


def _secrets(path: Path) -> int:
    """Names only: the values stay in the file."""
    written = write_secrets(path)
    if written.added:
        print(f"wrote {', '.join(written.added)} to {path} (mode 600)")
    if written.kept:
        print(f"kept {', '.join(written.kept)} already in {path}")
    for name in written.weak:
        print(f"warning: {name} in {path} is a development value or too short: delete its line and run again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
