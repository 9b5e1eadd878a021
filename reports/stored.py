"""Reports of what the database stores: a saved snapshot, or a workspace's latest data ("live").

    report = snapshot_report(session=session, snapshot_id=7)          # its saved filters, goals, A/B test
    report = live_report(session=session, workspace_id=3, period="last_month", today=date(2026, 9, 1))

`options_from_settings` is the one converter from the settings the app shows a report with
(`metrics.report_settings.ReportSettings`: filters, goals, the saved A/B test, KPI settings, currency, a
snapshot's annotations and budgets)
to `ReportOptions`, so a report file says what the app says for the same snapshot. The workspace's
branding (logo, accent colour, footer) draws it; a workspace without branding gets the neutral default.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlmodel import Session

from metrics.currency import CurrencySettings
from metrics.errors import UsageError
from metrics.report_settings import ReportFilters, ReportSettings
from models import repository
from reports.branding import Branding
from reports.model import Report, ReportOptions, SourceFile, ab_entry, build_report
from reports.schedule import LivePeriod, period_dates, period_label

_LOGGER = logging.getLogger(__name__)


def options_from_settings(
    settings: ReportSettings, *, title: str, client: str | None = None, sources: Sequence[SourceFile] = (),
    ab_results: Sequence[Mapping[str, Any]] = (), notes: Sequence[str] = (), generated_at: datetime | None = None,
) -> ReportOptions:
    """The report options for `settings`: the same dates, platforms, campaigns, grain and comparison (a
    custom comparison period included) as the filter bar (resolve the dates against the data first, as
    the app does: `ReportFilters.within`), the same extra costs and engagement weights as the KPI settings, the same goals.

    The currency settings (files' currencies, a reporting currency with the rates used) are the snapshot's
    own, so the file converts exactly as the app did when the snapshot was saved."""
    filters, kpi = settings.filters, settings.kpi
    currency_settings = CurrencySettings.from_dict(settings.currency)
    return ReportOptions(
        title=title, client=client, date_from=filters.date_from, date_to=filters.date_to, compare=filters.comparison,
        platforms=filters.platforms, campaigns=filters.campaigns, grain=filters.grain,
        currency_settings=currency_settings, extra_costs=kpi.extra_costs, weights=dict(kpi.weights),
        goals=tuple(settings.goals), ab_results=tuple(ab_results), notes=tuple(notes), sources=tuple(sources),
        annotations=tuple(settings.annotations), budgets=tuple(settings.budgets), generated_at=generated_at,
    )


def saved_ab_test(settings: ReportSettings, frame: pl.DataFrame) -> tuple[list[dict[str, Any]], list[str]]:
    """The saved A/B test as the A/B page analyses it (same rows, same filters): ([`ab_entry`], []) or, when
    it cannot be analysed on this data, ([], [the page's sentence saying why]). No test: ([], [])."""
    config = dict(settings.ab)
    if not config:
        return [], []
    from metrics.abtest.saved import analyze_config, describe_config  # loads scipy only when a test is saved

    try:
        result, _daily, problem = analyze_config(config, frame, settings.filters)
    except Exception:  # a report still goes out; the test's absence is said, the cause logged
        _LOGGER.exception("The saved A/B test could not be analysed for a report")
        result, problem = None, "It could not be analysed on this data; open the A/B tests page to check it."
    if result is None:
        return [], [f"The saved A/B test is not shown. {problem}"]
    return [ab_entry(f"A/B test: {describe_config(config).split(' · ')[0]}", result)], []


def branding_of(stored: repository.WorkspaceBranding | None) -> Branding:
    """How the workspace's report files look; the neutral default for what it does not set."""
    if stored is None:
        return Branding()
    chosen = {key: value for key, value in (("accent", stored.accent_color), ("footer", stored.report_footer))
              if value}
    return Branding(logo=stored.logo, logo_mime=stored.logo_mime, **chosen)


def _client_name(label: str | None, workspace: repository.WorkspaceBranding) -> str | None:
    """The snapshot's client label, else the workspace's name (unless it is the default one)."""
    if label:
        return label
    return None if workspace.name == repository.DEFAULT_WORKSPACE_NAME else workspace.name


def snapshot_report(*, session: Session, snapshot_id: int, workspace_id: int | None = None,
                    title: str | None = None, generated_at: datetime | None = None) -> Report:
    """The client report of a saved snapshot with its saved settings and its workspace's branding.

    Raises `repository.NotFoundError` (one sentence, exit code 3) when the snapshot does not exist (in
    `workspace_id`, when given) and `UsageError` when its settings cannot apply to its data."""
    snapshot = repository.get_snapshot(session=session, snapshot_id=snapshot_id, workspace_id=workspace_id)
    if snapshot is None:
        raise repository.NotFoundError(f"Snapshot {snapshot_id} does not exist; it may have been deleted.")
    settings = ReportSettings.from_dict(snapshot.settings)
    stored_branding = repository.workspace_branding(session=session, workspace_id=snapshot.workspace_id)
    name, label, files = snapshot.name, snapshot.client_label, list(snapshot.source_files or [])
    frame = repository.load_snapshot_frame(session=session, snapshot_id=snapshot_id)
    if frame.height:  # the dates the app opens the snapshot with (saved ones outside the data: the default)
        dates = frame.get_column("date")
        settings = replace(settings, filters=settings.filters.within(dates.min(), dates.max()))
    ab_results, notes = saved_ab_test(settings, frame)
    options = options_from_settings(
        settings, title=title or name, client=_client_name(label, stored_branding),
        sources=[SourceFile(str(f.get("name") or "")) for f in files if f.get("name")],
        ab_results=ab_results, notes=notes, generated_at=generated_at)
    return build_report(frame, options, branding_of(stored_branding))


def live_report(*, session: Session, workspace_id: int, period: LivePeriod, today: date, title: str,
                generated_at: datetime | None = None) -> Report:
    """The report of a workspace's enabled sources combined, for a period relative to `today` (the
    client's local date), with the workspace's goals, A/B test and KPI settings, annotations and budgets, and
    its branding.

    Raises `UsageError` when the workspace has no enabled source."""
    workspace = repository.get_workspace(session=session, workspace_id=workspace_id)
    if workspace is None:
        raise repository.NotFoundError(f"Workspace {workspace_id} does not exist; it may have been deleted.")
    stored = ReportSettings.from_dict(workspace.report_settings)
    sources = repository.list_sources(session=session, workspace_id=workspace_id, enabled_only=True)
    if not sources:
        raise UsageError("The workspace has no enabled data source to report on; upload its exports on the Data "
                         "page or enable a source.")
    stored_branding = repository.workspace_branding(session=session, workspace_id=workspace_id)
    files = [SourceFile(s.name, s.row_count) for s in sources]
    frame = repository.load_sources_frame(session=session, source_ids=[s.id for s in sources])
    date_from, date_to = period_dates(period, today)
    settings = replace(  # a month at most: daily; the workspace's own annotations and budgets as they are now
        stored, filters=ReportFilters(date_from=date_from, date_to=date_to),
        annotations=tuple(repository.annotation_of(r).to_dict(iso_dates=True)
                          for r in repository.list_annotations(session=session, workspace_id=workspace_id)),
        budgets=tuple(repository.budget_of(r).to_dict()
                      for r in repository.list_budgets(session=session, workspace_id=workspace_id)))
    ab_results, notes = saved_ab_test(settings, frame)
    options = options_from_settings(
        settings, title=title, client=_client_name(None, stored_branding), sources=files, ab_results=ab_results,
        notes=[f"The workspace's latest data, {period_label(period).lower()}.", *notes],
        generated_at=generated_at)
    return build_report(frame, options, branding_of(stored_branding))
