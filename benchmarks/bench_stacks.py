"""The two set-ups `make bench` compares, each started on free loopback ports over a copy of the demo shop.

- Frontline as `make run` starts it: the action server, as many Rasa servers as the Procfile runs, each with the
  project's endpoints.yml (its tracker store and lock store, the action server's address swapped for the free port)
  and the environment the Procfile gives Rasa, and the hub in front, spreading conversations over them.
- Stock `rasa run`: the REST channel, Rasa's default in-memory tracker store and lock store, the same model, and
  the same action server as Frontline's.
"""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
import time
from pathlib import Path

from tests.rasa_stack import MODEL, PROJECT_ROOT, VENV_BIN, RasaStack, _get, _stop, free_port

PROJECT_ACTIONS_URL = "http://127.0.0.1:5055/webhook"


def procfile_rasa_lines(procfile: Path = PROJECT_ROOT / "Procfile") -> list[str]:
    """The commands of the Procfile's Rasa servers (`rasa:`, `rasa2:`, ...)."""
    lines = procfile.read_text().splitlines()
    return [line.split(":", 1)[1] for line in lines if re.match(r"rasa\d*:", line)]


def procfile_rasa_env(procfile: Path = PROJECT_ROOT / "Procfile") -> dict[str, str]:
    """The `NAME=value` assignments in front of the Procfile's rasa command: what `make run` gives Rasa."""
    for line in procfile_rasa_lines(procfile)[:1]:
        words = shlex.split(line)
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
        self.more_rasa_ports = [free_port() for _ in procfile_rasa_lines()[1:]]
        self._more_rasa: list[subprocess.Popen[bytes]] = []

    @property
    def rasa_urls(self) -> list[str]:
        return [self.rasa_url, *(f"http://127.0.0.1:{port}" for port in self.more_rasa_ports)]

    def start(self, timeout: float = 240.0) -> FrontlineStack:
        """The action server and every Rasa server, loading their models at once as honcho starts them."""
        self.start_actions()
        self._rasa = self._spawn("rasa", self.rasa_command(self.rasa_port))
        self._more_rasa = [
            self._spawn(f"rasa{n}", self.rasa_command(port)) for n, port in enumerate(self.more_rasa_ports, 2)
        ]
        for url, process in zip(self.rasa_urls, [self._rasa, *self._more_rasa], strict=True):
            self._wait(functools.partial(self._rasa_ready, url), process, timeout, "rasa")
        return self

    def start_hub(self, env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        super().start_hub({"RASA_URL": ",".join(self.rasa_urls), **(env or {})}, timeout)

    def process_ids(self) -> dict[str, int]:
        more = {f"rasa{n}": p.pid for n, p in enumerate(self._more_rasa, 2) if p.poll() is None}
        return super().process_ids() | more

    def stop(self) -> None:
        super().stop()
        for process in self._more_rasa:
            _stop(process)
        self._more_rasa = []

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Only Rasa gets the Procfile's Rasa environment (Sanic reads SANIC_* in the hub too)."""
        rasa = name.startswith("rasa")
        return super()._spawn(name, command, {**self.rasa_env, **(env or {})} if rasa else env)


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
