"""`make secrets` writes strong random secrets into .env (mode 600), keeps what is there and prints no value; `make
run` (honcho) and `make reload` then use them, and without .env everything keeps its development default."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from bot.core.secrets_file import write_secrets
from bot.domain.production_guard import DEV_RASA_TOKEN, HUB_SECRETS, secret_problems
from tests.rasa_stack import PROJECT_ROOT

HONCHO = PROJECT_ROOT / ".venv" / "bin" / "honcho"


def values(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_env_file_gets_three_strong_distinct_secrets_readable_by_its_owner_only(tmp_path):
    env_file = tmp_path / ".env"
    written = write_secrets(env_file)
    assert written.added == HUB_SECRETS and written.kept == () and written.weak == ()
    secrets = values(env_file)
    assert set(secrets) == set(HUB_SECRETS)
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in secrets.values())
    assert len(set(secrets.values())) == 3
    assert secret_problems(secrets, HUB_SECRETS) == [], "what the production guard accepts"
    assert mode(env_file) == 0o600


def test_values_already_there_and_every_other_line_are_kept(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# the shop's settings\nTELEGRAM_TOKEN=123:AA\nRASA_TOKEN=" + "r" * 40 + "\nCHANNEL_SECRET=\n")
    env_file.chmod(0o644)
    written = write_secrets(env_file)
    assert (written.added, written.kept) == (("CHANNEL_SECRET", "ACTIONS_TOKEN"), ("RASA_TOKEN",))
    lines = env_file.read_text().splitlines()
    assert lines[:3] == ["# the shop's settings", "TELEGRAM_TOKEN=123:AA", "RASA_TOKEN=" + "r" * 40]
    assert [line.split("=")[0] for line in lines[3:]] == ["CHANNEL_SECRET", "ACTIONS_TOKEN"], "the empty one replaced"
    assert mode(env_file) == 0o600

    before = env_file.read_text()
    again = write_secrets(env_file)
    assert again.added == () and env_file.read_text() == before, "a second run changes nothing"


def test_a_kept_development_or_short_value_is_reported_by_name(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"RASA_TOKEN={DEV_RASA_TOKEN}\nACTIONS_TOKEN=short\n")
    env_file.chmod(0o640)
    written = write_secrets(env_file)
    assert written.weak == ("RASA_TOKEN", "ACTIONS_TOKEN")
    assert mode(env_file) == 0o600, "tightened even when nothing is added"


def test_the_command_names_what_it_wrote_and_never_prints_a_value(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("ACTIONS_TOKEN=short\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "secrets", "--env-file", str(env_file)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines() == [
        f"wrote CHANNEL_SECRET, RASA_TOKEN to {env_file} (mode 600)",
        f"kept ACTIONS_TOKEN already in {env_file}",
        f"warning: ACTIONS_TOKEN in {env_file} is a development value or too short: delete its line and run again",
    ]
    written = [values(env_file)[name] for name in ("CHANNEL_SECRET", "RASA_TOKEN")]
    assert not any(value in result.stdout + result.stderr for value in written)


def project_copy(tmp_path: Path) -> Path:
    """The Makefile beside the real venv and code, so `make secrets` runs without touching the project's .env."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Makefile", "requirements.txt", "requirements-no-deps.txt", "constraints.txt"):
        shutil.copy2(PROJECT_ROOT / name, project / name)  # with their times: the venv stays up to date
    for name in (".venv", "bot"):
        (project / name).symlink_to(PROJECT_ROOT / name)
    (project / "Procfile").write_text('show: echo "token=$RASA_TOKEN"\n')
    return project


def make(project: Path, *args: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "RASA_TOKEN" and not k.startswith("MAKE")}
    result = subprocess.run(
        ["make", "-s", *args], cwd=project, env=clean | env, capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout


def token_seen(project: Path, **env: str) -> tuple[str, str]:
    """RASA_TOKEN as a `make` recipe (e.g. `make reload`) and as a Procfile process under honcho (`make run`) see it."""
    by_make = make(project, "--eval", 'token: ; @echo "$$RASA_TOKEN"', "token", **env).strip()
    honcho = make(project, "--eval", f"honcho: ; @{HONCHO} start -f Procfile", "honcho", **env)
    by_honcho = re.search(r"token=(\S*)", honcho)
    assert by_honcho, honcho
    return by_make, by_honcho.group(1)


def test_make_secrets_writes_the_env_file_that_make_and_honcho_prefer_and_without_it_the_defaults_hold(tmp_path):
    project = project_copy(tmp_path)
    assert token_seen(project) == (DEV_RASA_TOKEN, DEV_RASA_TOKEN), "zero-config without .env"
    assert token_seen(project, RASA_TOKEN="from-the-shell") == ("from-the-shell", "from-the-shell")

    output = make(project, "secrets")
    token = values(project / ".env")["RASA_TOKEN"]
    assert token not in output and "wrote CHANNEL_SECRET, RASA_TOKEN, ACTIONS_TOKEN" in output
    assert mode(project / ".env") == 0o600
    assert token_seen(project) == (token, token)
    assert token_seen(project, RASA_TOKEN=DEV_RASA_TOKEN) == (token, token), ".env wins, as honcho has it"
