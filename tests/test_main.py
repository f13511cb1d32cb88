"""`python -m bot agents add|list` manages console accounts from the command line."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.rasa_stack import PROJECT_ROOT


def bot(*args: str, stdin: str = "", env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        cwd=PROJECT_ROOT, env={**os.environ, **env}, timeout=60, check=False,
    )  # fmt: skip


def test_an_account_is_created_from_the_command_line_and_listed(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    created = bot(
        "agents",
        "add",
        "--username",
        "jo",
        "--name",
        "Jo Bloggs",
        "--role",
        "supervisor",
        "--password-stdin",
        stdin="a strong password\n",
        env=env,
    )
    weak = bot("agents", "add", "--username", "kim", "--name", "Kim", "--password-stdin", stdin="short\n", env=env)
    listed = bot("agents", "list", env=env)
    assert created.returncode == 0 and "created supervisor jo" in created.stdout
    assert weak.returncode == 2 and "at least 8 characters" in weak.stderr
    assert "jo\tsupervisor\tJo Bloggs" in listed.stdout and "kim" not in listed.stdout
