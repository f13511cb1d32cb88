"""Hub configuration: working defaults, business hours, clear errors."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.settings import ConfigurationError
from bot.settings import BusinessHours, HubSettings


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
