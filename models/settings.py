"""Runtime configuration: one settings object read from environment variables.

Every variable, its default and its meaning are declared once in `ENVIRONMENT` (the README and
the UI's "about" panel can list them from there). Only `ui/` reads `st.secrets`; it may pass
values on by exporting them as these variables before the first `load_settings()` call.

| variable | default | meaning |
|---|---|---|
| `CAMPAIGN_LENS_DATA_DIR` | `./data` | folder for the default SQLite database (created on first use) |
| `DATABASE_URL` | `sqlite:///<data dir>/campaign_lens.db` | SQLAlchemy URL; `postgres://` and `postgresql://` mean psycopg 3 |
| `CAMPAIGN_LENS_PASSWORD_HASH` | empty | editor password hash from `python -m models hash-password`; empty = editor open on localhost |
| `CAMPAIGN_LENS_SHARE_DAYS` | `30` | days a new share link stays valid |
| `CAMPAIGN_LENS_PUBLIC_URL` | empty | base URL for share links (e.g. `https://reports.example.com`); empty = the page's own URL |
| `CAMPAIGN_LENS_SESSION_SECRET` | empty | signs the editor's sign-in cookie; the same value on every replica |
| `CAMPAIGN_LENS_SIGN_IN_HOURS` | `12` | hours a browser stays signed in as the editor |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from metrics.errors import UsageError

DEFAULT_DATA_DIR = "./data"
DEFAULT_DB_FILENAME = "campaign_lens.db"
DEFAULT_SHARE_DAYS = 30
DEFAULT_SIGN_IN_HOURS = 12
MIN_SESSION_SECRET_LENGTH = 32


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: str
    description: str


ENVIRONMENT: tuple[EnvVar, ...] = (
    EnvVar("CAMPAIGN_LENS_DATA_DIR", DEFAULT_DATA_DIR, "Folder for the default SQLite database."),
    EnvVar(
        "DATABASE_URL",
        f"sqlite:///<data dir>/{DEFAULT_DB_FILENAME}",
        "SQLAlchemy database URL. PostgreSQL: postgresql://user:pass@host/db (driven by psycopg 3).",
    ),
    EnvVar(
        "CAMPAIGN_LENS_PASSWORD_HASH",
        "",
        "Editor password hash printed by `python -m models hash-password`. Empty: the editor is open (localhost).",
    ),
    EnvVar("CAMPAIGN_LENS_SHARE_DAYS", str(DEFAULT_SHARE_DAYS), "Days a new share link stays valid."),
    EnvVar(
        "CAMPAIGN_LENS_PUBLIC_URL",
        "",
        "Base URL used in share links, e.g. https://reports.example.com. Empty: the page's own URL.",
    ),
    EnvVar(
        "CAMPAIGN_LENS_SESSION_SECRET",
        "",
        "Signs the editor's sign-in cookie: a long random value (32+ characters), the same on every replica. "
        "Empty: a random secret per process (a sign-in survives a reload, not a restart).",
    ),
    EnvVar(
        "CAMPAIGN_LENS_SIGN_IN_HOURS",
        str(DEFAULT_SIGN_IN_HOURS),
        "Hours a browser stays signed in as the editor (1 to 720).",
    ),
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    # None when no editor password is configured (open editor on localhost).
    password_hash: str | None
    share_days: int
    # Base URL without a trailing slash, or None.
    public_url: str | None
    # None: the UI makes up a random secret per process.
    session_secret: str | None = None
    sign_in_hours: int = DEFAULT_SIGN_IN_HOURS

    @property
    def editor_password_required(self) -> bool:
        return self.password_hash is not None

    def share_url(self, token: str, base_url: str | None = None) -> str:
        """Absolute (or, with no base known, relative) client link for a raw share token.

        `base_url` (e.g. the page URL from `st.context.url`) is used when no public URL is configured.
        """
        base = (self.public_url or (base_url or "").split("?", 1)[0]).rstrip("/")
        return f"{base}/?share={quote(token, safe='')}"


def _clean(value: str | None) -> str:
    """Strip whitespace and one pair of surrounding quotes (values pasted from a shell line keep them)."""
    text = (value or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1].strip()
    return text


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from `environ` (default: `os.environ`). Cheap; not cached.

    Raises `UsageError` (one plain sentence) for a value that cannot be used.
    """
    env = os.environ if environ is None else environ
    data_dir = Path(_clean(env.get("CAMPAIGN_LENS_DATA_DIR")) or DEFAULT_DATA_DIR).expanduser().resolve()
    database_url = _clean(env.get("DATABASE_URL")) or f"sqlite:///{(data_dir / DEFAULT_DB_FILENAME).as_posix()}"

    share_days_text = _clean(env.get("CAMPAIGN_LENS_SHARE_DAYS")) or str(DEFAULT_SHARE_DAYS)
    try:
        share_days = int(share_days_text)
    except ValueError:
        share_days = 0
    if not 1 <= share_days <= 3650:
        raise UsageError(
            f"CAMPAIGN_LENS_SHARE_DAYS must be a whole number of days between 1 and 3650, not {share_days_text!r}."
        )

    public_url = _clean(env.get("CAMPAIGN_LENS_PUBLIC_URL")).rstrip("/") or None
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise UsageError(
            f"CAMPAIGN_LENS_PUBLIC_URL must start with http:// or https://, not {public_url!r}."
        )

    session_secret = _clean(env.get("CAMPAIGN_LENS_SESSION_SECRET")) or None
    if session_secret is not None and len(session_secret) < MIN_SESSION_SECRET_LENGTH:
        raise UsageError(
            f"CAMPAIGN_LENS_SESSION_SECRET is too short: use at least {MIN_SESSION_SECRET_LENGTH} random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))' prints some)."
        )
    hours_text = _clean(env.get("CAMPAIGN_LENS_SIGN_IN_HOURS")) or str(DEFAULT_SIGN_IN_HOURS)
    try:
        sign_in_hours = int(hours_text)
    except ValueError:
        sign_in_hours = 0
    if not 1 <= sign_in_hours <= 720:
        raise UsageError(f"CAMPAIGN_LENS_SIGN_IN_HOURS must be a whole number of hours between 1 and 720, not {hours_text!r}.")

    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        password_hash=_clean(env.get("CAMPAIGN_LENS_PASSWORD_HASH")) or None,
        share_days=share_days,
        public_url=public_url,
        session_secret=session_secret,
        sign_in_hours=sign_in_hours,
    )
