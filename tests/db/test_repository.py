"""Snapshots, share links and mapping profiles through models.repository, on SQLite and PostgreSQL.
(Workspaces and data sources: tests/db/test_workspaces.py.)"""

from __future__ import annotations

import base64
import copy
import hashlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from sqlmodel import Session, select

from metrics import demo
from metrics.errors import UsageError
from metrics.report_settings import ReportFilters, ReportSettings
from metrics.schema import CANONICAL_SCHEMA
from models import repository as repo
from models.tables import ShareLink, Snapshot


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@pytest.fixture(scope="module")
def demo_frame() -> pl.DataFrame:
    return demo.generate(rows=3_000)


def _ws(session) -> int:
    """The first workspace (every database has one)."""
    return repo.ensure_workspace(session=session).id


def _save(session, name="Q3 report", frame=None, **kwargs) -> Snapshot:
    frame = frame if frame is not None else pl.DataFrame({"platform": ["facebook"], "spend": [1.0]})
    return repo.save_snapshot(session=session, workspace_id=_ws(session), name=name, frame=frame,
                              settings=kwargs.pop("settings", {}), **kwargs)


def _assert_utc(value: datetime) -> None:
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0)


# --- snapshots ---------------------------------------------------------------------------------


def test_snapshot_frame_round_trips(session, demo_frame):
    settings = {"grain": "week", "filters": {"platform": ["facebook", "x"]}, "goals": [{"kpi": "cpa", "target": 12.5}]}
    files = [{"name": "meta.csv", "sha256": "ab" * 32, "size": 1234}]
    saved = repo.save_snapshot(
        session=session, workspace_id=_ws(session), name="Q3 report", frame=demo_frame, settings=settings, client_label="ACME",
        source_files=files, app_version="9.9.9",
    )
    loaded = repo.load_snapshot_frame(session=session, snapshot_id=saved.id)

    assert_frame_equal(_sorted(loaded), _sorted(demo_frame))
    assert loaded.schema == pl.Schema(CANONICAL_SCHEMA)
    snapshot = repo.get_snapshot(session=session, snapshot_id=saved.id)
    assert (snapshot.name, snapshot.client_label, snapshot.app_version) == ("Q3 report", "ACME", "9.9.9")
    assert snapshot.settings == settings
    assert snapshot.source_files == files
    assert snapshot.row_count == demo_frame.height
    assert 0 < snapshot.size_bytes < demo_frame.estimated_size()
    _assert_utc(snapshot.created_at)
    _assert_utc(snapshot.updated_at)


def test_frame_is_zstd_parquet_and_restored_to_the_canonical_schema(session):
    partial = pl.DataFrame({"date": [date(2026, 1, 2)], "platform": ["tiktok"], "spend": [3.5]})
    saved = _save(session, frame=partial)
    blob = session.exec(select(Snapshot.frame_parquet).where(Snapshot.id == saved.id)).one()
    assert bytes(blob[:4]) == b"PAR1"
    loaded = repo.load_snapshot_frame(session=session, snapshot_id=saved.id)
    assert loaded.columns == list(CANONICAL_SCHEMA)
    assert loaded.select("date", "platform", "spend").row(0) == (date(2026, 1, 2), "tiktok", 3.5)
    assert loaded["impressions"].is_null().all()  # absent measures stay null, never 0


def test_settings_with_dates_are_stored_as_iso_strings(session):
    saved = _save(session, settings={"range": {"from": date(2026, 1, 1), "to": date(2026, 3, 31)}})
    session.expire_all()
    assert repo.get_snapshot(session=session, snapshot_id=saved.id).settings == {
        "range": {"from": "2026-01-01", "to": "2026-03-31"}
    }


def test_list_snapshots_never_reads_the_blob(engine, session):
    for i in range(3):
        _save(session, name=f"report {i}")
    workspace_id = _ws(session)
    session.expire_all()
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    listed = repo.list_snapshots(session=session, workspace_id=workspace_id)

    assert [s.name for s in listed] == ["report 2", "report 1", "report 0"]  # newest first
    assert statements and not any("frame_parquet" in s for s in statements)
    assert all("frame_parquet" in sa.inspect(s).unloaded for s in listed)
    assert repo.list_snapshots(session=session, workspace_id=_ws(session), limit=1)[0].name == "report 2"


