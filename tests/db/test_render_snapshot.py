"""`python -m reports render --snapshot ID`: a saved snapshot's report with its saved filters, goals and A/B
test and its workspace's branding, read back with a PDF reader and an HTML parser and checked against the
snapshot's rows by hand."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date, timedelta
from html.parser import HTMLParser

import polars as pl
import pytest
from pypdf import PdfReader
from sqlmodel import Session

from metrics.display import format_value
from metrics.report_settings import KpiSettings, ReportFilters, ReportSettings
from models import repository
from models.db import make_engine, upgrade_database
from tests.conftest import REPO

HOSTILE = "<img src=x onerror=alert(1)>"
FOOTER = "Prepared by Northwind Agency"
GOAL = {"id": "g1", "name": "Winter spend cap", "metric": "spend", "target": 5000, "deadline": "2026-02-28",
        "scope": "all", "direction": "auto"}
AB = {"version": 2, "source": "calculator", "metric": "counts", "control": "A", "alpha": 0.05,
      "correction": "holm", "calculator_rows": [{"name": "A", "visitors": 5000, "conversions": 400},
                                                {"name": "B", "visitors": 5000, "conversions": 480}]}
# The app's filter bar as saved: facebook only, 6 – 20 January, compared with the previous period.
SETTINGS = ReportSettings(filters=ReportFilters(date_from=date(2026, 1, 6), date_to=date(2026, 1, 20),
                                                platforms=("facebook",)),
                          goals=(GOAL,), ab=AB, kpi=KpiSettings(extra_costs=0.0))


def rows() -> list[dict]:
    """Every day of January 2026: facebook spends 10 + day index, tiktok twice that; one hostile campaign."""
    out = []
    for index in range(31):
        day = date(2026, 1, 1) + timedelta(days=index)
        for platform, factor in (("facebook", 1.0), ("tiktok", 2.0)):
            out.append({"date": day, "platform": platform, "campaign": HOSTILE if index % 2 else "Winter sale",
                        "spend": factor * (10.0 + index), "impressions": 1000.0, "clicks": 40.0,
                        "conversions": 2.0, "currency": "EUR"})
    return out


def facebook_spend(first: date, last: date) -> float:
    return sum(r["spend"] for r in rows() if r["platform"] == "facebook" and first <= r["date"] <= last)


def render(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", "render", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "DATABASE_URL": url})


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[str, int]:
    """A SQLite database holding the snapshot, in a workspace with a footer and an accent colour."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'campaign_lens.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    with Session(engine) as session:
        workspace = repository.create_workspace(session=session, name="Acme GmbH", time_zone="Europe/Berlin")
        repository.update_workspace(session=session, workspace_id=workspace.id, accent_color="#0A7E3D",
                                    report_footer=FOOTER)
        snapshot = repository.save_snapshot(session=session, workspace_id=workspace.id, name="January review",
                                            frame=pl.DataFrame(rows()), settings=SETTINGS.to_dict())
        snapshot_id = snapshot.id
    engine.dispose()
    return url, snapshot_id


@pytest.fixture(scope="module")
def pdf_text(stored, tmp_path_factory) -> str:
    url, snapshot_id = stored
    out = tmp_path_factory.mktemp("out") / "january.pdf"
    result = render(url, "--snapshot", str(snapshot_id), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out.read_bytes())).pages)


def test_the_pdf_shows_the_snapshots_saved_filters_not_all_its_rows(pdf_text):
    assert "January review" in pdf_text and "Acme GmbH" in pdf_text  # the title and the workspace (client)
    assert "6 – 20 Jan 2026" in pdf_text and "22 Dec 2025 – 5 Jan 2026" in pdf_text  # and the previous 15 days
    shown = facebook_spend(date(2026, 1, 6), date(2026, 1, 20))  # 15 + 16 + … + 29 = 330
    before = facebook_spend(date(2025, 12, 22), date(2026, 1, 5))  # only 1 – 5 Jan have rows: 10 + … + 14 = 60
    assert (shown, before) == (330.0, 60.0)
    tile = f"Spend\n{format_value(shown, 'currency', 'EUR')}\n+{(shown / before - 1) * 100:.1f} % vs previous"
    assert tile in pdf_text  # "+450.0 %"
    assert "TikTok" not in pdf_text  # the saved platform filter holds


def test_the_pdf_carries_the_saved_goal_ab_test_and_the_workspace_footer(pdf_text):
    # A goal is measured over all the data, as the Goals page does (its period, not the filter bar's).
    everything = sum(r["spend"] for r in rows())
    row = (f"Winter spend cap All data On track ≥ €5,000.00 {format_value(everything, 'currency', 'EUR')} "
           f"{everything / 5000 * 100:.2f} %")
    assert row in pdf_text
    assert "A/B test: numbers typed in the calculator" in pdf_text
    assert "A 5,000 400 8.00 % control" in pdf_text and "B 5,000 480 9.60 % +20.00 %" in pdf_text
    assert FOOTER in pdf_text and "Page 1 of" in pdf_text


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_has_the_same_figures_the_branding_and_the_hostile_name_as_text(stored, tmp_path):
    url, snapshot_id = stored
    out = tmp_path / "january.html"
    result = render(url, "--snapshot", str(snapshot_id), "--out", str(out), "--title", "Custom title")
    assert result.returncode == 0, result.stderr
    page = _Html()
    source = out.read_text(encoding="utf-8")
    page.feed(source)
    text = " ".join(page.text)
    assert "Custom title" in text
    assert format_value(330.0, "currency", "EUR") in text
    assert HOSTILE in text and "img" not in page.tags  # shown, never run
    assert "#0A7E3D".lower() in source.lower() and FOOTER in text


def test_filters_of_a_report_on_files_are_refused_with_a_snapshot(stored, tmp_path):
    url, snapshot_id = stored
    result = render(url, "--snapshot", str(snapshot_id), "--platform", "tiktok", "--out", str(tmp_path / "x.pdf"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("--snapshot reports the snapshot with its saved filters, goals and branding; "
                                     "leave out --platform.")


def test_an_unknown_snapshot_exits_3_with_one_sentence(engine, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    result = render(url, "--snapshot", "987654", "--out", str(tmp_path / "x.pdf"))
    assert result.returncode == 3
    assert result.stderr == "Snapshot 987654 does not exist; it may have been deleted.\n"
    assert not (tmp_path / "x.pdf").exists()


def test_a_database_that_cannot_be_reached_is_one_sentence_without_the_password(tmp_path):
    result = render("postgresql://agency:s3cret@127.0.0.1:1/reports", "--snapshot", "1",
                    "--out", str(tmp_path / "x.pdf"))
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "DATABASE_URL could not be used" in result.stderr
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
