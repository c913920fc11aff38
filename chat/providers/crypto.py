"""Encryption at rest for provider API keys (Fernet, with key rotation through MultiFernet).

``settings.WEBOX_ENCRYPTION_KEYS`` lists keys: the first encrypts, every one decrypts. A key is
either a Fernet key (32 url-safe base64 bytes) or any other string, from which one is derived
with HKDF. A key derived from ``SECRET_KEY`` always decrypts too, so the zero-config default works
and values written before ``WEBOX_ENCRYPTION_KEYS`` was set stay readable.
"""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_HKDF_INFO = b"webox provider api keys"


class SecretDecryptError(Exception):
    """A stored value no configured key can decrypt (the key that wrote it was removed)."""


def _derive_key(material: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(material.encode())
    return base64.urlsafe_b64encode(derived)


def _as_fernet_key(value: str) -> bytes:
    try:
        if len(base64.urlsafe_b64decode(value.encode())) == 32:
            return value.encode()
    except (binascii.Error, ValueError):
        pass
    return _derive_key(value)


@functools.lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    fernet_keys = [_as_fernet_key(key) for key in keys]
    fallback = _derive_key(secret_key)
    if fallback not in fernet_keys:
        fernet_keys.append(fallback)
    return MultiFernet([Fernet(key) for key in fernet_keys])


def _fernet() -> MultiFernet:
    return _multi_fernet(tuple(settings.WEBOX_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt_secret(plaintext: str) -> str:
    """The encrypted form of ``plaintext`` (empty stays empty: "no key")."""
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptError("No configured encryption key can decrypt this value.") from None


def reencrypt_secret(token: str) -> str:
    """``token`` encrypted again with the current first key (for key rotation)."""
    if not token:
        return ""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptError("No configured encryption key can decrypt this value.") from None


def mask_secret(plaintext: str) -> str:
    """What the admin shows of a stored key: its last four characters at most."""
    if not plaintext:
        return ""
    tail = plaintext[-4:] if len(plaintext) >= 12 else ""
    return f"••••{tail}"
