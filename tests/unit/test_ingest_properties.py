"""Invariants of the loader, checked on generated inputs (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from metrics.ingest import load, load_many

AMOUNTS = st.lists(st.integers(min_value=0, max_value=99_999_999_999), min_size=1, max_size=6)  # in cents


def as_dot(cents: int) -> str:  # 1,234.56 (quoted because of the comma)
    return f'"{cents / 100:,.2f}"'


def as_comma(cents: int) -> str:  # 1.234,56
    return f"{cents / 100:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def as_spaces(cents: int, space: str) -> str:  # 1 234,56 with a no-break or narrow no-break space
    return f"{cents / 100:,.2f}".replace(",", space).replace(".", ",")


STYLES = {
    "dot_thousands": (",", as_dot),
    "comma_decimal": (";", as_comma),
    "nbsp": (";", lambda c: as_spaces(c, "\u00a0")),
    "narrow_nbsp": (";", lambda c: as_spaces(c, "\u202f")),
    "plain": (",", lambda c: f"{c / 100:.2f}"),
    "currency": (";", lambda c: as_spaces(c, " ") + " €"),
}


@pytest.mark.parametrize("style", list(STYLES))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=AMOUNTS)
def test_number_formats_read_back_exactly(style, amounts):
    separator, fmt = STYLES[style]
    lines = [f"campaign{separator}spend"] + [f"c{i}{separator}{fmt(a)}" for i, a in enumerate(amounts)]
    result = load(("\n".join(lines) + "\n").encode(), "amounts.csv")
    assert result.report.rows_rejected == 0
    assert sorted(result.frame["spend"].to_list()) == pytest.approx(sorted(a / 100 for a in amounts), abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(
    # Distinct days, so that the two parts never have identical content (that would be a duplicate upload).
    rows=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 10_000), st.integers(0, 500)), min_size=2,
                  max_size=40, unique_by=lambda row: row[0]),
    cut=st.integers(1, 39),
)
def test_splitting_a_file_does_not_change_totals(rows, cut):
    """Loading a file whole or in two parts (load_many) gives the same sums and row counts."""
    cut = min(cut, len(rows) - 1)
    start = dt.date(2024, 1, 1)

    def csv_text(part):
        body = "".join(f"{start + dt.timedelta(days=d)},Facebook Ads,C{d % 3},{s / 100:.2f},{c}\n" for d, s, c in part)
        return ("date,channel,campaign,cost,clicks\n" + body).encode()

    whole = load(csv_text(rows), "whole.csv")
    parts = load_many([("a.csv", csv_text(rows[:cut])), ("b.csv", csv_text(rows[cut:]))])
    assert parts.frame.height == whole.frame.height == len(rows)
    for measure in ("spend", "clicks", "engagements"):
        assert parts.frame[measure].sum() == pytest.approx(whole.frame[measure].sum())


# Names a campaign may really have: they look like total labels but are data.
TRICKY_NAMES = ["Total Recall", "Sum 41", "Totally Fit", "Gesamtkosten", "Итоговая", "Total", "Summe"]
TOTAL_LABELS = ["Total", "Total: Account", "Total: Campaigns", "Итого", "Gesamt", "Totale", "Total geral",
                "Grand total", "Всего", "Total général", "TOTAL"]


_TOTAL_NAMED = {"Total", "Summe"}


def _is_daily_sum(row, rows) -> bool:
    """Independently of the loader: does `row` (day, name, cents, clicks) add up two or more other rows of its day?"""
    day, _, cents, clicks = row
    others = [r for r in rows if r is not row and r[0] == day]
    return (len(others) >= 2 and abs(cents - sum(r[2] for r in others)) <= 1 and clicks == sum(r[3] for r in others)
            and (cents >= 100 or clicks >= 1))


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 60), st.sampled_from(["Brand", "Search", *TRICKY_NAMES]),
                            st.integers(0, 1_000_000), st.integers(0, 5_000)), min_size=1, max_size=25),
    labels=st.lists(st.sampled_from(TOTAL_LABELS), min_size=1, max_size=4),
    label_column=st.sampled_from(["date", "campaign", "ad_group"]),
    separator=st.sampled_from([",", ";", "\t"]),
    on_top=st.booleans(),
)
def test_appending_total_rows_never_changes_the_totals(rows, labels, label_column, separator, on_top):
    """Per-entity rows (each with a date) lose nothing, whatever their names; total rows added anywhere are excluded.

    The one documented exception is left out of the entities: a row named like a total ("Total") whose numbers
    are exactly the sum of two or more other rows of its day (with some number of at least one) is a total.
    """
    assume(not any(_is_daily_sum(row, rows) for row in rows if row[1] in _TOTAL_NAMED))
    start = dt.date(2024, 1, 1)
    header = separator.join(["date", "campaign", "ad_group", "cost", "clicks"])
    body = [separator.join([str(start + dt.timedelta(days=d)), name, "G", f"{c / 100:.2f}", str(k)])
            for d, name, c, k in rows]
    plain = load(("\n".join([header, *body]) + "\n").encode(), "entities.csv")
    assert plain.report.rows_loaded == len(rows) and plain.report.rows_excluded == 0

    cost, clicks = sum(c for _, _, c, _ in rows), sum(k for _, _, _, k in rows)
    position = ["date", "campaign", "ad_group"].index(label_column)
    summary = []
    for label in labels:
        cells = ["", "", "", f"{cost / 100:.2f}", str(clicks)]
        cells[position] = label
        summary.append(separator.join(cells))
    lines = [header, *summary, *body] if on_top else [header, *body, *summary]  # YouTube puts its Total first
    with_totals = load(("\n".join(lines) + "\n").encode(), "with_totals.csv")
    assert with_totals.report.rows_loaded == len(rows)
    assert with_totals.report.rows_excluded == len(labels)
    assert with_totals.frame["spend"].sum() == pytest.approx(cost / 100)
    assert with_totals.frame["clicks"].sum() == pytest.approx(clicks)


def test_a_campaign_named_total_with_zeros_is_data_not_a_sum():
    """Found by the property above: a dated 'Total' campaign whose zeros equal the other campaigns' zeros
    is not a subtotal (nothing shows it sums anything); it loads."""
    data = b"date,campaign,ad_group,cost,clicks\n2024-01-01,Brand,G,0.00,0\n2024-01-01,Total,G,0.00,0\n"
    result = load(data, "entities.csv")
    assert result.report.rows_loaded == 2 and result.report.rows_excluded == 0
