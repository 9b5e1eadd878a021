"""What the dashboard shows equals what `python -m metrics report` prints for the same file and filters."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import date

import polars as pl
import pytest

from metrics import demo
from metrics.display import describe, format_change, format_compact, platform_label
from tests.app.dashboard_helpers import shown_fraction
from tests.conftest import REPO

FROM, TO = date(2026, 10, 2), date(2026, 10, 31)
PLATFORMS = ["facebook", "tiktok", "linkedin"]
TILE_NAMES = ("spend", "impressions", "reach", "clicks", "ctr", "cpc", "cpm", "conversions", "cpa", "revenue",
              "roas", "roi", "engagement_rate", "net_follower_growth")


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    path = tmp_path_factory.mktemp("parity") / "account_export.csv"
    demo.generate(rows=4_000, seed=11).drop("source_file").write_csv(path)
    return path


def cli_report(path, *args) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "metrics", "report", str(path), "--from", FROM.isoformat(), "--to", TO.isoformat(),
         "--platform", *PLATFORMS, "--compare", "previous", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def dashboard_on(app, export, page: str):
    app.run()
    app.switch_page("pages/upload.py").run()
    app.file_uploader(key="upload_files").set_value((export.name, export.read_bytes(), "text/csv")).run()
    app.session_state["flt_dates"] = (FROM, TO)
    app.session_state["flt_platforms"] = PLATFORMS
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def test_overview_tiles_equal_the_command_line(app, export):
    total = cli_report(export)["total"]
    at = dashboard_on(app, export, "pages/overview.py")
    shown = {m.label: m for m in at.metric}
    for name in TILE_NAMES:
        metric = shown[describe(name).label]
        assert metric.value == format_compact(total[name], describe(name).format, "USD"), name
        assert metric.proto.delta == format_change(total[f"{name}_delta_rel"]), name


def test_platform_table_equals_the_command_line(app, export):
    # The page shows platform names ("TikTok") where the JSON has slugs ("tiktok").
    rows = {platform_label(row["platform"]): row for row in cli_report(export, "--by", "platform")["rows"]}
    at = dashboard_on(app, export, "pages/platforms.py")
    table = pl.from_pandas(at.dataframe[0].value)
    assert sorted(table["platform"].to_list()) == sorted(rows)
    for name in ("spend", "impressions", "clicks", "conversions", "revenue", "ctr", "cpc", "cpm", "cpa", "cvr",
                 "roas", "roi", "engagement_rate", "share_of_spend", "share_of_conversions"):
        for platform, row in rows.items():
            shown = table.filter(pl.col("platform") == platform)[name][0]
            if row[name] is None:
                assert shown is None or math.isnan(shown), (name, platform)
            else:
                assert math.isclose(shown_fraction(name, shown), row[name], rel_tol=1e-9), (name, platform)


# --- the blended case: the public Meta export (USD) with the multichannel sheet (no currency) ----------------

META = "meta-ads-manager-export/meta_ads_manager_export.csv"
SHEET = "multichannel-campaign-daily/marketing_campaign_dataset.csv"
BLEND_FROM, BLEND_TO = date(2024, 11, 28), date(2025, 6, 29)
KPI_COLUMNS = ("spend", "impressions", "clicks", "conversions", "revenue", "ctr", "cpc", "cpm", "cpa", "cvr", "roas",
               "roi", "engagement_rate", "share_of_spend", "share_of_conversions")


def blended_cli(datasets, *args) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "metrics", "report", str(datasets / META), str(datasets / SHEET), *args],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def blended_dashboard(app, datasets, page: str):
    app.run()
    app.switch_page("pages/upload.py").run()
    app.file_uploader(key="upload_files").set_value(
        [(p.name, p.read_bytes(), "text/csv") for p in (datasets / META, datasets / SHEET)]).run()
    app.session_state["flt_dates"] = (BLEND_FROM, BLEND_TO)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def same_number(name, shown, expected, where) -> None:
    """A table cell equals the CLI's value (percent cells are shown × 100)."""
    if expected is None:
        assert shown is None or math.isnan(shown), where
    else:
        assert math.isclose(shown_fraction(name, shown), expected, rel_tol=1e-9, abs_tol=1e-12), where


@pytest.mark.datasets
def test_blended_overview_tiles_equal_the_command_line(app, shared_datasets):
    total = blended_cli(shared_datasets)["total"]
    assert total["currency"] == "mixed"
    at = blended_dashboard(app, shared_datasets, "pages/overview.py")
    shown = {m.label: m.value for m in at.metric}
    for name in TILE_NAMES:
        assert shown[describe(name).label] == format_compact(total[name], describe(name).format, None), name


@pytest.mark.datasets
def test_blended_platform_table_equals_the_command_line(app, shared_datasets):
    rows = {platform_label(r["platform"]): r for r in blended_cli(shared_datasets, "--by", "platform")["rows"]}
    at = blended_dashboard(app, shared_datasets, "pages/platforms.py")
    table = pl.from_pandas(at.dataframe[0].value)
    assert sorted(table["platform"].to_list()) == sorted(rows)
    for platform, row in rows.items():
        shown = table.filter(pl.col("platform") == platform).row(0, named=True)
        for name in KPI_COLUMNS:
            if name in table.columns:
                same_number(name, shown[name], row[name], (name, platform))
            else:  # a column is left out only when no platform has a value (the page says so)
                assert all(r[name] is None for r in rows.values()), name
        assert shown["currency"] == (row["currency"] or ("unknown" if row["spend"] is not None else None))


@pytest.mark.datasets
def test_blended_campaign_leaderboard_equals_the_command_line(app, shared_datasets):
    rows = {r["campaign"]: r for r in blended_cli(shared_datasets, "--by", "campaign")["rows"]}
    at = blended_dashboard(app, shared_datasets, "pages/campaigns.py")
    at.number_input(key="cmp_min_volume").set_value(0).run()
    at.selectbox(key="cmp_metric").set_value("ctr").run()
    at.number_input(key="cmp_n").set_value(100).run()
    board = next(pl.from_pandas(e.value) for e in at.dataframe if list(e.value.columns)[:2] == ["rank", "campaign"])
    assert board.height == sum(1 for r in rows.values() if r["ctr"] is not None)
    for shown in board.iter_rows(named=True):
        row = rows[shown["campaign"]]
        for name in ("ctr", "impressions", "clicks", "conversions", "spend", "cpa", "roas"):
            if name in board.columns:
                same_number(name, shown[name], row[name], (name, shown["campaign"]))
        assert shown["currency"] == row["currency"]
