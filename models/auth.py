"""Editor password hashing: scrypt (hashlib), random salt, constant-time comparison; and the signed,
expiring value of the editor's sign-in cookie.

Stored format: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` (standard base64 without padding).
Set it as CAMPAIGN_LENS_PASSWORD_HASH; `python -m models hash-password` prints the line.

Sign-in cookie: ``v1.<expires, unix seconds>.<random nonce>.<HMAC-SHA256>``. The HMAC key is derived
from the session secret *and the password hash*, so changing the password signs every browser out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
# 2**15 x 8 x 1: about 32 MiB and ~0.1 s per check - slow for guessing, fine for a login.
DEFAULT_N = 2**15
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
# Refuse parameters a tampered hash could use to make one check eat the machine.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16
_MAX_MEM = 256 * 1024 * 1024


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=min(_MAX_MEM, 256 * n * r * p)
    )


def hash_password(password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P) -> str:
    """Hash `password` with scrypt and a fresh 128-bit salt. Raises ValueError for an empty password."""
    if not isinstance(password, str) or password == "":
        raise ValueError("The password must not be empty.")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, n, r, p, KEY_BYTES)
    return f"{SCHEME}${n}${r}${p}${_b64encode(salt)}${_b64encode(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the `stored` hash. Never raises: a malformed hash is False."""
    try:
        if not isinstance(password, str) or not isinstance(stored, str) or not password:
            return False
        scheme, n_text, r_text, p_text, salt_text, key_text = stored.strip().split("$")
        if scheme != SCHEME:
            return False
        n, r, p = int(n_text), int(r_text), int(p_text)
        if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P):
            return False
        salt, expected = _b64decode(salt_text), _b64decode(key_text)
        if len(salt) < 8 or not 16 <= len(expected) <= 64:
            return False
        return hmac.compare_digest(_derive(password, salt, n, r, p, len(expected)), expected)
    except (ValueError, TypeError, binascii.Error, MemoryError, OverflowError):
        return False


# --- the editor's sign-in cookie ----------------------------------------------------------------

SESSION_VERSION = "v1"
_MAX_SESSION_VALUE = 200


def _session_key(secret: str, password_hash: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), b"campaign-lens editor session\x00" + password_hash.encode("utf-8"),
                    hashlib.sha256).digest()


def _session_mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def sign_editor_session(*, secret: str, password_hash: str, expires_at: int) -> str:
    """The cookie value saying "signed in as the editor until `expires_at`" (unix seconds)."""
    payload = f"{SESSION_VERSION}.{int(expires_at)}.{secrets.token_urlsafe(16)}"
    return f"{payload}.{_session_mac(_session_key(secret, password_hash), payload)}"


def editor_session_is_valid(value: object, *, secret: str, password_hash: str, now: float) -> bool:
    """True for an unexpired value signed with this secret for this password hash. Never raises."""
    if not isinstance(value, str) or len(value) > _MAX_SESSION_VALUE or not secret or not password_hash:
        return False
    payload, _, mac = value.rpartition(".")
    version, _, rest = payload.partition(".")
    expires_text, _, nonce = rest.partition(".")
    if version != SESSION_VERSION or not (expires_text.isascii() and expires_text.isdigit()) or not nonce:
        return False
    if not hmac.compare_digest(mac, _session_mac(_session_key(secret, password_hash), payload)):
        return False
    return int(expires_text) > now
