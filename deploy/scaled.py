"""The scaled mode on one machine: `make run-scaled HUBS=2 RASA=2` (`python -m deploy.scaled --hubs 2 --rasa 2`).

It writes into var/scaled/ a Procfile, an nginx configuration and a Rasa endpoints file, prepares PostgreSQL
(the database, created if missing; the demo shop, seeded if empty) and checks Redis, then runs honcho on the
Procfile as `make run` does. Pieces: N hubs (each its own port, sharing state through PostgreSQL and Redis), M Rasa
servers (one SQL tracker store, one Redis lock store), the action server, and nginx in front of the hubs on
HUB_PORT. `build` returns the processes' command lines and environment, so tests start the same pieces one by
one and kill them. deploy/README.md maps the pieces onto separate machines.

Secrets never go into the files written: the Procfile names $RASA_TOKEN, the endpoints file ${ACTIONS_TOKEN} and
${FRONTLINE_REDIS_PASSWORD}; they reach the processes through the environment (and .env, as with `make run`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import redis
import sqlalchemy
from sqlalchemy.engine import URL, make_url

from bot.store.canned_replies import CannedReplies
from bot.store.database import create_engine
from bot.store.schema import create_schema
from deploy.nginx import nginx_binary, nginx_command, nginx_config, prepare_directories

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/frontline"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEV_TOKENS = {"RASA_TOKEN": "frontline-dev-token", "ACTIONS_TOKEN": "frontline-dev-actions-token"}
"""What `make run` (the Makefile) uses when neither .env nor the environment sets them."""


class ScaledError(Exception):
    """The scaled mode cannot start as configured; the message says what to change."""


@dataclasses.dataclass(frozen=True)
class ScaledConfig:
    """Where everything listens. Ports default to consecutive ones from a base; tests pass free ports."""

    hubs: int = 2
    rasa: int = 2
    root: Path = PROJECT_ROOT / "var" / "scaled"
    lb_host: str = "127.0.0.1"
    lb_port: int = 8080
    hub_ports: tuple[int, ...] = ()
    rasa_ports: tuple[int, ...] = ()
    rasa_port: int = 5005
    """The first Rasa server's port when `rasa_ports` is not given; the next ones are 10 apart."""
    actions_port: int = 5055
    rasa_workers: int = 1
    model: Path = PROJECT_ROOT / "models" / "frontline.tar.gz"
    python: str = str(VENV_BIN / "python")
    rasa_program: str = str(VENV_BIN / "rasa")

    def __post_init__(self) -> None:
        if self.hubs < 1 or self.rasa < 1 or self.rasa_workers < 1:
            raise ScaledError("HUBS, RASA and RASA_WORKERS must each be at least 1")
        if not self.hub_ports:
            object.__setattr__(self, "hub_ports", tuple(self.lb_port + 1 + i for i in range(self.hubs)))
        if not self.rasa_ports:
            object.__setattr__(self, "rasa_ports", tuple(self.rasa_port + 10 * i for i in range(self.rasa)))
        if len(self.hub_ports) != self.hubs or len(self.rasa_ports) != self.rasa:
            raise ScaledError("give one port per hub and per Rasa server")


@dataclasses.dataclass(frozen=True)
class Process:
    """One line of the Procfile: `kind` is hub, rasa, actions or nginx; `command` is run by /bin/sh."""

    name: str
    kind: str
    port: int
    command: str


@dataclasses.dataclass(frozen=True)
class ScaledPlan:
    root: Path
    env: dict[str, str]
    """The environment every process gets (on top of the caller's); holds secrets: never written to a file."""
    processes: tuple[Process, ...]
    public_url: str
    procfile: Path
    python: str

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def named(self, kind: str) -> list[Process]:
        return [p for p in self.processes if p.kind == kind]


def build(config: ScaledConfig, base_env: Mapping[str, str]) -> ScaledPlan:
    """Write the Procfile, the nginx configuration and the Rasa endpoints file under `config.root`; the plan."""
    env = shared_env(config, base_env)
    root = config.root.resolve()
    nginx_dir = root / "nginx"
    prepare_directories(nginx_dir)
    endpoints = root / "endpoints.yml"
    endpoints.write_text(endpoints_yaml(config, env))
    binary = nginx_binary() or "/usr/sbin/nginx"
    actions_env = {"ACTIONS_PORT": config.actions_port}
    upstreams = [f"{_hub_host(env)}:{port}" for port in config.hub_ports]
    (nginx_dir / "nginx.conf").write_text(nginx_config(f"{config.lb_host}:{config.lb_port}", upstreams, nginx_dir))
    processes = [
        Process("actions", "actions", config.actions_port, _line(actions_env, [config.python, "-m", "actions"])),
        *(
            Process(f"rasa{i + 1}", "rasa", port, _rasa_line(config, env, port, endpoints))
            for i, port in enumerate(config.rasa_ports)
        ),
        *(
            Process(f"hub{i + 1}", "hub", port, _line({"HUB_PORT": port}, [config.python, "-m", "bot"]))
            for i, port in enumerate(config.hub_ports)
        ),
        Process("nginx", "nginx", config.lb_port, shlex.join(nginx_command(binary, nginx_dir))),
    ]
    procfile = root / "Procfile"
    header = "# Written by `python -m deploy.scaled` (make run-scaled), which gives it the environment.\n"
    procfile.write_text(header + "".join(f"{p.name}: {p.command}\n" for p in processes))
    return ScaledPlan(root, env, tuple(processes), env["PUBLIC_URL"], procfile, config.python)


