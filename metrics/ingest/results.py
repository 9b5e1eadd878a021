"""Meta "Results" read by result type, row by row (SPEC §7).

Ads Manager's `Results` counts whatever each row's campaign optimises for; the `Result type`
(or `Result indicator`, or failing both the campaign `Objective`) column says what that is:

- purchases → `conversions`, leads (and registrations) → `leads`, link clicks → `link_clicks`;
- anything else (ThruPlays, post engagements, reach, landing page views, messaging
  conversations, ...) is no canonical measure: listed in the report with its total, never summed;
- a file with an explicit `Purchases` / `Leads` / `Link clicks` column keeps that column (the
  explicit column wins) and the same results are not added a second time; the report says so.

A file whose Results have no type or objective column keeps the older reading (conversions) with
a warning: see `families._result_roles`.
"""

from __future__ import annotations

import re

import polars as pl

from metrics import schema

# Mapping targets that are roles rather than canonical columns.
RESULTS = "results"
RESULT_TYPE = "result_type"
MAPPING_TARGETS: frozenset[str] = frozenset(schema.COLUMN_BY_NAME) | {RESULTS, RESULT_TYPE}

RESULTS_HEADERS = frozenset({"results", "результаты", "ergebnisse", "résultats", "resultados", "risultati"})
RESULT_TYPE_HEADERS = frozenset({
    "result type", "result indicator", "тип результата", "индикатор результата", "ergebnistyp",
    "ergebnisindikator", "ergebnisart", "type de résultat", "indicateur de résultat", "tipo de resultado",
    "indicador de resultado", "tipo di risultato", "indicatore di risultato",
})
OBJECTIVE_HEADERS = frozenset({
    "objective", "campaign objective", "цель", "цель кампании", "ziel", "kampagnenziel", "objectif",
    "objectif de la campagne", "objetivo", "objetivo da campanha", "objetivo de la campaña", "obiettivo",
    "obiettivo della campagna",
})

# Result types (as Ads Manager writes them, in the export's language), indicators such as
# "actions:offsite_conversion.fb_pixel_purchase", and objectives such as OUTCOME_SALES, matched
# after `schema.normalize_header` (lower case, "_" read as a space).
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("conversions", re.compile(
        r"purchase|покупк|käufe|\bkauf|achat|compra|acquist|outcome sales|product catalog sales|"
        r"^conversions$|^sales$|^продажи$|^verkäufe$|^umsatz$|^ventes$|^ventas$|^vendas$|^vendite$|^конверсии$|"
        r"^conversiones$|^conversões$|^conversioni$")),
    ("leads", re.compile(
        r"lead|лид|prospect|clientes? potencia|contatt|регистрац|registration|registrierung|inscription|"
        r"cadastro|registro|registrazion")),
    ("link_clicks", re.compile(
        r"link[ _-]?(click|klick)|клик\w* по ссылк|clics? sur (un|le) lien|clics? en (el )?enlace|"
        r"cliques? n[oa] link|clic sul link|^traffic$|outcome traffic|^трафик$|^trafic$|^tráfico$|^tráfego$|"
        r"^traffico$|^verkehr$")),
)
KINDS: tuple[str, ...] = tuple(kind for kind, _ in _KINDS)


def classify_result_type(value: str | None) -> str | None:
    """The canonical measure a result type stands for, or None when it stands for none."""
    text = schema.normalize_header(value or "")
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return None


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def route_results(
    frame: pl.DataFrame, value: pl.Expr, type_column: str, explicit: dict[str, str]
) -> tuple[list[pl.Expr], list[tuple[str, str, str]]]:
    """Expressions filling conversions / leads / link_clicks from Results, and the report's notes.

    `value` is the validated Results number (Float64, null when empty); `type_column` the raw
    result type (or objective) column; `explicit` maps a kind to the header of a file column that
    already holds it (that column wins).
    """
    kind_of = {v: classify_result_type(v) for v in frame[type_column].cast(pl.String).unique().to_list()}
    kind = pl.col(type_column).cast(pl.String).replace_strict(
        list(kind_of), list(kind_of.values()), default=None, return_dtype=pl.String)
    sums = (frame.select(pl.col(type_column).cast(pl.String).alias("type"), value.alias("v"))
            .filter(pl.col("v").is_not_null())
            .group_by("type").agg(pl.col("v").sum()).sort("type", nulls_last=True))
    exprs = [pl.when(kind == k).then(value).alias(k) for k in KINDS if k not in explicit]
    return exprs, _notes(sums, kind_of, explicit)


def _notes(sums: pl.DataFrame, kind_of: dict, explicit: dict[str, str]) -> list[tuple[str, str, str]]:
    read, doubled, other = [], [], []
    for type_value, total in sums.iter_rows():
        label = type_value if type_value else "(no result type)"
        kind = kind_of.get(type_value)
        if kind is None:
            other.append(f"{label} ({_fmt(total)})")
        elif kind in explicit:
            doubled.append(f"'{label}' ({_fmt(total)}) are already in '{explicit[kind]}'")
        else:
            read.append(f"'{label}' → {kind.replace('_', ' ')} ({_fmt(total)})")
    notes: list[tuple[str, str, str]] = []
    if read:
        notes.append(("results_by_type", f"Results were read by their result type: {', '.join(read)}.", "info"))
    if doubled:
        notes.append(("results_explicit_column", "Results were not added where the file has its own column (the "
                      f"explicit column wins, so nothing is counted twice): {'; '.join(doubled)}.", "info"))
    if other:
        notes.append(("results_not_counted", "Results of these types are not conversions, leads or link clicks and "
                      f"were not added to any measure: {', '.join(other)}.", "warning"))
    return notes
