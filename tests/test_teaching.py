"""README's "Teach the bot something new", followed to the letter in a copy of the project: a new intent is
written, validated, trained and reloaded into the running bot while a conversation is under way."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.rasa import warm_start
from tests.hub_clients import CustomerClient, reload_model
from tests.rasa_stack import MODEL, PROJECT_ROOT, TOKEN, VENV_BIN, RasaStack, api_headers

GIFT_ANSWER = "Gift wrapping is €3.50"


def guide_blocks() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    guide = readme.split("## Teach the bot something new", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", guide, re.S)


def follow_the_guide(root: Path) -> None:
    """Steps 1-3, as a trainer would do them with a text editor."""
    data_file, intent_line, response, test_story = guide_blocks()
    (root / "data" / "gift_wrapping.yml").write_text(data_file, encoding="utf-8")
    domain = (root / "domain.yml").read_text(encoding="utf-8")
    domain = domain.replace("\nintents:\n", "\nintents:\n" + intent_line, 1)
    domain = domain.replace("\nresponses:\n", "\nresponses:\n" + response, 1)
    (root / "domain.yml").write_text(domain, encoding="utf-8")
    with (root / "tests" / "test_stories.yml").open("a", encoding="utf-8") as stories:
        stories.write(test_story)


def run_in(root: Path, *command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def taught(tmp_path_factory) -> dict[str, object]:
    """The copy after the guide's steps 1-4 up to `make train`: its model, and how long training took."""
    root = tmp_path_factory.mktemp("teaching")
    for name in ("config.yml", "domain.yml", "credentials.yml", "endpoints.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    (root / "tests").mkdir()
    shutil.copy(PROJECT_ROOT / "tests" / "test_stories.yml", root / "tests" / "test_stories.yml")
    # The trainer's project has been trained before (`make run` did it): its last weights are the warm start.
    warm = warm_start.location()
    if not warm.is_absolute() and (PROJECT_ROOT / warm).is_dir():
        shutil.copytree(PROJECT_ROOT / warm, root / warm)
    saved = time.monotonic()
    follow_the_guide(root)
    run_in(root, str(VENV_BIN / "rasa"), "data", "validate", "--fail-on-warnings", timeout=300)
    run_in(root, sys.executable, "-m", "bot.training.data_checks", "--root", str(root), timeout=300)
    started = time.monotonic()
    run_in(root, str(VENV_BIN / "rasa"), "train", "--fixed-model-name", "frontline", "--out", "models", timeout=1800)
    trained = time.monotonic()
    return {
        "root": root,
        "model": root / "models" / "frontline.tar.gz",
        "validate_seconds": started - saved,
        "train_seconds": trained - started,
    }


def test_the_guide_has_the_four_blocks_it_promises():
    data_file, intent_line, response, test_story = guide_blocks()
    assert "intent: ask_gift_wrapping" in data_file and "rule:" in data_file
    assert intent_line.strip() == "- ask_gift_wrapping"
    assert response.startswith("  utter_gift_wrapping:") and GIFT_ANSWER in response
    assert "action: utter_gift_wrapping" in test_story


@pytest.mark.trains(6)
def test_a_new_intent_goes_live_without_dropping_a_conversation(assistant: RasaStack, taught, tmp_path):
    # the hub reloads only models inside its project's models/: the taught copy is its project
    assistant.start_hub(
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}", "FRONTLINE_PROJECT_DIR": str(taught["root"])}
    )

    async def say(customer: CustomerClient, text: str) -> str:
        seen = len(customer.events)
        await customer.say(text)
        reply = await customer.wait_for(
            lambda e: e["type"] == "message" and e["message"]["sender"] == "bot", after=seen, timeout=60
        )
        await asyncio.sleep(0.5)
        return "\n".join(m["text"] for m in customer.messages("bot") if m["id"] >= reply["message"]["id"])

    async def scenario() -> float:
        ongoing, newcomer = CustomerClient(assistant.hub_url), CustomerClient(assistant.hub_url)
        try:
            await ongoing.connect()
            await newcomer.connect()
            assert "What's your order number?" in await say(ongoing, "what's the status of my package")
            assert GIFT_ANSWER not in await say(newcomer, "do you offer gift wrapping?")
            started = time.monotonic()
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx.AsyncClient(base_url=assistant.hub_url, headers=headers, timeout=30) as http:
                reload = await reload_model(http, str(taught["model"]))
            reload_seconds = time.monotonic() - started
            assert reload["state"] == "done", reload
            assert "on its way" in await say(ongoing, "it's 00123842")
            assert GIFT_ANSWER in await say(newcomer, "can you gift wrap my order?")
            assert "Station Road" in await say(ongoing, "my email is anna.freeman@example.com")
            return reload_seconds
        finally:
            await ongoing.close()
            await newcomer.close()

    try:
        reload_seconds = asyncio.run(scenario())
    finally:
        restored = httpx.put(
            f"{assistant.rasa_url}/model", headers=api_headers(), json={"model_file": str(MODEL)}, timeout=600
        )
        assistant.stop_hub()
    assert restored.status_code == 204
    steps = (taught["validate_seconds"], taught["train_seconds"], reload_seconds)
    print(
        f"\nexamples saved -> the widget answers: {sum(steps):.0f} s "
        f"(validate {steps[0]:.0f} s, train {steps[1]:.0f} s, reload {steps[2]:.1f} s)"
    )
