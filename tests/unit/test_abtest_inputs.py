"""Input shaping for A/B tests: every input shape, units (duplicates, units in several arms), capping, and the
upload reader for A/B files (`;`, decimal commas, thousands separators, encodings, the .xlsx zip guard).
Expected numbers come from an independent reading of the same input (Python's csv module, plain arithmetic)."""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections import defaultdict

import numpy as np
import polars as pl
import pytest

from metrics.abtest import ProportionStatistic, SampleMeanStatistic, analyze
from metrics.abtest.inputs import (
    from_aggregates,
    from_ratio_rows,
    from_rows,
    from_summary_rows,
    infer_metric_kind,
)
from metrics.errors import UsageError
from metrics.ingest import UnreadableFileError, read_table


def stats(data) -> dict[str, tuple]:
    """name → (n, sum[, sum_squares]) or the ratio parts, for comparisons with hand-computed values."""
    out = {}
    for arm in data.arms:
        s = arm.stat
        if isinstance(s, ProportionStatistic):
            out[arm.name] = (s.n, s.sum)
        elif isinstance(s, SampleMeanStatistic):
            out[arm.name] = (s.n, pytest.approx(s.sum), pytest.approx(s.sum_squares))
        else:
            out[arm.name] = (s.n, pytest.approx(s.numerator.sum), pytest.approx(s.denominator.sum),
                             pytest.approx(s.sum_of_products))
    return out


# ----------------------------------------------------------------------------------------------------------------
# Shapes
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [
    [1, 0, 0, 1, 1, 0],
    [True, False, False, True, True, False],
    ["true", "false", "FALSE", "True", "yes", "no"],
    ["1", "0", "0", "1", "1", "0"],
])
def test_rows_read_every_binary_encoding(outcome):
    frame = pl.DataFrame({"group": ["a", "a", "a", "b", "b", "b"], "converted": outcome})
    assert infer_metric_kind(frame, "converted") == "proportion"
    assert stats(from_rows(frame, variant="group", outcome="converted")) == {"a": (3, 1), "b": (3, 2)}


def test_rows_count_unreadable_outcomes_per_variant():
    frame = pl.DataFrame({"v": ["a", "a", "a", None, "b"], "y": ["1", "", "n/a", "1", "0"]})
    data = from_rows(frame, variant="v", outcome="y", kind="proportion")
    assert [(a.name, a.stat.n, a.stat.sum, a.rows_ignored) for a in data.arms] == [("a", 1, 1, 2), ("b", 1, 0, 0)]
    warning = next(w for w in analyze(data, control="a").warnings if w.code == "rows_ignored")
    assert (warning.variant, warning.count) == ("a", 2)


def test_rows_reject_a_non_binary_proportion_and_missing_columns():
    with pytest.raises(UsageError, match="other than 0/1"):
        from_rows(pl.DataFrame({"v": ["a", "b"], "y": [2, 0]}), variant="v", outcome="y", kind="proportion")
    with pytest.raises(UsageError, match=r"'convert'.*'group', 'converted'"):
        from_rows(pl.DataFrame({"group": ["a"], "converted": [1]}), variant="group", outcome="convert")


def test_numeric_rows_and_float_labels():
    frame = pl.DataFrame({"arm": [1.0, 1.0, 2.0, 2.0, 2.0, 10.0], "revenue": [10.0, 20.0, 5.0, 7.0, None, 1.0]})
    data = from_rows(frame, variant="arm", outcome="revenue")
    assert stats(data) == {"1": (2, 30.0, 500.0), "2": (2, 12.0, 74.0), "10": (1, 1.0, 1.0)}
    assert data.names == ["1", "2", "10"]


def test_aggregates_sum_rows_of_a_variant():
    frame = pl.DataFrame({"variant": ["A", "B", "A", "B", "A"], "clicks": [100.0, 120.0, 300.0, 280.0, None],
                          "conversions": [10.0, 15.0, 20.0, 30.0, 4.0]})
    data = from_aggregates(frame, variant="variant", trials="clicks", successes="conversions")
    assert stats(data) == {"A": (400.0, 30.0), "B": (400.0, 45.0)}
    assert [a.rows_ignored for a in data.arms] == [1, 0]


