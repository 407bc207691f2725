"""Secrets as they are stored: argon2 password hashes, SHA-256 digests of cookies and tokens.

Pure: no database, no clock. Sign-in, password changes and new users hash and check
passwords here; sessions and tokens keep only the digest of what they hand out.
"""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kesu.problems import Problem

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("kesu-timing-equaliser")
MIN_PASSWORD = 10


def digest(value: str) -> str:
    """What is stored of a session cookie or a bearer token."""
    return hashlib.sha256(value.encode()).hexdigest()


def check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Problem(422, "weak_password", "Weak password", f"密码至少 {MIN_PASSWORD} 位。")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether the password matches; without a stored hash (no such user), as slowly."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