def shared_env(config: ScaledConfig, base_env: Mapping[str, str]) -> dict[str, str]:
    """What every process needs to find the others: `base_env` (the environment with .env over it) with the
    scaled mode's defaults filled in."""
    env = {key: base_env[key] for key in base_env}
    for key, value in DEV_TOKENS.items():
        env.setdefault(key, value)
    database = env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    if urlparse(database).scheme.split("+")[0] not in {"postgresql", "postgres"}:
        raise ScaledError("the scaled mode keeps all state in PostgreSQL: DATABASE_URL must be postgresql://...")
    redis_url = urlparse(env.setdefault("REDIS_URL", DEFAULT_REDIS_URL))
    if redis_url.scheme not in {"redis", "rediss"} or not redis_url.hostname:
        raise ScaledError("REDIS_URL must look like redis://host:6379/0 (Rasa's lock store needs a host)")
    if redis_url.password:
        env["FRONTLINE_REDIS_PASSWORD"] = redis_url.password
    env.setdefault("REDIS_PREFIX", "frontline")
    env.setdefault("ACTIONS_DATABASE_URL", database)
    if env.setdefault("ORDER_SYSTEM", "sql") == "sql":
        env.setdefault("SHOP_DATABASE_URL", _sibling_database(database, "_shop"))
    rasa_host = env.get("RASA_HOST", "127.0.0.1")
    env["RASA_URL"] = ",".join(f"http://{rasa_host}:{port}" for port in config.rasa_ports)
    env["ACTIONS_URL"] = f"http://{env.get('ACTIONS_HOST', '127.0.0.1')}:{config.actions_port}"
    if "PUBLIC_URL" not in env and config.lb_host in {"0.0.0.0", "::", ""}:
        raise ScaledError("nginx listens on every address (LB_HOST): set PUBLIC_URL to the address browsers use")
    env.setdefault("PUBLIC_URL", f"http://{config.lb_host}:{config.lb_port}")
    if not {"SANIC_REAL_IP_HEADER", "SANIC_FORWARDED_SECRET"} & env.keys():
        env.setdefault("SANIC_PROXIES_COUNT", "1")  # nginx appends the client's address to X-Forwarded-For
    return env


def endpoints_yaml(config: ScaledConfig, env: Mapping[str, str]) -> str:
    """Rasa's endpoints: the action server, the SQL tracker store (DATABASE_URL), the Redis lock store, so that
    every Rasa server (and every Sanic worker of one) takes a conversation's turns one at a time."""
    redis_url = urlparse(env["REDIS_URL"])
    db = (redis_url.path or "/0").lstrip("/") or "0"
    prefix = re.sub(r"[^A-Za-z0-9]", "", env["REDIS_PREFIX"]) or "frontline"  # Rasa takes alphanumerics only
    lines = [
        "# Written by `python -m deploy.scaled`; Rasa fills in ${...} from the environment.",
        "action_endpoint:",
        f'  url: "http://{env.get("ACTIONS_HOST", "127.0.0.1")}:{config.actions_port}/webhook"',
        "  headers:",
        "    Authorization: Bearer ${ACTIONS_TOKEN}",
        "tracker_store:",
        "  type: bot.rasa.tracker_store.DatabaseUrlTrackerStore",
        "lock_store:",
        "  type: redis",
        f'  url: "{redis_url.hostname}"',
        f"  port: {redis_url.port or 6379}",
        f"  db: {int(db)}",
        f"  key_prefix: {prefix}",
    ]
    if redis_url.username:
        lines.append(f'  username: "{redis_url.username}"')
    if redis_url.password:
        lines.append("  password: ${FRONTLINE_REDIS_PASSWORD}")
    if redis_url.scheme == "rediss":
        lines.append("  use_ssl: true")
    return "\n".join(lines) + "\n"


