"""The cancellation fee: the rule, and the exact fee for a named order."""

from __future__ import annotations

from actions.cancellation_fee import ActionExplainCancellationFee
from tests.trackers import make_tracker, run_action, texts


def test_the_rule_states_the_configured_fee(shop, monkeypatch):
    monkeypatch.setenv("CANCELLATION_FEE_PROCESSING", "7.50")
    from actions.orders import order_system_provider as provider

    provider.settings.cache_clear()
    messages, _ = run_action(ActionExplainCancellationFee(), make_tracker("fee?", "check_cancellation_fee"))
    assert "€7.50" in texts(messages)


def test_a_named_order_gets_its_own_fee(shop):
    tracker = make_tracker("fee for 00012345?", "check_cancellation_fee", slots={"order_id": "00012345"})
    messages, _ = run_action(ActionExplainCancellationFee(), tracker)
    assert "For order #00012345 (processing) the fee would be €4.95" in texts(messages)


def test_a_shipped_order_cannot_be_cancelled(shop):
    tracker = make_tracker("fee for 00123842?", "check_cancellation_fee", slots={"order_id": "00123842"})
    messages, _ = run_action(ActionExplainCancellationFee(), tracker)
    assert "can't be cancelled now" in texts(messages)
