"""The blended upload a new user tries first: the public Meta export (USD) with the multichannel sheet (no
currency). No engagement rate of 8,372 %, no '$' on money whose currency nobody stated, a note that says
which currencies are mixed, and its two fixes (a file's currency, a reporting currency with a rate)."""

from __future__ import annotations

import csv
import math
from datetime import date

import polars as pl
import pytest

from metrics.display import describe, format_compact, platform_label

pytestmark = pytest.mark.datasets

META = "meta-ads-manager-export/meta_ads_manager_export.csv"
SHEET = "multichannel-campaign-daily/marketing_campaign_dataset.csv"
SHEET_NAME = "marketing_campaign_dataset.csv"
# All the data's days (the sidebar starts on the last 30 days).
ALL_DAYS = (date(2024, 11, 28), date(2025, 6, 29))


def upload(app, paths, page: str):
    app.run()
    app.switch_page("pages/upload.py").run()
    app.file_uploader(key="upload_files").set_value([(p.name, p.read_bytes(), "text/csv") for p in paths]).run()
    assert not app.exception, app.exception
    app.session_state["flt_dates"] = ALL_DAYS if len(paths) > 1 else (date(2025, 1, 1), ALL_DAYS[1])
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def sheet_spend(datasets) -> float:
    """The sheet's spend read with the csv module (rows with a negative measure are rejected by the loader)."""
    with open(datasets / SHEET, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle)]
    measures = ("impressions", "clicks", "leads", "conversions", "spend", "revenue")
    kept = [r for r in rows if not any(r[m].strip().startswith("-") for m in measures)]
    return math.fsum(float(r["spend"]) for r in kept)


def meta_spend(datasets) -> float:
    with open(datasets / META, encoding="utf-8-sig", newline="") as handle:
        return math.fsum(float(r["Amount spent (USD)"]) for r in csv.DictReader(handle) if r["Amount spent (USD)"])


def test_a_sheet_without_a_currency_shows_amounts_without_a_symbol(app, shared_datasets):
    at = upload(app, [shared_datasets / SHEET], "pages/overview.py")
    shown = tiles(at)
    assert shown["Spend"] == format_compact(sheet_spend(shared_datasets), "currency", None)
    assert not any("$" in value for value in shown.values()), shown
    assert not any("$" in m.value for m in at.markdown)


def test_the_blended_upload_shows_coverage_matched_rates_and_no_mixed_money(app, shared_datasets):
    at = upload(app, [shared_datasets / META, shared_datasets / SHEET], "pages/overview.py")
    shown = tiles(at)
    engagement = float(shown["Engagement rate"].replace("%", "").replace(",", "").strip()) / 100
    assert 0 < engagement < 1  # engagements over the reach of the same rows, never 8,372 %
    by_label = {m.label: m for m in at.metric}
    for money in ("Spend", "Revenue", "CPC", "CPA", "ROAS"):
        assert shown[money] == "—", money
        assert not by_label[money].proto.chart_data, money  # no sparkline of days in different currencies
    assert by_label["CTR"].proto.chart_data
    assert not any("$" in value for value in shown.values()), shown
    # The engagement rate tile says it rests on the Meta file only (the sheet has no reach).
    assert [c.value for c in at.caption if "based on" in c.value] == [":material/info: based on 1 of 2 files"]
    [note] = [w.value for w in at.warning if "more than one currency" in w.value]
    assert "USD" in note and "unknown" in note and "Data page" in note
    assert [link.proto.label for link in at.get("page_link") if link.proto.page == "upload"] == [
        "Set currencies on the Data page"]


def test_platform_rows_never_show_an_engagement_rate_above_100_percent(app, shared_datasets):
    at = upload(app, [shared_datasets / META, shared_datasets / SHEET], "pages/platforms.py")
    table = pl.from_pandas(at.dataframe[0].value)
    rates = table.get_column("engagement_rate").drop_nulls().drop_nans()
    assert rates.len() >= 1 and (rates < 100).all()  # percent cells are shown × 100: below 100 %
    currencies = dict(zip(table["platform"], table["currency"]))
    assert currencies[platform_label("facebook")] == "mixed"  # Meta's USD with the sheet's Facebook rows
    assert currencies[platform_label("email")] == "unknown"
    facebook = table.filter(pl.col("platform") == platform_label("facebook")).row(0, named=True)
    assert facebook["spend"] is None or math.isnan(facebook["spend"])
    assert "Engagement rate (based on 1 of 2 files)" in facebook["based_on"]


