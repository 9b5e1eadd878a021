"""Every page with the demo (AppTest): platforms are shown by name — never a raw slug such as "google_ads",
"facebook" or a bare "x" — in text, pickers, table cells and chart labels."""

from __future__ import annotations

import json
import re

import pytest

from metrics.display import PLATFORM_LABELS
from tests.app.dashboard_helpers import app_with_demo, treat_as_local_visitor

PAGES = ("pages/overview.py", "pages/insights.py", "pages/platforms.py", "pages/campaigns.py", "pages/funnel.py", "pages/goals.py",
         "pages/ab_tests.py", "pages/upload.py", "pages/snapshots.py")
# Slugs whose display name differs ("x" → "X", "google_ads" → "Google Ads"); "seo" reads "SEO" and so on.
SLUGS = {slug for slug, name in PLATFORM_LABELS.items() if slug != name}
# In running text, slugs that are also plain English words ("other stage names", "an email") are left out.
WORD_SLUGS = SLUGS - {"other", "email", "affiliate"}
SLUG_WORD = re.compile(r"(?<![\w.@/-])(" + "|".join(sorted(WORD_SLUGS, key=len, reverse=True)) + r")(?![\w.@/-])")
# Chart channels a reader sees: a platform reaches them only through its `platform_label` column.
SHOWN_CHANNELS = ("x", "y", "color", "text", "tooltip", "detail", "shape", "yOffset", "xOffset")


@pytest.fixture(autouse=True)
def _local_visitor(monkeypatch):
    treat_as_local_visitor(monkeypatch)


def _texts(at) -> list[str]:
    texts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "text", "info", "warning", "error",
                 "success"):
        texts += [element.value for element in at.get(kind)]
    for metric in at.metric:
        texts += [metric.label, metric.value, metric.proto.delta]
    for kind in ("selectbox", "multiselect", "radio", "segmented_control"):
        for widget in at.get(kind):
            texts += [str(option) for option in widget.options]
    texts += [e.label for e in at.get("expander")] + [t.label for t in at.get("tab")]
    return texts


def _cells(at) -> list[str]:
    cells = []
    for table in at.dataframe:
        frame = table.value
        for column in frame.columns:
            if frame[column].dtype == object:
                cells += [str(v) for v in frame[column].dropna().tolist()]
    return cells


def _chart_fields(spec: dict) -> list[str]:
    """Fields of every channel a reader sees, in every layer and panel of a Vega-Lite spec."""
    fields = []
    for key, value in spec.items():
        if key == "encoding":
            for channel, definition in value.items():
                if channel in SHOWN_CHANNELS:
                    for item in definition if isinstance(definition, list) else [definition]:
                        if isinstance(item, dict) and "field" in item:
                            fields.append(item["field"])
        elif isinstance(value, dict):
            fields += _chart_fields(value)
        elif isinstance(value, list):
            fields += [f for item in value if isinstance(item, dict) for f in _chart_fields(item)]
    return fields


@pytest.mark.parametrize("page", PAGES)
def test_no_raw_platform_slug_on_the_page(page):
    at = app_with_demo(page)
    assert not at.exception, at.exception
    shown = _texts(at)
    assert not [t for t in shown if t and SLUG_WORD.search(t)], page
    cells = _cells(at)
    assert not [c for c in cells if c in SLUGS], page
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        assert "platform" not in _chart_fields(spec), page
        labels = {row.get("platform_label") for rows in (spec.get("datasets") or {}).values() for row in rows}
        assert not (labels & SLUGS), page


def test_the_check_sees_slugs_where_they_were_shown():
    # The checks themselves: the text the old pages wrote would fail them.
    assert SLUG_WORD.search("Platform: google_ads") and SLUG_WORD.search("x · 12 clicks")
    assert not SLUG_WORD.search("Google Ads · 3.30× · X · x_ads_total_row.csv · https://x.com")
    assert "platform" in _chart_fields({"layer": [{"encoding": {"color": {"field": "platform"}}}]})
