"""The tree keeps its layers: `make lint` fails when a lower layer imports a higher one, and modules stay small."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.rasa_stack import PROJECT_ROOT, VENV_BIN

MAX_MODULE_LINES = 500


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(VENV_BIN / "lint-imports"), "--no-cache"], cwd=root, env=env, capture_output=True, text=True
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A throw-away copy of the code and its contracts, for files that break them."""
    for package in ("bot", "actions"):
        shutil.copytree(
            PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("static", "__pycache__")
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layer_contracts_hold_for_the_project():
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imports", "contract"),
    [
        ("bot/domain/throwaway.py", "from bot.api.app import create_app", "api > channels > training > core"),
        ("bot/store/throwaway.py", "from bot.core.hub import Hub", "api > channels > training > core"),
        ("bot/domain/throwaway.py", "import sqlalchemy", "The domain is pure Python"),
        ("bot/rasa/throwaway.py", "from bot.core.settings import HubSettings", "What the Rasa server loads"),
        ("actions/throwaway.py", "from bot.store.conversations import ConversationStore", "Actions import nothing"),
        ("bot/core/throwaway.py", "from actions.handoff import build_packet", "only through the order-system port"),
    ],
)
def test_a_lower_layer_importing_a_higher_one_fails_the_lint(tree: Path, module: str, imports: str, contract: str):
    (tree / module).write_text(f'"""A file that breaks a layer contract."""\n\n{imports}\n')
    result = lint_imports(tree)
    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken and module.removesuffix(".py").replace("/", ".") in broken


def test_no_python_module_is_over_500_lines():
    too_long = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for folder in ("bot", "actions", "benchmarks")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}
