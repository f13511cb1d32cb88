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
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL = PROJECT_ROOT / "models" / "frontline.tar.gz"
VENV_BIN = Path(sys.executable).parent
TOKEN = "integration-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class RasaStack:
    """Starts `rasa run actions` and `rasa run --enable-api` as child processes and talks to them over HTTP."""

    def __init__(self, workdir: Path, shop_template: Path, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.shop_db = workdir / "shop.db"
        shutil.copyfile(shop_template, self.shop_db)
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n'
            "tracker_store:\n  type: bot.rasa.tracker_store.DatabaseUrlTrackerStore\n"
        )
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir / 'frontline.db'}",
            "SHOP_DATABASE_URL": f"sqlite:///{self.shop_db}",
            "ORDER_SYSTEM": "sql",
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
        self._rasa = self._spawn(
            "rasa",
            [
                str(VENV_BIN / "rasa"),
                "run",
                "--enable-api",
                "--auth-token",
                TOKEN,
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
                "--model",
                str(MODEL),
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                str(PROJECT_ROOT / "credentials.yml"),
            ],
        )
        self._wait(lambda: _get(f"{self.rasa_url}/status?token={TOKEN}")[0] == 200, self._rasa, timeout, "rasa")
        return self

    def start_actions(self, env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        """(Re)start the action server, e.g. with a broken order system configuration."""
        self.stop_actions()
        self._actions = self._spawn(
            "actions",
            [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.actions_port)],
            env,
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
        status, body = _get(f"{self.rasa_url}/conversations/{sender}/tracker?token={TOKEN}", timeout=10)
        assert status == 200, body
        return json.loads(body)

    def story(self, sender: str) -> str:
        status, body = _get(f"{self.rasa_url}/conversations/{sender}/story?token={TOKEN}", timeout=10)
        assert status == 200, body
        return body.decode()

    def parse(self, text: str) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.rasa_url}/model/parse?token={TOKEN}",
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{name} not ready after {timeout:.0f}s:\n{self.log_tail(name)}")

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