def test_get_snapshot_is_metadata_only(session):
    saved = _save(session)
    session.expire_all()
    snapshot = repo.get_snapshot(session=session, snapshot_id=saved.id)
    assert "frame_parquet" in sa.inspect(snapshot).unloaded
    assert repo.get_snapshot(session=session, snapshot_id=saved.id + 999) is None
    with pytest.raises(repo.NotFoundError):
        repo.load_snapshot_frame(session=session, snapshot_id=saved.id + 999)


def test_rename_and_update_settings(session):
    saved = _save(session, name="draft", client_label="ACME", settings={"grain": "day"})
    renamed = repo.rename_snapshot(session=session, snapshot_id=saved.id, name="  Final   report ")
    assert (renamed.name, renamed.client_label) == ("Final report", "ACME")
    assert renamed.updated_at >= saved.updated_at
    relabelled = repo.rename_snapshot(session=session, snapshot_id=saved.id, name="Final report", client_label=None)
    assert relabelled.client_label is None

    written = ReportSettings(filters=ReportFilters(grain="month", compare="previous_year")).to_dict()
    settings = copy.deepcopy(written)
    updated = repo.update_snapshot_settings(session=session, snapshot_id=saved.id, settings=settings)
    settings["filters"] = "mutated afterwards"  # the stored copy must not follow the caller's dict
    session.expire_all()
    stored = repo.get_snapshot(session=session, snapshot_id=saved.id).settings
    assert stored == written
    assert ReportSettings.from_dict(stored).filters.grain == "month"
    _assert_utc(updated.updated_at)

    with pytest.raises(UsageError):
        repo.rename_snapshot(session=session, snapshot_id=saved.id, name="   ")
    with pytest.raises(repo.NotFoundError):
        repo.rename_snapshot(session=session, snapshot_id=saved.id + 999, name="x")


def test_delete_snapshot_deletes_its_links(session):
    keep = _save(session, name="keep")
    doomed = _save(session, name="doomed")
    _, keep_token = repo.create_share_link(session=session, snapshot_id=keep.id)
    _, token_a = repo.create_share_link(session=session, snapshot_id=doomed.id, label="client A")
    _, token_b = repo.create_share_link(session=session, snapshot_id=doomed.id, label="client B")

    assert repo.delete_snapshot(session=session, snapshot_id=doomed.id) is True

    assert repo.delete_snapshot(session=session, snapshot_id=doomed.id) is False
    assert [s.name for s in repo.list_snapshots(session=session, workspace_id=_ws(session))] == ["keep"]
    remaining = session.exec(select(ShareLink.snapshot_id)).all()
    assert remaining == [keep.id]  # the database cascaded, the ORM did not have to
    assert repo.resolve_share_token(session=session, token=token_a) is None
    assert repo.resolve_share_token(session=session, token=token_b) is None
    assert repo.resolve_share_token(session=session, token=keep_token) is not None


# --- share links -------------------------------------------------------------------------------


def test_tokens_are_256_bit_random_and_stored_only_as_sha256(session):
    snapshot = _save(session)
    tokens = set()
    for _ in range(20):
        link, token = repo.create_share_link(session=session, snapshot_id=snapshot.id)
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128 and len(raw) == 32
        assert link.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
        tokens.add(token)
    assert len(tokens) == 20


def _database_text(engine) -> str:
    """Every text/JSON value of every table, as the database returns it."""
    chunks = []
    inspector = sa.inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if isinstance(column["type"], sa.LargeBinary):
                    continue
                cast = sa.cast(sa.column(column["name"]), sa.Text)
                for (value,) in conn.execute(sa.select(cast).select_from(sa.table(table))):
                    chunks.append(str(value))
    return "\n".join(chunks)


