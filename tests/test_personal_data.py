"""Customers' personal data out of training examples: same-shape placeholders, annotations kept, Rasa reads them."""

from __future__ import annotations

import re

import pytest
from rasa.shared.nlu.training_data.entities_parser import parse_training_example
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from bot.training.personal_data import anonymise

EMAIL_PLACEHOLDER = re.compile(r"\[customer\d{1,4}@example\.com\]\(email\)")
PHONE_PLACEHOLDER = re.compile(r"07700 900\d{3}")


def entities_of(example: str) -> list[tuple[str, str]]:
    """(entity, value) pairs as Rasa's own parser reads the example, checked against the plain text."""
    message = parse_training_example(example, "some_intent")
    plain = message.get("text")
    found = message.get("entities") or []
    for entity in found:
        assert plain[entity["start"] : entity["end"]] == entity["value"]
    return [(entity["entity"], entity["value"]) for entity in found]


def read_by_rasa(example: str) -> tuple[str, list[tuple[str, str]]]:
    """The example as one line of a Rasa NLU file, read back by Rasa's YAML reader: its text and entities."""
    document = f'version: "3.1"\nnlu:\n- intent: some_intent\n  examples: |\n    - {example}\n'
    [message] = RasaYAMLReader().reads(document).training_examples
    return message.get("text"), [(e["entity"], e["value"]) for e in message.get("entities") or []]


def test_an_email_becomes_a_placeholder_that_keeps_its_annotation():
    example = anonymise("my email is jane.doe@example.org")

    assert EMAIL_PLACEHOLDER.fullmatch(example.removeprefix("my email is "))
    assert "jane" not in example and "example.org" not in example
    [(entity, value)] = entities_of(example)
    assert entity == "email" and re.fullmatch(r"customer\d{1,4}@example\.com", value)


def test_an_order_number_becomes_as_many_other_digits_annotated_as_order_id():
    example = anonymise("where is order 00123842 please")

    match = re.fullmatch(r"where is order \[(\d{8})\]\(order_id\) please", example)
    assert match and match.group(1) != "00123842"
    assert entities_of(example) == [("order_id", match.group(1))]


def test_an_order_number_written_with_a_hash_keeps_the_hash():
    example = anonymise("status of #4455667 ?")

    match = re.fullmatch(r"status of \[#(\d{7})\]\(order_id\) \?", example)
    assert match and match.group(1) != "4455667"


@pytest.mark.parametrize("digits", ["12345", "1234567890"])
def test_order_numbers_are_five_to_ten_digits(digits):
    example = anonymise(f"order {digits}")

    assert re.fullmatch(rf"order \[\d{{{len(digits)}}}\]\(order_id\)", example)
    assert digits not in example


def test_four_digits_are_not_an_order_number():
    assert anonymise("it costs 1234 pence") == "it costs 1234 pence"


@pytest.mark.parametrize("phone", ["07911 123456", "+44 7911 123456", "020 7946 0958", "07911-123-456"])
def test_a_phone_number_becomes_a_drama_number_without_annotation(phone):
    example = anonymise(f"call me on {phone} tonight")

    match = re.fullmatch(r"call me on (.+) tonight", example)
    assert match and PHONE_PLACEHOLDER.fullmatch(match.group(1))
    assert "[" not in example and entities_of(example) == []


def test_nothing_of_the_original_values_remains():
    text = "I'm jane.doe@example.org, order #00123842 and 99887766, phone +44 7911 123456"

    example = anonymise(text)

    for original in ("jane", "doe", "example.org", "00123842", "99887766", "7911", "123456"):
        assert original not in example
    assert [entity for entity, _ in entities_of(example)] == ["email", "order_id", "order_id"]


def test_the_same_value_gets_the_same_placeholder_wherever_it_appears():
    first = anonymise("is 00123842 shipped? mail jane.doe@example.org or 07911 123456")
    second = anonymise("refund 00123842 to jane.doe@example.org, call 07911 123456 now")

    def values(example):
        return re.findall(r"\[([^\]]+)\]", example) + PHONE_PLACEHOLDER.findall(example)

    assert sorted(values(first)) == sorted(values(second))
    assert anonymise("order 00123842 and 00123842").count(values(first)[0]) == 2


def test_different_values_get_different_placeholders():
    orders = {anonymise(f"order {n}") for n in ("00123842", "00123843", "00123844")}
    emails = {anonymise(address) for address in ("jane.doe@example.org", "john@example.net")}
    phones = {anonymise(f"call {n}") for n in ("07911 123456", "07911 123457", "020 7946 0958")}

    assert (len(orders), len(emails), len(phones)) == (3, 2, 3)


def test_an_order_number_the_nlu_found_is_replaced_once_not_twice():
    text = "where is 00123842"
    nlu = [{"entity": "order_id", "value": "00123842", "start": 9, "end": 17}]

    example = anonymise(text, nlu)

    assert re.fullmatch(r"where is \[\d{8}\]\(order_id\)", example)
    assert example == anonymise(text)


