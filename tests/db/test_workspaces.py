"""Workspaces (one per client) and their stored data sources through models.repository, on SQLite
and PostgreSQL: refresh with a newer export, identical re-uploads, isolation between workspaces,
the delete cascade, the size cap and failed writes."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from metrics import demo, ingest
from metrics.errors import UsageError
from models import repository as repo
from models.tables import DataSource, MappingProfile, ShareLink, Snapshot, Workspace
from tests.export_fixtures import meta_export, totals_by_day

JAN = date(2026, 1, 1)


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 2), (255, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


def upload_of(file: tuple[str, bytes]) -> repo.SourceUpload:
    name, data = file
    return repo.SourceUpload.from_load(data, ingest.load(data, name))


def stored_spend_by_day(session, workspace_id) -> dict[date, float]:
    ids = [s.id for s in repo.list_sources(session=session, workspace_id=workspace_id, enabled_only=True)]
    frame = repo.load_sources_frame(session=session, source_ids=ids)
    grouped = frame.group_by("date").agg(pl.col("spend").sum())
    return {d: round(s, 6) for d, s in grouped.iter_rows()}


@pytest.fixture
def ws(session) -> int:
    return repo.ensure_workspace(session=session).id


# --- workspaces ---------------------------------------------------------------------------------


def test_a_first_workspace_exists_once(session, engine):
    first = repo.ensure_workspace(session=session)
    assert first.name == "My workspace" and first.time_zone == "UTC"
    with Session(engine) as other:
        assert repo.ensure_workspace(session=other).id == first.id
    assert len(repo.list_workspaces(session=session)) == 1


def test_create_rename_and_validate_workspaces(session):
    acme = repo.create_workspace(session=session, name="  Acme   Corp ", currency="eur", time_zone="Europe/Berlin")
    assert (acme.name, acme.currency, acme.time_zone) == ("Acme Corp", "EUR", "Europe/Berlin")
    with pytest.raises(UsageError, match="already a workspace called"):
        repo.create_workspace(session=session, name="acme corp")
    beta = repo.create_workspace(session=session, name="Beta")
    with pytest.raises(UsageError, match="already a workspace"):
        repo.update_workspace(session=session, workspace_id=beta.id, name="ACME CORP")
    for bad in ({"time_zone": "Mars/Olympus"}, {"time_zone": "../../etc/passwd"}, {"currency": "Euro"},
                {"accent_color": "red"}, {"report_footer": "x" * 201}, {"name": " "}):
        with pytest.raises(UsageError) as info:
            repo.update_workspace(session=session, workspace_id=beta.id, **bad)
        assert str(info.value).endswith(".") and "\n" not in str(info.value)
    renamed = repo.update_workspace(session=session, workspace_id=beta.id, name="Beta GmbH", accent_color="#1F6FEB",
                                    report_footer="Prepared by  Agency", currency=None)
    assert (renamed.name, renamed.accent_color, renamed.report_footer) == ("Beta GmbH", "#1f6feb", "Prepared by Agency")
    assert [w.name for w in repo.list_workspaces(session=session)] == ["Acme Corp", "Beta GmbH", "My workspace"]


def test_branding_for_report_files(session, engine):
    workspace = repo.create_workspace(session=session, name="Acme", time_zone="America/New_York")
    repo.update_workspace(session=session, workspace_id=workspace.id, accent_color="#ff0000", report_footer="Acme")
    repo.set_workspace_logo(session=session, workspace_id=workspace.id, logo=PNG)
    branding = repo.workspace_branding(session=session, workspace_id=workspace.id)
    assert (branding.name, branding.accent_color, branding.report_footer) == ("Acme", "#ff0000", "Acme")
    assert (branding.logo, branding.logo_mime, branding.time_zone) == (PNG, "image/png", "America/New_York")

    session.expire_all()
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    repo.list_workspaces(session=session)
    assert statements and not any(re.search(r"\blogo\b", s) for s in statements)  # lists never carry the logo

    with pytest.raises(UsageError, match="PNG or JPEG"):
        repo.set_workspace_logo(session=session, workspace_id=workspace.id, logo=b"<svg onload=alert(1)>")
    with pytest.raises(UsageError, match="damaged"):
        repo.set_workspace_logo(session=session, workspace_id=workspace.id, logo=PNG[:20])
    with pytest.raises(UsageError, match="under"):
        repo.set_workspace_logo(session=session, workspace_id=workspace.id, logo=PNG + b"\x00" * (1024 * 1024))
    # what is stored is what the report files accept (reports.branding validates on creation)
    from reports.branding import Branding

    drawn = Branding(logo=branding.logo, logo_mime=branding.logo_mime, accent=branding.accent_color,
                     footer="x" * repo.FOOTER_MAX_LENGTH)
    assert drawn.accent_rgb == (255, 0, 0) and drawn.logo_mime == "image/png"
    repo.set_workspace_logo(session=session, workspace_id=workspace.id, logo=None)
    assert repo.workspace_branding(session=session, workspace_id=workspace.id).logo is None


def test_report_settings_and_what_the_workspace_opens(session, ws):
    other = repo.create_workspace(session=session, name="Other").id
    repo.save_workspace_report_settings(session=session, workspace_id=ws, settings={"goals": [{"metric": "spend"}]})
    session.expire_all()
    assert repo.get_workspace(session=session, workspace_id=ws).report_settings == {"goals": [{"metric": "spend"}]}
    assert repo.get_workspace(session=session, workspace_id=other).report_settings == {}

    assert repo.workspace_showing(session=session, workspace_id=ws) == ("sources", None)
    repo.set_workspace_showing(session=session, workspace_id=ws, showing="demo")
    assert repo.workspace_showing(session=session, workspace_id=ws) == ("demo", None)
    snapshot = repo.save_snapshot(session=session, workspace_id=ws, name="s", frame=demo.generate(rows=50), settings={})
    repo.set_workspace_showing(session=session, workspace_id=ws, showing="snapshot", snapshot_id=snapshot.id)
    assert repo.workspace_showing(session=session, workspace_id=ws) == ("snapshot", snapshot.id)
    with pytest.raises(repo.NotFoundError):  # another workspace's snapshot cannot be its view
        repo.set_workspace_showing(session=session, workspace_id=other, showing="snapshot", snapshot_id=snapshot.id)
    repo.delete_snapshot(session=session, snapshot_id=snapshot.id)
    assert repo.workspace_showing(session=session, workspace_id=ws) == ("sources", None)


# --- sources: store, refresh, identical re-upload ------------------------------------------------


def test_refresh_with_a_newer_export_replaces_overlapping_dates(session, ws):
    week1 = meta_export(JAN, 10, name="meta-jan-1-10.csv")
    week2 = meta_export(JAN + timedelta(days=7), 7, spend=5.0, name="meta-jan-8-14.csv")

    first = repo.store_upload(session=session, workspace_id=ws, upload=upload_of(week1))
    assert first.action == "added" and first.rows == 20
    assert first.message == "meta-jan-1-10.csv was stored as a new source (20 rows)."
    second = repo.store_upload(session=session, workspace_id=ws, upload=upload_of(week2))

    assert second.action == "refreshed" and second.source_id == first.source_id
    assert second.message == "meta-jan-8-14.csv updated “meta-jan-1-10.csv”: +4 days, 3 days replaced."
    expected = totals_by_day(week1, week2)
    assert stored_spend_by_day(session, ws) == pytest.approx(expected)
    assert sum(expected.values()) == pytest.approx(7 * (1 + 2) + 7 * (5 + 6))
    [source] = repo.list_sources(session=session, workspace_id=ws)
    assert (source.date_from, source.date_to, source.row_count) == (JAN, date(2026, 1, 14), 28)
    assert (source.family, source.platforms, source.currencies) == ("meta_ads", ["facebook"], ["USD"])
    assert source.file_name == "meta-jan-8-14.csv" and [f["name"] for f in source.files] == [
        "meta-jan-1-10.csv", "meta-jan-8-14.csv"]
    detail = repo.get_source(session=session, source_id=source.id, workspace_id=ws)
    assert detail.load_report["rows_loaded"] == 14 and detail.mapping["Day"] == "date"


def test_the_identical_file_again_changes_nothing(session, ws):
    week1 = meta_export(JAN, 7)
    repo.store_upload(session=session, workspace_id=ws, upload=upload_of(week1))
    [before] = repo.list_sources(session=session, workspace_id=ws)
    before_sha, before_updated = before.frame_sha256, before.updated_at

    again = repo.store_upload(session=session, workspace_id=ws, upload=upload_of(week1))

    assert again.action == "unchanged"
    assert again.message == "meta.csv is already stored in “meta.csv”; nothing changed."
    [after] = repo.list_sources(session=session, workspace_id=ws)
    assert (after.frame_sha256, after.updated_at, len(after.files)) == (before_sha, before_updated, 1)
    assert stored_spend_by_day(session, ws) == pytest.approx(totals_by_day(week1))
    # the same bytes as an older file of the source also change nothing
    repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN + timedelta(days=7), 7)))
    assert repo.store_upload(session=session, workspace_id=ws, upload=upload_of(week1)).action == "unchanged"


def test_what_counts_as_a_newer_export_of_a_source(session, ws):
    repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN, 7)))
    # another ad account of the same family (no campaign in common): a new source
    other_account = meta_export(JAN, 7, campaigns=("Brand", "Retargeting"), name="other.csv")
    assert repo.store_upload(session=session, workspace_id=ws, upload=upload_of(other_account)).action == "added"
    # another family: a new source
    x_name, x_data = "x.csv", b"Date,Campaign name,Spend,Impressions\n2026-01-02,Spring,4.0,10\n"
    assert repo.store_upload(session=session, workspace_id=ws, upload=upload_of((x_name, x_data))).action == "added"
    # the user may say "add as new" anyway
    forced = repo.store_upload(session=session, workspace_id=ws, target="new",
                               upload=upload_of(meta_export(JAN + timedelta(days=30), 2, name="feb.csv")))
    assert forced.action == "added"
    assert len(repo.list_sources(session=session, workspace_id=ws)) == 4


def test_upload_for_a_chosen_source_and_replacing_all_rows(session, ws):
    a = repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN, 10)))
    chosen = meta_export(JAN + timedelta(days=5), 2, campaigns=("Other",), spend=9.0, name="chosen.csv")
    refreshed = repo.store_upload(session=session, workspace_id=ws, target=a.source_id, upload=upload_of(chosen))
    assert refreshed.action == "refreshed" and refreshed.change.describe() == "2 days replaced"
    replaced = repo.store_upload(session=session, workspace_id=ws, target=a.source_id, replace_all=True,
                                 upload=upload_of(meta_export(JAN, 1, spend=7.0, name="only.csv")))
    assert replaced.action == "replaced"
    assert stored_spend_by_day(session, ws) == pytest.approx({JAN: 7.0 + 8.0})


def test_redo_with_another_mapping_starts_from_the_rows_before_the_file(session, ws):
    week1 = meta_export(JAN, 10)
    repo.store_upload(session=session, workspace_id=ws, upload=upload_of(week1))
    name, data = meta_export(JAN + timedelta(days=7), 7, spend=5.0, name="week2.csv")
    first = repo.store_upload(session=session, workspace_id=ws, upload=upload_of((name, data)))
    # read again without the spend column: the days of week 2 lose their spend, week 1's days keep theirs
    remapped = ingest.load(data, name, mapping={"Day": "date", "Campaign name": "campaign", "Impressions": "impressions",
                                               "Amount spent (USD)": "", "Link clicks": "link_clicks"})
    redone = repo.redo_upload(session=session, workspace_id=ws, outcome=first,
                              upload=repo.SourceUpload.from_load(data, remapped))
    assert redone.change.describe() == "+4 days, 3 days replaced"  # counted against the rows before week 2
    by_day = stored_spend_by_day(session, ws)
    assert by_day[JAN] == pytest.approx(3.0) and by_day[date(2026, 1, 9)] == 0.0
    # a second redo works from the same starting point; a stale one is refused
    again = repo.redo_upload(session=session, workspace_id=ws, outcome=redone, upload=upload_of((name, data)))
    assert stored_spend_by_day(session, ws) == pytest.approx(totals_by_day(week1, (name, data)))
    assert again.action == "refreshed"
    with pytest.raises(UsageError, match="changed since"):  # `redone`'s rows are no longer what is stored
        repo.redo_upload(session=session, workspace_id=ws, outcome=redone, upload=upload_of((name, data)))


def test_rename_disable_enable_and_delete_sources(session, ws):
    a = repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN, 3)))
    b = repo.store_upload(session=session, workspace_id=ws, target="new",
                          upload=upload_of(meta_export(JAN, 3, campaigns=("Solo",), spend=10.0, name="b.csv")))
    assert repo.rename_source(session=session, source_id=a.source_id, name=" Meta  main ").name == "Meta main"
    repo.set_source_enabled(session=session, source_id=b.source_id, enabled=False)
    assert [s.id for s in repo.list_sources(session=session, workspace_id=ws, enabled_only=True)] == [a.source_id]
    assert stored_spend_by_day(session, ws)[JAN] == pytest.approx(3.0)  # the disabled source is left out
    repo.set_source_enabled(session=session, source_id=b.source_id, enabled=True)
    assert stored_spend_by_day(session, ws)[JAN] == pytest.approx(13.0)
    assert repo.delete_source(session=session, source_id=b.source_id) is True
    assert repo.delete_source(session=session, source_id=b.source_id) is False
    with pytest.raises(repo.NotFoundError):
        repo.load_source_frame(session=session, source_id=b.source_id)
    assert [s.name for s in repo.list_sources(session=session, workspace_id=ws)] == ["Meta main"]


def test_source_lists_never_read_the_rows(engine, session, ws):
    repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN, 3)))
    session.expire_all()
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    listed = repo.list_sources(session=session, workspace_id=ws)
    assert listed and not any("frame_parquet" in s or "load_report" in s for s in statements)


# --- workspaces never see each other's data -------------------------------------------------------


def test_two_workspaces_never_see_each_others_sources_snapshots_links_or_profiles(session, ws):
    other = repo.create_workspace(session=session, name="Client B").id
    mine = repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN, 3)))
    theirs = repo.store_upload(session=session, workspace_id=other, upload=upload_of(meta_export(JAN, 3)))
    assert theirs.action == "added"  # the same file in another workspace is that workspace's own source
    snapshot = repo.save_snapshot(session=session, workspace_id=ws, name="mine", frame=demo.generate(rows=50),
                                  settings={})
    link, _ = repo.create_share_link(session=session, snapshot_id=snapshot.id)
    repo.save_mapping_profile(session=session, workspace_id=ws, name="P", mapping={"a": "spend"})

    assert [s.id for s in repo.list_sources(session=session, workspace_id=other)] == [theirs.source_id]
    assert repo.list_snapshots(session=session, workspace_id=other) == []
    assert repo.list_share_links(session=session, workspace_id=other) == []
    assert repo.list_mapping_profiles(session=session, workspace_id=other) == []
    # ids of one workspace do nothing in another
    assert repo.get_source(session=session, source_id=mine.source_id, workspace_id=other) is None
    assert repo.get_snapshot(session=session, snapshot_id=snapshot.id, workspace_id=other) is None
    assert repo.delete_source(session=session, source_id=mine.source_id, workspace_id=other) is False
    assert repo.delete_snapshot(session=session, snapshot_id=snapshot.id, workspace_id=other) is False
    for action in (
        lambda: repo.rename_source(session=session, source_id=mine.source_id, name="x", workspace_id=other),
        lambda: repo.set_source_enabled(session=session, source_id=mine.source_id, enabled=False, workspace_id=other),
        lambda: repo.rename_snapshot(session=session, snapshot_id=snapshot.id, name="x", workspace_id=other),
        lambda: repo.create_share_link(session=session, snapshot_id=snapshot.id, workspace_id=other),
        lambda: repo.revoke_share_link(session=session, link_id=link.id, workspace_id=other),
        lambda: repo.regenerate_share_link(session=session, link_id=link.id, workspace_id=other),
        lambda: repo.store_upload(session=session, workspace_id=other, target=mine.source_id,
                                  upload=upload_of(meta_export(JAN, 1, name="new.csv"))),
    ):
        with pytest.raises(repo.NotFoundError):
            action()
    assert repo.get_source(session=session, source_id=mine.source_id, workspace_id=ws).name == "meta.csv"
    assert repo.list_share_links(session=session, workspace_id=ws)[0].status == "active"


def test_deleting_a_workspace_deletes_everything_in_it_and_nothing_else(session, ws):
    doomed = repo.create_workspace(session=session, name="Doomed").id
    for i in range(3):
        repo.store_upload(session=session, workspace_id=doomed, target="new",
                          upload=upload_of(meta_export(JAN, 2, campaigns=(f"c{i}",), name=f"{i}.csv")))
    snapshots = [repo.save_snapshot(session=session, workspace_id=doomed, name=f"s{i}", frame=demo.generate(rows=30),
                                    settings={}) for i in range(5)]
    tokens = [repo.create_share_link(session=session, snapshot_id=snapshots[i].id)[1] for i in range(2)]
    repo.save_mapping_profile(session=session, workspace_id=doomed, name="P", mapping={"a": "spend"})
    keep = repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN, 2)))
    kept_snapshot = repo.save_snapshot(session=session, workspace_id=ws, name="kept", frame=demo.generate(rows=30),
                                       settings={})
    _, kept_token = repo.create_share_link(session=session, snapshot_id=kept_snapshot.id)

    contents = repo.workspace_contents(session=session, workspace_id=doomed)
    assert contents.describe() == "3 sources, 5 snapshots, 2 client links, 1 mapping profile"
    assert contents.stored_bytes > 0

    assert repo.delete_workspace(session=session, workspace_id=doomed) is True
    assert repo.delete_workspace(session=session, workspace_id=doomed) is False

    def count(model, **where) -> int:
        statement = select(sa.func.count()).select_from(model)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        return session.exec(statement).one()

    assert count(Workspace, id=doomed) == 0
    assert count(DataSource, workspace_id=doomed) == count(Snapshot, workspace_id=doomed) == 0
    assert count(MappingProfile, workspace_id=doomed) == 0
    assert count(ShareLink) == 1  # only the kept workspace's link is left
    assert all(repo.resolve_share_token(session=session, token=t) is None for t in tokens)
    assert repo.resolve_share_token(session=session, token=kept_token) is not None
    assert repo.get_source(session=session, source_id=keep.source_id, workspace_id=ws) is not None


# --- limits and failures -------------------------------------------------------------------------


def test_the_size_cap_refuses_with_one_sentence_and_keeps_what_was_stored(session, ws, monkeypatch):
    small = repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN, 5)))
    [before] = repo.list_sources(session=session, workspace_id=ws)
    monkeypatch.setenv("CAMPAIGN_LENS_WORKSPACE_MAX_MB", "1")
    big = demo.generate(rows=100_000)  # ~1.6 MB as zstd Parquet
    big_upload = repo.SourceUpload(file_name="big.csv", sha256="f" * 64, size=1, frame=big,
                                   report={"source_format": "meta_ads", "mapping": {}})

    for attempt in (
        lambda: repo.store_upload(session=session, workspace_id=ws, target="new", upload=big_upload),
        lambda: repo.store_upload(session=session, workspace_id=ws, target=small.source_id, upload=big_upload),
        lambda: repo.save_snapshot(session=session, workspace_id=ws, name="big", frame=big, settings={}),
    ):
        with pytest.raises(repo.WorkspaceFullError) as info:
            attempt()
        message = str(info.value)
        assert "1.0 MB limit" in message and "CAMPAIGN_LENS_WORKSPACE_MAX_MB" in message and "\n" not in message

    [after] = repo.list_sources(session=session, workspace_id=ws)
    assert (after.frame_sha256, after.row_count) == (before.frame_sha256, before.row_count)
    assert repo.list_snapshots(session=session, workspace_id=ws) == []
    assert stored_spend_by_day(session, ws) == pytest.approx(totals_by_day(meta_export(JAN, 5)))
    # another workspace has its own allowance
    other = repo.create_workspace(session=session, name="Roomy").id
    monkeypatch.setenv("CAMPAIGN_LENS_WORKSPACE_MAX_MB", "2")
    assert repo.store_upload(session=session, workspace_id=other, upload=big_upload).action == "added"


def test_a_write_that_fails_midway_leaves_the_stored_rows(session, ws, monkeypatch):
    repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN, 5)))
    [before] = repo.list_sources(session=session, workspace_id=ws)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is full")

    # fails after the UPDATE of the rows was sent, before the commit
    monkeypatch.setattr(repo, "_check_size_cap", broken)
    with pytest.raises(RuntimeError):
        repo.store_upload(session=session, workspace_id=ws, upload=upload_of(meta_export(JAN + timedelta(days=3), 5)))
    with pytest.raises(RuntimeError):
        repo.store_upload(session=session, workspace_id=ws, target="new",
                          upload=upload_of(meta_export(JAN, 5, campaigns=("New",), name="new.csv")))
    session.expire_all()
    [after] = repo.list_sources(session=session, workspace_id=ws)
    assert (after.frame_sha256, after.row_count, len(after.files)) == (before.frame_sha256, before.row_count, 1)
    assert stored_spend_by_day(session, ws) == pytest.approx(totals_by_day(meta_export(JAN, 5)))
