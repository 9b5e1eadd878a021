"""Genuine export shapes of issue 8 (tests/data/make_fixtures.py): totals read independently with `csv`.

Each expected total is added up here from the fixture's text with Python's csv module and plain
arithmetic, applying the documented rules (total rows excluded, result types routed, parts of a
total not added); never from the loader's output.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
import pytest

from metrics import kpis, schema
from metrics.ingest import UnreadableFileError, load, load_path

DATA = Path(__file__).resolve().parents[1] / "data"


def rows_of(name: str, encoding: str = "utf-8-sig", delimiter: str = ",", skip: int = 0) -> list[dict[str, str]]:
    text = (DATA / name).read_bytes().decode(encoding)
    lines = text.splitlines(keepends=True)[skip:]
    return list(csv.DictReader(io.StringIO("".join(lines), newline=""), delimiter=delimiter))


def number(cell: str | None, decimal_comma: bool = False) -> float | None:
    """"1,234.50" / "1 234,50" / "5%" / "--" → float or None (not reported)."""
    cell = (cell or "").strip()
    if cell in ("", "-", "--"):
        return None
    cell = re.sub(r"[\s\u00a0\u202f]", "", cell)
    percent = cell.endswith("%")
    cell = cell.rstrip("%")
    cell = cell.replace(".", "").replace(",", ".") if decimal_comma else cell.replace(",", "")
    value = float(cell)
    return value / 100 if percent else value


def column_sum(rows: list[dict[str, str]], header: str, decimal_comma: bool = False) -> float | None:
    values = [v for v in (number(r[header], decimal_comma) for r in rows) if v is not None]
    return sum(values) if values else None


def loaded(name: str):
    return load((DATA / name).read_bytes(), name)


def assert_totals(frame: pl.DataFrame, expected: dict[str, float | None]) -> None:
    for measure, value in expected.items():
        got = frame[measure].sum() if frame[measure].null_count() < frame.height else None
        assert got == pytest.approx(value, abs=1e-6), measure


def codes(result) -> set[str]:
    return {i.code for i in result.report.issues}


# ---------------------------------------------------------------- Google Ads: totals wherever their label stands


def test_google_ads_keyword_report_totals_in_the_third_column_are_not_summed():
    name = "gads_keywords_utf16_total_in_col3.csv"
    rows = rows_of(name, encoding="utf-16", delimiter="\t", skip=2)
    data = [r for r in rows if not any(cell.startswith("Total:") for cell in r.values())]
    assert len(rows) - len(data) == 5 and all(r["Match type"].startswith("Total:") for r in rows if r not in data)
    result = loaded(name)
    report = result.report
    assert (report.source_format, report.platform, report.currency, report.currency_source) == (
        "google_ads", "google_ads", "USD", "column")
    assert (report.rows_read, report.rows_loaded, report.rows_excluded) == (len(rows), len(data), 5)
    assert_totals(result.frame, {"clicks": column_sum(data, "Clicks"), "impressions": column_sum(data, "Impr."),
                                 "spend": column_sum(data, "Cost"), "conversions": column_sum(data, "Conversions")})
    excluded = next(i for i in report.issues if i.code == "total_rows_excluded")
    assert "line 8, 9, 10, 11, 12" in excluded.message  # as a text editor numbers the lines
    # No day column: the period written above the table is the date, and the report says so.
    assert result.frame["date"].unique().to_list() == [dt.date(2024, 1, 1)]
    assert "date_from_report_period" in codes(result)


def test_search_terms_campaigns_named_like_totals_are_data():
    name = "gads_search_terms_utf8.csv"
    rows = rows_of(name, skip=2)
    data = [r for r in rows if not any(cell.startswith("Total:") for cell in r.values())]
    result = loaded(name)
    assert result.report.rows_excluded == len(rows) - len(data) == 2
    assert set(result.frame["campaign"]) == {"Shoes", "Total Recall", "Sum 41"}
    assert_totals(result.frame, {"impressions": column_sum(data, "Impr."), "clicks": column_sum(data, "Clicks"),
                                 "spend": column_sum(data, "Cost"), "revenue": column_sum(data, "Conv. value"),
                                 "conversions": column_sum(data, "Conversions")})
    assert result.report.currency == "EUR"


# ---------------------------------------------------------------- organic and analytics families

# fixture, family, platform, {header: canonical}, rows to skip (a total row), csv options
ORGANIC = [
    ("twitter_tweets_en.csv", "x_analytics", "x",
     {"impressions": "impressions", "engagements": "engagements", "retweets": "shares", "replies": "comments",
      "likes": "likes", "url clicks": "link_clicks", "follows": "new_followers"}, {}),
    ("twitter_tweets_pt.csv", "x_analytics", "x",
     {"impressões": "impressions", "engajamentos": "engagements", "retweets": "shares", "respostas": "comments",
      "favoritos": "likes", "cliques no URL": "link_clicks", "seguiram": "new_followers"}, {}),
    ("twitter_daily.csv", "x_analytics", "x",
     {"impressions": "impressions", "engagements": "engagements", "url clicks": "link_clicks",
      "follows": "new_followers", "likes": "likes"}, {}),
    ("account_analytics_content_2024-06-14_2024-06-15.csv", "x_analytics", "x",
     {"Impressions": "impressions", "Engagements": "engagements", "Likes": "likes", "Reposts": "shares",
      "Replies": "comments", "URL Clicks": "link_clicks", "New follows": "new_followers", "Bookmarks": "saves"}, {}),
    ("youtube_table_data_total_row.csv", "youtube_studio", "youtube",
     {"Views": "video_views", "Impressions": "impressions", "Estimated revenue (USD)": "revenue",
      "Subscribers": "new_followers"}, {"skip_first_data_row": True}),
    ("youtube_chart_data.csv", "youtube_studio", "youtube", {"Views": "video_views"}, {}),
    ("gsc_queries.csv", "search_console", "seo", {"Clicks": "clicks", "Impressions": "impressions"}, {}),
    ("gsc_dates.csv", "search_console", "seo", {"Clicks": "clicks", "Impressions": "impressions"}, {}),
    ("fb_page_insights.csv", "facebook_insights", "facebook",
     {"Views": "impressions", "Reach": "reach", "Reactions, Comments and Shares": "engagements",
      "Reactions": "likes", "Comments": "comments", "Shares": "shares", "Total clicks": "clicks",
      "Link clicks": "link_clicks"}, {}),
    ("instagram_insights.csv", "instagram_insights", "instagram",
     {"Views": "impressions", "Reach": "reach", "Likes": "likes", "Comments": "comments", "Shares": "shares",
      "Saves": "saves", "Follows": "new_followers", "Plays": "video_views"}, {}),
    ("vk_stats.csv", "vk_stats", "vk",
     {"Полный охват": "reach", "Просмотры": "impressions", "Подписавшиеся": "new_followers",
      "Отписавшиеся": "unfollows", "Мне нравится": "likes", "Комментарии": "comments", "Репосты": "shares"},
     {"encoding": "cp1251", "delimiter": ";"}),
    ("telegram_stats.csv", "telegram_stats", "telegram",
     {"Joined": "new_followers", "Left": "unfollows", "Views": "impressions", "Shares": "shares"}, {}),
    ("linkedin_page.csv", "linkedin_page", "linkedin",
     {"Impressions (total)": "impressions", "Clicks (total)": "clicks", "Reactions (total)": "likes",
      "Comments (total)": "comments", "Reposts (total)": "shares"}, {"skip": 1}),
    ("tiktok_organic.csv", "tiktok_analytics", "tiktok",
     {"Video Views": "video_views", "Likes": "likes", "Comments": "comments", "Shares": "shares"}, {}),
]


@pytest.mark.parametrize("name, family, platform, measures, options", ORGANIC, ids=[c[0] for c in ORGANIC])
def test_organic_family_loads_with_exact_totals(name, family, platform, measures, options):
    rows = rows_of(name, options.get("encoding", "utf-8-sig"), options.get("delimiter", ","), options.get("skip", 0))
    data = rows[1:] if options.get("skip_first_data_row") else rows
    result = loaded(name)
    report = result.report
    assert (report.source_format, report.platform) == (family, platform)
    assert set(result.frame["platform"]) == {platform}
    assert (report.rows_loaded, report.rows_rejected) == (len(data), 0)
    assert report.rows_excluded == len(rows) - len(data)
    assert {h: report.mapping.get(h) for h in measures} == measures
    assert_totals(result.frame, {canonical: column_sum(data, header) for header, canonical in measures.items()})


def test_x_exported_engagements_are_kept_not_rebuilt_from_parts():
    """The Portuguese export says 1,132 engagements for its first tweet; the few mapped parts add up to far less."""
    frame = loaded("twitter_tweets_pt.csv").frame.sort("date")
    first = rows_of("twitter_tweets_pt.csv")[0]
    assert frame["engagements"][0] == number(first["engajamentos"]) == 1132
    parts = sum(number(first[h]) for h in ("retweets", "respostas", "favoritos", "cliques no URL"))
    assert parts < 1132


def test_x_times_with_offsets_count_on_the_day_as_written():
    result = loaded("twitter_tweets_en.csv")
    expected = sorted(dt.date.fromisoformat(r["time"][:10]) for r in rows_of("twitter_tweets_en.csv"))
    assert sorted(result.frame["date"].to_list()) == expected
    note = next(i.message for i in result.report.issues if i.code == "times_of_day_dropped")
    assert "without converting time zones" in note
    # Promoted columns are a part of the whole, listed, never added.
    assert "promoted impressions" in result.report.unmapped and "part_columns_ignored" in codes(result)


def test_portuguese_headers_with_trailing_colons_are_known_and_listed():
    report = loaded("twitter_tweets_pt.csv").report
    assert "taxa de engajamento" not in report.mapping and "derived_columns_ignored" in {i.code for i in report.issues}
    assert report.mapping["horário"] == "date"
    assert "cliques em hashtags:" in report.unmapped


def test_youtube_subscribers_are_a_net_change_never_the_follower_stock():
    result = loaded("youtube_table_data_total_row.csv")
    data = rows_of("youtube_table_data_total_row.csv")[1:]
    net = sum(number(r["Subscribers"]) for r in data)
    assert any(number(r["Subscribers"]) < 0 for r in data)  # a video that lost subscribers is data, not an error
    total = kpis.total(result.frame)
    assert total["followers"] is None
    assert total["net_follower_growth"] == pytest.approx(net)
    assert result.frame["unfollows"].null_count() == result.frame.height
    assert "net_change_column" in codes(result)
    assert result.report.currency == "USD" and result.report.currency_source == "header"
    assert result.report.has_dates is False


def test_youtube_gained_and_lost_win_over_the_net_column():
    name = "youtube_totals_subscribers.csv"
    rows = rows_of(name)
    result = loaded(name)
    assert result.report.source_format == "youtube_studio"
    assert_totals(result.frame, {"new_followers": column_sum(rows, "Subscribers gained"),
                                 "unfollows": column_sum(rows, "Subscribers lost")})
    assert kpis.total(result.frame)["net_follower_growth"] == pytest.approx(column_sum(rows, "Subscribers"))
    assert "Subscribers" in result.report.unmapped


def test_youtube_chart_data_is_recognised_by_its_file_name():
    data = b"Date,Views\n2024-09-20,4000\n2024-09-21,2800\n"
    assert load(data, "Chart data.csv").report.platform == "youtube"
    assert load(data, "views.csv").report.platform is None  # nothing says YouTube: no platform is guessed


def test_search_console_ctr_and_position_are_ignored_and_a_query_named_total_is_data():
    result = loaded("gsc_queries.csv")
    rows = rows_of("gsc_queries.csv")
    assert result.report.rows_excluded == 0
    assert set(result.frame["ad"]) == {r["Top queries"] for r in rows}
    assert {"CTR", "Position"} <= set(result.report.unmapped)
    derived = next(i.message for i in result.report.issues if i.code == "derived_columns_ignored")
    assert "CTR" in derived and "Position" in derived


def test_facebook_posts_take_their_day_from_publish_time_not_lifetime():
    result = loaded("fb_page_insights.csv")
    rows = rows_of("fb_page_insights.csv")
    assert {r["Date"] for r in rows} == {"Lifetime"}
    expected = sorted(dt.datetime.strptime(r["Publish time"], "%m/%d/%Y %H:%M").date() for r in rows)
    assert sorted(result.frame["date"].to_list()) == expected
    assert "engagements_derived" not in codes(result)  # exported as "Reactions, Comments and Shares"


def test_tiktok_dates_without_a_year_are_the_latest_such_day_up_to_today():
    today = dt.date.today()

    def latest(text: str) -> dt.date:
        day = dt.datetime.strptime(f"{text} {today.year}", "%B %d %Y").date()
        return day if day <= today else day.replace(year=today.year - 1)

    result = loaded("tiktok_organic.csv")
    assert sorted(result.frame["date"].to_list()) == sorted(latest(r["Date"]) for r in rows_of("tiktok_organic.csv"))
    assert "dates_without_year" in codes(result)


def test_linkedin_page_parts_are_not_added_to_the_totals():
    result = loaded("linkedin_page.csv")
    assert "Impressions (organic)" in result.report.unmapped
    assert "part_columns_ignored" in codes(result)


# ---------------------------------------------------------------- Meta results by result type


def test_meta_results_of_mixed_types_go_to_their_own_measures():
    name = "meta_results_mixed_types.csv"
    rows = rows_of(name)
    by_type: dict[str, float] = {}
    for r in rows:
        if r["Results"].strip():
            by_type[r["Result type"]] = by_type.get(r["Result type"], 0) + float(r["Results"])
    result = loaded(name)
    assert_totals(result.frame, {
        "conversions": by_type["Website purchases"], "leads": by_type["Leads (Form)"],
        "link_clicks": by_type["Link clicks"], "revenue": column_sum(rows, "Purchases conversion value"),
        "spend": column_sum(rows, "Amount spent (USD)"),
    })
    video = result.frame.filter(pl.col("campaign") == "Video")
    assert video.select("conversions", "leads", "link_clicks").row(0) == (None, None, None)  # ThruPlays are none
    not_counted = next(i.message for i in result.report.issues if i.code == "results_not_counted")
    assert "ThruPlays (2,500)" in not_counted and "Post engagement (800)" in not_counted


def test_meta_explicit_columns_win_over_results_of_the_same_type():
    csv_text = (
        "Campaign name,Day,Result type,Results,Link clicks,Purchases,Amount spent (USD)\n"
        "Traffic,2024-05-01,Link clicks,100,100,,10\n"
        "Shop,2024-05-01,Purchases,4,,4,20\n"
    )
    result = load(csv_text.encode(), "meta.csv")
    assert kpis.total(result.frame)["link_clicks"] == 100  # not 200
    assert kpis.total(result.frame)["conversions"] == 4  # not 8
    message = next(i.message for i in result.report.issues if i.code == "results_explicit_column")
    assert "'Link clicks' (100)" in message and "'Purchases' (4)" in message


def test_meta_results_without_a_type_stay_conversions_with_a_warning():
    result = load(b"Campaign name,Day,Results,Amount spent (USD)\nA,2024-05-01,3,10\n", "old_meta.csv")
    assert kpis.total(result.frame)["conversions"] == 3
    assert "results_without_type" in codes(result)


def test_russian_meta_purchase_value_is_revenue_and_reach_results_are_not_conversions():
    name = "meta_ru_purchase_value.csv"
    rows = rows_of(name, delimiter=";")
    purchases = sum(number(r["Результаты"], True) for r in rows if "Покупки" in r["Тип результата"])
    result = loaded(name)
    assert result.report.mapping["Ценность конверсии покупок"] == "revenue"
    assert_totals(result.frame, {"revenue": column_sum(rows, "Ценность конверсии покупок", True),
                                 "conversions": purchases, "spend": column_sum(rows, "Потраченная сумма (RUB)", True)})
    assert result.report.currency == "RUB"


def sheet_rows(path: Path) -> dict[int, list[str | None]]:
    """An .xlsx sheet's cell texts by spreadsheet row number, read straight from its XML (not the loader's reader)."""
    with zipfile.ZipFile(path) as archive:
        ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
        strings = [si.findtext(".//m:t", "", ns) for si in ElementTree.fromstring(
            archive.read("xl/sharedStrings.xml")).findall("m:si", ns)]
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    table: dict[int, dict[int, str]] = {}
    for cell in sheet.iter(f"{{{ns['m']}}}c"):
        letters, row = re.match(r"([A-Z]+)(\d+)", cell.get("r")).groups()
        column = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(letters)))
        value = cell.findtext("m:v", None, ns)
        table.setdefault(int(row), {})[column] = strings[int(value)] if cell.get("t") == "s" else value
    width = max(c for r in table.values() for c in r)
    return {r: [table[r].get(c) for c in range(1, width + 1)] for r in sorted(table)}


def test_german_meta_by_platform_has_no_conversions_from_link_clicks_likes_or_views():
    path = DATA / "meta_de_platform.xlsx"
    header, *data = sheet_rows(path).values()
    column = {h: i for i, h in enumerate(header)}
    link_clicks = sum(float(r[column["Ergebnisse"]]) for r in data if r[column["Ergebnistyp"]] == "Link-Klicks")
    result = load_path(path)
    total = kpis.total(result.frame)
    assert total["conversions"] is None  # not millions of "conversions" at a 145 % rate
    assert total["link_clicks"] == pytest.approx(link_clicks)
    assert total["spend"] == pytest.approx(sum(float(r[column["Ausgegebener Betrag (EUR)"]]) for r in data))
    assert set(result.frame["platform"]) == {"facebook", "instagram", "audience_network"}
    assert result.report.currency == "EUR"


# ---------------------------------------------------------------- no silent losses


def test_excel_error_cells_reject_their_rows_like_text_in_a_csv():
    path = DATA / "xlsx_error_cells.xlsx"
    rows = sheet_rows(path)
    header_at = next(n for n, r in rows.items() if "Date" in r)
    body = {n: r for n, r in rows.items() if n > header_at}
    errors = {n: [c for c in r if c and c.startswith("#")] for n, r in body.items()
              if any(c and c.startswith("#") for c in r)}
    good = [r for n, r in body.items() if n not in errors]
    result = load_path(path)
    report = result.report
    assert {r.line: r.reason for r in report.rejected}.keys() == errors.keys()
    for rejected in report.rejected:
        assert errors[rejected.line][0] in rejected.reason and "spreadsheet error" in rejected.reason
    spend_at = rows[header_at].index("Spend")
    assert result.frame["spend"].sum() == pytest.approx(sum(float(r[spend_at]) for r in good))


def test_excel_day_numbers_in_a_date_column_are_dates():
    result = load(b"Date,Campaign,Spend\n45292,A,1\n45293,B,2\n", "serials.csv")
    assert sorted(result.frame["date"].to_list()) == [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]
    assert "excel_serial_dates" in codes(result)


@pytest.mark.parametrize("cell", ["1.7e308", "1e16", "-1e308"])
def test_absurd_values_reject_their_row_with_a_reason(cell):
    result = load(f"campaign,spend\nA,10\nB,{cell}\nC,5\n".encode(), "absurd.csv")
    assert result.frame["spend"].sum() == 15.0
    assert [r.line for r in result.report.rejected] == [3]
    assert "1e15" in result.report.rejected[0].reason or "negative" in result.report.rejected[0].reason


def test_ga4_multi_table_is_refused_in_one_sentence():
    with pytest.raises(UnreadableFileError) as caught:
        loaded("ga4_multi_table.csv")
    message = str(caught.value)
    assert "several tables" in message and "\n" not in message and message.endswith(".")
    single = (DATA / "ga4_multi_table.csv").read_text().split("\n\n")[1]
    result = load(single.encode(), "ga4_channels.csv")
    assert result.report.rows_loaded == 2 and result.report.mapping["Total revenue"] == "revenue"


# ---------------------------------------------------------------- what the report says


def test_currency_source_says_where_the_currency_came_from():
    cases = {
        b"campaign,Amount spent (EUR)\nA,1\n": ("EUR", "header"),
        b"campaign,currency,spend\nA,gbp,1\n": ("GBP", "column"),
        "campaign;spend\nA;€1.234,50\n".encode(): ("EUR", "values"),
        b"campaign,spend\nA,1\n": (None, None),
    }
    for data, expected in cases.items():
        report = load(data, "c.csv").report
        assert (report.currency, report.currency_source) == expected, data
        assert report.to_dict()["currency_source"] == expected[1]


def test_report_to_dict_carries_the_new_fields():
    as_dict = load(b"date,channel,spend\n2024-01-01,PPC,1\n", "g.csv").report.to_dict()
    assert as_dict["value_guesses"] == [{"column": "channel", "value": "PPC", "reading": "google_ads",
                                         "kind": "guess", "rows": 1}]
    assert as_dict["has_dates"] is True and as_dict["currency_source"] is None


def test_exact_platform_synonyms_are_not_listed_as_guesses():
    report = load(b"date,channel,spend\n2024-01-01,Facebook Ads,1\n2024-01-02,Twitter,1\n", "g.csv").report
    assert report.value_guesses == ()
    assert schema.platform_reading("Referral") == ("affiliate", "guess")
    assert schema.platform_reading("Social Media") == ("social_media", "unknown")


def test_customer_rows_without_dates_say_what_cannot_be_shown(shared_datasets):
    path = shared_datasets / "digital-marketing-conversion" / "digital_marketing_campaign_dataset.csv"
    report = load_path(path).report
    assert report.has_dates is False
    note = next(i.message for i in report.issues if i.code == "no_dates")
    assert "customer ('CustomerID')" in note and "trends" in note and "period comparisons" in note
    guesses = {g.value: (g.reading, g.kind) for g in report.value_guesses}
    assert guesses["PPC"] == ("google_ads", "guess") and guesses["Referral"] == ("affiliate", "guess")
    assert guesses["Social Media"] == ("social_media", "unknown")
    with open(path, newline="") as handle:
        counts: dict[str, int] = {}
        for row in csv.DictReader(handle):
            counts[row["CampaignChannel"]] = counts.get(row["CampaignChannel"], 0) + 1
    assert {g.value: g.rows for g in report.value_guesses} == {v: counts[v] for v in guesses}
