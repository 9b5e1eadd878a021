"""Client report files (a paginated PDF and a self-contained HTML) and their scheduled delivery.

    report = build_report(frame, ReportOptions(title="August report", client="Acme"), Branding())
    pdf_bytes = render_pdf(report)
    html_text = render_html(report)

Pure package: no streamlit; reads `metrics/` (and `models/` for saved snapshots), never `ui/`.
The report model (altair, the insights engine) is imported on first use: `reports.branding`,
`report_file_name` and the delivery settings serve every dashboard run and must stay light.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from reports.branding import Branding
    from reports.model import Report, ReportOptions, SourceFile, ab_entry, build_report

_LAZY = {"Branding": "reports.branding", "Report": "reports.model", "ReportOptions": "reports.model",
         "SourceFile": "reports.model", "ab_entry": "reports.model", "build_report": "reports.model"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'reports' has no attribute {name!r}")

__all__ = ["Branding", "Report", "ReportOptions", "SourceFile", "ab_entry", "build_report", "render_file",
           "render_html", "render_pdf", "report_file_name"]


def render_pdf(report: Report) -> bytes:
    """The report as a paginated PDF (vector charts, repeated table headers, "Page N of M")."""
    from reports.pdf_file import render

    return render(report)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG; nothing is fetched)."""
    from reports.html_file import render

    return render(report)


def render_file(report: Report, format: Literal["pdf", "html"]) -> bytes:
    """The report as the bytes of a PDF or an HTML (UTF-8) file."""
    return render_pdf(report) if format == "pdf" else render_html(report).encode("utf-8")


def report_file_name(title: str, format: Literal["pdf", "html"]) -> str:
    """A file name made of the title's letters, digits and dashes ("March-report.pdf"); never a path."""
    slug = re.sub(r"[^\w-]+", "-", title, flags=re.UNICODE).strip("-")[:80] or "report"
    return f"{slug}.{format}"