def test_summary_rows_pool_exactly():
    part1, part2 = [1.0, 5.0, 6.0], [2.0, 8.0]
    frame = pl.DataFrame({"v": ["a", "a"], "n": [3, 2], "mean": [4.0, 5.0],
                          "sd": [math.sqrt(7.0), math.sqrt(18.0)]})
    (arm,) = from_summary_rows(frame, variant="v", n="n", mean="mean", sd="sd").arms
    whole = SampleMeanStatistic.from_values(part1 + part2)
    assert arm.stat.n == whole.n and arm.stat.sum == pytest.approx(whole.sum)
    assert arm.stat.variance == pytest.approx(whole.variance)


def test_ratio_rows_sum_numerators_and_denominators():
    # A campaign export: each day × ad row is a unit; CPA = spend / conversions.
    rows = [("A", 10.0, 1), ("A", 12.5, 0), ("A", 30.0, 2), ("B", 8.0, 1), ("B", 9.0, 1), ("B", None, 3)]
    frame = pl.DataFrame({"variant": [r[0] for r in rows], "spend": [r[1] for r in rows],
                          "conversions": [r[2] for r in rows]})
    data = from_ratio_rows(frame, variant="variant", numerator="spend", denominator="conversions")
    assert stats(data) == {"A": (3, 52.5, 3.0, 10.0 + 0.0 + 60.0), "B": (2, 17.0, 2.0, 17.0)}
    assert [a.rows_ignored for a in data.arms] == [0, 1]
    assert data.arms[0].stat.mean == pytest.approx(52.5 / 3) and data.metric == "spend / conversions"


# ----------------------------------------------------------------------------------------------------------------
# Units
# ----------------------------------------------------------------------------------------------------------------

UNITS_CSV = """user,arm,converted,revenue
u1,A,0,0
u1,A,1,20
u2,A,0,0
u3,B,1,15
u3,B,1,5
u3,B,0,0
u4,A,1,10
u4,B,0,0
u5,B,0,0
u6,B,1,40
u7,,1,3
"""


def independent_units(text: str, value: str):
    """Per-unit outcome by hand: converted if any row converted, revenue summed; units in both arms dropped."""
    arms, rows, converted, revenue = defaultdict(set), defaultdict(int), defaultdict(int), defaultdict(float)
    for r in csv.DictReader(io.StringIO(text)):
        if not r["arm"]:
            continue
        arms[r["user"]].add(r["arm"])
        rows[r["user"]] += 1
        converted[r["user"]] = max(converted[r["user"]], int(r["converted"]))
        revenue[r["user"]] += float(r["revenue"])
    kept = {u: next(iter(a)) for u, a in arms.items() if len(a) == 1}
    per_arm = defaultdict(list)
    for user, arm in kept.items():
        per_arm[arm].append(converted[user] if value == "converted" else revenue[user])
    repeated = sum(1 for n in rows.values() if n > 1)
    crossing = sum(1 for a in arms.values() if len(a) > 1)
    return per_arm, repeated, crossing


@pytest.mark.parametrize("value", ["converted", "revenue"])
def test_units_are_aggregated_and_units_in_several_arms_dropped(value):
    frame = read_table(UNITS_CSV.encode(), "units.csv")
    data = from_rows(frame, variant="arm", outcome=value, unit="user",
                     kind="proportion" if value == "converted" else "mean")
    per_arm, repeated, crossing = independent_units(UNITS_CSV, value)
    assert (repeated, crossing) == (3, 1)  # u1, u3, u4 have several rows; u4 saw both arms
    for arm in data.arms:
        values = per_arm[arm.name]
        assert arm.stat.n == len(values) and arm.stat.sum == pytest.approx(sum(values))
    codes = {w.code: w.count for w in data.warnings}
    assert codes == {"repeated_units": repeated, "units_in_several_arms": crossing}


