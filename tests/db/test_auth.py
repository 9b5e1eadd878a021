"""Editor password hashing (scrypt) and the `python -m models hash-password` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from models.auth import hash_password, verify_password

REPO = Path(__file__).resolve().parents[2]
FAST = {"n": 2**12}  # keep the suite quick; the default cost is tested once


def test_hash_verifies_and_refuses():
    stored = hash_password("correct horse battery staple")
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**15, 8, 1)
    assert verify_password("correct horse battery staple", stored)
    assert not verify_password("correct horse battery stapl", stored)
    assert not verify_password("", stored)


def test_salt_is_random():
    first, second = hash_password("same", **FAST), hash_password("same", **FAST)
    assert first != second
    assert verify_password("same", first) and verify_password("same", second)


def test_unicode_password():
    stored = hash_password("пароль-Straße-🔑", **FAST)
    assert verify_password("пароль-Straße-🔑", stored)
    assert not verify_password("пароль-Strasse-🔑", stored)


@pytest.mark.parametrize(
    "stored",
    [
        "", "scrypt", "not a hash", "scrypt$$$$$", "bcrypt$16384$8$1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
        "scrypt$abc$8$1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
        "scrypt$16383$8$1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",  # n not a power of two
        "scrypt$1073741824$8$1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",  # absurd cost is refused, not computed
        "scrypt$16384$8$1$!!!$a2V5a2V5a2V5a2V5a2V5a2V5",
        "scrypt$16384$8$1$c2FsdHNhbHQ$",
        "scrypt$16384$8$1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5$extra",
        None, 42, b"scrypt$16384$8$1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
    ],
)
def test_malformed_hash_is_false_never_an_exception(stored):
    assert verify_password("anything", stored) is False  # type: ignore[arg-type]


def test_non_string_password_is_false():
    stored = hash_password("secret", **FAST)
    assert verify_password(None, stored) is False  # type: ignore[arg-type]
    assert verify_password(b"secret", stored) is False  # type: ignore[arg-type]


def test_quoted_or_padded_hash_from_an_env_file_still_verifies():
    stored = hash_password("secret", **FAST)
    assert verify_password("secret", f"  {stored}\n")


def test_empty_password_cannot_be_hashed():
    with pytest.raises(ValueError):
        hash_password("")


def test_cli_prints_a_settable_line():
    result = subprocess.run(
        [sys.executable, "-m", "models", "hash-password"], input="s3cret-pass\n", capture_output=True, text=True,
        cwd=REPO, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith("CAMPAIGN_LENS_PASSWORD_HASH='scrypt$") and line.endswith("'")
    stored = line.split("=", 1)[1].strip("'")
    assert verify_password("s3cret-pass", stored)
    assert "s3cret-pass" not in result.stdout


def test_cli_refuses_an_empty_password():
    result = subprocess.run(
        [sys.executable, "-m", "models", "hash-password"], input="\n", capture_output=True, text=True, cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.strip()


# --- the editor's sign-in cookie -----------------------------------------------------------------

SECRET = "s" * 40
PASSWORD_HASH = "scrypt$4096$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5"


def test_a_signed_session_is_valid_until_it_expires():
    from models.auth import editor_session_is_valid, sign_editor_session

    value = sign_editor_session(secret=SECRET, password_hash=PASSWORD_HASH, expires_at=2_000)
    assert editor_session_is_valid(value, secret=SECRET, password_hash=PASSWORD_HASH, now=1_999)
    assert not editor_session_is_valid(value, secret=SECRET, password_hash=PASSWORD_HASH, now=2_000)


def test_a_session_from_another_secret_or_password_or_edited_is_refused():
    from models.auth import editor_session_is_valid, sign_editor_session

    value = sign_editor_session(secret=SECRET, password_hash=PASSWORD_HASH, expires_at=2_000)
    version, expires, nonce, mac = value.split(".")
    assert not editor_session_is_valid(value, secret="t" * 40, password_hash=PASSWORD_HASH, now=0)
    assert not editor_session_is_valid(value, secret=SECRET, password_hash=PASSWORD_HASH + "x", now=0)  # new password
    tampered = [f"{version}.9999999999.{nonce}.{mac}", f"{version}.{expires}.{nonce}x.{mac}",
                f"v2.{expires}.{nonce}.{mac}", f"{version}.{expires}.{nonce}.{mac[:-1]}", "", "v1...", "é" * 50,
                f"{version}.²000.{nonce}.{mac}", None, 12, "x" * 10_000]
    for candidate in tampered:
        assert not editor_session_is_valid(candidate, secret=SECRET, password_hash=PASSWORD_HASH, now=0), candidate
    assert not editor_session_is_valid(value, secret="", password_hash=PASSWORD_HASH, now=0)
