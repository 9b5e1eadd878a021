"""Budgets and annotations of a workspace through models.repository, on SQLite and PostgreSQL: one budget per
month and scope, sheet imports that replace, holidays added once, isolation between workspaces, the caps and the
delete cascade."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from metrics.errors import UsageError
from metrics.insights.annotations import Annotation, public_holidays
from metrics.insights.pacing import Budget, read_budget_sheet
from models import repository as repo

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture
def ws(session) -> int:
    return repo.ensure_workspace(session=session).id


@pytest.fixture
def other_ws(session) -> int:
    return repo.create_workspace(session=session, name="Other client").id


def _budgets(session, workspace_id) -> list[Budget]:
    return [repo.budget_of(r) for r in repo.list_budgets(session=session, workspace_id=workspace_id)]


def test_budgets_are_stored_listed_changed_and_deleted(session, ws):
    campaign = repo.save_budget(session=session, workspace_id=ws,
                                budget=Budget(OCT, "campaign", "Spring Sale", 5000.0, "usd"))
    repo.save_budget(session=session, workspace_id=ws, budget=Budget(date(2026, 10, 17), "all", None, 20000.0))
    repo.save_budget(session=session, workspace_id=ws, budget=Budget(NOV, "platform", "Google Ads", 8000.0))
    assert _budgets(session, ws) == [
        Budget(OCT, "all", None, 20000.0), Budget(OCT, "campaign", "Spring Sale", 5000.0, "USD"),
        Budget(NOV, "platform", "google_ads", 8000.0),
    ]
    changed = repo.save_budget(session=session, workspace_id=ws, budget_id=campaign.id,
                               budget=Budget(OCT, "campaign", "Spring Sale", 6500.0, "USD"))
    assert changed.id == campaign.id and changed.amount == 6500.0
    assert len(_budgets(session, ws)) == 3
    assert repo.delete_budget(session=session, budget_id=campaign.id, workspace_id=ws)
    assert not repo.delete_budget(session=session, budget_id=campaign.id, workspace_id=ws)
    assert [b.scope for b in _budgets(session, ws)] == ["all", "platform"]


def test_a_month_and_scope_has_one_budget(session, ws):
    first = repo.save_budget(session=session, workspace_id=ws, budget=Budget(OCT, "campaign", "Spring Sale", 100.0))
    with pytest.raises(UsageError, match="already a budget for Oct 2026 · spring sale;"):
        repo.save_budget(session=session, workspace_id=ws, budget=Budget(OCT, "campaign", " spring sale", 200.0))
    other = repo.save_budget(session=session, workspace_id=ws, budget=Budget(NOV, "campaign", "Spring Sale", 300.0))
    with pytest.raises(UsageError, match="already a budget"):  # moving November onto October
        repo.save_budget(session=session, workspace_id=ws, budget_id=other.id,
                         budget=Budget(OCT, "campaign", "SPRING SALE", 300.0))
    assert [(b.month, b.amount) for b in _budgets(session, ws)] == [(OCT, 100.0), (NOV, 300.0)]
    assert repo.save_budget(session=session, workspace_id=ws, budget_id=first.id,
                            budget=Budget(OCT, "campaign", "Spring Sale", 150.0)).amount == 150.0


def test_a_budget_sheet_adds_and_replaces_in_one_go(session, ws):
    repo.save_budget(session=session, workspace_id=ws, budget=Budget(OCT, "platform", "facebook", 1000.0))
    sheet = read_budget_sheet(b"month,platform,amount,currency\n2026-10,Facebook,1200,USD\n"
                              b"2026-10,Google Ads,900,USD\nNov 2026,,5000,USD\n")
    outcome = repo.import_budgets(session=session, workspace_id=ws, budgets=sheet.budgets)
    assert (outcome.added, outcome.replaced) == (2, 1)
    assert outcome.describe() == "2 budgets added, 1 replaced"
    assert {(b.month, b.scope_value): (b.amount, b.currency) for b in _budgets(session, ws)} == {
        (OCT, "facebook"): (1200.0, "USD"), (OCT, "google_ads"): (900.0, "USD"), (NOV, None): (5000.0, "USD"),
    }


def test_annotations_are_stored_changed_and_deleted(session, ws):
    launch = repo.save_annotation(session=session, workspace_id=ws,
                                  annotation=Annotation(date(2026, 10, 5), "New   landing page", kind="launch"))
    repo.save_annotation(session=session, workspace_id=ws, annotation=Annotation(
        date(2026, 9, 30), "Tracking outage", end=date(2026, 10, 2), kind="outage"))
    stored = [repo.annotation_of(r) for r in repo.list_annotations(session=session, workspace_id=ws)]
    assert stored == [Annotation(date(2026, 9, 30), "Tracking outage", end=date(2026, 10, 2), kind="outage"),
                      Annotation(date(2026, 10, 5), "New landing page", kind="launch")]
    repo.save_annotation(session=session, workspace_id=ws, annotation_id=launch.id,
                         annotation=Annotation(date(2026, 10, 6), "New landing page (moved)", kind="launch"))
    assert [r.start_date for r in repo.list_annotations(session=session, workspace_id=ws)] == [
        date(2026, 9, 30), date(2026, 10, 6)]
    assert repo.delete_annotation(session=session, annotation_id=launch.id, workspace_id=ws)
    assert len(repo.list_annotations(session=session, workspace_id=ws)) == 1


@pytest.mark.parametrize("annotation, message", [
    (Annotation(date(2026, 10, 5), "   "), "Write what happened"),
    (Annotation(date(2026, 10, 5), "Promo", kind="<b>x</b>"), "not '<b>x</b>'"),
])
def test_an_annotation_needs_a_text_and_a_known_kind(session, ws, annotation, message):
    with pytest.raises(UsageError, match=message):
        repo.save_annotation(session=session, workspace_id=ws, annotation=annotation)
    assert repo.list_annotations(session=session, workspace_id=ws) == []


def test_public_holidays_are_added_once(session, ws):
    holidays = public_holidays("US", date(2026, 1, 1), date(2026, 12, 31))
    added = repo.add_annotations(session=session, workspace_id=ws, annotations=holidays)
    assert added == len(holidays) >= 10
    days = {r.start_date: r.text for r in repo.list_annotations(session=session, workspace_id=ws)}
    assert "New Year" in days[date(2026, 1, 1)] and "Christmas" in days[date(2026, 12, 25)]
    assert repo.add_annotations(session=session, workspace_id=ws, annotations=holidays) == 0
    assert len(repo.list_annotations(session=session, workspace_id=ws)) == added


def test_the_caps_refuse_the_whole_batch(session, ws, monkeypatch):
    monkeypatch.setattr(repo, "MAX_ANNOTATIONS", 3)
    monkeypatch.setattr(repo, "MAX_BUDGETS", 2)
    notes = [Annotation(date(2026, 10, d), f"Note {d}") for d in range(1, 5)]
    with pytest.raises(UsageError, match="at most 3 annotations"):
        repo.add_annotations(session=session, workspace_id=ws, annotations=notes)
    assert repo.list_annotations(session=session, workspace_id=ws) == []
    budgets = [Budget(date(2026, m, 1), "all", None, 10.0) for m in (1, 2, 3)]
    with pytest.raises(UsageError, match="at most 2 budgets"):
        repo.import_budgets(session=session, workspace_id=ws, budgets=budgets)
    assert repo.list_budgets(session=session, workspace_id=ws) == []


def test_another_workspace_can_neither_see_nor_touch_them(session, ws, other_ws):
    budget = repo.save_budget(session=session, workspace_id=ws, budget=Budget(OCT, "all", None, 100.0))
    note = repo.save_annotation(session=session, workspace_id=ws, annotation=Annotation(OCT, "Launch"))
    assert repo.list_budgets(session=session, workspace_id=other_ws) == []
    assert repo.list_annotations(session=session, workspace_id=other_ws) == []
    assert not repo.delete_budget(session=session, budget_id=budget.id, workspace_id=other_ws)
    assert not repo.delete_annotation(session=session, annotation_id=note.id, workspace_id=other_ws)
    with pytest.raises(repo.NotFoundError):
        repo.save_budget(session=session, workspace_id=other_ws, budget_id=budget.id,
                         budget=Budget(OCT, "all", None, 1.0))
    with pytest.raises(repo.NotFoundError):
        repo.save_annotation(session=session, workspace_id=other_ws, annotation_id=note.id,
                             annotation=Annotation(OCT, "Changed"))
    # the same month and scope is free in another workspace
    repo.save_budget(session=session, workspace_id=other_ws, budget=Budget(OCT, "all", None, 5.0))
    assert [b.amount for b in _budgets(session, ws)] == [100.0]


def test_deleting_a_workspace_deletes_its_budgets_and_annotations(session, engine, ws, other_ws):
    for workspace_id in (ws, other_ws):
        repo.save_budget(session=session, workspace_id=workspace_id, budget=Budget(OCT, "all", None, 100.0))
        repo.save_annotation(session=session, workspace_id=workspace_id, annotation=Annotation(OCT, "Launch"))
    assert repo.delete_workspace(session=session, workspace_id=ws)
    with Session(engine) as fresh:
        for table in ("budget", "annotation"):
            rows = fresh.exec(sa.text(f"SELECT workspace_id FROM {table}")).all()
            assert [r[0] for r in rows] == [other_ws], table


def test_report_files_of_a_snapshot_and_of_live_data_carry_their_annotations_and_budgets(session, ws):
    from metrics import ingest
    from metrics.report_settings import ReportSettings
    from reports.stored import live_report, snapshot_report
    from tests.export_fixtures import meta_export

    name, data = meta_export(date(2026, 9, 1), 30, spend=10.0)
    repo.store_upload(session=session, workspace_id=ws, upload=repo.SourceUpload.from_load(data, ingest.load(data, name)))
    frame = repo.load_sources_frame(session=session, source_ids=[s.id for s in repo.list_sources(
        session=session, workspace_id=ws)])
    saved = ReportSettings(annotations=(Annotation(date(2026, 9, 20), "Saved with the snapshot").to_dict(iso_dates=True),),
                           budgets=(Budget(date(2026, 9, 1), "all", None, 700.0).to_dict(),))
    snapshot = repo.save_snapshot(session=session, workspace_id=ws, name="September", frame=frame,
                                  settings=saved.to_dict())
    repo.save_annotation(session=session, workspace_id=ws, annotation=Annotation(date(2026, 9, 21), "Live note"))

    def insights(report) -> dict[str, tuple]:
        section = next(s for s in report.sections if s.title == "Insights")
        return {block.title: block.rows for block in section.blocks if hasattr(block, "rows")}

    frozen = insights(snapshot_report(session=session, snapshot_id=snapshot.id))
    assert [row[2] for row in frozen["Annotations"]] == ["Saved with the snapshot"]
    # September: 30 days × (€10 + €11) = 630 against 700
    [pacing] = frozen["Budget pacing"]
    assert pacing[:4] == ("Sep 2026", "Whole account", "$700.00", "$630.00")
    live = insights(live_report(session=session, workspace_id=ws, period="last_month", today=date(2026, 10, 2),
                                title="Live"))
    assert [row[2] for row in live["Annotations"]] == ["Live note"] and "Budget pacing" not in live
