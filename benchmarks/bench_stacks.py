"""The two set-ups `make bench` compares, each started on free loopback ports over a copy of the demo shop.

- Frontline as `make run` starts it: the action server, Rasa with the project's endpoints.yml (its tracker store
  and lock store, the action server's address swapped for the free port) and the environment the Procfile gives
  Rasa, and the hub in front.
- Stock `rasa run`: the REST channel, Rasa's default in-memory tracker store and lock store, the same model, and
  the same action server as Frontline's.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from pathlib import Path

from tests.rasa_stack import MODEL, PROJECT_ROOT, VENV_BIN, RasaStack, _get, _stop, free_port

PROJECT_ACTIONS_URL = "http://127.0.0.1:5055/webhook"


def procfile_rasa_env(procfile: Path = PROJECT_ROOT / "Procfile") -> dict[str, str]:
    """The `NAME=value` assignments in front of the Procfile's rasa command: what `make run` gives Rasa."""
    for line in procfile.read_text().splitlines():
        if line.startswith("rasa:"):
            words = shlex.split(line.removeprefix("rasa:"))
            assignments = words[: next(i for i, w in enumerate(words) if "=" not in w)]
            return dict(a.split("=", 1) for a in assignments)
    return {}


def project_endpoints(actions_port: int, extra_env: dict[str, str]) -> str:
    """The project's endpoints.yml with the action server at `actions_port`; `${VAR}`s it names must be set."""
    text = (PROJECT_ROOT / "endpoints.yml").read_text()
    if PROJECT_ACTIONS_URL not in text:
        raise RuntimeError(f"endpoints.yml no longer names {PROJECT_ACTIONS_URL}; update benchmarks/bench_stacks.py")
    for name in re.findall(r"\$\{(\w+)\}", text):
        extra_env.setdefault(name, "")
    return text.replace(PROJECT_ACTIONS_URL, f"http://127.0.0.1:{actions_port}/webhook")


class FrontlineStack(RasaStack):
    """RasaStack (tests/rasa_stack.py) with the project's own endpoints.yml and the Procfile's Rasa environment."""

    def __init__(self, workdir: Path, shop_template: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(workdir, shop_template, env=env)
        self.rasa_env = procfile_rasa_env()
        self.endpoints.write_text(project_endpoints(self.actions_port, self.env))

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Only Rasa gets the Procfile's Rasa environment (Sanic reads SANIC_* in the hub too)."""
        return super()._spawn(name, command, {**self.rasa_env, **(env or {})} if name == "rasa" else env)


class StockRasa:
    """`rasa run` as its documentation starts it: REST channel, in-memory stores, one worker."""

    def __init__(self, workdir: Path, actions_port: int, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.endpoints = workdir / "stock-endpoints.yml"
        self.endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
            "  headers:\n    Authorization: Bearer ${ACTIONS_TOKEN}\n"
        )
        self.env = {k: v for k, v in env.items() if k != "SANIC_WORKERS"}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300.0) -> StockRasa:
        log = (self.workdir / "stock-rasa.log").open("ab")
        command = [str(VENV_BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(self.port)]
        command += ["--model", str(MODEL), "--endpoints", str(self.endpoints)]
        command += ["--credentials", str(PROJECT_ROOT / "credentials.yml")]
        self._process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"stock rasa exited:\n{(self.workdir / 'stock-rasa.log').read_text()[-3000:]}")
            try:
                if _get(f"{self.url}/")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("stock rasa did not start")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self) -> None:
        _stop(self._process)
        self._process = None
