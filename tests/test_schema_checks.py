"""The Rasa server checks each JSON schema once, and judges every action server answer as jsonschema would."""

from __future__ import annotations

import jsonschema
import pytest
from jsonschema import Draft7Validator
from rasa.core.actions.action import RemoteAction

from bot.rasa import schema_checks
from bot.rasa.schema_checks import check_each_schema_once, validate
from bot.rasa.tracker_store import DatabaseUrlTrackerStore
from tests.test_tracker_store import DOMAIN

ANSWER = {
    "events": [{"event": "slot", "name": "order_id", "value": "00123842", "timestamp": None}],
    "responses": [{"text": "Your order is on its way.", "buttons": []}],
}


class CountingValidator(Draft7Validator):
    checks = 0

    @classmethod
    def check_schema(cls, schema, *args, **kwargs):
        cls.checks += 1
        return super().check_schema(schema, *args, **kwargs)


def test_a_schema_is_checked_the_first_time_only_even_when_built_anew_for_each_call():
    CountingValidator.checks = 0
    for _ in range(5):
        validate(ANSWER, RemoteAction.action_response_format_spec(), cls=CountingValidator)
    assert CountingValidator.checks == 1


def test_a_valid_answer_passes_and_an_invalid_one_fails_with_jsonschemas_own_error():
    schema = RemoteAction.action_response_format_spec()
    bad = {"events": [{"event": "slot", "name": 42}], "responses": "not a list"}
    validate(ANSWER, schema)
    with pytest.raises(jsonschema.ValidationError) as ours:
        validate(bad, schema)
    with pytest.raises(jsonschema.ValidationError) as theirs:
        schema_checks._original(bad, schema)
    assert (ours.value.message, list(ours.value.path)) == (theirs.value.message, list(theirs.value.path))


def test_a_broken_schema_is_refused_every_time():
    broken = {"type": "object", "properties": {"events": {"type": 12}}}
    for _ in range(2):
        with pytest.raises(jsonschema.SchemaError):
            validate({}, broken)


def test_the_cached_schema_is_a_copy_the_caller_cannot_change_afterwards():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    validate({"n": 1}, schema)
    schema["properties"]["n"]["type"] = "string"
    validate({"n": "one"}, schema)  # the changed schema is a new one, checked and used as it now is
    with pytest.raises(jsonschema.ValidationError):
        validate({"n": 1}, schema)


def test_a_rasa_server_uses_it_for_the_action_servers_answers_once_its_tracker_store_is_loaded(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonschema, "validate", schema_checks._original)  # as a fresh process has it
    monkeypatch.setattr(jsonschema.validators, "validate", schema_checks._original)
    DatabaseUrlTrackerStore(DOMAIN, url=f"sqlite:///{tmp_path / 'rasa.db'}")
    assert jsonschema.validate is validate and jsonschema.validators.validate is validate
    action = RemoteAction("action_track_order", None)
    assert action._validate_action_result(ANSWER)
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "none"})


def test_installing_it_again_changes_nothing():
    check_each_schema_once()
    check_each_schema_once()
    assert jsonschema.validate is validate
