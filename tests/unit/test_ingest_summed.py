"""`load_path_summed`: one streaming pass for plain files, the full loader otherwise, the same result always.

The report command reads its files summed by date and dimensions. A plain file (typed numbers and dates,
nothing to reject, exclude or clean) is streamed without holding its rows; anything else must fall back to
the full loader. Either way the report and the sums must be exactly what the full loader gives: a streamed
file that skipped a rejection, a total row or a platform rename would be silently wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from metrics import demo, kpis, schema
from metrics.ingest import UnreadableFileError, load_path, load_path_summed
from metrics.ingest.stream import SUM_KEYS, finish_sums, summed
from metrics.partials import MASK, ROWS

DATA = Path(__file__).resolve().parents[1] / "data"
HEADER = ["date", "platform", "campaign", "currency", "impressions", "clicks", "spend", "likes"]


def plain_rows(n: int = 60, seed: int = 1) -> list[list[str]]:
    rnd = random.Random(seed)
    return [[(dt.date(2024, 3, 1) + dt.timedelta(days=i % 9)).isoformat(), rnd.choice(["facebook", "tiktok"]),
             rnd.choice(["Spring Sale", "Brand"]), "EUR", str(rnd.randint(0, 9000)), str(rnd.randint(0, 90)),
             f"{rnd.uniform(0, 300):.2f}", str(rnd.randint(0, 40))] for i in range(n)]


def write(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER, name: str = "export.csv") -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path = tmp_path / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def assert_same_as_full_loader(path: Path, keep: list[str] | None = None) -> bool:
    """Sums and report equal to the full loader's (or the same refusal); returns whether the file was streamed."""
    try:
        full = load_path(path, keep=keep)
    except UnreadableFileError as error:
        with pytest.raises(UnreadableFileError) as summed_error:
            load_path_summed(path, keep=keep)
        assert str(summed_error.value) == str(error)
        return False
    result = load_path_summed(path, keep=keep)
    assert result.report.to_dict() == full.report.to_dict()
    expected = finish_sums(summed(full.frame).collect())
    keys = [*SUM_KEYS, MASK]
    got, want = result.frame.sort(keys, nulls_last=True), expected.sort(keys, nulls_last=True)
    assert got.schema == want.schema == pl.Schema({**schema.CANONICAL_SCHEMA, MASK: pl.UInt32, ROWS: pl.Int64})
    assert got.select(keys).equals(want.select(keys)) and got[ROWS].to_list() == want[ROWS].to_list()
    for m in schema.MEASURES:
        assert got[m].is_null().to_list() == want[m].is_null().to_list(), m
        assert ((got[m] - want[m]).abs() <= 1e-9 * want[m].abs().fill_null(1).clip(1)).fill_null(True).all(), m
    return result.streamed


def test_a_plain_file_is_streamed_and_sums_like_its_rows(tmp_path):
    rows = plain_rows()
    path = write(tmp_path, rows)
    assert assert_same_as_full_loader(path) is True
    result = load_path_summed(path)
    # Independent reading with the csv module: nothing lost, nothing doubled.
    assert result.frame[ROWS].sum() == len(rows) == result.report.rows_read == result.report.rows_loaded
    assert abs(result.frame["spend"].sum() - sum(float(r[6]) for r in rows)) < 1e-6
    assert result.frame["clicks"].sum() == sum(int(r[5]) for r in rows)
    # Engagements derived from likes + clicks per row, as the full loader does (and says).
    assert result.frame["engagements"].sum() == sum(int(r[5]) + int(r[7]) for r in rows)
    assert "engagements_derived" in [i.code for i in result.report.issues]
    assert result.report.currency == "EUR" and result.report.currency_source == "column"


def _edit(rows: list[list[str]], index: int, column: str, value: str) -> list[list[str]]:
    rows = [list(r) for r in rows]
    rows[index][HEADER.index(column)] = value
    return rows


