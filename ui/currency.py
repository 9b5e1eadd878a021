"""Currencies in the UI: each file's currency on its Data-page card, the reporting currency with its rates,
and the note a report page shows when money is in several currencies (SPEC §2, §4).

Settings live in session state (`ui.state.currency_settings`) as a `metrics.currency.CurrencySettings`
and apply at report time (`ui.data.report_frame` / `dashboard_frame`): the loaded rows keep their own
currency, and a snapshot can keep the settings, rates included, so a shared report never changes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl
import streamlit as st

from metrics import currency
from metrics.currency import RatesError
from metrics.kpis import MIXED
from ui import data, widgets
from ui.state import (
    CURRENCY_BUNDLED,
    CURRENCY_CONVERT,
    CURRENCY_FILE,
    CURRENCY_RATES_EDITOR,
    CURRENCY_RATES_UPLOAD,
    CURRENCY_REPORTING,
    Dataset,
    currency_settings,
    current_viewer,
    keyed,
    set_currency_settings,
)

AS_LOADED = ""  # the file-currency option "as the file says"
# Offered in every currency select besides the codes of the bundled ECB history and those in the data.
_MORE_CODES = ("AED", "ARS", "CLP", "COP", "EGP", "KZT", "NGN", "PEN", "RUB", "SAR", "TWD", "UAH", "VND")


# Where the loader found a file's currency (`FileReport.currency_source`), for people.
_SOURCES = {"column": "from its currency column", "header": "from a column header such as 'Amount spent (USD)'",
            "values": "from the currency signs of its amounts", "family": "the currency this export always uses"}


def currency_choices(extra=()) -> list[str]:
    """The codes a currency select offers: the bundled ECB history's, a few more, and `extra` (those in the data)."""
    return sorted({*currency.bundled_currencies(), *_MORE_CODES, *(c for c in extra if c)})


# --- one file's currency (on its Data-page card) ------------------------------------------------------


def _set_file_currency(file_name: str, widget_key: str) -> None:
    chosen = st.session_state.get(widget_key) or AS_LOADED
    settings = currency_settings()
    files = {n: c for n, c in settings.file_currencies.items() if n != file_name}
    if chosen != AS_LOADED:
        files[file_name] = chosen
    set_currency_settings(replace(settings, file_currencies=files))


def file_currency_select(dataset: Dataset, report) -> None:
    """The file's currency as loaded (and from where), with a select to set it when the file does not
    say or says wrongly. A file naming its currency row by row keeps it (one code cannot fit all rows)."""
    named = (
        dataset.frame.filter(pl.col("source_file") == report.name)
        .get_column("currency").drop_nulls().unique().sort().to_list()
    )
    if len(named) > 1:
        st.caption(f"Currency: per row ({widgets.md_escape(', '.join(named))}), from the file's currency column.")
        return
    loaded = named[0] if named else None
    source = _SOURCES.get(getattr(report, "currency_source", None) or "")
    as_loaded = (f"As in the file: {loaded}" + (f" ({source})" if source else "")) if loaded else (
        "Not stated in the file")
    widget_key = keyed(CURRENCY_FILE, report.name)
    chosen = currency_settings().file_currencies.get(report.name, AS_LOADED)
    options = [AS_LOADED, *currency_choices([loaded, chosen])]
    # The settings decide what the select shows (they may come from a snapshot, after an earlier pick).
    st.session_state[widget_key] = chosen
    st.selectbox(
        "Currency of its money", options, key=widget_key, format_func=lambda code: as_loaded if code == AS_LOADED else code,
        on_change=_set_file_currency, args=(report.name, widget_key),
        help="Spend and revenue of this file are in this currency. Set it when the file does not say (its amounts "
             "are then shown without a symbol and never added to another currency) or says wrongly.",
    )
    if loaded is None and chosen == AS_LOADED:
        st.caption("Its amounts are shown without a currency symbol until the currency is set.")


# --- reporting currency and rates ---------------------------------------------------------------------


def _typed(edited) -> dict[str, float | None]:
    frame = edited if isinstance(edited, pl.DataFrame) else pl.DataFrame(edited)
    return {str(r["Currency"]): (None if r["Rate"] is None else float(r["Rate"])) for r in frame.iter_rows(named=True)}


def build_rates(
    reporting: str,
    needed: list[str | None],
    first: date | None,
    last: date | None,
    *,
    bundled: bool,
    typed: dict[str, float | None],
    uploaded: bytes | None,
) -> currency.Rates:
    """Rates into `reporting`: the bundled ECB history (when asked and it quotes `reporting`), then an
    uploaded table, then typed rates — a later source replaces the earlier ones for the currencies it names.
    Raises `RatesError` (one sentence) for rates that cannot be used."""
    rates = currency.Rates(reporting)
    if bundled and first and last and reporting in currency.bundled_currencies():
        rates = currency.bundled_rates(reporting, needed, first, last)
    if uploaded:
        try:
            text = uploaded.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RatesError("The rates file is not UTF-8 text; save it as CSV and upload it again.") from None
        rates = rates.merged(currency.parse_rates_csv(text, reporting, source="uploaded rates file"))
    typed_rates = currency.typed_rates(reporting, typed)
    return rates.merged(typed_rates) if typed_rates.rows else rates


def _keep_own_currencies_when_off() -> None:
    if not st.session_state.get(CURRENCY_CONVERT):
        set_currency_settings(replace(currency_settings(), rates=None))


