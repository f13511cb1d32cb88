"""Customers' personal data out of training examples: emails, order and invoice numbers and phone numbers become
placeholders of the same shape, and the entity annotation the model learns from is kept (an invoice number the
NLU found stays an `invoice_id`, though it looks like an order number).

A placeholder depends only on the original value (a keyed hash), so the same number gets the same
placeholder, different numbers get different ones, and nothing of the original can be read back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w#])\+?\d[\d\s().-]{7,}\d(?!\w)")
ORDER_NUMBER = re.compile(r"(?<![\w@])(?<!\d\.)#?\d{5,10}(?![\w@])")
ANNOTATION_CHARS = str.maketrans({"[": "(", "]": ")"})
INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
"""Control and line-separator characters: YAML refuses some, and none belongs in a training example."""
PII_KINDS = {"email": "email", "order_id": "order", "invoice_id": "order"}
"""The NLU's entities that are personal data, and the kind of placeholder each gets."""


@dataclasses.dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    entity: str | None


def anonymise(text: str, entities: Iterable[Mapping[str, Any]] = ()) -> str:
    """The message as a Rasa training example: personal data replaced, entities annotated `[value](entity)`.

    `entities` are the NLU's entities of the message (`entity`, `start`, `end`); emails, phone and order numbers
    the NLU missed are found here too, so nothing personal slips through unannotated.
    """
    text = INVISIBLE.sub(" ", text)  # same length: the entities' offsets still hold
    spans = _spans(text, entities)
    out: list[str] = []
    position = 0
    for span in spans:
        out.append(text[position : span.start].translate(ANNOTATION_CHARS))
        original = text[span.start : span.end]
        value = _placeholder(original, span.kind) if span.kind != "keep" else original.translate(ANNOTATION_CHARS)
        out.append(f"[{value}]({span.entity})" if span.entity else value)
        position = span.end
    out.append(text[position:].translate(ANNOTATION_CHARS))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _spans(text: str, entities: Iterable[Mapping[str, Any]]) -> list[Span]:
    """Where to replace or annotate; personal data wins over any other entity that overlaps it."""
    personal: list[Span] = []
    others: list[Span] = []
    for entity in entities:
        start, end, name = entity.get("start"), entity.get("end"), entity.get("entity")
        if not isinstance(start, int) or not isinstance(end, int) or not name or not 0 <= start < end <= len(text):
            continue
        kind = PII_KINDS.get(str(name), "keep")
        (others if kind == "keep" else personal).append(Span(start, end, kind, str(name)))
    for pattern, kind, entity in (
        (EMAIL, "email", "email"),
        (ORDER_NUMBER, "order", "order_id"),
        (PHONE, "phone", None),
    ):
        for match in pattern.finditer(text):
            personal.append(Span(match.start(), match.end(), kind, entity))
    chosen = _without_overlaps(personal)
    for span in others:
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _without_overlaps(spans: list[Span]) -> list[Span]:
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if chosen and span.start < chosen[-1].end:
            continue
        chosen.append(span)
    return chosen


def _placeholder(original: str, kind: str) -> str:
    digest = hashlib.sha256(f"frontline-placeholder:{kind}:{original}".encode()).hexdigest()
    digits = iter(str(int(digest, 16)))
    if kind == "email":
        return f"customer{int(digest[:6], 16) % 10_000}@example.com"
    if kind == "phone":
        return "07700 900" + "".join(next(digits) for _ in range(3))
    return re.sub(r"\d", lambda _: next(digits), original)
