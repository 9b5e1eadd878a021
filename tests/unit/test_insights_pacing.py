"""Budget pacing arithmetic on month boundaries and partial months, by hand; the budget sheet reader."""

from __future__ import annotations

import datetime as dt
import io
from datetime import date, timedelta

import polars as pl
import pytest
import xlsxwriter

from metrics.errors import InputError
from metrics.insights.pacing import Budget, pace, pace_budgets, read_budget_sheet, status_for
from metrics.schema import conform


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def test_partial_31_day_month_projects_from_the_last_7_days():
    # January 2024: 100 a day on the 1st–13th, then 150 a day on the 14th–20th; as of the 20th.
    spend = {d: 100.0 for d in days(date(2024, 1, 1), 13)} | {d: 150.0 for d in days(date(2024, 1, 14), 7)}
    result = pace(Budget(date(2024, 1, 1), "all", None, 3100.0), spend, as_of=date(2024, 1, 20))
    assert (result.days_in_month, result.days_elapsed, result.days_left) == (31, 20, 11)
    assert result.spend_to_date == pytest.approx(2350.0)
    assert result.expected_to_date == pytest.approx(3100 * 20 / 31)  # 2,000
    assert result.run_rate == pytest.approx(150.0) and result.run_rate_days == 7
    assert result.projected == pytest.approx(2350 + 150 * 11)  # 4,000
    assert result.projected_vs_budget == pytest.approx(4000 / 3100 - 1)
    assert result.pace_vs_expected == pytest.approx(2350 / 2000 - 1)
    assert result.needed_per_day == pytest.approx((3100 - 2350) / 11)
    assert result.status == "far_over"


def test_last_day_of_a_leap_february_uses_the_actual_spend():
    spend = {d: 100.0 for d in days(date(2024, 2, 1), 29)}
    result = pace(Budget(date(2024, 2, 1), "all", None, 3000.0), spend, as_of=date(2024, 2, 29))
    assert (result.days_in_month, result.days_elapsed, result.days_left) == (29, 29, 0)
    assert result.projected == pytest.approx(2900.0) and result.spend_to_date == pytest.approx(2900.0)
    assert result.expected_to_date == pytest.approx(3000.0)
    assert result.needed_per_day is None
    assert result.status == "on_pace"  # 2,900 / 3,000 − 1 = −3.3 %


def test_february_of_a_common_year_has_28_days_and_a_later_as_of_is_capped_at_month_end():
    spend = {d: 50.0 for d in days(date(2023, 2, 1), 28)} | {date(2023, 3, 1): 999.0}
    result = pace(Budget(date(2023, 2, 1), "all", None, 2000.0), spend, as_of=date(2023, 3, 5))
    assert (result.days_in_month, result.days_left, result.through) == (28, 0, date(2023, 2, 28))
    assert result.spend_to_date == pytest.approx(1400.0)  # March's 999 is not February's
    assert result.status == "far_under"  # 1,400 / 2,000 − 1 = −30 %


def test_the_first_of_the_month_borrows_the_run_rate_from_the_previous_month():
    # 31 March 2024 … 1 May: the run rate on 1 May reads 25–30 April (200 a day) and 1 May (60).
    spend = {d: 200.0 for d in days(date(2024, 4, 25), 6)} | {date(2024, 5, 1): 60.0}
    result = pace(Budget(date(2024, 5, 1), "all", None, 6200.0), spend, as_of=date(2024, 5, 1))
    assert (result.days_elapsed, result.days_left) == (1, 30)
    assert result.expected_to_date == pytest.approx(200.0)  # 6,200 / 31
    assert result.spend_to_date == pytest.approx(60.0)
    assert result.run_rate == pytest.approx((6 * 200 + 60) / 7)
    assert result.projected == pytest.approx(60 + 180 * 30)  # 5,460: 12 % under
    assert result.status == "under"
    assert result.needed_per_day == pytest.approx((6200 - 60) / 30)


