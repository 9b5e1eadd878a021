"""Goals page over two blended files written here: shop.csv reports spend, clicks and conversions, ads.csv spend
and clicks only. A CPA goal says it rests on one of the two files; a spend goal over two currencies is refused
with the sentence that names them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ui.state import GOALS

START = date(2026, 3, 1)


def _csv(header: str, line) -> bytes:
    return ("\n".join([header] + [line(START + timedelta(days=i)) for i in range(10)]) + "\n").encode()


def _goals_page(app, ads_currency: str, goals: list[dict]):
    shop = _csv("Date,Platform,Campaign,Currency,Spend,Clicks,Conversions",
                lambda d: f"{d.isoformat()},Facebook,Shop,EUR,100,50,5")
    ads = _csv("Date,Platform,Campaign,Currency,Spend,Clicks",
               lambda d: f"{d.isoformat()},Google Ads,Search,{ads_currency},300,100")
    app.run()
    app.switch_page("pages/upload.py").run()
    app.file_uploader(key="upload_files").set_value([("shop.csv", shop, "text/csv"),
                                                     ("ads.csv", ads, "text/csv")]).run()
    assert not app.exception, app.exception
    app.session_state[GOALS] = goals
    app.switch_page("pages/goals.py").run()
    assert not app.exception, app.exception
    return app


def _goal(metric: str, target: float) -> dict:
    return {"id": metric, "metric": metric, "target": target, "deadline": "2026-03-20", "start": START.isoformat()}


def test_a_cpa_goal_says_it_rests_on_one_of_two_files(app):
    at = _goals_page(app, "EUR", [_goal("cpa", 25.0), _goal("cpc", 5.0)])
    table = next(df.value for df in at.dataframe if list(df.value.columns)[:2] == ["Goal", "Scope"])
    # 1,000 spend / 50 conversions of shop.csv; ads.csv's spend would make it 80.
    assert table["Current"].tolist() == ["€20.00", "€2.67"]
    assert [v if isinstance(v, str) else None for v in table["Based on"]] == ["based on 1 of 2 files", None]
    notes = [c.value for c in at.caption if "only the rows that report" in c.value]
    assert len(notes) == 1 and "CPA is based on 1 of 2 files" in notes[0]


@pytest.mark.parametrize("ads_currency, named", [("USD", "USD (ads.csv)"), ("", "unknown (ads.csv)")])
def test_a_spend_goal_over_two_currencies_is_refused_with_a_sentence(app, ads_currency, named):
    at = _goals_page(app, ads_currency, [_goal("spend", 3000.0)])
    table = next(df.value for df in at.dataframe if list(df.value.columns)[:2] == ["Goal", "Scope"])
    assert table["Status"].tolist() == ["No data"]
    [refusal] = [m.value for m in at.markdown if "more than one currency" in m.value]
    assert "EUR (shop.csv)" in refusal and named in refusal
    # Setting a new spend goal says the same where it would say where spend stands now.
    at.selectbox(key="goal_metric___new__").set_value("spend").run()
    assert not at.exception, at.exception
    [now] = [c.value.replace("\\", "") for c in at.caption if "more than one currency" in c.value]
    assert named in now and "has no data" not in now


def test_a_goal_on_one_currencys_platform_shows_that_currency_in_a_mixed_report(app):
    """The report is in EUR (shop.csv, Facebook) and USD (ads.csv, Google Ads): amounts carry no symbol in
    general, but a goal scoped to Google Ads is all USD and says so wherever it shows money."""
    goal = {**_goal("spend", 5000.0), "scope": "platform", "scope_value": "google_ads"}
    at = _goals_page(app, "USD", [goal])
    table = next(df.value for df in at.dataframe if list(df.value.columns)[:2] == ["Goal", "Scope"])
    # 10 days × 300 of ads.csv.
    assert table["Current"].tolist() == ["$3,000.00"]
    assert table["Target"].tolist() == ["≥ $5,000.00"]
    [card] = [c.value for c in at.caption if "Google Ads" in c.value and "Spend" in c.value]
    assert "$5,000.00" in card.replace("\\", "")
