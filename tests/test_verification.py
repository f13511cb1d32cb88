"""Who the customer is: email on the order, or a channel's signed customer id."""

from __future__ import annotations

import asyncio

from actions.verification import email_matches, is_verified_for, vouched_customer_id
from bot.domain.tokens import sign_customer_id
from tests.trackers import make_tracker

SECRET = "s3cret"


def test_a_signed_customer_id_is_trusted_and_a_tampered_one_is_not():
    good = make_tracker(metadata={"customer_id": "C0001", "customer_signature": sign_customer_id("C0001", SECRET)})
    swapped = make_tracker(metadata={"customer_id": "C0002", "customer_signature": sign_customer_id("C0001", SECRET)})
    unsigned = make_tracker(metadata={"customer_id": "C0001"})
    garbage = make_tracker(metadata={"customer_id": ["C0001"], "customer_signature": "é"})
    assert vouched_customer_id(good, SECRET) == "C0001"
    assert vouched_customer_id(swapped, SECRET) is None
    assert vouched_customer_id(unsigned, SECRET) is None
    assert vouched_customer_id(garbage, SECRET) is None


def test_emails_match_whatever_the_case_and_spaces(shop):
    order = asyncio.run(shop.get_order("00123842"))
    assert email_matches(order, "  Anna.Freeman@EXAMPLE.com ")
    assert not email_matches(order, "anna.freeman@example.co")
    assert not email_matches(order, "")
    assert not email_matches(order, "ännä@example.com")


def test_a_verified_slot_only_opens_that_customers_orders(shop):
    own, other = asyncio.run(shop.get_order("00123842")), asyncio.run(shop.get_order("04587345"))
    tracker = make_tracker(slots={"verified_customer_id": "C0001"})
    assert is_verified_for(tracker, own, SECRET)
    assert not is_verified_for(tracker, other, SECRET)
