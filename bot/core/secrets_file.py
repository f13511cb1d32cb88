"""`make secrets`: strong random values for the secrets, in `.env`, which honcho (`make run`) and the Makefile read.

A value already in the file is kept (replacing a token would lock out what already uses it); the file is
readable by its owner only, and no value is ever printed.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import tempfile
from pathlib import Path

from bot.domain.production_guard import DEV_SECRETS, HUB_SECRETS, MIN_SECRET_CHARS

ASSIGNMENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
"""A `.env` line as honcho reads it: `NAME=value` (honcho skips `export NAME=value`)."""


@dataclasses.dataclass(frozen=True)
class SecretsWritten:
    added: tuple[str, ...]
    kept: tuple[str, ...]
    weak: tuple[str, ...]
    """Kept values that are a development default or too short: delete their lines and run again."""


def write_secrets(path: Path, names: tuple[str, ...] = HUB_SECRETS) -> SecretsWritten:
    """Add a random value (64 hex characters: safe in .env, a URL and the Makefile) for each of `names` that
    `path` does not set yet; every other line stays as it was. The file ends up with mode 600."""
    lines = path.read_text().splitlines() if path.exists() else []
    present: dict[str, str] = {}
    for line in lines:
        match = ASSIGNMENT.fullmatch(line)
        if match:
            present[match.group(1)] = match.group(2).strip("'\"")
    added = tuple(name for name in names if not present.get(name))
    kept = tuple(name for name in names if present.get(name))
    weak = tuple(n for n in kept if present[n] == DEV_SECRETS.get(n) or len(present[n]) < MIN_SECRET_CHARS)
    if added:
        lines = [line for line in lines if not _assigns(line, added)]
        lines += [f"{name}={secrets.token_hex(32)}" for name in added]
        _write_private(path, "\n".join(lines) + "\n")
    elif path.exists():
        path.chmod(0o600)
    return SecretsWritten(added, kept, weak)


def _assigns(line: str, names: tuple[str, ...]) -> bool:
    """An empty assignment of one of `names` (e.g. `RASA_TOKEN=`), replaced by the new value."""
    match = ASSIGNMENT.fullmatch(line)
    return match is not None and match.group(1) in names


def _write_private(path: Path, text: str) -> None:
    """Written beside the old file with mode 600 from the start, then moved over it: never readable by others,
    never half-written."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".env.")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
