"""Random bearer tokens (agent sessions, web customers), stored only as digests, and the customer signature.

The signature is the contract between a channel that vouches for a logged-in customer and the actions that
check it, so both processes take it from here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_customer_id(customer_id: str, secret: str) -> str:
    """The signature a channel puts beside `customer_id` to vouch for a logged-in customer."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()