def currency_panel(dataset: Dataset) -> None:
    """The Data page's currency section: what the money is in, and a reporting currency with rates typed
    in, uploaded or taken from the bundled ECB history (offline)."""
    st.subheader("Currencies")
    settings = currency_settings()
    mix = data.money_mix(dataset, converted=False)
    if mix.is_empty():
        st.caption("No file reports spend or revenue, so there is no money to convert.")
        return
    codes_in_data = mix.get_column("currency").unique().to_list()
    st.caption(f"Spend and revenue are in: {widgets.md_escape(currency.describe_mix(mix))}.")
    if len(codes_in_data) > 1 and settings.rates is None:
        st.warning("Money in different currencies is never added up: spend, revenue and the KPIs built on them stay "
                   "empty where they would mix. Set each file's currency above, or convert everything into one "
                   "reporting currency here.", icon=":material/currency_exchange:")

    # The rates form is shown when it is needed (money in several currencies) or asked for.
    if settings.rates is not None or CURRENCY_CONVERT not in st.session_state:
        st.session_state[CURRENCY_CONVERT] = settings.rates is not None or len(codes_in_data) > 1
    if not st.toggle("Convert all money into one reporting currency", key=CURRENCY_CONVERT,
                     on_change=_keep_own_currencies_when_off):
        return

    first, last = data.date_bounds(dataset.key, dataset.frame)
    with st.form("currency_form"):
        options = currency_choices(codes_in_data)
        current = settings.reporting or next((c for c in codes_in_data if c), "USD")
        reporting = st.selectbox(
            "Reporting currency", options, index=options.index(current) if current in options else 0,
            key=CURRENCY_REPORTING,
            help="All money of the report is converted into this currency. The loaded rows keep their own currency.",
        )
        bundled = st.toggle("Use the bundled ECB reference rates (offline)", value=True, key=CURRENCY_BUNDLED,
                            help="Daily euro reference rates shipped with the app: the rate of the row's day or of "
                                 "the last working day before it. Currencies the ECB does not quote need a rate here.")
        known = sorted(c for c in codes_in_data if c)
        typed_now = {r.currency: r.rate for r in (settings.rates.rows if settings.rates else ()) if r.day is None}
        edited = st.data_editor(
            pl.DataFrame({"Currency": known, "Rate": [typed_now.get(c) for c in known]},
                         schema={"Currency": pl.String, "Rate": pl.Float64}),
            key=CURRENCY_RATES_EDITOR, hide_index=True, disabled=["Currency"],
            column_config={"Rate": st.column_config.NumberColumn(
                "Rate", min_value=0.0, format="%.6f",
                help="1 unit of the currency = this many units of the reporting currency; empty: use the bundled "
                     "or uploaded rates.")},
        )
        uploaded = st.file_uploader("Or upload rates (CSV: currency,rate or date,currency,rate)", type=["csv", "txt"],
                                    key=CURRENCY_RATES_UPLOAD, max_upload_size=5,
                                    help="A dated table uses the latest rate on or before each row's date.")
        submitted = st.form_submit_button("Apply", type="primary")
    if submitted:
        try:
            rates = build_rates(reporting, codes_in_data, first, last, bundled=bundled, typed=_typed(edited),
                                uploaded=uploaded.getvalue() if uploaded is not None else None)
        except RatesError as error:
            st.error(str(error))
        else:
            set_currency_settings(replace(settings, rates=rates))
            st.rerun()

    if settings.rates is not None:
        rates = settings.rates
        st.caption(f"Money is shown in {rates.reporting}, converted with {widgets.md_escape(rates.source or 'the rates typed in')}.")
        if bundled and rates.reporting not in currency.bundled_currencies():
            st.caption(f"The bundled ECB rates do not include {rates.reporting}; type or upload its rates.")
        for gap in data.missing_rates(dataset):
            st.warning(widgets.md_escape(gap.message), icon=":material/currency_exchange:")
        st.download_button("Download the rates used", rates_csv(rates), file_name=f"rates_into_{rates.reporting}.csv",
                           mime="text/csv", key="currency_rates_download", icon=":material/download:")


def rates_csv(rates: currency.Rates) -> bytes:
    """The rates as a date,currency,rate table (undated rates with an empty date; a gap with an empty rate)."""
    lines = ["date,currency,rate", *(
        f"{r.day.isoformat() if r.day else ''},{r.currency},{'' if r.rate is None else repr(r.rate)}" for r in rates.rows
    )]
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- the note on report pages ------------------------------------------------------------------------


def currency_notes(dataset: Dataset, total: dict) -> None:
    """Above a report: when its money is in several currencies, which ones, from which files, and the fix;
    when a reporting currency's rates miss some money, what is left out."""
    editor = current_viewer().is_editor
    if total.get("currency") == MIXED:
        fix = ("set each file's currency, or pick a reporting currency with rates, on the Data page" if editor
               else "ask for the report in one currency")
        st.warning(
            f"Money is in more than one currency — {widgets.md_escape(currency.describe_mix(data.money_mix(dataset)))}"
            f" — so spend, revenue and the KPIs built on them are not added up (shown as —). To fix it, {fix}.",
            icon=":material/currency_exchange:",
        )
        if editor:
            st.page_link("pages/upload.py", label="Set currencies on the Data page",
                         icon=":material/currency_exchange:")
    for gap in data.missing_rates(dataset):
        st.caption(f":material/currency_exchange: {widgets.md_escape(gap.message)}")
