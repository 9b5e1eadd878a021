"""The report model and its renderers on small named frames: what a client reads, checked against the
frames' own arithmetic. Reports built here mostly have no charts, so no chart engine starts."""

from __future__ import annotations

import io
from datetime import date, timedelta

import polars as pl
import pytest
from PIL import Image
from pypdf import PdfReader

from metrics import abtest
from metrics.display import format_change, format_value
from metrics.errors import InputError, UsageError
from metrics.schema import conform
from reports import Branding, ReportOptions, SourceFile, ab_entry, build_report, render_html, render_pdf
from reports.html_file import clean_svg
from reports.model import Column, Cover, Report, Table

START = date(2026, 6, 1)


def frame(rows: list[dict]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows)).with_columns(pl.col("date").cast(pl.Date))


def two_weeks() -> pl.DataFrame:
    """Week 1 (1–7 June) and week 2 (8–14 June) on two platforms; week 2 spends more at a lower CPA."""
    rows = []
    for day in range(14):
        second = day >= 7
        for platform, scale in (("facebook", 1.0), ("google_ads", 2.0)):
            rows.append({"date": START + timedelta(days=day), "platform": platform, "campaign": f"{platform} main",
                         "impressions": 1000.0 * scale, "clicks": 20.0 * scale,
                         "spend": (15.0 if second else 10.0) * scale, "conversions": (3.0 if second else 1.0) * scale,
                         "currency": "EUR"})
    return frame(rows)


SECOND_WEEK = dict(date_from=START + timedelta(days=7), date_to=START + timedelta(days=13), compare="previous")


def tile(report, name):
    return next(t for t in report.tiles if t.name == name)


def test_tiles_show_totals_and_changes_with_their_tone():
    report = build_report(two_weeks(), ReportOptions(**SECOND_WEEK))
    spend_now, spend_before = 7 * (15.0 + 30.0), 7 * (10.0 + 20.0)
    cpa_now, cpa_before = spend_now / (7 * 9.0), spend_before / (7 * 3.0)
    spend, cpa = tile(report, "spend"), tile(report, "cpa")
    assert spend.exact == format_value(spend_now, "currency", "EUR") == "€315.00"
    assert spend.change == format_change(spend_now / spend_before - 1) == "+50.0 %"
    assert spend.tone == "neutral"  # spending more is neither good nor bad news
    assert cpa.exact == format_value(cpa_now, "currency", "EUR")
    assert cpa.change == format_change(cpa_now / cpa_before - 1)
    assert cpa.tone == "good"  # a lower CPA is good news
    assert tile(report, "conversions").tone == "good"
    assert report.cover.period == "8 – 14 Jun 2026" and report.cover.comparison == "1 – 7 Jun 2026"
    assert "Revenue" in " ".join(report.notes)  # not reported: named, never shown as 0


def test_platform_filter_restricts_every_figure():
    report = build_report(two_weeks(), ReportOptions(platforms=("facebook",), **SECOND_WEEK))
    assert tile(report, "spend").exact == format_value(7 * 15.0, "currency", "EUR")
    platform_table = next(b for s in report.sections for b in s.blocks if getattr(b, "title", "") == "Every platform")
    assert [row[0] for row in platform_table.rows] == ["Facebook"]
    assert report.cover.scope == "Facebook"


def test_dates_without_rows_give_a_report_that_says_so():
    report = build_report(two_weeks(), ReportOptions(date_from=date(2027, 1, 1), date_to=date(2027, 1, 31)))
    assert report.tiles == () and report.sections == ()
    assert report.headline == "No activity was reported for this selection."
    assert any("No rows match" in note for note in report.notes)


