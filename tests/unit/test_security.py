"""Passwords are argon2id hashes; tokens refuse tampering and expiry."""

from __future__ import annotations

import jwt
import pytest

from crm.platform.security import TokenError, Tokens, hash_password, verify_password

SECRET = "x" * 40


async def test_passwords_are_hashed_with_argon2id_and_verified() -> None:
    hashed = await hash_password("Password123!")
    assert hashed.startswith("$argon2id$") and "Password123!" not in hashed
    assert await verify_password(hashed, "Password123!")
    assert not await verify_password(hashed, "password123!")
    assert not await verify_password(None, "Password123!"), "an unknown account never verifies"


def test_a_token_carries_the_caller() -> None:
    tokens = Tokens(SECRET)
    principal = tokens.verify(tokens.issue(user_id="u1", email="a@b.c", role="SALES", name="A"))
    assert (principal.id, principal.email, principal.role) == ("u1", "a@b.c", "SALES")


def test_a_tampered_token_is_refused() -> None:
    tokens = Tokens(SECRET)
    token = tokens.issue(user_id="u1", email="a@b.c", role="USER")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "role": "ADMIN"}, "y" * 40, algorithm="HS256")
    with pytest.raises(TokenError):
        tokens.verify(forged)
    with pytest.raises(TokenError):
        tokens.verify(token[:-2] + "xx")


def test_an_expired_token_is_refused() -> None:
    tokens = Tokens(SECRET, ttl_minutes=1)
    token = tokens.issue(user_id="u1", email="a@b.c", role="USER")
    claims = jwt.decode(token, options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": claims["iat"] - 10}, SECRET, algorithm="HS256")
    with pytest.raises(TokenError, match="expired"):
        tokens.verify(expired)
