"""Wherever the bot offers a person, a button does it: the customer never has to find the words."""

from __future__ import annotations

import re

import pytest

from actions.human_offer import PERSON_BUTTON
from actions.refunds import REFUSAL_ANSWERS
from bot.domain.yaml_file import load_yaml
from tests.rasa_stack import PROJECT_ROOT

OFFERS_A_PERSON = re.compile(r"\b(a person|our team|someone from|talk to (us|someone))\b", re.I)
PERSON_PAYLOADS = {"/contact_human_agent", "/affirm"}


def responses() -> list[tuple[str, dict]]:
    domain = load_yaml(PROJECT_ROOT / "domain.yml")
    return [(name, variant) for name, variants in domain["responses"].items() for variant in variants]


@pytest.mark.parametrize(("name", "variant"), responses(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_response_that_mentions_a_person_has_the_button(name, variant):
    if not OFFERS_A_PERSON.search(variant.get("text", "")):
        return
    payloads = {button["payload"] for button in variant.get("buttons", [])}
    assert payloads & PERSON_PAYLOADS, f"{name} offers a person with no button: {variant['text'][:80]}"


@pytest.mark.parametrize("code", sorted(REFUSAL_ANSWERS))
def test_a_refusal_that_mentions_a_person_has_the_button(code):
    text, buttons = REFUSAL_ANSWERS[code]
    if OFFERS_A_PERSON.search(text):
        assert PERSON_BUTTON in buttons, code
