"""Settings from environment variables, and database URL handling."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from metrics.errors import UsageError
from models.db import make_engine, normalize_database_url
from models.settings import SETTINGS, Settings, load_settings


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'campaign_lens.db'}"
    assert settings.password_hash is None and not settings.editor_password_required
    assert settings.share_days == 30
    assert settings.public_url is None
    assert settings.workspace_max_mb == 2048 and settings.workspace_max_bytes == 2 * 1024**3
    assert settings.smtp_url is None  # no email delivery until a mail server is configured


def test_every_settings_field_is_declared_once():
    assert sorted(s.field for s in SETTINGS) == sorted(f.name for f in dataclasses.fields(Settings))
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)


def test_values_from_the_environment(tmp_path):
    settings = load_settings({
        "CAMPAIGN_LENS_DATA_DIR": str(tmp_path),
        "CAMPAIGN_LENS_PASSWORD_HASH": "'scrypt$16384$8$1$abc$def'",
        "CAMPAIGN_LENS_SHARE_DAYS": " 7 ",
        "CAMPAIGN_LENS_PUBLIC_URL": "https://reports.example.com/",
        "CAMPAIGN_LENS_WORKSPACE_MAX_MB": "10",
        "CAMPAIGN_LENS_SMTP_URL": " 'smtps://m.example.com?from=r@example.com' ",
    })
    assert settings.smtp_url == "smtps://m.example.com?from=r@example.com"
    assert settings.database_url == f"sqlite:///{tmp_path / 'campaign_lens.db'}"
    assert settings.password_hash == "scrypt$16384$8$1$abc$def" and settings.editor_password_required
    assert settings.share_days == 7
    assert settings.share_url("a-b_c") == "https://reports.example.com/?share=a-b_c"
    assert settings.workspace_max_bytes == 10 * 1024 * 1024
    assert load_settings({"DATABASE_URL": "postgres://u:p@db/x"}).database_url == "postgres://u:p@db/x"


def test_share_url_falls_back_to_the_page_url():
    settings = load_settings({})
    assert settings.share_url("tok", base_url="http://localhost:8501/?x=1") == "http://localhost:8501/?share=tok"
    assert settings.share_url("tok") == "/?share=tok"


@pytest.mark.parametrize(
    "env",
    [{"CAMPAIGN_LENS_SHARE_DAYS": "soon"}, {"CAMPAIGN_LENS_SHARE_DAYS": "0"}, {"CAMPAIGN_LENS_PUBLIC_URL": "example.com"},
     {"CAMPAIGN_LENS_WORKSPACE_MAX_MB": "2 GB"}, {"CAMPAIGN_LENS_WORKSPACE_MAX_MB": "0"}],
)
def test_bad_values_are_one_plain_sentence(env):
    with pytest.raises(UsageError) as info:
        load_settings(env)
    assert str(info.value).endswith(".") and "\n" not in str(info.value)
    assert next(iter(env)) in str(info.value)  # the sentence names the variable to fix


@pytest.mark.parametrize(
    "url", ["postgres://u:p@h:5433/db", "postgresql://u:p@h:5433/db", "postgresql+psycopg2://u:p@h:5433/db"]
)
def test_postgres_urls_use_psycopg3(url):
    parsed = normalize_database_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.username, parsed.password, parsed.host, parsed.port, parsed.database) == ("u", "p", "h", 5433, "db")


def test_sqlite_engine_creates_its_folder_and_sets_pragmas(tmp_path):
    db = tmp_path / "nested" / "dir" / "x.db"
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            pragmas = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "foreign_keys", "busy_timeout")}
        assert pragmas["journal_mode"] == "wal" and pragmas["foreign_keys"] == 1 and pragmas["busy_timeout"] >= 5000
        assert Path(db).exists()
    finally:
        engine.dispose()


def test_models_never_import_streamlit():
    root = Path(__file__).resolve().parents[2] / "models"
    pattern = re.compile(r"^\s*(import|from)\s+streamlit\b", re.MULTILINE)
    offenders = [p.name for p in root.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_in_memory_sqlite_keeps_its_schema_and_foreign_keys():
    import polars as pl
    from sqlmodel import Session

    from models import repository as repo
    from models.db import upgrade_database

    engine = make_engine("sqlite://")
    try:
        upgrade_database(engine)
        with Session(engine) as session:
            workspace = repo.ensure_workspace(session=session)
            saved = repo.save_snapshot(session=session, workspace_id=workspace.id, name="m",
                                       frame=pl.LazyFrame({"spend": [1.0]}), settings={})
            repo.create_share_link(session=session, snapshot_id=saved.id)
            repo.delete_snapshot(session=session, snapshot_id=saved.id)
            assert repo.list_share_links(session=session) == []  # the cascade needs foreign_keys=ON
    finally:
        engine.dispose()