def test_raw_token_never_reaches_the_database(engine, session, backend):
    snapshot = _save(session, name="shared")
    link, token = repo.create_share_link(session=session, snapshot_id=snapshot.id, label="for ACME")
    assert repo.resolve_share_token(session=session, token=token) is not None
    regenerated, token2 = repo.regenerate_share_link(session=session, link_id=link.id)
    raw_bytes = [base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)) for t in (token, token2)]

    text = _database_text(engine)
    assert hashlib.sha256(token.encode()).hexdigest() in text  # the check can see the table
    assert token not in text and token2 not in text

    if backend == "sqlite":
        session.close()
        engine.dispose()
        db_file = Path(engine.url.database)
        files = [p for p in db_file.parent.glob(db_file.name + "*")]
        assert db_file in files
        for path in files:  # the database, its WAL and shared-memory files
            data = path.read_bytes()
            for secret in (token.encode(), token2.encode(), *raw_bytes):
                assert secret not in data, path.name


def test_unknown_expired_and_revoked_tokens_are_refused_alike(session):
    snapshot = _save(session)
    now = datetime.now(timezone.utc)
    expired, expired_token = repo.create_share_link(
        session=session, snapshot_id=snapshot.id, expires_at=now - timedelta(seconds=1)
    )
    revoked, revoked_token = repo.create_share_link(session=session, snapshot_id=snapshot.id)
    repo.revoke_share_link(session=session, link_id=revoked.id)
    active, active_token = repo.create_share_link(session=session, snapshot_id=snapshot.id, expires_in_days=1)

    candidates = [
        expired_token, revoked_token, "x" * 43, active_token[:-1], active_token + "A", "", " ", "a" * 10_000,
        active.token_sha256,  # the stored digest is not a token
    ]
    assert [repo.resolve_share_token(session=session, token=t) for t in candidates] == [None] * len(candidates)
    assert repo.resolve_share_token(session=session, token=None) is None  # type: ignore[arg-type]
    assert repo.resolve_share_token(session=session, token=active_token).id == active.id

    session.expire_all()
    links = {link.id: link for link in repo.list_share_links(session=session, snapshot_id=snapshot.id)}
    assert {link_id: link.status for link_id, link in links.items()} == {
        expired.id: "expired", revoked.id: "revoked", active.id: "active"
    }
    assert links[expired.id].view_count == links[revoked.id].view_count == 0  # refusals count nothing


def test_views_are_counted(session):
    snapshot = _save(session)
    link, token = repo.create_share_link(session=session, snapshot_id=snapshot.id)
    assert (link.view_count, link.last_viewed_at) == (0, None)
    for _ in range(3):
        viewed = repo.resolve_share_token(session=session, token=token)
    assert viewed.view_count == 3
    _assert_utc(viewed.last_viewed_at)
    repo.resolve_share_token(session=session, token=token, count_view=False)
    session.expire_all()
    assert session.get(ShareLink, link.id).view_count == 3


def test_regenerate_revokes_the_old_token_and_keeps_label_and_lifetime(session):
    snapshot = _save(session)
    old, old_token = repo.create_share_link(session=session, snapshot_id=snapshot.id, label="ACME", expires_in_days=7)

    new, new_token = repo.regenerate_share_link(session=session, link_id=old.id)

    assert new.id != old.id and new_token != old_token
    assert (new.snapshot_id, new.label) == (snapshot.id, "ACME")
    assert abs((new.expires_at - new.created_at) - timedelta(days=7)) < timedelta(seconds=1)
    assert repo.resolve_share_token(session=session, token=old_token) is None
    assert repo.resolve_share_token(session=session, token=new_token).id == new.id
    session.expire_all()
    assert session.get(ShareLink, old.id).status == "revoked"