def blended() -> pl.DataFrame:
    """A USD ads file and a sheet that never says its currency (the blend that once read as all dollars),
    plus an organic file with reach and no money."""
    ads = [{"date": START + timedelta(days=d), "platform": "facebook", "campaign": "Ads", "impressions": 1000.0,
            "clicks": 10.0, "spend": 20.0, "currency": "USD", "source_file": "meta.csv"} for d in range(7)]
    sheet = [{"date": START + timedelta(days=d), "platform": "google_ads", "campaign": "Search",
              "impressions": 500.0, "clicks": 25.0, "spend": 30.0, "source_file": "sheet.csv"} for d in range(7)]
    organic = [{"date": START + timedelta(days=d), "platform": "instagram", "campaign": "Posts", "reach": 400.0,
                "engagements": 40.0, "impressions": 900.0, "source_file": "ig.csv"} for d in range(7)]
    return frame(ads + sheet + organic)


def test_money_in_mixed_currencies_is_left_out_with_the_fix_never_shown_as_dollars():
    report = build_report(blended(), ReportOptions(compare=None))
    assert report.currency is None
    assert not any(t.name in ("spend", "cpc", "cpm") for t in report.tiles)  # left out, not added up
    assert any("more than one currency: USD (meta.csv) and unknown (sheet.csv)" in n and "Data page" in n
               for n in report.notes)
    assert not any("Not reported" in n and "Spend" in n for n in report.notes)  # not "unreported": mixed
    html = render_html(report)
    assert "$" not in html.split("<svg")[0]  # no dollar sign on any figure or table before the charts
    platforms = next(b for s in report.sections for b in s.blocks if getattr(b, "title", "") == "Every platform")
    spend_column = [c.label for c in platforms.columns].index("Spend")
    cells = {row[0]: row[spend_column] for row in platforms.rows}
    assert cells["Facebook"] == "$140.00" and cells["Google Ads"] == "210.00"  # each platform in its own currency


def test_a_kpi_from_part_of_the_data_says_which_part():
    report = build_report(blended(), ReportOptions(compare=None))
    engagement = tile(report, "engagement_rate")
    # Engagement rate: engagements / reach over the rows reporting both, the organic file only.
    assert engagement.exact == format_value(7 * 40.0 / (7 * 400.0), "percent") == "10.00 %"
    assert engagement.note == "based on 1 of 3 files"
    assert tile(report, "clicks").note is None  # a plain total covers what it covers
    assert "based on 1 of 3 files" in render_html(report)


def test_currency_settings_convert_exactly_as_the_app_does():
    from metrics.currency import CurrencySettings, Rate, Rates

    settings = CurrencySettings(file_currencies={"sheet.csv": "EUR"},
                                rates=Rates("USD", (Rate("EUR", 1.25, None),), source="typed in"))
    report = build_report(blended(), ReportOptions(compare=None, currency_settings=settings))
    assert report.currency == "USD"
    # 7 × 20 USD + 7 × 30 EUR × 1.25 = 140 + 262.5 = 402.50 USD.
    assert tile(report, "spend").exact == "$402.50"
    only_files = CurrencySettings(file_currencies={"sheet.csv": "USD", "gone.csv": "EUR"})  # gone.csv: not here
    assert tile(build_report(blended(), ReportOptions(compare=None, currency_settings=only_files)),
                "spend").exact == "$350.00"


@pytest.mark.parametrize(("options", "phrase"), [
    (dict(date_from=date(2026, 6, 9), date_to=date(2026, 6, 1)), "before the start date"),
    (dict(compare="last_month"), "Cannot compare"),
    (dict(grain="hour"), "not day, week or month"),
    (dict(title="  "), "needs a title"),
    (dict(extra_costs=float("nan")), "Extra costs"),
])
def test_options_that_cannot_apply_are_refused_with_one_sentence(options, phrase):
    with pytest.raises(UsageError, match=phrase):
        ReportOptions(**options)


