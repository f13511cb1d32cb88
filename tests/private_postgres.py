"""A PostgreSQL server of a test's own (initdb into a temp dir, a free loopback port, trust auth), so a fault test
can restart or kill it without touching the machine's shared server on 5432.

initdb and postgres refuse to run as root; when the tests run as root, the server runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy

from tests.rasa_stack import free_port

SERVER_USER = "postgres"


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's programs (Debian keeps them in /usr/lib/postgresql/<version>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    if not found:
        raise RuntimeError("no PostgreSQL server installed under /usr/lib/postgresql")
    return Path(found[-1]).parent


class PrivatePostgres:
    """One server: `start`, `stop`, `restart(mode)` through pg_ctl, and `kill` (SIGKILL the postmaster, as a
    crash would) followed by `start` again."""

    def __init__(self, database: str = "frontline") -> None:
        self.bin = postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="private-postgres-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.database = database
        self._as_server_user = os.getuid() == 0
        self.sockets.mkdir()
        if self._as_server_user:
            shutil.chown(self.root, SERVER_USER, SERVER_USER)
            shutil.chown(self.sockets, SERVER_USER, SERVER_USER)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self, timeout: float = 30.0) -> PrivatePostgres:
        """Create the cluster and database the first time; start the server (again, after a kill)."""
        first = not self.data.exists()
        if first:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        deadline = time.monotonic() + timeout
        while True:
            # After a SIGKILL the orphaned backends hold the old shared memory until they notice and exit.
            result = self._pg_ctl("start", check=False)
            if result.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start:\n{result.stdout}\n{self.log_tail()}")
            time.sleep(0.5)
        if first:
            self.create_database(self.database)
        return self

    def stop(self, mode: str = "fast") -> None:
        if self.pid() is not None:
            self._pg_ctl("stop", "-m", mode, check=False)

    def restart(self, mode: str = "fast") -> None:
        """pg_ctl restart: every open connection is closed by the server (`fast`) or waited for (`smart`)."""
        self._pg_ctl("restart", "-m", mode)

    def kill(self) -> None:
        """SIGKILL the postmaster: no shutdown, its connections die with no goodbye; `start` brings it back."""
        pid = self.pid()
        assert pid is not None, "postgres is not running"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pidfile.read_text().splitlines()[0])
            return pid if _alive(pid) else None
        return None

    def remove(self) -> None:
        """Stop the server (immediately) and delete its files."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> PrivatePostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def create_database(self, name: str) -> str:
        """An empty database on this server; its URL."""
        admin = sqlalchemy.create_engine(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", isolation_level="AUTOCOMMIT", future=True
        )
        try:
            with admin.connect() as conn:
                conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _pg_ctl(self, action: str, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        where = ["-D", str(self.data), "-l", str(self.log), "-o", options]
        return self._run("pg_ctl", action, *where, "-w", "-t", "30", *extra, check=check)

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / program), *args]
        if self._as_server_user:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=90, start_new_session=True
        )
        if check and result.returncode != 0:
            output = f"{result.stdout}{result.stderr}"
            raise RuntimeError(f"{program} failed ({result.returncode}):\n{output}\n{self.log_tail()}")
        return result


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