def test_days_the_data_does_not_cover_are_left_out_of_the_run_rate_and_noted():
    spend = {d: 100.0 for d in days(date(2024, 3, 1), 10) if d != date(2024, 3, 8)}
    covered = set(spend)
    # The campaign did not spend on the 9th although the data covers it: that day counts as 0.
    spend.pop(date(2024, 3, 9))
    result = pace(Budget(date(2024, 3, 1), "campaign", "Spring", 3100.0), spend, as_of=date(2024, 3, 10),
                  covered_days=covered)
    assert result.run_rate_days == 6  # 4–10 March without the uncovered 8th
    assert result.run_rate == pytest.approx(500 / 6)
    assert result.spend_to_date == pytest.approx(800.0)
    assert result.note == "1 day of this month up to 10 Mar 2024 has no data and counts as no spend."


@pytest.mark.parametrize(
    ("deviation", "status"),
    [(0.0, "on_pace"), (0.05, "on_pace"), (-0.05, "on_pace"), (0.0501, "over"), (-0.0501, "under"),
     (0.2, "over"), (-0.2, "under"), (0.2001, "far_over"), (-0.2001, "far_under")],
)
def test_status_boundaries(deviation, status):
    assert status_for(deviation) == status


def test_boundary_status_from_real_division():
    spend = {d: 105.0 for d in days(date(2024, 4, 1), 30)}
    assert pace(Budget(date(2024, 4, 1), "all", None, 3000.0), spend, as_of=date(2024, 4, 30)).status == "on_pace"


def test_not_started_no_data_and_currency_mismatch():
    budget = Budget(date(2024, 6, 1), "platform", "facebook", 1000.0, "EUR")
    assert pace(budget, {}, as_of=date(2024, 5, 31)).status == "not_started"
    assert pace(budget, {date(2024, 5, 31): 10.0}, as_of=date(2024, 6, 3)).status == "no_data"
    spend = {date(2024, 6, 1): 10.0}
    mismatch = pace(budget, spend, as_of=date(2024, 6, 1), spend_currency="USD")
    assert mismatch.status == "currency_mismatch" and mismatch.projected is None
    assert "enter the budget in USD" in mismatch.note
    assert pace(budget, spend, as_of=date(2024, 6, 1), spend_currency="mixed").status == "currency_mismatch"
    assert pace(budget, spend, as_of=date(2024, 6, 1), spend_currency="EUR").status == "far_under"


def test_budget_values_are_checked():
    with pytest.raises(ValueError):
        Budget(date(2024, 1, 1), "platform", None, 10.0)
    with pytest.raises(ValueError):
        Budget(date(2024, 1, 1), "all", None, -1.0)
    assert Budget(date(2024, 1, 17), "platform", "Google Ads", 1.0).scope_value == "google_ads"


# --- from the activity table -----------------------------------------------------------------------------------


def test_pace_budgets_reads_spend_per_scope_and_stops_at_the_last_day_of_data():
    rows = []
    for day in days(date(2024, 3, 1), 15):
        rows.append({"date": day, "platform": "facebook", "campaign": "Spring Sale", "spend": 100.0,
                     "currency": "USD"})
        rows.append({"date": day, "platform": "google_ads", "campaign": "Brand", "spend": 40.0, "currency": "USD"})
    frame = conform(pl.DataFrame(rows))
    budgets = [
        Budget(date(2024, 3, 1), "platform", "Facebook", 3100.0, "USD"),
        Budget(date(2024, 3, 1), "campaign", " spring sale ", 3100.0),
        Budget(date(2024, 3, 1), "all", None, 4340.0),
        Budget(date(2024, 3, 1), "campaign", "Summer", 500.0),
        Budget(date(2024, 4, 1), "all", None, 100.0),
    ]
    facebook, campaign, account, unknown, april = pace_budgets(frame, budgets, as_of=date(2024, 3, 31))
    assert facebook.as_of == date(2024, 3, 15) and facebook.days_elapsed == 15
    assert facebook.spend_to_date == pytest.approx(1500.0)
    assert facebook.projected == pytest.approx(3100.0) and facebook.status == "on_pace"
    assert campaign.spend_to_date == pytest.approx(1500.0)
    assert account.spend_to_date == pytest.approx(2100.0) and account.projected == pytest.approx(140 * 31)
    assert (unknown.status, unknown.note) == ("no_data", "No campaign named 'Summer' is in the data; check the name.")
    assert april.status == "not_started"
    assert facebook.to_dict()["status_label"] == "On pace"