def test_long_tables_are_cut_with_a_visible_note():
    rows = [{"date": START, "platform": "x", "campaign": f"C{i:02d}", "impressions": 100.0, "spend": float(i)}
            for i in range(12)]
    report = build_report(frame(rows), ReportOptions(max_table_rows=5, compare=None))
    campaigns = next(b for s in report.sections for b in s.blocks if getattr(b, "title", "") == "Every campaign")
    assert [row[0] for row in campaigns.rows] == ["C11", "C10", "C09", "C08", "C07"]  # the most spend first
    assert campaigns.note == "Showing the 5 campaigns with the most spend of 12; the totals cover all of them."


def test_goals_are_measured_and_unreadable_ones_are_named():
    goals = ({"metric": "conversions", "target": 40, "deadline": "2026-06-14", "name": "June conversions"},
             {"metric": "nonsense", "target": 1, "deadline": "2026-06-30"})
    report = build_report(two_weeks(), ReportOptions(goals=goals, compare=None))
    [table] = next(s for s in report.sections if s.title == "Goals").blocks
    [row] = table.rows
    # 7 days × 3 conversions + 7 days × 9 conversions = 84 ≥ 40, and the data covers the deadline.
    assert row[0] == "June conversions" and row[2] == "Achieved" and row[4] == "84"
    assert any("1 saved goal could not be read" in note for note in report.notes)


def test_blended_files_funnel_and_goals_say_what_their_rates_rest_on():
    # shop.csv reports clicks and conversions; ads.csv clicks only (with the same spend currency).
    rows = []
    for day in range(14):
        rows.append({"date": START + timedelta(days=day), "platform": "facebook", "source_file": "shop.csv",
                     "impressions": 1000.0, "clicks": 50.0, "conversions": 5.0, "spend": 100.0, "currency": "EUR"})
        rows.append({"date": START + timedelta(days=day), "platform": "google_ads", "source_file": "ads.csv",
                     "impressions": 3000.0, "clicks": 100.0, "spend": 300.0, "currency": "EUR"})
    goals = ({"metric": "cpa", "target": 25, "deadline": "2026-06-30", "name": "CPA"},)
    report = build_report(frame(rows), ReportOptions(goals=goals, compare=None))
    funnel_table = next(b for s in report.sections if s.title == "Funnel" for b in s.blocks if isinstance(b, Table))
    # Conversions of clicks over shop.csv only: 70 / 700 = 10 % (not 70 / 2,100).
    assert funnel_table.rows[3][2] == "10.00 %"
    assert "Conversions of clicks: based on 1 of 2 files." in funnel_table.note
    [goal_table] = next(s for s in report.sections if s.title == "Goals").blocks
    # 1,400 spend / 70 conversions of shop.csv.
    assert goal_table.rows[0][4] == "€20.00"
    assert "CPA: CPA is based on 1 of 2 files" in goal_table.note


def test_platform_and_campaign_tables_name_the_kpis_resting_on_part_of_their_rows():
    # meta.csv reports reach, sheet.csv does not: Facebook's engagement rate rests on meta.csv only.
    rows = []
    for day in range(3):
        rows.append({"date": START + timedelta(days=day), "platform": "facebook", "campaign": "Launch",
                     "source_file": "meta.csv", "impressions": 1000.0, "engagements": 50.0, "reach": 800.0})
        rows.append({"date": START + timedelta(days=day), "platform": "facebook", "campaign": "Launch",
                     "source_file": "sheet.csv", "impressions": 500.0, "engagements": 900.0})
    report = build_report(frame(rows), ReportOptions(compare=None))
    tables = {b.title: b for s in report.sections for b in s.blocks if isinstance(b, Table)}
    assert "Facebook — Engagement rate (based on 1 of 2 files)" in tables["Every platform"].note
    assert "Launch — Engagement rate (based on 1 of 2 files)" in tables["Every campaign"].note
    # 150 engagements / 2,400 reach of meta.csv, never 2,850 / 2,400.
    row = dict(zip([c.label for c in tables["Every platform"].columns], tables["Every platform"].rows[0]))
    assert row["Engagement rate"] == "6.25 %"


