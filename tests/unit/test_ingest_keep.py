"""`load_path(..., keep=...)`: skipping unused dimensions changes nothing a report shows."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import demo, ingest, kpis
from metrics.schema import MEASURES
from tests.conftest import DATA


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("keep") / "demo.csv"
    demo.generate(rows=3_000).write_csv(path)
    return path


@pytest.mark.parametrize("keep", [[], ["platform"], ["audience", "variant"]])
def test_keep_reads_the_same_rows_and_measures(demo_csv, keep):
    full = ingest.load_path(demo_csv)
    lean = ingest.load_path(demo_csv, keep=keep)
    assert (lean.report.rows_read, lean.report.rows_loaded, lean.report.rows_rejected) == (
        full.report.rows_read, full.report.rows_loaded, full.report.rows_rejected)
    assert lean.report.mapping == full.report.mapping  # the report still says what the file holds
    by = list(dict.fromkeys(["platform", *keep]))
    want = kpis.summarize(full.frame, by)
    got = kpis.summarize(lean.frame, by)
    # Streaming sums add in any order, so compare floats with a tolerance, not bit for bit.
    assert_frame_equal(got.select(by + list(MEASURES)), want.select(by + list(MEASURES)), rel_tol=1e-9)
    for dropped in {"ad", "ad_group", "content_format"} - set(keep):
        assert lean.frame[dropped].null_count() == lean.frame.height


def test_keep_still_excludes_total_rows_and_rejects_bad_rows():
    lean = ingest.load_path(DATA / "x_ads_total_row.csv", keep=[])
    assert lean.report.rows_excluded == 1 and kpis.total(lean.frame)["spend"] == 25.0
    bad = ingest.load_path(DATA / "generic_bad_rows.csv", keep=[])
    full = ingest.load_path(DATA / "generic_bad_rows.csv")
    assert bad.report.rows_rejected == full.report.rows_rejected > 0
    assert [r.line for r in bad.report.rejected] == [r.line for r in full.report.rejected]
    assert isinstance(bad.frame, pl.DataFrame)


@pytest.mark.parametrize("fixture", ["gads_keywords_utf16_total_in_col3.csv", "gads_search_terms_utf8.csv",
                                     "youtube_table_data_total_row.csv"])
def test_keep_still_finds_total_labels_in_columns_it_does_not_map(fixture):
    """A Google Ads total row's label stands in the Match type / Added-Excluded column, which no report groups by."""
    full = ingest.load((DATA / fixture).read_bytes(), fixture)
    lean = ingest.load_path(DATA / fixture, keep=[])
    assert lean.report.rows_excluded == full.report.rows_excluded > 0
    assert kpis.total(lean.frame)["impressions"] == pytest.approx(kpis.total(full.frame)["impressions"])
