"""Tokens are random and only their digests are kept."""

from __future__ import annotations

from bot.domain.tokens import digest, new_token


def test_tokens_are_long_random_and_digested_deterministically():
    first, second = new_token(), new_token()
    assert first != second and len(first) >= 40
    assert digest(first) == digest(first) != digest(second)
    assert first not in digest(first) and len(digest(first)) == 64