def test_the_insights_section_explains_kpis_paces_budgets_and_lists_the_periods_annotations():
    budgets = ({"month": "2026-06", "scope": "platform", "scope_value": "facebook", "amount": 300.0, "currency": "EUR"},
               {"month": "June 2026", "amount": "a lot"})
    annotations = ({"date": "2026-06-10", "end": None, "text": "<b>Promo</b> starts", "kind": "launch"},
                   {"date": "2026-06-02", "end": "2026-06-03", "text": "Before the period", "kind": "outage"},
                   {"date": "someday", "text": "x"})
    report = build_report(two_weeks(), ReportOptions(**SECOND_WEEK, budgets=budgets, annotations=annotations))
    section = next(s for s in report.sections if s.title == "Insights")
    sentences = [b.text for b in section.blocks if hasattr(b, "text")]
    # CPA: (7 × 45 / 7 × 9) = €5.00 against (7 × 30 / 7 × 3) = €10.00; conversions per click tripled
    assert sentences[0].startswith("CPA fell 50 % vs the previous 7 days: CPM +50 %, CTR flat, conversion rate "
                                   "+200 %.")
    pacing = next(b for b in section.blocks if getattr(b, "title", "") == "Budget pacing")
    [row] = [dict(zip([c.label for c in pacing.columns], r)) for r in pacing.rows]
    # Facebook spent 7 × €10 + 7 × €15 by 14 June; even spread: €300 × 14/30; then €15 a day for 16 days
    assert (row["Scope"], row["Spent to date"], row["Expected to date"]) == ("Facebook", "€175.00", "€140.00")
    assert row["Projected month end"] == "€415.00" and row["Status"] == "Far off (over)"
    listed = next(b for b in section.blocks if getattr(b, "title", "") == "Annotations")
    assert listed.rows == (("10 Jun 2026", "Launch", "<b>Promo</b> starts"),)
    assert "1 saved budget could not be read and is not shown." in report.notes
    assert "1 saved annotation could not be read and is not shown." in report.notes
    page = render_html(report)
    assert "&lt;b&gt;Promo&lt;/b&gt; starts" in page and "<b>Promo</b>" not in page


def test_ab_results_show_variants_and_the_verdict():
    result = abtest.analyze(abtest.from_counts([("A", 5000, 400), ("B", 5000, 480)]))
    entry = ab_entry("Landing page headline", result)
    report = build_report(two_weeks(), ReportOptions(ab_results=(entry, {"garbage": True}), compare=None))
    table, *paragraphs = next(s for s in report.sections if s.title == "A/B tests").blocks
    assert table.title == "Landing page headline"
    header = [c.label for c in table.columns]
    assert header[:5] == ["Variant", "Units", "Conversions", "Rate", "Lift"]
    # 400 / 5000 = 8 %, 480 / 5000 = 9.6 %, 9.6 / 8 − 1 = +20 %.
    assert table.rows[0][:5] == ("A", "5,000", "400", "8.00 %", "control")
    assert table.rows[1][:5] == ("B", "5,000", "480", "9.60 %", "+20.00 %")
    assert table.rows[1][-1] == ("yes" if result.comparisons[0].significant else "no")
    assert paragraphs[0].text == abtest.verdict(result, result.comparisons[0])
    assert any("1 saved A/B result could not be read" in note for note in report.notes)


# --- branding -------------------------------------------------------------------------------------------


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_branding_refuses_what_it_cannot_draw():
    with pytest.raises(UsageError, match="not a colour"):
        Branding(accent="red")
    with pytest.raises(InputError, match="not a PNG or JPEG"):
        Branding(logo=b"<svg onload=alert(1)></svg>")
    with pytest.raises(InputError, match="damaged"):
        Branding(logo=png_bytes()[:40])
    with pytest.raises(InputError, match="declared as image/jpeg"):
        Branding(logo=png_bytes(), logo_mime="image/jpeg")
    assert Branding(logo=png_bytes()).logo_mime == "image/png"


