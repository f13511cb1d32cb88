"""Lets the Rasa server check each JSON schema once, instead of on every call.

Rasa checks every answer of the action server with `jsonschema.validate(answer, schema)`, and that function first
checks the schema itself against the JSON Schema meta-schema. Rasa's schema of events is large, so that check cost
30-60 ms on each call to the action server, the answer itself 2 ms: measured with py-spy in a Rasa server under the
10 x 50 load of `make bench`, 25% of the server's CPU went to it. The schema never changes while Rasa runs.

`check_each_schema_once()` puts in `jsonschema.validate`'s place a function that checks each distinct schema (by
its content) the first time it sees it, and otherwise validates exactly as `jsonschema.validate` does: the same
validator class, the same best error raised. It changes no line of Rasa's.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import jsonschema
import jsonschema.validators
from jsonschema.exceptions import best_match

logger = logging.getLogger(__name__)

MAX_SCHEMAS = 64
"""Distinct schemas whose validators are kept; Rasa uses a handful, so more means someone builds them on the fly."""

_original = jsonschema.validators.validate
_validators: dict[tuple[str, type | None], Any] = {}


def check_each_schema_once() -> None:
    """Install the function in `jsonschema.validate`'s place; calling it again changes nothing."""
    if jsonschema.validate is not validate:
        jsonschema.validate = validate
        jsonschema.validators.validate = validate
        logger.info("jsonschema checks each schema once in this process")


def validate(instance: Any, schema: Any, cls: type | None = None, *args: Any, **kwargs: Any) -> None:
    """`jsonschema.validate`, with the schema checked the first time its content is seen."""
    if args or kwargs:
        _original(instance, schema, cls, *args, **kwargs)
        return
    try:
        key = (json.dumps(schema, sort_keys=True), cls)
    except (TypeError, ValueError):  # not plain JSON: leave it all to jsonschema
        _original(instance, schema, cls)
        return
    validator = _validators.get(key)
    if validator is None:
        own = json.loads(key[0])  # a copy: the caller may change its dict afterwards
        chosen: Any = cls or jsonschema.validators.validator_for(own)
        chosen.check_schema(own)
        validator = chosen(own)
        if len(_validators) < MAX_SCHEMAS:
            _validators[key] = validator
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise error