def test_ratio_units_sum_their_parts_and_rows_without_unit_are_reported():
    frame = pl.DataFrame({"user": ["a", "a", "b", None, "c"], "arm": ["A", "A", "A", "A", "B"],
                          "revenue": [10.0, 5.0, 2.0, 9.0, 4.0], "sessions": [1.0, 2.0, 1.0, 1.0, 2.0]})
    data = from_ratio_rows(frame, variant="arm", numerator="revenue", denominator="sessions", unit="user")
    assert stats(data) == {"A": (2, 17.0, 4.0, 15.0 * 3.0 + 2.0 * 1.0), "B": (1, 4.0, 2.0, 8.0)}
    assert {w.code: w.count for w in data.warnings} == {"missing_unit_id": 1, "repeated_units": 1}


@pytest.mark.datasets
def test_udacity_duplicates_are_reported_and_aggregated(shared_datasets):
    path = shared_datasets / "udacity-ab-test" / "ab_data.csv"
    data = from_rows(read_table(path.read_bytes(), path.name), variant="group", outcome="converted",
                     unit="user_id", kind="proportion")
    groups, rows, converted = defaultdict(set), defaultdict(int), defaultdict(int)
    with open(path, newline="") as handle:
        for r in csv.DictReader(handle):
            groups[r["user_id"]].add(r["group"])
            rows[r["user_id"]] += 1
            converted[r["user_id"]] = max(converted[r["user_id"]], int(r["converted"]))
    assert sum(rows.values()) == 294_478 and len(rows) == 290_584
    counts = {w.code: w.count for w in data.warnings}
    assert counts == {"repeated_units": sum(1 for n in rows.values() if n > 1),
                      "units_in_several_arms": sum(1 for g in groups.values() if len(g) > 1)}
    for arm in data.arms:
        users = [u for u, g in groups.items() if g == {arm.name}]
        assert arm.stat.n == len(users) and arm.stat.sum == sum(converted[u] for u in users)


# ----------------------------------------------------------------------------------------------------------------
# Capping
# ----------------------------------------------------------------------------------------------------------------


def test_capping_uses_the_pooled_per_unit_percentile_after_units():
    rng = np.random.default_rng(5)
    users = [f"u{i}" for i in range(300)]
    arm_of = {u: ("A" if i % 2 else "B") for i, u in enumerate(users)}
    rows = [(u, arm_of[u], float(np.round(rng.lognormal(3, 1), 2))) for u in users for _ in range(rng.integers(1, 3))]
    rows.append(("u0", "A", 5000.0))  # u0 is in B: it is in both arms and must not count for the percentile
    frame = pl.DataFrame(rows, schema=["user", "arm", "revenue"], orient="row")
    data = from_rows(frame, variant="arm", outcome="revenue", unit="user", cap_percentile=99)
    per_user = defaultdict(float)
    for u, _, value in rows:
        per_user[u] += value
    kept = {u: v for u, v in per_user.items() if u != "u0"}
    cap = float(np.percentile(list(kept.values()), 99, method="linear"))
    assert data.capping.percentile == 99 and data.capping.value == pytest.approx(cap, rel=1e-12)
    for arm in data.arms:
        values = [min(v, cap) for u, v in kept.items() if arm_of[u] == arm.name]
        assert arm.stat.n == len(values)
        assert arm.stat.sum == pytest.approx(sum(values)) and arm.stat.sum_squares == pytest.approx(
            sum(v * v for v in values))
    out = analyze(data).to_dict()
    assert out["capping"] == {"percentile": 99, "value": pytest.approx(cap)}


