"""The scaled mode as real processes for tests: the plan `python -m deploy.scaled` runs (deploy/scaled.py), started
piece by piece on free loopback ports over a fresh PostgreSQL database and a unique Redis prefix, so a test can
reach each hub directly or through nginx, and kill one."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import redis
import sqlalchemy
import websockets

from deploy.nginx import nginx_binary
from deploy.scaled import ScaledConfig, ScaledPlan, build, prepare
from tests.hub_clients import AgentClient, CustomerClient, Event
from tests.rasa_stack import (
    ACTIONS_TOKEN,
    MODEL,
    PROJECT_ROOT,
    TOKEN,
    VENV_BIN,
    _get,
    api_headers,
    free_port,
    wait_until_ready,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


class ScaledStack:
    """`hubs` hubs, `rasa` Rasa servers, the action server and nginx, as `make run-scaled` starts them."""

    def __init__(
        self, workdir: Path, database_url: str, shop_template: Path, hubs: int = 2, rasa: int = 1, **env: str
    ) -> None:
        self.workdir = workdir
        shop = workdir / "shop.db"
        shutil.copyfile(shop_template, shop)
        self.redis_prefix = f"scaledtest{uuid.uuid4().hex[:10]}"  # alphanumeric: Rasa's lock store takes it as is
        config = ScaledConfig(
            hubs=hubs,
            rasa=rasa,
            root=workdir / "scaled",
            lb_port=free_port(),
            hub_ports=tuple(free_port() for _ in range(hubs)),
            rasa_ports=tuple(free_port() for _ in range(rasa)),
            actions_port=free_port(),
            model=MODEL,
            python=str(VENV_BIN / "python"),
            rasa_program=str(VENV_BIN / "rasa"),
        )
        config.root.mkdir(parents=True, exist_ok=True)
        base = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_PREFIX": self.redis_prefix,
            "SHOP_DATABASE_URL": f"sqlite:///{shop}",
            "ORDER_SYSTEM": "sql",
            "RASA_TOKEN": TOKEN,
            "ACTIONS_TOKEN": ACTIONS_TOKEN,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            **env,
        }
        self.plan: ScaledPlan = build(config, base)
        self._running: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """The load balancer: what customers and agents reach."""
        return self.plan.public_url

    def hub_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.plan.process(name).port}"

    def rasa_url(self, name: str = "rasa1") -> str:
        return f"http://127.0.0.1:{self.plan.process(name).port}"

    def start(self, timeout: float = 300.0, names: Iterable[str] | None = None) -> ScaledStack:
        """Start every piece (or those `names`) at once, then wait until each answers."""
        names = [p.name for p in self.plan.processes] if names is None else list(names)
        if any(self.plan.process(name).kind == "rasa" for name in names) and not MODEL.exists():
            raise RuntimeError(f"no trained model at {MODEL}; run `make train`")
        if nginx_binary() is None:
            raise RuntimeError("nginx is not installed: apt-get install nginx (make run-scaled installs it)")
        prepare(self.plan)
        for name in names:
            self.spawn(name)
        for name in names:
            self.wait_ready(name, timeout)
        return self

    def spawn(self, name: str, env: dict[str, str] | None = None) -> None:
        """Start one piece with the line the Procfile has for it, as honcho would (through /bin/sh); `env` on top
        of the plan's, e.g. a hub reaching Rasa through a proxy."""
        log = (self.workdir / f"{name}.log").open("ab")
        self._running[name] = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {self.plan.process(name).command}"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **self.plan.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def restart(self, name: str, env: dict[str, str] | None = None, timeout: float = 120.0) -> None:
        """Stop the piece if it runs (SIGTERM), start it again (with `env` over the plan's), wait until it answers."""
        if name in self._running:
            _terminate(self._running.pop(name))
        self.spawn(name, env)
        self.wait_ready(name, timeout)

    def wait_ready(self, name: str, timeout: float) -> None:
        process, piece = self._running[name], self.plan.process(name)
        local = f"http://127.0.0.1:{piece.port}"
        ready = {
            "actions": lambda: _get(f"{local}/health")[0] == 200,
            "rasa": lambda: _get(f"{local}/status", headers=api_headers())[0] == 200,
            "hub": lambda: _get(f"{local}/api/me")[0] == 401,
            "nginx": lambda: _get(f"{self.url}/api/me")[0] == 401,
        }[piece.kind]
        wait_until_ready(ready, process, timeout, name, lambda: self.log_tail(name))

    def process_groups(self) -> dict[int, str]:
        """The running pieces' process groups (each piece leads its own), by the kind of piece: for CPU accounting."""
        return {process.pid: self.plan.process(name).kind for name, process in self._running.items()}

    def kill(self, name: str) -> None:
        """SIGKILL the piece and its children, as a crash would: no shutdown handler runs."""
        process = self._running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for name in reversed(list(self._running)):
            _terminate(self._running.pop(name))
        client = redis.Redis.from_url(REDIS_URL)
        try:
            for key in client.scan_iter(f"{self.redis_prefix}*"):
                client.delete(key)
        finally:
            client.close()

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def query(self, statement: Any) -> list[Any]:
        """Rows from the shared database, as every hub sees them."""
        engine = sqlalchemy.create_engine(self.plan.env["DATABASE_URL"], future=True)
        try:
            with engine.connect() as conn:
                return list(conn.execute(statement))
        finally:
            engine.dispose()

    def tracker(self, conversation_id: str, rasa: str = "rasa1") -> dict[str, Any]:
        status, body = _get(f"{self.rasa_url(rasa)}/conversations/{conversation_id}/tracker", 20, api_headers())
        assert status == 200, body
        return json.loads(body)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