def test_pace_budgets_refuses_mixed_currencies():
    rows = [{"date": date(2024, 3, 1), "platform": "facebook", "spend": 10.0, "currency": "USD"},
            {"date": date(2024, 3, 1), "platform": "facebook", "spend": 10.0, "currency": None}]
    [result] = pace_budgets(conform(pl.DataFrame(rows)), [Budget(date(2024, 3, 1), "platform", "facebook", 9.0)])
    assert result.status == "currency_mismatch"


# --- the budget sheet ------------------------------------------------------------------------------------------


def test_csv_sheet_with_semicolons_decimal_commas_and_bad_rows():
    text = ("Month;Platform;Budget;Currency\n"
            "2024-02;Facebook Ads;1 200,50;eur\n"
            "\n"
            "Feb 2024;;3000;\n"
            "Febr;tiktok;4;\n"
            "2024-02;facebook;5;EUR\n"
            "03/2024;TikTok;-3;\n"
            "2024-03;TikTok;10;dollars\n")
    sheet = read_budget_sheet(text.encode("cp1252"), "budgets.csv")
    assert [b.to_dict() for b in sheet.budgets] == [
        {"month": "2024-02", "scope": "platform", "scope_value": "facebook", "amount": 1200.5, "currency": "EUR"},
        {"month": "2024-02", "scope": "all", "scope_value": None, "amount": 3000.0, "currency": None},
    ]
    assert sheet.issues == (
        "Line 5: 'Febr' is not a month; write it like 2024-02.",
        "Line 6 repeats the budget of line 2 (2024-02, facebook); only the first is used.",
        "Line 7: the amount '-3' is not a positive number.",
        "Line 8: 'DOLLARS' is not a currency code; write it like USD or EUR.",
    )


def test_csv_campaign_sheet_with_currency_symbols():
    sheet = read_budget_sheet("month,campaign,amount\n2024-05-01,Spring Sale,\"$1,250.00\"\n".encode(), "b.csv")
    [budget] = sheet.budgets
    assert (budget.scope, budget.scope_value, budget.amount, budget.currency) == ("campaign", "Spring Sale",
                                                                                  1250.0, "USD")


def test_xlsx_sheet_with_a_date_cell():
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Month", "Channel", "Monthly budget"])
    sheet.write_datetime(1, 0, dt.datetime(2024, 2, 1), book.add_format({"num_format": "mmm yyyy"}))
    sheet.write(1, 1, "TikTok")
    sheet.write_number(1, 2, 1500)
    sheet.write(2, 0, "2024-13")
    book.close()
    result = read_budget_sheet(buffer.getvalue(), "budgets.xlsx")
    assert [(b.month, b.scope_value, b.amount) for b in result.budgets] == [(date(2024, 2, 1), "tiktok", 1500.0)]
    assert result.issues == ("Line 3: '2024-13' is not a month; write it like 2024-02.",)


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b"", "is empty"),
        (b"platform,amount\nfacebook,10\n", "has no month column"),
        (b"month,platform,amount\nsoon,facebook,10\n", "has no usable budget row; line 2: 'soon' is not a month"),
        (b"month,amount\n" + b"2024-01,1\n" * 6000, "more than 5,000 rows"),
        (b"x" * (3 * 1024 * 1024), "larger than 2 MB"),
        (b"PK\x03\x04 not really", "not a valid Excel file"),
        (b"\x00\x01\x02\x03" * 100, "not a text or Excel sheet"),
    ],
)
def test_unusable_sheets_raise_one_sentence(data, phrase):
    with pytest.raises(InputError, match=None) as error:
        read_budget_sheet(data, "budgets.csv")
    assert phrase in str(error.value)