# Every row-level decision the full loader makes must send the file to it.
NOT_PLAIN = {
    "negative spend": lambda r: _edit(r, 30, "spend", "-4.00"),
    "spend beyond 1e15": lambda r: _edit(r, 30, "spend", "2e16"),
    "text in a number column": lambda r: _edit(r, 50, "clicks", "n/a"),
    "a masked cell": lambda r: _edit(r, 50, "impressions", "<5"),
    "a 'nan' cell": lambda r: _edit(r, 50, "clicks", "nan"),
    "a total row": lambda r: [*r, ["", "", "Total", "", "1", "1", "1.00", "1"]],
    "a qualified total label": lambda r: _edit(r, 10, "campaign", "Total: Account"),
    "an 'All' campaign": lambda r: _edit(r, 10, "campaign", "All campaigns"),
    "an undated campaign row": lambda r: _edit(r, 10, "date", ""),
    "a padded campaign name": lambda r: _edit(r, 10, "campaign", " Brand "),
    "a '--' campaign": lambda r: _edit(r, 10, "campaign", "--"),
    "a platform to rename": lambda r: _edit(r, 10, "platform", "Facebook Ads"),
    "several currencies": lambda r: _edit(r, 10, "currency", "USD"),
    "a lower-case currency": lambda r: [[*x[:3], "eur", *x[4:]] for x in r],
    "a currency gap": lambda r: _edit(r, 10, "currency", ""),
    "a blank line": lambda r: [*r[:20], ["", "", "", "", "", "", "", ""], *r[20:]],
    "no dates at all": lambda r: [["", *x[1:]] for x in r],
    "an unparseable date": lambda r: _edit(r, 40, "date", "31.02.2024"),
    "a row with too many fields": lambda r: [*r[:5], [*r[5], "extra"], *r[6:]],
}


@pytest.mark.parametrize("case", list(NOT_PLAIN))
def test_row_level_decisions_go_to_the_full_loader(tmp_path, case):
    path = write(tmp_path, NOT_PLAIN[case](plain_rows()))
    assert assert_same_as_full_loader(path) is False


@pytest.mark.parametrize("case, header, rows", [
    # Not a known platform, kept as its own slug: listed as a value guess with its row count.
    ("unknown slug", HEADER, lambda r: _edit(r, 10, "platform", "social_media")),
    # No platform column: the export family's platform (a TikTok file name) fills every row.
    ("family platform", [h for h in HEADER if h != "platform"], lambda r: [x[:1] + x[2:] for x in r]),
    ("empty cells", HEADER, lambda r: _edit(_edit(r, 3, "spend", ""), 4, "likes", "")),
])
def test_plain_variants_stream_with_the_same_report(tmp_path, case, header, rows):
    name = "tiktok_ads_export.csv" if case == "family platform" else "export.csv"
    path = write(tmp_path, rows(plain_rows()), header=header, name=name)
    assert assert_same_as_full_loader(path) is True


def test_files_that_are_not_text_or_not_typed_use_the_full_loader(tmp_path):
    # Localised numbers are read as text (the fast reading), Excel and Parquet are never streamed.
    german = tmp_path / "de.csv"
    german.write_text("Datum;Plattform;Impressionen;Kosten\n03.08.2026;facebook;1.229;5,44\n"
                      "04.08.2026;facebook;648;2,71\n", encoding="utf-8")
    assert assert_same_as_full_loader(german) is False
    for fixture in sorted(DATA.glob("*.xlsx"))[:1] + sorted(DATA.glob("*.parquet"))[:1]:
        assert assert_same_as_full_loader(fixture) is False


@pytest.mark.parametrize("fixture", sorted(p.name for p in DATA.glob("*.csv")))
def test_every_fixture_sums_like_the_full_loader(fixture):
    assert_same_as_full_loader(DATA / fixture)