class Disconnected(Exception):
    """The socket closed before the awaited event came: its hub died."""


class LiveCustomer(CustomerClient):
    """A widget that notices its socket closing while it waits (a killed hub), instead of waiting out a timeout."""

    async def wait_or_closed(self, predicate: Any, timeout: float = 60.0, after: int = 0) -> Event:
        deadline = asyncio.get_running_loop().time() + timeout
        index = after
        while True:
            while index < len(self.events):
                index += 1
                if predicate(self.events[index - 1]):
                    return self.events[index - 1]
            if self._reader is not None and self._reader.done():
                raise Disconnected
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, f"no matching event in {timeout}s; saw {[e['type'] for e in self.events][-20:]}"
            self._new.clear()
            waiters = {asyncio.ensure_future(self._new.wait())} | ({self._reader} if self._reader else set())
            _, pending = await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending - {self._reader}:
                waiter.cancel()


class Console(AgentClient):
    """An agent's console with its live socket read into `events`."""

    def __init__(self, hub_url: str) -> None:
        super().__init__(hub_url)
        self._reader: asyncio.Task[None] | None = None
        self._new = asyncio.Event()

    async def open(self, username: str = "demo.agent") -> Console:
        response = await self.login(username)
        assert response.status_code == 200, response.text
        await self.go_online()
        self._reader = asyncio.create_task(self._read())
        return self

    async def watch(self, conversation_id: str) -> None:
        await self.ws.send(json.dumps({"type": "watch", "conversation_id": conversation_id}))

    async def wait_for(self, predicate: Any, timeout: float = 30.0, after: int = 0) -> Event:
        deadline = asyncio.get_running_loop().time() + timeout
        index = after
        while True:
            while index < len(self.events):
                index += 1
                if predicate(self.events[index - 1]):
                    return self.events[index - 1]
            remaining = deadline - asyncio.get_running_loop().time()
            assert remaining > 0, f"no matching console event in {timeout}s; saw {self.events[-10:]}"
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), remaining)
            except asyncio.TimeoutError:
                continue

    async def close_socket(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        self.ws = None

    async def close(self) -> None:
        if self.ws is not None:
            await self.close_socket()
        await super().close()

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.events.append(json.loads(raw))
                self._new.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self._new.set()
