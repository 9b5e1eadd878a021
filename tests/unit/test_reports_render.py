"""`python -m reports render` as an agency runs it: the PDF and HTML files, read back with a PDF reader and an
HTML parser, checked against the input's own arithmetic and against `python -m metrics report`.

One export with 300 campaigns (so the campaign table runs over several pages), a hostile campaign name and
a Cyrillic one is rendered once per format for the whole module.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from metrics.display import format_value
from tests.conftest import REPO

HOSTILE = "<img src=x onerror=alert(1)>"
CYRILLIC = "Весна & «Лето»"
CAMPAIGNS = [f"Campaign {i:03d}" for i in range(300)] + [HOSTILE, CYRILLIC]
PLATFORMS = ["facebook", "google ads", "tiktok"]
FIRST_DAY = date(2026, 3, 1)
DATE_FROM, DATE_TO = date(2026, 3, 15), date(2026, 3, 28)  # compared with 1 – 14 March
TITLE = "March performance report"
CLIENT = "Acme & Söhne"


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[str, list[dict]]:
    """A generic CSV export: every campaign on two days, one before and one inside the report's range."""
    rows = []
    for index, campaign in enumerate(CAMPAIGNS):
        for day in (FIRST_DAY + timedelta(days=index % 14), DATE_FROM + timedelta(days=index % 14)):
            rows.append({
                "date": day.isoformat(), "platform": PLATFORMS[index % 3], "campaign": campaign,
                "impressions": 1000 + 7 * index, "clicks": 10 + index % 50, "spend": round(5 + 0.37 * index, 2),
                "conversions": index % 7, "currency": "USD",
            })
    path = tmp_path_factory.mktemp("exports") / "march_export.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return str(path), rows


def in_range(rows: list[dict]) -> list[dict]:
    return [r for r in rows if DATE_FROM.isoformat() <= r["date"] <= DATE_TO.isoformat()]


def render(export, tmp_path_factory, fmt: str) -> tuple[subprocess.CompletedProcess, bytes]:
    out = tmp_path_factory.mktemp("out") / f"report.{fmt}"
    result = run("reports", "render", export[0], "--format", fmt, "--out", str(out), "--title", TITLE,
                 "--client", CLIENT, "--from", DATE_FROM.isoformat(), "--to", DATE_TO.isoformat())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)  # nothing else on stdout
    return result, out.read_bytes()


@pytest.fixture(scope="module")
def pdf_pages(export, tmp_path_factory) -> list[str]:
    _, content = render(export, tmp_path_factory, "pdf")
    assert content.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture(scope="module")
def html_text(export, tmp_path_factory) -> str:
    _, content = render(export, tmp_path_factory, "html")
    return content.decode("utf-8")


@pytest.fixture(scope="module")
def metrics_total(export) -> dict:
    result = run("metrics", "report", export[0], "--from", DATE_FROM.isoformat(), "--to", DATE_TO.isoformat())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["total"]


class _Document(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)


# --- the PDF ------------------------------------------------------------------------------------------


def test_pdf_has_title_campaigns_spend_total_and_page_numbers(pdf_pages, export):
    assert len(pdf_pages) >= 3
    text = "\n".join(pdf_pages)
    assert TITLE in pdf_pages[0] and f"Prepared for {CLIENT}" in pdf_pages[0]
    spend = sum(r["spend"] for r in in_range(export[1]))  # the input's own arithmetic
    assert format_value(spend, "currency", "USD") in pdf_pages[0]
    for name in ("Campaign 000", "Campaign 150", "Campaign 299", CYRILLIC):
        assert name in text
    for number, page in enumerate(pdf_pages, start=1):
        assert f"Page {number} of {len(pdf_pages)}" in page


def test_pdf_campaign_table_repeats_its_header_on_every_page_it_continues_to(pdf_pages):
    row = re.compile(r"^(Campaign \d{3}) \$", re.MULTILINE)  # a table row: the name, then the spend
    pages_with_rows = [(page, row.findall(page)) for page in pdf_pages if row.search(page)]
    assert len(pages_with_rows) >= 3, "300 campaigns should fill several pages"
    for page, _ in pages_with_rows:
        assert re.search(r"^Campaign Spend Impressions", page, re.MULTILINE), page[:300]
    listed = [name for _, names in pages_with_rows for name in names]
    assert sorted(listed) == [f"Campaign {i:03d}" for i in range(300)]  # every row once: none lost at a break


def test_pdf_draws_hostile_names_as_plain_text(pdf_pages):
    assert HOSTILE in "\n".join(pdf_pages)


# --- the HTML -----------------------------------------------------------------------------------------


def test_html_is_self_contained(html_text):
    document = _Document(html_text)
    names = [tag for tag, _ in document.tags]
    assert names.count("svg") >= 3, "the charts are inline SVG"
    assert "script" not in names and "link" not in names and "iframe" not in names
    for tag, attributes in document.tags:
        for name, value in attributes.items():
            if name in ("src", "href", "xlink:href", "action", "poster", "srcset"):
                assert value.startswith("data:"), (tag, name, value)
            assert not re.search(r"url\((?!#)", value or ""), (tag, name, value)
    assert not re.search(r"url\((?!#)|@import", "".join(document.styles))
    assert not re.search(r"(https?:)?//", html_text)  # not even a namespace URL: nothing that looks fetchable
    csp = next(a["content"] for t, a in document.tags if t == "meta" and a.get("http-equiv"))
    assert "default-src 'none'" in csp


def test_html_shows_upload_text_only_as_text(html_text):
    document = _Document(html_text)
    assert all(tag != "img" for tag, _ in document.tags), "no logo was given, so no image at all"
    assert not any(name.startswith("on") for _, attributes in document.tags for name in attributes)
    text = "".join(document.text)
    assert HOSTILE in text and CYRILLIC in text and CLIENT in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_text


# --- the numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["spend", "cpa", "ctr"])
def test_both_files_show_the_totals_of_metrics_report(name, metrics_total, pdf_pages, html_text, export):
    rows = in_range(export[1])
    spend, clicks = sum(r["spend"] for r in rows), sum(r["clicks"] for r in rows)
    impressions, conversions = sum(r["impressions"] for r in rows), sum(r["conversions"] for r in rows)
    independent = {"spend": spend, "cpa": spend / conversions, "ctr": clicks / impressions}[name]
    assert metrics_total[name] == pytest.approx(independent)
    kind = {"spend": "currency", "cpa": "currency", "ctr": "percent"}[name]
    shown = format_value(metrics_total[name], kind, "USD")
    assert shown in pdf_pages[0]
    assert shown in "".join(_Document(html_text).text)


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [None, b"\x00\x01\x02 not a spreadsheet \xff\xfe" * 20])
def test_unreadable_input_exits_3_with_one_sentence(content, tmp_path):
    path = tmp_path / "broken.csv"
    if content is not None:
        path.write_bytes(content)
    result = run("reports", "render", str(path), "--out", str(tmp_path / "r.pdf"))
    assert result.returncode == 3
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message and message.endswith(".")
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize(("args", "phrase"), [
    (["--from", "last week"], "not a date"),
    (["--accent", "blue"], "not a colour"),
    (["--out-typo"], "Unrecognized arguments"),
])
def test_usage_errors_exit_2(args, phrase, export, tmp_path):
    result = run("reports", "render", export[0], "--out", str(tmp_path / "r.pdf"), *args)
    assert result.returncode == 2
    assert phrase in result.stderr and "Traceback" not in result.stderr