def test_setting_the_sheets_currency_fixes_the_total(app, shared_datasets):
    at = upload(app, [shared_datasets / META, shared_datasets / SHEET], "pages/upload.py")
    at.selectbox(key=f"file_currency_{SHEET_NAME}").set_value("USD").run()
    assert not at.exception, at.exception
    at.switch_page("pages/overview.py").run()
    total = meta_spend(shared_datasets) + sheet_spend(shared_datasets)
    assert tiles(at)["Spend"] == format_compact(total, describe("spend").format, "USD")
    assert not [w for w in at.warning if "more than one currency" in w.value]


def test_a_reporting_currency_with_a_typed_rate_converts_everything(app, shared_datasets):
    at = upload(app, [shared_datasets / META, shared_datasets / SHEET], "pages/upload.py")
    at.selectbox(key=f"file_currency_{SHEET_NAME}").set_value("GBP").run()
    at.selectbox(key="reporting_currency").set_value("EUR")
    at.toggle(key="rates_bundled").set_value(False)
    # 1 USD = 0.9 EUR, 1 GBP = 1.2 EUR, typed into the rates grid (rows in code order: GBP, USD).
    at.session_state["rates_editor"] = {"edited_rows": {0: {"Rate": 1.2}, 1: {"Rate": 0.9}}, "added_rows": [],
                                        "deleted_rows": []}
    at.button(key="FormSubmitter:currency_form-Apply").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    at.switch_page("pages/overview.py").run()
    total = 0.9 * meta_spend(shared_datasets) + 1.2 * sheet_spend(shared_datasets)
    assert tiles(at)["Spend"] == format_compact(total, "currency", "EUR")
    assert tiles(at)["Spend"].startswith("€")


def test_a_snapshot_keeps_the_files_currencies_and_the_rates(app, shared_datasets):
    from sqlmodel import Session

    from metrics.currency import CurrencySettings
    from models import repository
    from models.db import make_engine
    from ui.state import CURRENCY_SETTINGS

    at = upload(app, [shared_datasets / META, shared_datasets / SHEET], "pages/upload.py")
    at.selectbox(key=f"file_currency_{SHEET_NAME}").set_value("GBP").run()
    at.selectbox(key="reporting_currency").set_value("EUR")
    at.toggle(key="rates_bundled").set_value(False)
    at.session_state["rates_editor"] = {"edited_rows": {0: {"Rate": 1.2}, 1: {"Rate": 0.9}}, "added_rows": [],
                                        "deleted_rows": []}
    at.button(key="FormSubmitter:currency_form-Apply").click().run()
    chosen = at.session_state[CURRENCY_SETTINGS]
    at.switch_page("pages/snapshots.py").run()
    [name_box] = [t for t in at.text_input if t.label == "Snapshot name"]
    name_box.input("Blended, in EUR")
    at.button(key="FormSubmitter:save_snapshot-Save snapshot").click().run()
    assert not at.exception, at.exception
    engine = make_engine()
    with Session(engine) as session:
        saved = repository.get_snapshot(session=session, snapshot_id=at.session_state["snap_selected"])
        assert CurrencySettings.from_dict(saved.settings["currency"]) == chosen
    engine.dispose()

    at.session_state[CURRENCY_SETTINGS] = CurrencySettings()  # the editor changes the report afterwards...
    at.button(key="snapshot_open").click().run()  # ...and the snapshot brings its currencies and rates back
    at.switch_page("pages/overview.py").run()
    total = 0.9 * meta_spend(shared_datasets) + 1.2 * sheet_spend(shared_datasets)
    assert tiles(at)["Spend"] == format_compact(total, "currency", "EUR")
