"""The currency flags of `python -m reports render` and `python -m metrics insights` (SPEC §6, `metrics.cli_common`):
two shops in different currencies, converted with a rates file or shown each in its own currency, never summed
under one symbol. Expected numbers come from the rows written below and the rates, by hand."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from metrics.cli import main as metrics_main
from reports.cli import main as reports_main

# US shop (currency column USD): spend 100 + 200, revenue 400 + 600, conversions 5 + 5.
US_SHOP = ("date,platform,campaign,impressions,clicks,spend,conversions,revenue,currency\n"
           "2026-03-01,facebook,Spring,1000,10,100,5,400,USD\n"
           "2026-03-02,facebook,Spring,2000,20,200,5,600,USD\n")
# UK shop (says no currency; GBP via --file-currency): spend 50 + 150, revenue 300 + 100, conversions 4 + 6.
UK_SHOP = ("date,platform,campaign,impressions,clicks,spend,conversions,revenue\n"
           "2026-03-01,google ads,Brand,3000,30,50,4,300\n"
           "2026-03-02,google ads,Brand,1000,10,150,6,100\n")
USD_EUR, GBP_EUR = 0.9, 1.2
US_SPEND_EUR, UK_SPEND_EUR = 300 * USD_EUR, 200 * GBP_EUR  # 270, 240
SPEND_EUR = US_SPEND_EUR + UK_SPEND_EUR  # 510
REVENUE_EUR = 1000 * USD_EUR + 400 * GBP_EUR  # 1380
CPA_EUR = SPEND_EUR / 20  # 25.50


@pytest.fixture
def shops(tmp_path):
    (tmp_path / "us_shop.csv").write_text(US_SHOP, encoding="utf-8")
    (tmp_path / "uk_shop.csv").write_text(UK_SHOP, encoding="utf-8")
    (tmp_path / "rates.csv").write_text(f"currency,rate\nUSD,{USD_EUR}\nGBP,{GBP_EUR}\n", encoding="utf-8")
    return tmp_path


class _Text(HTMLParser):
    """The visible text of an HTML report, whitespace collapsed (styles and charts left out)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "svg")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "svg")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.parts))


def render(shops, *flags: str) -> str:
    out = shops / "report.html"
    code = reports_main(["render", str(shops / "us_shop.csv"), str(shops / "uk_shop.csv"), "--compare", "none",
                         "--out", str(out), *flags])
    assert code == 0
    return _Text(out.read_text(encoding="utf-8")).text


def euros(value: float) -> str:
    return f"€{value:,.2f}"


def test_render_converts_both_shops_into_the_reporting_currency(shops):
    text = render(shops, "--file-currency", "uk_shop.csv=GBP", "--currency", "EUR", "--rates",
                  str(shops / "rates.csv"))
    assert f"Spend {euros(SPEND_EUR)}" in text  # €510.00, the tile
    assert f"Revenue {euros(REVENUE_EUR)}" in text  # €1,380.00
    assert f"CPA {euros(CPA_EUR)}" in text  # €25.50
    assert f"Facebook {euros(US_SPEND_EUR)}" in text and f"Google Ads {euros(UK_SPEND_EUR)}" in text
    assert "$" not in text and "£" not in text
    assert "Money is shown in EUR, converted with rates file rates.csv" in text


def test_render_without_rates_shows_each_currency_and_no_total(shops, capsys):
    text = render(shops, "--file-currency", "uk_shop.csv=GBP")
    assert "Facebook $300.00" in text and "Google Ads £200.00" in text  # each platform in its own currency
    assert "€" not in text
    assert not re.search(r"[$£]500\.00", text), "USD and GBP spend summed under one symbol"
    assert "more than one currency: GBP (uk_shop.csv) and USD (us_shop.csv)" in text
    assert "--currency and --rates" in text  # the fix, in the words of the command line


def test_render_of_a_file_without_currency_shows_its_money_without_a_symbol(shops):
    text = render(shops)
    assert "Google Ads 200.00" in text and "Facebook $300.00" in text
    assert "unknown (uk_shop.csv) and USD (us_shop.csv)" in text


@pytest.mark.parametrize(("flags", "phrase"), [
    (["--file-currency", "uk_shop.csv=pounds"], "'pounds' is not a three-letter currency code"),
    (["--file-currency", "shop.csv=EUR"], "not one of the files given"),
    (["--file-currency", "GBP"], "is not NAME=CODE"),
    (["--rates", "rates.csv"], "--rates needs --currency"),
])
def test_a_bad_currency_flag_is_one_sentence_and_exit_2(shops, capsys, flags, phrase):
    out = shops / "report.html"
    code = reports_main(["render", str(shops / "us_shop.csv"), str(shops / "uk_shop.csv"), "--out", str(out),
                         *flags])
    captured = capsys.readouterr()
    assert code == 2
    assert phrase in captured.err and captured.err.strip().count("\n") == 0 and "Traceback" not in captured.err
    assert captured.out == "" and not out.exists()


def test_a_snapshot_report_refuses_currency_flags(shops, capsys):
    code = reports_main(["render", "--snapshot", "1", "--currency", "EUR", "--out", str(shops / "r.html")])
    assert code == 2
    assert "leave out --currency" in capsys.readouterr().err


def insights(capsys, shops, *flags: str) -> tuple[int, dict | str]:
    code = metrics_main(["insights", str(shops / "us_shop.csv"), str(shops / "uk_shop.csv"), *flags])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if code == 0 else captured.err


def test_insights_compare_and_forecast_money_in_the_reporting_currency(shops, capsys):
    code, out = insights(capsys, shops, "--file-currency", "uk_shop.csv=GBP", "--currency", "EUR", "--rates",
                         str(shops / "rates.csv"))
    assert code == 0
    assert out["conversion"]["reporting"] == "EUR"
    cpa = next(d for d in out["drivers"] if d["kpi"] == "cpa")
    assert (cpa["currency"], cpa["value"]) == ("EUR", pytest.approx(CPA_EUR, abs=1e-9))
    actual = {f["metric"]: f["actual_to_date"] for f in out["forecast"]}
    assert actual["spend"] == pytest.approx(SPEND_EUR, abs=1e-9)
    assert actual["revenue"] == pytest.approx(REVENUE_EUR, abs=1e-9)


def test_insights_without_rates_never_add_up_two_currencies(shops, capsys):
    code, out = insights(capsys, shops, "--file-currency", "uk_shop.csv=GBP")
    assert code == 0 and "conversion" not in out
    assert next(d for d in out["drivers"] if d["kpi"] == "cpa")["currency"] == "mixed"
    assert not [f for f in out["forecast"] if f["metric"] == "spend" and f["actual_to_date"] is not None]


def test_insights_refuse_a_bad_file_currency_with_one_sentence(shops, capsys):
    code, err = insights(capsys, shops, "--file-currency", "uk_shop.csv=sterling")
    assert code == 2 and "'sterling' is not a three-letter currency code" in err and err.count("\n") == 1


def test_a_huge_rates_file_is_refused_before_it_is_read(shops, capsys):
    huge = shops / "huge_rates.csv"
    with open(huge, "wb") as handle:
        handle.truncate(21_000_001)  # sparse: takes no disk space
    code = reports_main(["render", str(shops / "us_shop.csv"), "--currency", "EUR", "--rates", str(huge),
                         "--out", str(shops / "r.html")])
    assert code == 2 and "huge_rates.csv is larger than 5 MB" in capsys.readouterr().err
