"""The previous training's weights are kept beside Rasa's cache, replaced only when complete, and never required."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.rasa import warm_start


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / ".rasa" / "cache"))
    return tmp_path / ".rasa"


def read(folder: Path) -> dict:
    return json.loads((folder / "weights.json").read_text())


def test_nothing_to_start_from_on_a_fresh_clone():
    assert warm_start.previous("intents", read) is None


def test_the_last_training_is_what_the_next_starts_from(cache):
    for version in (1, 2):
        with warm_start.remembered("intents") as folder:
            (folder / "weights.json").write_text(json.dumps({"version": version}))
    assert warm_start.previous("intents", read) == {"version": 2}
    assert sorted(p.name for p in (cache / "frontline-warm").iterdir()) == ["intents"]


def test_a_training_that_fails_half_way_leaves_the_previous_weights(cache):
    with warm_start.remembered("intents") as folder:
        (folder / "weights.json").write_text(json.dumps({"version": 1}))
    with pytest.raises(RuntimeError), warm_start.remembered("intents") as folder:
        (folder / "weights.json").write_text("{half")
        raise RuntimeError("killed")
    assert warm_start.previous("intents", read) == {"version": 1}
    assert sorted(p.name for p in (cache / "frontline-warm").iterdir()) == ["intents"]


def test_weights_that_do_not_read_mean_a_fit_from_scratch():
    with warm_start.remembered("judgement") as folder:
        (folder / "weights.json").write_text("not json")
    assert warm_start.previous("judgement", read) is None
    assert warm_start.previous("judgement", lambda folder: read(folder / "missing")) is None