def test_share_link_defaults_and_errors(session, monkeypatch):
    snapshot = _save(session)
    link, _ = repo.create_share_link(session=session, snapshot_id=snapshot.id)
    assert abs((link.expires_at - link.created_at) - timedelta(days=30)) < timedelta(seconds=1)
    monkeypatch.setenv("CAMPAIGN_LENS_SHARE_DAYS", "3")
    link, _ = repo.create_share_link(session=session, snapshot_id=snapshot.id)
    assert abs((link.expires_at - link.created_at) - timedelta(days=3)) < timedelta(seconds=1)
    _assert_utc(link.expires_at)

    with pytest.raises(repo.NotFoundError):
        repo.create_share_link(session=session, snapshot_id=snapshot.id + 999)
    with pytest.raises(TypeError):
        repo.create_share_link(session=session, snapshot_id=snapshot.id, expires_at=datetime(2030, 1, 1))
    with pytest.raises(repo.NotFoundError):
        repo.revoke_share_link(session=session, link_id=10_000)
    first = repo.revoke_share_link(session=session, link_id=link.id).revoked_at
    assert repo.revoke_share_link(session=session, link_id=link.id).revoked_at == first  # idempotent


def test_list_share_links_across_snapshots(session):
    a, b = _save(session, name="a"), _save(session, name="b")
    repo.create_share_link(session=session, snapshot_id=a.id, label="1")
    repo.create_share_link(session=session, snapshot_id=b.id, label="2")
    assert [link.label for link in repo.list_share_links(session=session)] == ["2", "1"]
    assert [link.label for link in repo.list_share_links(session=session, snapshot_id=a.id)] == ["1"]


# --- mapping profiles --------------------------------------------------------------------------


def test_mapping_profiles(session):
    ws = _ws(session)
    repo.save_mapping_profile(session=session, workspace_id=ws, name="Agency sheet",
                              mapping={"Kanal": "platform", "Kosten": "spend"})
    repo.save_mapping_profile(session=session, workspace_id=ws, name="Another", mapping={"cost": "spend"})
    replaced = repo.save_mapping_profile(session=session, workspace_id=ws, name="Agency sheet",
                                         mapping={"Kanal": "platform"})
    assert replaced.mapping == {"Kanal": "platform"}
    _assert_utc(replaced.updated_at)

    profiles = repo.list_mapping_profiles(session=session, workspace_id=ws)
    assert [(p.name, p.mapping) for p in profiles] == [("Agency sheet", {"Kanal": "platform"}), ("Another", {"cost": "spend"})]
    assert repo.get_mapping_profile(session=session, workspace_id=ws, name="Another").mapping == {"cost": "spend"}
    assert repo.delete_mapping_profile(session=session, workspace_id=ws, name="Another") is True
    assert repo.delete_mapping_profile(session=session, workspace_id=ws, name="Another") is False
    assert [p.name for p in repo.list_mapping_profiles(session=session, workspace_id=ws)] == ["Agency sheet"]


def test_results_stay_readable_after_a_ui_style_session_closes(engine):
    """The UI uses short sessions with expire_on_commit=False and reads results after closing them."""
    frame = pl.DataFrame({"platform": ["x"], "spend": [2.0]})
    with Session(engine, expire_on_commit=False) as session:
        ws = _ws(session)
        saved = repo.save_snapshot(session=session, workspace_id=ws, name="ui", frame=frame, settings={"grain": "day"})
        link, _ = repo.create_share_link(session=session, snapshot_id=saved.id, label="L")
        repo.set_workspace_showing(session=session, workspace_id=ws, showing="snapshot", snapshot_id=saved.id)
        session.commit()
    with Session(engine, expire_on_commit=False) as session:
        listed = repo.list_snapshots(session=session, workspace_id=ws)
        links = repo.list_share_links(session=session, workspace_id=ws)
        renamed = repo.rename_snapshot(session=session, snapshot_id=saved.id, name="ui 2")
        session.commit()
    assert (saved.id, saved.name, saved.row_count) == (listed[0].id, "ui", 1)
    assert [(s.name, s.settings, s.size_bytes > 0) for s in listed] == [("ui 2", {"grain": "day"}, True)]
    assert [(item.label, item.status) for item in links] == [("L", "active")]
    assert renamed.name == "ui 2" and link.snapshot_id == saved.id
