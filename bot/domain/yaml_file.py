"""YAML files read with libyaml's C loader: the training files hold thousands of examples, and the
pure-Python loader spent seconds on each read (export, training, the review inbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    """The document in `path` (None when empty), safe loading only."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
