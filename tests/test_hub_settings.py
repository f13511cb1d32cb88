"""Hub configuration: working defaults, business hours, clear errors."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.settings import BusinessHours, HubSettings
from bot.domain.errors import ConfigurationError


def test_defaults_run_locally():
    settings = HubSettings.from_env({})
    assert (settings.host, settings.port, settings.rasa_url) == ("127.0.0.1", 8080, "http://127.0.0.1:5005")
    assert settings.business_hours is None and settings.auto_assign is False


def test_business_hours_know_the_day_the_time_and_the_zone():
    hours = BusinessHours.parse("Mon-Fri 09:00-18:00 Europe/London")
    monday_morning_utc = dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.timezone.utc)
    assert hours.is_open(monday_morning_utc)
    assert not hours.is_open(monday_morning_utc.replace(hour=8))
    assert not hours.is_open(dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.timezone.utc))


def test_a_week_can_wrap_around_the_weekend():
    hours = BusinessHours.parse("Sat-Mon 10:00-14:00 UTC")
    assert hours.days == frozenset({5, 6, 0})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HUB_PORT", "eighty"),
        ("HUB_PORT", "-1"),
        ("BUSINESS_HOURS", "weekdays"),
        ("BUSINESS_HOURS", "Mon-Fri 9:00-17:00 Mars/Base"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigurationError, match=name):
        HubSettings.from_env({name: value})


def test_without_a_token_telegram_is_off_and_the_hub_still_starts():
    settings = HubSettings.from_env({})

    assert settings.telegram.enabled is False
    assert settings.telegram.mode == "polling"
    assert settings.telegram.api_url == "https://api.telegram.org"
    assert settings.port == 8080


def test_a_webhook_url_means_webhook_mode():
    telegram = HubSettings.from_env(
        {"TELEGRAM_TOKEN": " 123:abc ", "TELEGRAM_WEBHOOK_URL": "https://hub.example.com/telegram/"}
    ).telegram

    assert telegram.enabled
    assert telegram.token == "123:abc"
    assert telegram.mode == "webhook"
    assert telegram.webhook_url == "https://hub.example.com/telegram"


def test_polling_can_be_asked_for_even_with_a_webhook_url():
    telegram = HubSettings.from_env(
        {
            "TELEGRAM_TOKEN": "123:abc",
            "TELEGRAM_MODE": " Polling ",
            "TELEGRAM_WEBHOOK_URL": "https://hub.example.com/telegram",
            "TELEGRAM_POLL_TIMEOUT": "50",
        }
    ).telegram

    assert telegram.mode == "polling"
    assert telegram.poll_timeout == 50


@pytest.mark.parametrize("url", ["", "http://hub.example.com/telegram", "hub.example.com/telegram"])
def test_webhook_mode_needs_a_public_https_url(url):
    with pytest.raises(ConfigurationError, match="TELEGRAM_WEBHOOK_URL"):
        HubSettings.from_env({"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_URL": url})


def test_a_plain_http_webhook_url_is_refused_rather_than_quietly_polled():
    with pytest.raises(ConfigurationError, match="https"):
        HubSettings.from_env({"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_URL": "http://hub.example.com/telegram"})


@pytest.mark.parametrize("secret", ["has space", "semi;colon", "ünïcode", "x" * 257])
def test_a_webhook_secret_telegram_would_refuse_is_a_configuration_error(secret):
    with pytest.raises(ConfigurationError, match="TELEGRAM_WEBHOOK_SECRET"):
        HubSettings.from_env({"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_SECRET": secret})


def test_a_webhook_secret_of_letters_digits_dashes_and_underscores_is_kept():
    secret = "Frontline_secret-2026" + "x" * 235

    telegram = HubSettings.from_env({"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_SECRET": secret}).telegram

    assert telegram.webhook_secret == secret


def test_the_api_url_loses_its_trailing_slash():
    telegram = HubSettings.from_env({"TELEGRAM_API_URL": " http://127.0.0.1:8081/ "}).telegram

    assert telegram.api_url == "http://127.0.0.1:8081"


@pytest.mark.parametrize("mode", ["webhooks", "long-polling", "auto"])
def test_an_unknown_telegram_mode_is_a_configuration_error(mode):
    with pytest.raises(ConfigurationError, match="TELEGRAM_MODE"):
        HubSettings.from_env({"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_MODE": mode})


@pytest.mark.parametrize("value", ["soon", "0"])
def test_a_bad_poll_timeout_names_the_variable(value):
    with pytest.raises(ConfigurationError, match="TELEGRAM_POLL_TIMEOUT"):
        HubSettings.from_env({"TELEGRAM_POLL_TIMEOUT": value})


def test_the_shop_asks_csat_after_a_conversation_unless_it_says_otherwise():
    assert HubSettings.from_env({}).feedback_questions == ("csat",)


@pytest.mark.parametrize(
    ("value", "questions"),
    [
        ("csat", ("csat",)),
        ("nps", ("nps",)),
        ("csat,nps", ("csat", "nps")),
        (" NPS , csat ", ("nps", "csat")),
        ("nps,nps", ("nps",)),
        ("csat,nps,csat", ("csat", "nps")),
    ],
)
def test_feedback_questions_are_asked_in_the_order_given_once_each(value, questions):
    assert HubSettings.from_env({"FEEDBACK_QUESTIONS": value}).feedback_questions == questions


@pytest.mark.parametrize("value", ["", " , ", "stars", "csat,foo", "csat;nps"])
def test_an_unknown_feedback_question_is_a_configuration_error_that_says_what_is_allowed(value):
    with pytest.raises(ConfigurationError, match="FEEDBACK_QUESTIONS must be csat, nps or csat,nps") as error:
        HubSettings.from_env({"FEEDBACK_QUESTIONS": value})
    assert repr(value) in str(error.value)


def test_a_conversation_ends_after_a_day_idle_unless_the_shop_says_otherwise():
    assert HubSettings.from_env({}).conversation_idle_minutes == 24 * 60
    assert HubSettings.from_env({"CONVERSATION_IDLE_MINUTES": "30"}).conversation_idle_minutes == 30


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5", ""])
def test_idle_minutes_must_be_a_positive_whole_number(value):
    with pytest.raises(ConfigurationError, match="CONVERSATION_IDLE_MINUTES"):
        HubSettings.from_env({"CONVERSATION_IDLE_MINUTES": value})


def test_the_public_url_defaults_to_where_the_hub_listens_and_says_https_when_it_is():
    assert HubSettings.from_env({}).public_url == "http://127.0.0.1:8080"
    assert HubSettings.from_env({"HUB_HOST": "0.0.0.0", "HUB_PORT": "9000"}).public_url == "http://0.0.0.0:9000"
    assert HubSettings.from_env({"PUBLIC_URL": "https://support.example.com/"}).public_url == (
        "https://support.example.com"
    )


@pytest.mark.parametrize("url", ["support.example.com", "ftp://support.example.com", "https://x.example/console"])
def test_a_public_url_that_is_not_an_origin_is_refused(url):
    with pytest.raises(ConfigurationError, match="PUBLIC_URL"):
        HubSettings.from_env({"PUBLIC_URL": url})


def test_login_limits_and_the_heartbeat_can_be_set_but_the_heartbeat_stays_under_the_online_window():
    settings = HubSettings.from_env(
        {"LOGIN_FAILURES_PER_ACCOUNT": "3", "LOGIN_FAILURES_PER_ADDRESS": "9", "LOGIN_WINDOW_MINUTES": "5"}
    )
    limits = settings.login_limits
    assert (limits.per_account, limits.per_address, limits.window) == (3, 9, dt.timedelta(minutes=5))
    assert HubSettings.from_env({"AGENT_HEARTBEAT_SECONDS": "1"}).heartbeat_seconds == 1
    with pytest.raises(ConfigurationError, match="AGENT_HEARTBEAT_SECONDS"):
        HubSettings.from_env({"AGENT_HEARTBEAT_SECONDS": "60"})


def test_a_hub_runs_alone_unless_a_redis_url_is_given():
    assert HubSettings.from_env({}).redis_url == ""
    settings = HubSettings.from_env({"REDIS_URL": "redis://10.0.0.5:6379/2", "REDIS_PREFIX": "shop-eu"})
    assert (settings.redis_url, settings.redis_prefix) == ("redis://10.0.0.5:6379/2", "shop-eu")


@pytest.mark.parametrize(
    ("name", "value"), [("REDIS_URL", "10.0.0.5:6379"), ("REDIS_PREFIX", "a b"), ("REDIS_PREFIX", "")]
)
def test_a_bad_redis_setting_names_the_variable(name, value):
    with pytest.raises(ConfigurationError, match=name):
        HubSettings.from_env({name: value})
