"""Scoring negative emotion: customer-service cues count, shop words are not anger, and it is cheap."""

from __future__ import annotations

import time

import pytest

from bot.domain.emotion import scorer_for


@pytest.fixture(scope="module")
def scorer():
    return scorer_for()


@pytest.mark.parametrize(
    "text",
    [
        "cancel my order",
        "I want to cancel order 00012345 and get a refund",
        "my parcel is late, where is it?",
        "there is a problem with my invoice",
        "the item arrived damaged, how do I return it?",
        "please delete my account",
        "is there a cancellation fee?",
        "tell me a joke",
        "",
    ],
)
def test_neutral_requests_with_scary_words_are_not_anger(scorer, text):
    score = scorer.score(text)
    assert score.level == "none" and score.label == "neutral"


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("WHERE IS MY ORDER YOU PEOPLE", "shouting"),
        ("where is my order!!", "exclamations"),
        ("where is my damn order", "profanity"),
        ("this shop is a joke", "insult"),
        ("this bot is useless", "insult"),
        ("I am fed up with waiting", "fury"),
        ("this is the third time I ask", "asked_again"),
        ("I will never order from you again", "threat_to_leave"),
        ("I'm desperate, please help me", "distress"),
        ("ugh, the checkout again", "annoyance"),
    ],
)
def test_customer_service_cues_are_found(scorer, text, cue):
    assert cue in scorer.score(text).cues


def test_words_inside_other_words_are_not_cues(scorer):
    assert scorer.score("hello, shell company, classic assessment").cues == ()


def test_strong_anger_and_distress_are_strong_and_labelled(scorer):
    furious = scorer.score("I am absolutely furious, you useless bunch of clowns, never ordering again")
    desperate = scorer.score("I'm desperate, I can't afford to lose this money, please please help me")
    assert (furious.level, furious.label) == ("strong", "anger")
    assert (desperate.level, desperate.label) == ("strong", "distress")


def test_mild_annoyance_is_mild(scorer):
    score = scorer.score("ugh this is annoying, yes cancel it")
    assert (score.level, score.label) == ("mild", "frustration")


def test_the_output_is_json_ready(scorer):
    data = scorer.score("WHY IS THIS SO SLOW!!").to_json()
    assert set(data) == {"score", "level", "label", "cues", "sentiment"}
    assert 0 <= data["score"] <= 1


def test_scoring_a_message_takes_well_under_two_milliseconds(scorer):
    text = "I am FURIOUS, this is the third time I ask!!! where is my order 00123842, you useless lot"
    started = time.perf_counter()
    for _ in range(500):
        scorer.score(text)
    assert (time.perf_counter() - started) / 500 < 0.002
