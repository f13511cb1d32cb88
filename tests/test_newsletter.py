"""Newsletter: the customer's words decide subscribe or unsubscribe, and the choice is stored."""

from __future__ import annotations

from sqlalchemy import select

from actions.newsletter import ActionUpdateNewsletter, ValidateNewsletterForm, newsletter_choice
from actions.orders import shop_schema as t
from tests.trackers import make_tracker, run_action, slot_events, texts


def stored(shop, email):
    with shop._engine.connect() as conn:
        return conn.execute(
            select(t.newsletter_subscriptions.c.subscribed).where(t.newsletter_subscriptions.c.email == email)
        ).scalar_one_or_none()


def test_the_words_decide_the_direction():
    assert newsletter_choice("please unsubscribe me from the newsletter") == "unsubscribe"
    assert newsletter_choice("stop sending me promo emails") == "unsubscribe"
    assert newsletter_choice("sign me up for the newsletter") == "subscribe"
    assert newsletter_choice("newsletter") is None


def test_the_form_takes_the_direction_from_the_first_message(shop):
    tracker = make_tracker(
        "I want to opt out of the mailing list", "newsletter_subscription", active_loop="newsletter_form"
    )
    _, events = run_action(ValidateNewsletterForm(), tracker)
    assert slot_events(events)["newsletter_choice"] == "unsubscribe"


def test_a_malformed_email_is_asked_again(shop):
    tracker = make_tracker(
        "my email is bob at home",
        "inform",
        slots={"newsletter_choice": "subscribe", "requested_slot": "email"},
        active_loop="newsletter_form",
        candidates={"email": "bob at home"},
    )
    messages, events = run_action(ValidateNewsletterForm(), tracker)
    assert slot_events(events)["email"] is None
    assert "doesn't look like an email" in texts(messages)


def test_subscribing_then_unsubscribing_is_stored(shop):
    for choice, expected in (("subscribe", True), ("unsubscribe", False)):
        slots = {"email": "new.reader@example.com", "newsletter_choice": choice}
        messages, _ = run_action(ActionUpdateNewsletter(), make_tracker("ok", "affirm", slots=slots))
        assert stored(shop, "new.reader@example.com") is expected
        assert "Done" in texts(messages)
