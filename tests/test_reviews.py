"""Reviews: a rating and a comment are stored; an unhappy customer is offered a person."""

from __future__ import annotations

from sqlalchemy import select

from actions.orders import shop_schema as t
from actions.reviews import ActionSaveReview, ValidateReviewForm, parse_rating
from tests.trackers import make_tracker, run_action, slot_events, texts


def test_ratings_are_read_from_numbers_words_and_stars():
    assert parse_rating("5") == 5
    assert parse_rating("4/5") == 4
    assert parse_rating("I'd say three stars") == 3
    assert parse_rating("★★") == 2
    assert parse_rating("10") is None
    assert parse_rating("great") is None


def test_a_rating_outside_1_to_5_is_asked_again(shop):
    tracker = make_tracker("9", "inform", slots={"requested_slot": "review_rating"}, active_loop="review_form")
    messages, events = run_action(ValidateReviewForm(), tracker)
    assert "review_rating" not in slot_events(events)
    assert "from 1 (poor) to 5" in texts(messages)


def test_a_review_is_stored_with_its_text_as_written(shop):
    comment = "Fast delivery <b>and</b> lovely packaging'; DROP TABLE reviews; --"
    slots = {"review_rating": 5.0, "review_text": comment, "verified_customer_id": "C0001"}
    messages, _ = run_action(ActionSaveReview(), make_tracker(comment, "inform", slots=slots))
    with shop._engine.connect() as conn:
        row = conn.execute(select(t.reviews)).one()
    assert (row.rating, row.text, row.customer_id) == (5, comment, "C0001")
    assert "saved" in texts(messages)


def test_a_poor_rating_offers_a_person(shop):
    slots = {"review_rating": 1.0, "review_text": "Never arrived"}
    messages, events = run_action(ActionSaveReview(), make_tracker("Never arrived", "inform", slots=slots))
    assert "sorry we let you down" in texts(messages)
    assert slot_events(events)["handoff_reason"] == "complex"
