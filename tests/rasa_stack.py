"""A real Rasa server and action server on free loopback ports, for integration tests and benchmarks.

Each stack gets its own copy of the demo shop and its own tracker database, so tests can change orders
freely and never touch `var/`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.core.rasa_client import admin_jwt

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "models" / "frontline.tar.gz"
VENV_BIN = Path(sys.executable).parent
TOKEN = "integration-test-token-of-32-chars+"
"""RASA_TOKEN: the secret Rasa's HTTP API checks JWTs with (`api_headers`); it takes no `?token=`."""
ACTIONS_TOKEN = "integration-test-actions-token"
"""What Rasa sends the action server (this stack's endpoints.yml) and the action server requires."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_headers() -> dict[str, str]:
    """What the hub sends Rasa's HTTP API: a fresh admin JWT signed with TOKEN."""
    return {"Authorization": f"Bearer {admin_jwt(TOKEN)}"}


def _get(url: str, timeout: float = 2.0, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_ready(
    ready: Callable[[], bool], process: subprocess.Popen, timeout: float, name: str, log_tail: Callable[[], str]
) -> None:
    """Poll `ready` until it holds; fail at once, with the log's tail, if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log_tail()}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{name} not ready after {timeout:.0f}s:\n{log_tail()}")


class RasaStack:
    """Starts `python -m actions` and `rasa run --enable-api` as child processes and talks to them over HTTP."""

    def __init__(self, workdir: Path, shop_template: Path, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.shop_db = workdir / "shop.db"
        shutil.copyfile(shop_template, self.shop_db)
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n'
            "  headers:\n    Authorization: Bearer ${ACTIONS_TOKEN}\n"
            "tracker_store:\n  type: bot.rasa.tracker_store.DatabaseUrlTrackerStore\n"
        )
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir / 'frontline.db'}",
            "SHOP_DATABASE_URL": f"sqlite:///{self.shop_db}",
            "ORDER_SYSTEM": "sql",
            "ACTIONS_TOKEN": ACTIONS_TOKEN,
            "ACTIONS_DATABASE_URL": f"sqlite:///{workdir / 'actions.db'}",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            **(env or {}),
        }
        self._actions: subprocess.Popen | None = None
        self._rasa: subprocess.Popen | None = None
        self._hub: subprocess.Popen | None = None
        self.hub_port = free_port()

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def start(self, timeout: float = 240.0) -> RasaStack:
        if not MODEL.exists():
            raise RuntimeError(f"no trained model at {MODEL}; run `make train`")
        self.start_actions()
        self._rasa = self._spawn("rasa", self.rasa_command(self.rasa_port))
        self._wait(self._rasa_ready, self._rasa, timeout, "rasa")
        return self

    def rasa_command(self, port: int) -> list[str]:
        """`rasa run` as the Procfile has it, on `port`, with this stack's endpoints."""
        return [
            str(VENV_BIN / "rasa"),
            "run",
            "--enable-api",
            "--jwt-secret",
            TOKEN,
            "--jwt-method",
            "HS256",
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            str(MODEL),
            "--endpoints",
            str(self.endpoints),
            "--credentials",
            str(PROJECT_ROOT / "credentials.yml"),
        ]

    def _rasa_ready(self, url: str | None = None) -> bool:
        """Whether the Rasa server at `url` (this stack's own by default) has its model loaded."""
        return _get(f"{url or self.rasa_url}/status", headers=api_headers())[0] == 200

    def start_actions(self, env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        """(Re)start the action server, e.g. with a broken order system configuration."""
        self.stop_actions()
        self._actions = self._spawn(
            "actions",
            [sys.executable, "-m", "actions"],
            {"ACTIONS_PORT": str(self.actions_port), **(env or {})},
        )
        health = f"http://127.0.0.1:{self.actions_port}/health"
        self._wait(lambda: _get(health)[0] == 200, self._actions, timeout, "actions")

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}"

    def start_hub(self, env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        """(Re)start the conversation hub in front of this stack's Rasa server."""
        self.stop_hub()
        hub_env = {
            "HUB_PORT": str(self.hub_port),
            "RASA_URL": self.rasa_url,
            "RASA_TOKEN": TOKEN,
            "ACTIONS_URL": f"http://127.0.0.1:{self.actions_port}",
            **(env or {}),
        }
        self._hub = self._spawn("hub", [sys.executable, "-m", "bot"], hub_env)
        self._wait(lambda: _get(f"{self.hub_url}/api/me")[0] == 401, self._hub, timeout, "hub")

    def stop_hub(self) -> None:
        _stop(self._hub)
        self._hub = None

    def stop_actions(self) -> None:
        _stop(self._actions)
        self._actions = None

    def kill(self, name: str) -> None:
        """SIGKILL `hub`, `rasa` or `actions`, as a crash would: no shutdown handler runs."""
        process = {"hub": self._hub, "rasa": self._rasa, "actions": self._actions}[name]
        assert process is not None and process.poll() is None, f"{name} is not running"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def process_ids(self) -> dict[str, int]:
        """The running processes by name (`hub`, `rasa`, `actions`), e.g. for a benchmark to read their memory."""
        running = {"hub": self._hub, "rasa": self._rasa, "actions": self._actions}
        return {name: p.pid for name, p in running.items() if p is not None and p.poll() is None}

    def stop(self) -> None:
        self.stop_hub()
        self.stop_actions()
        _stop(self._rasa)
        self._rasa = None

    def say(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One customer message through Rasa's REST channel; returns the bot's reply items."""
        body = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def tracker(self, sender: str) -> dict[str, Any]:
        status, body = _get(f"{self.rasa_url}/conversations/{sender}/tracker", 10, api_headers())
        assert status == 200, body
        return json.loads(body)

    def story(self, sender: str) -> str:
        status, body = _get(f"{self.rasa_url}/conversations/{sender}/story", 10, api_headers())
        assert status == 200, body
        return body.decode()

    def parse(self, text: str) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.rasa_url}/model/parse",
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json", **api_headers()},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (self.workdir / f"{name}.log").open("ab")
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait(self, ready, process: subprocess.Popen, timeout: float, name: str) -> None:
        wait_until_ready(ready, process, timeout, name, lambda: self.log_tail(name))

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
