"""The fast reading of number cells (literal replacements) never disagrees with the full one.

Text measures are read in one pass of literal replacements; only the cells it leaves doubtful get the full
reading (regexes: masks, accounting brackets, currency words, null tokens). A cell the fast reading settles
must read exactly as the full reading reads it, or a number would silently change.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.ingest import clean, load

# Characters and pieces that matter to either reading, mixed with digits.
PIECES = ["0", "1", "2", "5", "7", "9", "12", "345", ".", ",", " ", "\u00a0", "\u202f", "\u2009", "'", "’", "$",
          "€", "£", "₽", "%", "−", "-", "+", "(", ")", "e", "E", "<", "≤", "US$", "R$", "EUR", "usd", "руб", "zł",
          "nan", "inf", "NA", "--", "#DIV/0!", "\t", "1e16", "1e309", "_", "x"]
JUMBLES = st.lists(st.sampled_from(PIECES), min_size=1, max_size=7).map("".join)


def written(sign: str, whole: int, grouping: str, mark: str, fraction: int, prefix: str, suffix: str) -> str:
    """A number as some export writes it: "-1.234,5", "US$1 234.50", "(12)", "5%", "1'000 EUR"."""
    digits = f"{whole:,}".replace(",", grouping)
    return f"{prefix}{sign}{digits}{mark + str(fraction) if mark else ''}{suffix}"


NUMBERS = st.builds(
    written, st.sampled_from(["", "", "-", "+", "−", "("]), st.integers(0, 10**8),
    st.sampled_from(["", ".", ",", " ", "\u00a0", "\u202f", "'", "’"]), st.sampled_from(["", ".", ","]),
    st.integers(0, 999), st.sampled_from(["", "", "$", "€", "US$", "R$", " ", "<", "≤ "]),
    st.sampled_from(["", "", "%", " %", " €", "€", " EUR", "EUR", ")", " ", "e5", "e16", "x"]))
CELLS = st.one_of(NUMBERS, JUMBLES)


def readings(cells: list[str], number_format: clean.NumberFormat, allow_negative: bool) -> pl.DataFrame:
    full = clean.text_measure_cells("v", "Spend", number_format.decimal_comma, allow_negative)
    fast = clean.fast_number_expr(pl.col("v"), number_format)
    return pl.DataFrame({"v": cells}, schema={"v": pl.String}).select(
        fast.alias("fast"), clean.needs_full_reading(pl.col("v"), fast, allow_negative).alias("doubtful"),
        full.value.alias("full"), full.bad.alias("bad"), full.masked.fill_null(False).alias("masked"))


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=40), sample=st.lists(CELLS, max_size=40),
       default_comma=st.booleans(), allow_negative=st.booleans())
def test_a_cell_the_fast_reading_settles_reads_the_same_in_full(cells, sample, default_comma, allow_negative):
    # The format is detected from a sample that may or may not look like the cells (a sample is only a sample).
    number_format = clean.detect_number_format(pl.Series(sample + cells[:3], dtype=pl.String), default_comma)
    out = readings(cells, number_format, allow_negative)
    settled = out.filter(~pl.col("doubtful"))
    assert settled["bad"].sum() == 0 and settled["masked"].sum() == 0
    assert settled["fast"].to_list() == settled["full"].to_list(), settled


def test_the_fast_reading_settles_ordinary_localised_numbers():
    # Without this the cleaning would be correct but slow: every cell would take the full reading.
    german = ["1.234,56", "12", "0,5", "1.000.000", "7,00 €", "3\u00a0500,10"]
    number_format = clean.detect_number_format(pl.Series(german), default_comma=True)
    out = readings(german, number_format, allow_negative=False)
    assert out["doubtful"].sum() == 0
    assert out["fast"].to_list() == [1234.56, 12.0, 0.5, 1_000_000.0, 7.0, 3500.1]


def test_doubtful_cells_keep_every_guarantee_in_a_large_file():
    # Many rows read fast, and a few odd cells further down: each still gets its full reading.
    rows = ["date;campaign;impressions;spend"] + [
        f"0{1 + i % 9}.03.2024;Brand;{f'{1000 + i:,}'.replace(',', '.')};{i},50" for i in range(3000)]
    rows[1500] = "05.03.2024;Brand;<5;10,00"  # masked
    rows[2000] = "05.03.2024;Brand;--;(12,50)"  # not reported; a negative amount in brackets
    rows[2500] = "05.03.2024;Brand;#DIV/0!;3,00"  # a spreadsheet error
    data = ("\n".join(rows) + "\n").encode()
    result = load(data, "de.csv")
    report = result.report
    assert report.masked_cells == 1
    assert report.rows_rejected == 2 and [r.line for r in report.rejected] == [2001, 2501]
    assert "negative" in report.rejected[0].reason and "spreadsheet error" in report.rejected[1].reason
    # Independent reading of the kept rows: thousands dots out, decimal comma in.
    expected = 0.0
    for line in rows[1:]:
        spend = line.split(";")[3]
        if line.split(";")[2] not in ("--", "#DIV/0!"):
            expected += float(spend.replace(".", "").replace(",", "."))
    assert abs(result.frame["spend"].sum() - expected) < 1e-6
    assert result.frame["impressions"].max() == 3999