def test_capping_a_ratio_caps_the_numerator_and_refuses_conversions():
    frame = pl.DataFrame({"arm": ["A"] * 5 + ["B"] * 5, "revenue": [1.0, 2, 3, 4, 100, 2, 3, 4, 5, 6],
                          "spend": [1.0] * 10})
    data = from_ratio_rows(frame, variant="arm", numerator="revenue", denominator="spend", cap_percentile=90)
    cap = float(np.percentile([1, 2, 3, 4, 100, 2, 3, 4, 5, 6], 90))
    assert data.capping.value == pytest.approx(cap)
    assert data.arms[0].stat.numerator.sum == pytest.approx(1 + 2 + 3 + 4 + cap)
    assert data.arms[0].stat.denominator.sum == 5
    with pytest.raises(UsageError, match="not to a 0/1 outcome"):
        from_rows(frame.with_columns(pl.lit(1).alias("c")), variant="arm", outcome="c", kind="proportion",
                  cap_percentile=99)


# ----------------------------------------------------------------------------------------------------------------
# The reader: what uploads accept, A/B files accept
# ----------------------------------------------------------------------------------------------------------------


def test_semicolon_decimal_comma_summary_file():
    """The audit's file: `10,5` is ten and a half and `10.000` users is ten thousand."""
    text = "arm;users;avg_revenue;sd_revenue\nA;10.000;10,5;3,2\nB;10.000;10,7;3,3\n"
    frame = read_table(text.encode("utf-8"), "summary.csv")
    data = from_summary_rows(frame, variant="arm", n="users", mean="avg_revenue", sd="sd_revenue")
    a, b = (arm.stat for arm in data.arms)
    assert (a.n, a.mean, a.sd) == (10_000, pytest.approx(10.5), pytest.approx(3.2))
    assert (b.n, b.mean) == (10_000, pytest.approx(10.7))
    lift = analyze(data).comparisons[0].lift_rel
    assert lift == pytest.approx(0.2 / 10.5)  # +1.9 %, not the 971 % of a misread file


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_encodings_and_thousands_separators(encoding):
    text = "Gruppe;Nutzer;Umsatz (€)\nKontrolle;1.234;1.050,25\nVariante;1.300;987,5\n"
    frame = read_table(text.encode(encoding), "ab.csv")
    assert frame.columns == ["Gruppe", "Nutzer", "Umsatz (€)"]
    assert frame.get_column("Nutzer").to_list() == [1234, 1300]
    assert frame.get_column("Umsatz (€)").to_list() == pytest.approx([1050.25, 987.5])


def test_ids_stay_exact_and_text_stays_text():
    frame = read_table(b"user_id,group,converted\n9007199254740993,control,True\n2,treatment,False\n", "x.csv")
    assert frame.get_column("user_id").to_list() == [9007199254740993, 2]
    assert frame.get_column("converted").to_list() == ["True", "False"]


def test_xlsx_and_parquet(tmp_path):
    frame = pl.DataFrame({"arm": ["A", "B"], "users": [3407, 3461], "avg": [0.41, 0.70], "std": [3.9, 6.2]})
    frame.write_excel(tmp_path / "s.xlsx")
    frame.write_parquet(tmp_path / "s.parquet")
    for name in ("s.xlsx", "s.parquet"):
        read = read_table((tmp_path / name).read_bytes(), name)
        assert read.get_column("users").to_list() == [3407, 3461]
        assert read.get_column("avg").to_list() == pytest.approx([0.41, 0.70])


def test_unreadable_files_raise_one_sentence():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (25 * 1024 * 1024))  # ratio ~1000:1
    cases = [(b"", "empty.csv"), (b"PK\x03\x04garbage", "broken.xlsx"), (b"PAR1 not parquet", "x.parquet"),
             (bomb.getvalue(), "bomb.xlsx"), (b"\x89PNG\r\n\x1a\n....", "image.csv"),
             (b'a,b\n1,2\n3,4,5,6\n', "ragged.csv")]
    for data, name in cases:
        with pytest.raises(UnreadableFileError) as error:
            read_table(data, name)
        message = str(error.value)
        assert name in message and message.endswith(".") and "\n" not in message