def test_an_invoice_number_the_nlu_found_is_replaced_and_stays_an_invoice_id():
    text = "send me invoice #48213"
    example = anonymise(text, [{"entity": "invoice_id", "value": "#48213", "start": 16, "end": 22}])

    assert re.fullmatch(r"send me invoice \[#\d{5}\]\(invoice_id\)", example)
    assert "48213" not in example
    assert [entity for entity, _ in read_by_rasa(example)[1]] == ["invoice_id"]


def test_an_nlu_email_entity_covering_part_of_the_address_still_hides_all_of_it():
    text = "my email is jane.doe@example.org"
    partial = [{"entity": "email", "start": 12, "end": 20}]  # "jane.doe"

    example = anonymise(text, partial)

    assert example == anonymise(text)
    assert "jane" not in example and "example.org" not in example
    assert [entity for entity, _ in entities_of(example)] == ["email"]


def test_an_order_id_entity_over_a_number_too_long_for_the_pattern_is_still_replaced():
    text = "track order number 370019284756"  # 12 digits: the NLU knows it is an order, the pattern does not
    example = anonymise(text, [{"entity": "order_id", "start": 19, "end": 31}])

    match = re.fullmatch(r"track order number \[(\d{12})\]\(order_id\)", example)
    assert match and match.group(1) != "370019284756"


def test_a_non_personal_entity_keeps_its_value_and_annotation():
    example = anonymise("please ship it to Paris", [{"entity": "city", "value": "Paris", "start": 18, "end": 23}])

    assert example == "please ship it to [Paris](city)"
    assert entities_of(example) == [("city", "Paris")]


@pytest.mark.parametrize(
    "bad",
    [
        {"entity": "city", "start": 23, "end": 18},
        {"entity": "city", "start": 18, "end": 99},
        {"entity": "city", "start": -5, "end": 23},
        {"entity": "city", "start": "18", "end": "23"},
        {"entity": "city", "start": 18},
        {"entity": "", "start": 18, "end": 23},
        {"start": 18, "end": 23},
        {"entity": "city", "start": 18, "end": 18},
    ],
)
def test_an_entity_with_bad_offsets_is_ignored(bad):
    assert anonymise("please ship it to Paris", [bad]) == "please ship it to Paris"


def test_a_bad_entity_does_not_stop_personal_data_being_replaced():
    example = anonymise("order 00123842", [{"entity": "order_id", "start": 6, "end": 400}])

    assert "00123842" not in example and re.fullmatch(r"order \[\d{8}\]\(order_id\)", example)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[x](y) where is my order", []),
        ('I live in [London](city) and [here]{"entity": "order_id"}', []),
        ("[jane@x.co](order_id)", ["email"]),
        ("<script>alert('order 00123842')</script>", ["order_id"]),
        ("'; DROP TABLE hub_review_items; -- mail me at eve@evil.example", ["email"]),
        ("where is it?? 😡📦🙏 #44556677", ["order_id"]),
        ("line one\nline two\r\n\tline three\u2028four\x85five", []),
        ("]] [[ ((order 12345)) ]] }{ ", ["order_id"]),
        ("- intent: greet\n  examples: |\n    - hi", []),
        ('a "quoted" \\ backslash: and # a hash & *anchor !tag %', []),
    ],
)
def test_hostile_text_becomes_one_clean_line_that_rasa_reads_with_only_the_intended_entities(text, expected):
    example = anonymise(text)

    assert "\n" not in example and "\r" not in example and example == example.strip()
    assert "  " not in example
    assert [entity for entity, _ in entities_of(example)] == expected
    plain, entities = read_by_rasa(example)
    assert [entity for entity, _ in entities] == expected
    assert plain == parse_training_example(example).get("text")


def test_the_customers_own_brackets_survive_as_parentheses():
    assert anonymise("[x](y) is what I typed") == "(x)(y) is what I typed"


def test_an_empty_message_is_an_empty_example():
    assert anonymise("") == "" and anonymise("  \n\t ") == ""


def test_control_characters_do_not_survive_into_the_example():
    example = anonymise("beep\x07 esc\x1b[31m del\x7f order 00123842")

    read_by_rasa(example)  # raises YamlSyntaxException: unacceptable character #x0007
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", example)


def test_a_non_personal_entity_over_an_order_number_does_not_keep_the_number():
    example = anonymise("my order is 00123842", [{"entity": "number", "start": 12, "end": 20}])

    assert "00123842" not in example  # gives "my order is [00123842](number)"


def test_an_order_number_right_after_no_dot_is_replaced():
    example = anonymise("has order no.00123842 shipped")

    assert "00123842" not in example  # gives "has order no.00123842 shipped"
