"""A metric kind is declared in one place (`metrics/abtest/kinds.py`, with its statistic class and its builder):
a kind registered here, in the test, flows through the builder, the analysis, the JSON, the variant table, the
verdict and the command line without any other module knowing it exists."""

from __future__ import annotations

import csv
import json
import math
import statistics as pystats
from dataclasses import dataclass, replace
from functools import partial

import polars as pl
import pytest
from scipy import stats as sps

from metrics.abtest import analyze, inputs, kinds
from metrics.abtest.display import bayesian_rows, fmt_number, table_rows
from metrics.abtest.kinds import INPUT_SHAPES, KINDS, InputShape, Role, TableColumn
from metrics.abtest.statistics import SampleMeanStatistic
from metrics.abtest.verdict import verdict
from metrics.cli import main


@dataclass(frozen=True)
class OrderCount(SampleMeanStatistic):
    """Orders per user: a count per unit, tested as the mean of the counts."""

    kind = "orders"

    def __add__(self, other: OrderCount) -> OrderCount:
        return OrderCount(n=self.n + other.n, sum=self.sum + other.sum, sum_squares=self.sum_squares + other.sum_squares)


ORDERS = replace(
    KINDS["mean"], kind="orders", statistic=OrderCount,
    columns=(TableColumn("Orders per user", "mean", "number"), TableColumn("Orders per user", "ci", "number",
                                                                           interval=True)),
    claim=lambda c: f"{c.name}'s orders per user are {c.size} {c.moved} than {c.control}'s{c.judged}",
    value_label="orders per user", chart_title="Orders per user")
ORDERS_SHAPE = InputShape("orders", "orders", "Orders per user", (
    Role("outcome", "--orders", "orders", "Orders per unit (a count).", "Orders column"),), per_unit=True)


@pytest.fixture
def orders_kind(monkeypatch):
    monkeypatch.setitem(KINDS, "orders", ORDERS)
    monkeypatch.setitem(INPUT_SHAPES, "orders", ORDERS_SHAPE)
    monkeypatch.setitem(inputs.BUILDERS, "orders", partial(inputs.from_rows, kind="orders"))


# 200 users per arm; A orders 0, 1, 1, 2, 3 times in turn (mean 1.4), B 1, 1, 2, 3, 3 (mean 2.0). Ten users of A
# have a second row with 0 orders: with the user as the unit they still count once.
COUNTS = {"A": [0, 1, 1, 2, 3] * 40, "B": [1, 1, 2, 3, 3] * 40}


def order_rows() -> list[dict]:
    rows = [{"group": arm, "user": f"{arm}{i}", "orders": n} for arm, counts in COUNTS.items()
            for i, n in enumerate(counts)]
    return rows + [{"group": "A", "user": f"A{i}", "orders": 0} for i in range(10)]


def test_a_kind_registered_in_one_place_flows_to_the_table_and_the_verdict(orders_kind):
    data = inputs.build(pl.DataFrame(order_rows()), shape="orders", variant="group", columns={"outcome": "orders"},
                        unit="user")
    result = analyze(data, control="A")

    assert result.metric_kind == "orders"
    assert [w.code for w in result.warnings] == ["repeated_units"]
    mean_a, mean_b = pystats.mean(COUNTS["A"]), pystats.mean(COUNTS["B"])
    out = result.to_dict()
    assert [(v["name"], v["n"]) for v in out["variants"]] == [("A", 200), ("B", 200)]
    assert out["variants"][0]["mean"] == pytest.approx(mean_a) and out["variants"][1]["mean"] == pytest.approx(mean_b)
    assert out["variants"][0]["sd"] == pytest.approx(pystats.stdev(COUNTS["A"]))
    assert out["comparisons"][0]["lift_abs"] == pytest.approx(mean_b - mean_a)
    assert "chance_to_beat" not in out["comparisons"][0] and bayesian_rows(out) == []

    rows = table_rows(out)
    half = sps.t.ppf(0.975, 199) * pystats.stdev(COUNTS["B"]) / math.sqrt(200)
    assert rows[0]["Orders per user"] == "1.400" and rows[1]["Orders per user"] == "2.000"
    assert rows[1]["Orders per user 95 % CI"] == f"{fmt_number(mean_b - half)} to {fmt_number(mean_b + half)}"
    assert rows[1]["Difference"] == "+0.6000" and rows[1]["Significant"] == "yes"
    assert "Mean" not in rows[0] and "Rate" not in rows[0]

    text = verdict(result, result.comparisons[0])
    lift = (mean_b - mean_a) / mean_a
    assert text.startswith(f"B's orders per user are {lift * 100:.1f} % higher than A's (95 % CI +")


def test_the_command_line_offers_a_registered_kinds_flag(orders_kind, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["group", "user", "orders"])
        writer.writeheader()
        writer.writerows(order_rows())

    code = main(["abtest", str(path), "--variant", "group", "--orders", "orders", "--unit", "user"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["metric_kind"] == "orders"
    assert [v["n"] for v in out["variants"]] == [200, 200]
    code = main(["abtest", str(path), "--variant", "group", "--orders", "orders", "--unit", "user", "--format",
                 "table"])
    assert code == 0 and "B's orders per user are 42.9 % higher than A's" in capsys.readouterr().out

    code = main(["abtest", str(path), "--variant", "group", "--orders", "orders", "--value", "orders"])
    assert code == 2 and "one metric shape at a time" in capsys.readouterr().err


def test_every_shape_has_a_builder_and_every_kind_its_statistic():
    assert set(inputs.BUILDERS) == set(INPUT_SHAPES)
    assert {shape.kind for shape in INPUT_SHAPES.values()} == set(KINDS)
    for name, spec in KINDS.items():
        assert spec.kind == name and spec.statistic.kind == name
        empty = spec.statistic.from_dict({"n": 0, "sum": 0, "sum_squares": 0, "numerator_sum": 0,
                                          "numerator_sum_squares": 0, "denominator_sum": 0,
                                          "denominator_sum_squares": 0, "sum_of_products": 0})
        assert empty.n == 0 and empty.mean is None
    with pytest.raises(ValueError, match="Unknown metric kind"):
        kinds.kind_spec("median")