def test_keep_reads_only_what_the_report_groups_by(tmp_path):
    header = [*HEADER, "ad"]
    path = write(tmp_path, [[*r, f"ad {i % 3}"] for i, r in enumerate(plain_rows())], header=header)
    assert assert_same_as_full_loader(path, keep=["platform", "date"]) is True
    assert load_path_summed(path, keep=["platform", "date"]).frame["ad"].null_count() > 0
    assert assert_same_as_full_loader(path, keep=["ad"]) is True


CELL = st.sampled_from(["", "0", "7", "12.5", "1e3", "-3", "nan", "n/a", "<5", "1e16"])
NAME = st.sampled_from(["Brand", "Spring Sale", " Brand", "Total", "All", "--", "", "Sum 41"])
PLATFORM = st.sampled_from(["facebook", "tiktok", "Facebook", "social_media", ""])


@settings(max_examples=40, deadline=None)
@given(cells=st.lists(st.tuples(st.integers(0, 12), PLATFORM, NAME, CELL, CELL), min_size=1, max_size=12),
       seed=st.integers(0, 3))
def test_generated_files_sum_like_the_full_loader(tmp_path_factory, cells, seed):
    rows = plain_rows(40, seed)
    for position, platform, name, clicks, spend in cells:
        rows[position] = _edit(_edit(_edit(_edit(rows, position, "platform", platform), position, "campaign", name),
                                     position, "clicks", clicks), position, "spend", spend)[position]
    assert_same_as_full_loader(write(tmp_path_factory.mktemp("gen"), rows))


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize(("by", "options"), [
    ((), {"compare": "previous", "date_from": dt.date(2026, 10, 2), "date_to": dt.date(2026, 10, 31)}),
    (("platform", "date"), {}),
    (("campaign", "ad"), {"grain": "week", "filters": {"platform": ["tiktok", "x"]}, "extra_costs": 500.0}),
    (("currency",), {"grain": "month"}),
])
def test_summarize_reads_the_sums_like_the_rows(tmp_path, by, options, mixed):
    # Coverage-matched KPIs, currencies and follower stocks: the report command's numbers must not change.
    frame = demo.generate(rows=30_000).with_columns(  # some rows without spend: coverage below 1
        pl.when(pl.col("campaign").str.starts_with("Brand")).then(None).otherwise(pl.col("spend")).alias("spend"))
    if mixed:  # TikTok in euros: a currency mix (not plain: the full loader reads it)
        frame = frame.with_columns(pl.when(pl.col("platform") == "tiktok").then(pl.lit("EUR"))
                                   .otherwise(pl.col("currency")).alias("currency"))
    path = tmp_path / "demo.csv"
    frame.write_csv(path)
    summed_load = load_path_summed(path, keep=list(by))  # as the report command asks for it
    assert summed_load.streamed is not mixed
    rows = load_path(path, keep=list(by)).frame
    got = kpis.summarize_levels(summed_load.frame, [[], list(by)], **options)
    want = kpis.summarize_levels(rows, [[], list(by)], **options)
    for g, w in zip(got, want, strict=True):
        assert_frame_equal(g, w, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


def test_lines_the_sample_shows_skip_the_streaming_pass(tmp_path, monkeypatch):
    # A total row at the end or a platform to rename at the start is visible in the sampled lines: the file goes
    # straight to the full loader instead of being read twice.
    from metrics.ingest import stream

    streamed_passes = []
    real = stream.summed
    monkeypatch.setattr(stream, "summed", lambda rows, *a, **k: streamed_passes.append(1) or real(rows, *a, **k))
    for case in ("a total row", "a platform to rename"):
        streamed_passes.clear()
        rows = NOT_PLAIN[case](plain_rows()) if case == "a total row" else _edit(plain_rows(), 0, "platform", "FB")
        path = write(tmp_path, rows, name=f"{case}.csv")
        assert load_path_summed(path).streamed is False
        assert streamed_passes == [1]  # only the full loader's rows are summed
