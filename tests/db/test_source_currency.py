"""A currency the editor sets for a stored source (its files do not say it) is kept with the source: its rows
load in that currency, after a newer export too, and clearing it gives the files' own word back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from metrics import ingest
from metrics.errors import UsageError
from models import repository as repo

JAN = date(2026, 1, 1)


def sheet(start: date, days: int, name: str, currency_column: str | None = None) -> tuple[str, bytes]:
    header = "Date,Platform,Campaign,Spend,Clicks" + (",Currency" if currency_column else "")
    lines = [header] + [f"{(start + timedelta(days=i)).isoformat()},Facebook,Always on,10,5"
                        + (f",{currency_column}" if currency_column else "") for i in range(days)]
    return name, ("\n".join(lines) + "\n").encode()


def store(session, ws, file, **options):
    name, data = file
    return repo.store_upload(session=session, workspace_id=ws, upload=repo.SourceUpload.from_load(
        data, ingest.load(data, name)), **options)


@pytest.fixture
def ws(session) -> int:
    return repo.ensure_workspace(session=session).id


def currencies(session, source_id) -> list:
    return repo.load_source_frame(session=session, source_id=source_id).get_column("currency").unique().to_list()


def test_a_set_currency_is_kept_for_a_newer_export(session, ws):
    first = store(session, ws, sheet(JAN, 7, "spend-week1.csv"))
    assert currencies(session, first.source_id) == [None]  # the sheet does not say
    repo.set_source_currency(session=session, source_id=first.source_id, workspace_id=ws, code="eur")
    assert currencies(session, first.source_id) == ["EUR"]

    newer = store(session, ws, sheet(JAN + timedelta(days=7), 7, "spend-week2.csv"))
    assert newer.action == "refreshed" and newer.source_id == first.source_id
    frame = repo.load_source_frame(session=session, source_id=first.source_id)
    assert frame.height == 14 and frame.get_column("currency").to_list() == ["EUR"] * 14
    [listed] = repo.list_sources(session=session, workspace_id=ws)
    assert listed.declared_currency == "EUR" and listed.currencies == []  # the files' own word is kept apart

    # The same file again changes nothing, and the currency stays.
    assert store(session, ws, sheet(JAN, 7, "spend-week1.csv")).action in ("unchanged", "refreshed")
    assert currencies(session, first.source_id) == ["EUR"]

    repo.set_source_currency(session=session, source_id=first.source_id, workspace_id=ws, code=None)
    assert currencies(session, first.source_id) == [None]


def test_a_bad_code_or_a_source_naming_several_currencies_is_refused(session, ws):
    source = store(session, ws, sheet(JAN, 3, "plain.csv"))
    with pytest.raises(UsageError, match="not a currency code"):
        repo.set_source_currency(session=session, source_id=source.source_id, workspace_id=ws, code="euro")
    name, data = sheet(JAN, 2, "two.csv", currency_column="USD")
    data += f"{JAN.isoformat()},Facebook,Brand,10,5,EUR\n".encode()
    several = store(session, ws, (name, data), target="new")
    with pytest.raises(UsageError, match="several currencies"):
        repo.set_source_currency(session=session, source_id=several.source_id, workspace_id=ws, code="GBP")
    assert sorted(currencies(session, several.source_id)) == ["EUR", "USD"]