def test_a_logo_too_large_for_the_workspace_is_too_large_for_a_report_file_too():
    """One limit: a logo the workspace settings refuse is not accepted by `reports render --logo` either."""
    with pytest.raises(InputError, match=r"logo is 1\.5 MB; use a PNG or JPEG under 1\.0 MB"):
        Branding(logo=png_bytes() + b"\x00" * 1_500_000)


def empty_report(branding: Branding, client: str = "Client") -> Report:
    return build_report(two_weeks(), ReportOptions(date_from=date(2027, 1, 1), date_to=date(2027, 1, 2),
                                                   client=client, sources=(SourceFile("<b>x</b>.csv", 10, 2),)),
                        branding)


def test_html_embeds_the_logo_and_escapes_the_footer_and_file_names():
    branding = Branding(logo=png_bytes(), accent="#0A7E3D", footer="<script>alert(1)</script> Agency")
    page = render_html(empty_report(branding))
    assert '<img class="logo" alt="Logo" src="data:image/png;base64,' in page
    assert "--accent:#0A7E3D" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Agency" in page
    assert "&lt;b&gt;x&lt;/b&gt;.csv (10 rows loaded, 2 rejected)" in page


def test_pdf_carries_the_footer_logo_and_names_characters_its_font_cannot_draw():
    report = empty_report(Branding(logo=png_bytes(), footer="Northwind Agency"), client="東京 Retail")
    reader = PdfReader(io.BytesIO(render_pdf(report)))
    text = reader.pages[0].extract_text()
    assert "Northwind Agency" in text and "Page 1 of 1" in text
    assert "cannot draw (U+4EAC, U+6771)" in text  # 京 and 東, named by code point
    assert any(True for _ in reader.pages[0].images)  # the logo


def test_pdf_table_wraps_long_names_without_losing_rows():
    long_name = "A campaign name long enough to need several lines in its column " * 3
    rows = tuple((f"{long_name}{i}", f"{i:,}") for i in range(60))
    table = Table("Long names", (Column("Campaign", numeric=False), Column("Clicks")), rows)
    cover = Cover("T", None, "1 – 2 Jan 2027", None, "2 Jan 2027", "All platforms", "now")
    from reports.model import Section

    report = Report(cover=cover, headline="h", tiles=(), sections=(Section("Campaigns", (table,)),), notes=())
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(report))).pages]
    text = "\n".join(pages[1:])
    for i in range(60):
        assert f"{i:,}" in text
    assert all("Campaign Clicks" in page for page in pages[1:])


# --- chart SVG --------------------------------------------------------------------------------------------


def test_chart_svg_keeps_drawing_and_drops_anything_that_runs_or_fetches():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="x()">'
           '<defs><clipPath id="clip1"><rect width="5" height="5"/></clipPath></defs>'
           '<g clip-path="url(#clip1)" fill="url(http://evil.example/p)"><path d="M0,0L1,1"/>'
           '<text>&lt;img src=x onerror=alert(1)&gt;</text></g>'
           '<script>alert(1)</script><a href="http://evil.example"><text>link</text></a>'
           '<image href="http://evil.example/i.png"/><foreignObject><div/></foreignObject></svg>')
    cleaned = clean_svg(svg, prefix="c0-")
    assert "script" not in cleaned and "onload" not in cleaned and "href" not in cleaned
    assert "evil" not in cleaned and "foreignObject" not in cleaned and "http" not in cleaned
    assert 'id="c0-clip1"' in cleaned and 'clip-path="url(#c0-clip1)"' in cleaned
    assert "&lt;img src=x onerror=alert(1)&gt;" in cleaned and '<path d="M0,0L1,1"' in cleaned
