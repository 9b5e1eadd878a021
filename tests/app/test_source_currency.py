"""The currency set on the Data page for a file that does not say it is kept with its stored source: a reload,
the same export uploaded again and a newer export of it all show the amounts in that currency."""

from __future__ import annotations

from datetime import date, timedelta

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

START = date(2026, 3, 1)


def sheet(start: date, name: str) -> tuple[str, bytes, str]:
    lines = ["Date,Platform,Campaign,Spend,Clicks"] + [
        f"{(start + timedelta(days=i)).isoformat()},Facebook,Always on,100,50" for i in range(7)]
    return name, ("\n".join(lines) + "\n").encode(), "text/csv"


def upload(at: AppTest, file) -> AppTest:
    at.switch_page("pages/upload.py").run()
    at.file_uploader(key="upload_files").set_value([file]).run()
    assert not at.exception, at.exception
    return at


def spend_tile(at: AppTest) -> str:
    at.session_state["flt_dates"] = (START, START + timedelta(days=13))
    at.switch_page("pages/overview.py").run()
    assert not at.exception, at.exception
    return next(m.value for m in at.metric if m.label == "Spend")


def test_the_currency_set_for_a_file_survives_reload_reupload_and_a_newer_export(app):
    app.run()
    at = upload(app, sheet(START, "spend-week1.csv"))
    assert not spend_tile(at).startswith("€")  # the sheet does not say its currency: no symbol
    upload(at, sheet(START, "spend-week1.csv"))
    at.selectbox(key="file_currency_spend-week1.csv").set_value("EUR").run()
    assert not at.exception, at.exception
    assert spend_tile(at) == "€700.00"

    # A new session (a reload): the source still says EUR, on the Data page too.
    fresh = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)
    fresh.run()
    assert spend_tile(fresh) == "€700.00"
    fresh.switch_page("pages/upload.py").run()
    sources = next(df.value for df in fresh.dataframe if "Currency" in df.value.columns)
    assert sources["Currency"].tolist() == ["EUR (set by you)"]
    assert [s.value for s in fresh.selectbox if s.label == "Currency of its money"] == ["EUR"]

    # The same export again, then a newer one (the next week, another file name): still EUR, summed.
    upload(fresh, sheet(START, "spend-week1.csv"))
    upload(fresh, sheet(START + timedelta(days=7), "spend-week2.csv"))
    assert fresh.selectbox(key="file_currency_spend-week2.csv").value == "EUR"
    assert spend_tile(fresh) == "€1,400.00"
