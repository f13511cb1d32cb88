"""The Telegram channel's life in the hub: long polling for local development, and off without a usable token."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot.channels.telegram.channel import _rating
from tests.rasa_stack import RasaStack
from tests.telegram_api import TelegramApiServer, make_user


@pytest.fixture(scope="module")
def telegram() -> Iterator[TelegramApiServer]:
    with TelegramApiServer(max_poll_seconds=1.0) as api:
        yield api


@pytest.fixture(scope="module")
def polling_hub(assistant: RasaStack, telegram: TelegramApiServer, tmp_path_factory) -> Iterator[RasaStack]:
    database = tmp_path_factory.mktemp("polling_hub") / "hub.db"
    assistant.start_hub(
        env={
            "DATABASE_URL": f"sqlite:///{database}",
            "TELEGRAM_TOKEN": telegram.token,
            "TELEGRAM_API_URL": telegram.url,
            "TELEGRAM_MODE": "polling",
            "TELEGRAM_POLL_TIMEOUT": "1",
        }
    )
    try:
        yield assistant
    finally:
        assistant.stop_hub()


def answer_to(telegram: TelegramApiServer, chat_id: int, fragment: str, timeout: float = 20.0) -> dict:
    return telegram.wait_for(
        "sendMessage",
        lambda c: c.params.get("chat_id") == chat_id and fragment in str(c.params.get("text")) and c.status == 200,
        timeout=timeout,
    ).params


def webhook_status(hub: RasaStack) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{hub.hub_url}/telegram/webhook", data=b"{}", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_polling_mode_removes_any_webhook_and_answers_what_it_fetches(polling_hub, telegram):
    user = make_user(8880001, first_name="Lin")
    telegram.push_update(telegram.text_update("where is my order 00123842?", user=user))
    assert "on its way with DHL" in answer_to(telegram, user["id"], "on its way")["text"]
    assert telegram.calls("deleteWebhook"), "polling must not run while a webhook is set"
    assert telegram.webhook is None


def test_polling_mode_takes_button_taps_too(polling_hub, telegram):
    user = make_user(8880002, first_name="Mo")
    telegram.push_update(telegram.command_update("/start", user=user))
    greeting = answer_to(telegram, user["id"], "What can I do for you?")
    first = greeting["reply_markup"]["inline_keyboard"][0][0]
    telegram.push_update(telegram.callback_update(first["callback_data"], user=user))
    answer_to(telegram, user["id"], "order number")


def test_webhook_posts_without_the_secret_are_refused_in_polling_mode_too(polling_hub):
    status, body = webhook_status(polling_hub)
    assert status == 403 and body["error"]["code"] == "forbidden"


def hub_log_after(hub: RasaStack, start: int, expected: str, timeout: float = 20.0) -> str:
    """What the hub logged after byte `start`, once it contains `expected` (or the timeout passed)."""
    path = hub.workdir / "hub.log"
    deadline = time.monotonic() + timeout
    while True:
        with path.open("rb") as log:
            log.seek(start)
            text = log.read().decode(errors="replace")
        if expected in text or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def hub_log_size(hub: RasaStack) -> int:
    path = hub.workdir / "hub.log"
    return path.stat().st_size if path.exists() else 0


def test_a_refused_token_turns_the_channel_off_and_the_hub_runs(assistant, telegram, tmp_path):
    start = hub_log_size(assistant)
    assistant.start_hub(
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
            "TELEGRAM_TOKEN": "999:not-the-token",
            "TELEGRAM_API_URL": telegram.url,
            "TELEGRAM_MODE": "polling",
        }
    )
    expected = "Telegram channel is off: the Bot API refused the token"
    assert expected in hub_log_after(assistant, start, expected)
    assert webhook_status(assistant)[0] == 404


def test_without_a_token_the_channel_is_off_with_a_clear_line_and_the_hub_runs(assistant, tmp_path):
    start = hub_log_size(assistant)
    assistant.start_hub(env={"DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"})
    expected = "Telegram channel is off: TELEGRAM_TOKEN is not set"
    assert expected in hub_log_after(assistant, start, expected)
    status, body = webhook_status(assistant)
    assert status == 404 and body["error"]["code"] == "telegram_off"
    with urllib.request.urlopen(f"{assistant.hub_url}/healthz", timeout=10) as response:
        assert json.loads(response.read())["ok"] is True


@pytest.mark.parametrize(
    ("request_payload", "tapped", "rating"),
    [
        ({"rating_request": True, "question": "csat"}, "5", ("csat", 5)),
        ({"rating_request": True}, "1", ("csat", 1)),
        ({"rating_request": True, "question": "nps"}, "0", ("nps", 0)),
        ({"rating_request": True, "question": "nps"}, "10", ("nps", 10)),
        ({"rating_request": True, "question": "csat"}, "0", None),
        ({"rating_request": True}, "6", None),
        ({"rating_request": True, "question": "nps"}, "11", None),
        ({"rating_request": True, "question": "nps"}, "-1", None),
        ({"rating_request": True, "question": "nps"}, " 9", None),
        ({"rating_request": True, "question": "nps"}, "٩", None),
        ({"rating_request": True, "question": "stars"}, "5", None),
        ({"question": "nps"}, "9", None),
        ({}, "5", None),
    ],
)
def test_a_tap_rates_only_on_its_requests_scale(request_payload, tapped, rating):
    assert _rating(request_payload, tapped) == rating
