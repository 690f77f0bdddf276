"""Password and key hashing (scrypt, from the standard library's OpenSSL binding) and the
random tokens keys and sessions are made of.

A hash reads ``scrypt$<n>$<r>$<p>$<salt>$<digest>`` (base64 without padding), so the cost
can be raised later without breaking stored hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

#: scrypt cost: 2**14 blocks of 8 × 128 bytes = 16 MiB and some tens of milliseconds per
#: hash (OWASP's minimum for scrypt), paid on login and on a key's first use per process.
N, R, P = 2**14, 8, 1
_SALT_BYTES = 16
_DIGEST_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str) -> str:
    """The storable scrypt hash of ``secret`` with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, n=N, r=R, p=P, maxmem=64 * 1024 * 1024, dklen=_DIGEST_BYTES
    )
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored`` (constant-time; False for a malformed hash).

    >>> stored = hash_secret("correct horse")
    >>> verify_secret("correct horse", stored), verify_secret("wrong", stored)
    (True, False)
    """
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            secret.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def fingerprint(token: str) -> str:
    """SHA-256 hex of a long random token (session cookies: looked up by it)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token of ``nbytes`` bytes of entropy."""
    return secrets.token_urlsafe(nbytes)
