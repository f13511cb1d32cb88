"""The project stays stock Rasa: its own checks pass on our data and test stories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rasa_stack import MODEL, PROJECT_ROOT

RASA = str(Path(sys.executable).parent / "rasa")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [RASA, *args], cwd=PROJECT_ROOT, env=ENV, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_rasa_data_validate_passes_without_warnings():
    result = rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.model
def test_every_test_story_is_predicted_exactly(tmp_path):
    result = rasa(
        "test", "core", "--stories", "tests/test_stories.yml", "--model", str(MODEL),
        "--out", str(tmp_path), "--fail-on-prediction-errors",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
