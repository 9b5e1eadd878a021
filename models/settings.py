"""Runtime configuration: one settings object read from environment variables.

Each variable is declared once, in `SETTINGS`, with its default, its meaning and its parser
(the shape of datasette's `SETTINGS` tuple); `load_settings` is derived from the declarations,
and `settings_table()` renders the table in docs/operations.md (a test keeps the two in step).
Only `ui/` reads `st.secrets`; it may pass values on by exporting them as these variables before
the first `load_settings()` call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from metrics.errors import UsageError

DEFAULT_DB_FILENAME = "campaign_lens.db"
MAX_SHARE_DAYS = 3650
# 1 TB: anything above is a typo, not a plan.
MAX_WORKSPACE_MB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    # None when no editor password is configured (open editor on localhost).
    password_hash: str | None
    share_days: int
    # Base URL without a trailing slash, or None.
    public_url: str | None
    # Most compressed Parquet (sources + snapshots) one workspace may store, in MB.
    workspace_max_mb: int
    # The SMTP URL as configured (parsed and checked by reports.mail), or None when email is not set up.
    smtp_url: str | None = None

    @property
    def editor_password_required(self) -> bool:
        return self.password_hash is not None

    @property
    def workspace_max_bytes(self) -> int:
        return self.workspace_max_mb * 1024 * 1024

    def share_url(self, token: str, base_url: str | None = None) -> str:
        """Absolute (or, with no base known, relative) client link for a raw share token.

        `base_url` (e.g. the page URL from `st.context.url`) is used when no public URL is configured.
        """
        base = (self.public_url or (base_url or "").split("?", 1)[0]).rstrip("/")
        return f"{base}/?share={quote(token, safe='')}"


# A parser reads the variable's cleaned text (the default when unset) and the fields read before
# it, and returns the field's value or raises UsageError with one plain sentence.
Parser = Callable[[str, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Setting:
    env: str
    field: str
    default: str
    description: str
    parse: Parser
    # What the docs show as the default when it is derived from other settings.
    shown_default: str | None = None

    @property
    def documented_default(self) -> str:
        text = self.shown_default if self.shown_default is not None else self.default
        return f"`{text}`" if text else "(empty)"


def _whole_number(env: str, unit: str, low: int, high: int) -> Parser:
    def parse(text: str, _earlier: Mapping[str, Any]) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise UsageError(f"{env} must be a whole number of {unit} between {low} and {high}, not {text!r}.")
        return value

    return parse


def _data_dir(text: str, _earlier: Mapping[str, Any]) -> Path:
    return Path(text).expanduser().resolve()


def _database_url(text: str, earlier: Mapping[str, Any]) -> str:
    return text or f"sqlite:///{(earlier['data_dir'] / DEFAULT_DB_FILENAME).as_posix()}"


def _optional_text(text: str, _earlier: Mapping[str, Any]) -> str | None:
    return text or None


def _public_url(text: str, _earlier: Mapping[str, Any]) -> str | None:
    url = text.rstrip("/") or None
    if url is not None and not url.startswith(("http://", "https://")):
        raise UsageError(f"CAMPAIGN_LENS_PUBLIC_URL must start with http:// or https://, not {url!r}.")
    return url


# In reading order: a parser may use the fields declared above it (DATABASE_URL uses the data dir).
SETTINGS: tuple[Setting, ...] = (
    Setting("CAMPAIGN_LENS_DATA_DIR", "data_dir", "./data", "Folder for the default SQLite database.", _data_dir),
    Setting(
        "DATABASE_URL", "database_url", "",
        "SQLAlchemy database URL. PostgreSQL: postgresql://user:pass@host/db (driven by psycopg 3).",
        _database_url, shown_default=f"sqlite:///<data dir>/{DEFAULT_DB_FILENAME}",
    ),
    Setting(
        "CAMPAIGN_LENS_PASSWORD_HASH", "password_hash", "",
        "Editor password hash printed by `python -m models hash-password`. Empty: the editor is open (localhost).",
        _optional_text,
    ),
    Setting(
        "CAMPAIGN_LENS_SHARE_DAYS", "share_days", "30", "Days a new share link stays valid.",
        _whole_number("CAMPAIGN_LENS_SHARE_DAYS", "days", 1, MAX_SHARE_DAYS),
    ),
    Setting(
        "CAMPAIGN_LENS_PUBLIC_URL", "public_url", "",
        "Base URL used in share links, e.g. https://reports.example.com. Empty: the page's own URL.", _public_url,
    ),
    Setting(
        "CAMPAIGN_LENS_WORKSPACE_MAX_MB", "workspace_max_mb", "2048",
        "Most stored data one workspace (client) may hold: its sources and snapshots as compressed Parquet, in MB.",
        _whole_number("CAMPAIGN_LENS_WORKSPACE_MAX_MB", "MB", 1, MAX_WORKSPACE_MB),
    ),
    Setting(
        "CAMPAIGN_LENS_SMTP_URL", "smtp_url", "",
        "Mail server for scheduled reports, e.g. smtp://user:pass@host:587?from=reports@example.com "
        "(STARTTLS; smtps:// for TLS from the start, ?starttls=0 for a local relay). Empty: no email.",
        _optional_text,
    ),
)


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
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        values[setting.field] = setting.parse(_clean(env.get(setting.env)) or setting.default, values)
    return Settings(**values)


def settings_table() -> str:
    """The Markdown table of docs/operations.md ("Settings"), from the declarations."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{s.env}` | {s.documented_default} | {s.description} |" for s in SETTINGS]
    return "\n".join(lines)

