"""Bounded imports (metrics/bounded.py): size, depth and entry limits are checked before the JSON parser
can recurse or build something huge; every refusal is one sentence; the goals import and the CLI's
--mapping use them."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.bounded import BoundedJsonError, load_json_bounded, nesting_depth
from metrics.goals import GoalError, parse_goals
from tests.unit.test_cli_report import X_ADS, run

LIMITS = {"max_bytes": 1_000_000, "max_depth": 6, "max_items": 1_000}


def _one_sentence(message: str) -> bool:
    return message.endswith(".") and "\n" not in message and "Traceback" not in message


def test_a_100000_deep_document_is_refused_before_parsing():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RecursionError):  # what the plain parser does with it
        json.loads(deep)
    started = time.perf_counter()
    with pytest.raises(BoundedJsonError) as refused:
        load_json_bounded(deep, **LIMITS, what="This file")
    assert time.perf_counter() - started < 2
    assert refused.value.reason == "depth"
    assert str(refused.value).startswith("This file nests lists or objects 100,000 levels deep, more than the 6")
    assert _one_sentence(str(refused.value))


def _depth(value) -> int:
    """An independent reading: recurse over the parsed value."""
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\x'), children, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_nesting_depth_ignores_brackets_inside_strings(value):
    assert nesting_depth(json.dumps(value)) == _depth(value)


def test_size_and_entries_are_limited():
    with pytest.raises(BoundedJsonError) as too_big:
        load_json_bounded(b" " * 1_000_001, **LIMITS, what="This file")
    assert too_big.value.reason == "size" and "larger than the 1.0 MB allowed" in str(too_big.value)
    with pytest.raises(BoundedJsonError) as too_many:
        load_json_bounded(json.dumps({"a": list(range(1_001))}), **LIMITS, what="This file")
    assert too_many.value.reason == "entries" and "1,001 entries in one list or object" in str(too_many.value)
    assert load_json_bounded(json.dumps({"a": list(range(1_000))}), **LIMITS, what="This file") == {
        "a": list(range(1_000))}
    with pytest.raises(BoundedJsonError) as not_utf8:
        load_json_bounded(b'{"a": "\xff"}', **LIMITS, what="This file")
    assert not_utf8.value.reason == "encoding"
    for error in (too_big, too_many, not_utf8):
        assert _one_sentence(str(error.value))


def _goal(i: int) -> dict:
    return {"metric": "spend", "target": 100 + i, "deadline": "2026-12-31"}


@pytest.mark.parametrize("document, fragment", [
    ("[" * 100_000 + "]" * 100_000, "levels deep"),
    ({"goals": [_goal(i) for i in range(1_001)]}, "1,001 entries"),
    ([_goal(i) for i in range(200_000)], "larger than the 1.0 MB allowed"),
])
def test_a_goals_import_is_bounded(document, fragment):
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(GoalError) as refused:
        parse_goals(text.encode("utf-8"))
    assert fragment in str(refused.value) and str(refused.value).startswith("This goals file")
    assert _one_sentence(str(refused.value))
    assert len(parse_goals(json.dumps([_goal(i) for i in range(1_000)]))) == 1_000


def test_a_deep_mapping_file_is_a_usage_error(tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"x": ' * 50_000 + "1" + "}" * 50_000)
    result = run("report", str(X_ADS), "--mapping", str(mapping))
    assert result.returncode == 2, result.stderr
    assert "levels deep" in result.stderr and _one_sentence(result.stderr.strip())