def prepare(plan: ScaledPlan) -> None:
    """What the processes expect to find: the databases (created if missing), the demo shop (seeded when empty),
    Redis answering, nginx installed."""
    if nginx_binary() is None:
        raise ScaledError("nginx is not installed: `apt-get install nginx` (make run-scaled does it)")
    urls = [plan.env["DATABASE_URL"], plan.env["ACTIONS_DATABASE_URL"]]
    shop = plan.env.get("SHOP_DATABASE_URL", "")
    if plan.env["ORDER_SYSTEM"] == "sql" and shop.startswith("postgres"):
        urls.append(shop)
    for url in dict.fromkeys(urls):
        _create_database(make_url(url))
    client = redis.Redis.from_url(plan.env["REDIS_URL"], socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ScaledError(f"Redis does not answer at REDIS_URL ({type(exc).__name__}); start redis-server") from exc
    finally:
        client.close()
    _create_tables(plan.env["DATABASE_URL"], rasa_servers=len(plan.named("rasa")))
    if plan.env["ORDER_SYSTEM"] == "sql":
        seed = [plan.python, "-m", "actions.orders.demo_shop"]
        subprocess.run(seed, cwd=PROJECT_ROOT, env={**os.environ, **plan.env}, check=True)


def _create_tables(url: str, rasa_servers: int) -> None:
    """The hub's tables and starter canned replies, and Rasa's tables when several Rasa servers start: each process
    creates what it misses at start, and several at once on an empty database collide (PostgreSQL refuses the
    second CREATE TABLE, the unique title the second starter reply)."""
    engine = create_engine(url)
    try:
        create_schema(engine)
        asyncio.run(CannedReplies(engine).seed())
        if rasa_servers > 1:
            from rasa.core.tracker_store import SQLTrackerStore  # seconds to import: only when needed

            SQLTrackerStore.Base.metadata.create_all(engine)
    finally:
        engine.dispose()


def _create_database(url: URL) -> None:
    admin = sqlalchemy.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            exists = conn.execute(sqlalchemy.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
            if exists.first() is None:
                conn.execute(sqlalchemy.text(f'CREATE DATABASE "{url.database}"'))
    except sqlalchemy.exc.OperationalError as exc:
        raise ScaledError(f"PostgreSQL does not answer at {url.render_as_string(hide_password=True)}") from exc
    finally:
        admin.dispose()


def _rasa_line(config: ScaledConfig, env: Mapping[str, str], port: int, endpoints: Path) -> str:
    workers = {"SANIC_WORKERS": config.rasa_workers} if config.rasa_workers > 1 else {}
    arguments = [
        config.rasa_program, "run", "--enable-api", "--jwt-secret", "$RASA_TOKEN", "--jwt-method", "HS256",
        "--interface", env.get("RASA_HOST", "127.0.0.1"), "--port", str(port),
        "--model", str(config.model), "--endpoints", str(endpoints),
        "--credentials", str(PROJECT_ROOT / "credentials.yml"),
    ]  # fmt: skip
    return _line(workers, arguments).replace("'$RASA_TOKEN'", '"$RASA_TOKEN"')


def _line(variables: Mapping[str, object], arguments: list[str]) -> str:
    """`env VAR=value program args`: a line /bin/sh runs (honcho does), and `exec` can prefix in tests."""
    assignments = [f"{key}={value}" for key, value in variables.items()]
    return shlex.join(["env", *assignments, *arguments]) if assignments else shlex.join(arguments)


def _hub_host(env: Mapping[str, str]) -> str:
    host = env.get("HUB_HOST", "127.0.0.1")
    return "127.0.0.1" if host in {"0.0.0.0", ""} else host


def _sibling_database(url: str, suffix: str) -> str:
    parsed = make_url(url)
    return str(parsed.set(database=f"{parsed.database}{suffix}").render_as_string(hide_password=False))


def read_dotenv(path: Path) -> dict[str, str]:
    """.env as honcho reads it (it overrides the environment for every process), so the plan agrees with it."""
    from honcho import environ

    return dict(environ.parse(path.read_text())) if path.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.scaled", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hubs", type=int, default=int(os.environ.get("HUBS", "2")))
    parser.add_argument("--rasa", type=int, default=int(os.environ.get("RASA_SERVERS", "2")))
    parser.add_argument("--rasa-workers", type=int, default=int(os.environ.get("RASA_WORKERS", "1")))
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT / "var" / "scaled")
    parser.add_argument("--write-only", action="store_true", help="write the files, start nothing")
    parser.add_argument(
        "--prepare-only", action="store_true", help="write the files, prepare PostgreSQL and the shop, start nothing"
    )
    args = parser.parse_args(argv)
    env = {**os.environ, **read_dotenv(PROJECT_ROOT / ".env")}
    try:
        config = ScaledConfig(
            hubs=args.hubs,
            rasa=args.rasa,
            rasa_workers=args.rasa_workers,
            root=args.root,
            lb_host=env.get("LB_HOST", "127.0.0.1"),
            lb_port=int(env.get("HUB_PORT", "8080")),
            rasa_port=int(env.get("RASA_PORT", "5005")),
            actions_port=int(env.get("ACTIONS_PORT", "5055")),
        )
        args.root.mkdir(parents=True, exist_ok=True)
        plan = build(config, env)
        print(f"wrote {plan.procfile}, {plan.root / 'endpoints.yml'}, {plan.root / 'nginx' / 'nginx.conf'}")
        if args.write_only:
            return 0
        prepare(plan)
        if args.prepare_only:
            return 0
    except ScaledError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{config.hubs} hubs behind nginx at {plan.public_url}, {config.rasa} Rasa servers; Ctrl-C stops all")
    honcho = [str(Path(config.python).parent / "honcho"), "start", "-f", str(plan.procfile), "-d", str(PROJECT_ROOT)]
    return subprocess.call(honcho, cwd=PROJECT_ROOT, env={**os.environ, **plan.env})


if __name__ == "__main__":
    sys.exit(main())
