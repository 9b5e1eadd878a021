"""Recognising the export family (SPEC §7) and mapping headers to canonical columns.

Headers are matched exactly after `schema.normalize_header` (never by substring), so
`Cost per result`, `Cost / conv.`, `CPC`, `CTR`, `Цена за результаты` can never become
spend/results/clicks. Derived ratio columns are recognised on purpose and listed as ignored.
Family tables (`catalog.py`) come first (most specific), then the schema aliases.

Lookup keys of a header: as normalised; without a currency suffix ("Amount spent (USD)"); with
camelCase split; without a trailing colon (Portuguese X writes "cliques em hashtags:"); without
a "(total)" qualifier in any language ("Impressionen (gesamt)"). Columns qualified as a part of
a total ("(organic)", "(sponsored)", "promoted …") are never added: they are listed as parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from metrics import schema
from metrics.ingest.catalog import FAMILIES, GENERIC, GENERIC_FACEBOOK, Family
from metrics.ingest.results import (
    MAPPING_TARGETS,
    OBJECTIVE_HEADERS,
    RESULT_TYPE,
    RESULT_TYPE_HEADERS,
    RESULTS,
    RESULTS_HEADERS,
)

MAX_HEADER_CHARS = 200  # longer header cells are texts: never looked up

# ---------------------------------------------------------------- currency in headers

CURRENCY_SYMBOLS: dict[str, str] = {
    "$": "USD", "us$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP",
    "₽": "RUB", "руб": "RUB", "руб.": "RUB", "р.": "RUB", "rub": "RUB", "r$": "BRL", "brl": "BRL",
    "¥": "JPY", "₹": "INR", "₺": "TRY", "₴": "UAH", "zł": "PLN", "₸": "KZT",
}
_ISO_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
# "Amount spent (USD)", "Cost (€)", "Расход, руб." — the suffix names the currency.
_BRACKET_SUFFIX = re.compile(r"^(?P<base>.*?)\s*[(\[](?P<cur>[^()\[\]]{1,5})[)\]]\s*$")
_COMMA_SUFFIX = re.compile(r"^(?P<base>.*?)\s*,\s*(?P<cur>[^,]{1,5})$")


def split_currency_suffix(header: str) -> tuple[str, str | None]:
    """Return (header without a currency suffix, ISO code or None). Input is a normalised header."""
    for pattern in (_BRACKET_SUFFIX, _COMMA_SUFFIX):
        match = pattern.match(header)
        if not match:
            continue
        cur = match["cur"].strip().lower()
        if cur in CURRENCY_SYMBOLS:
            return match["base"], CURRENCY_SYMBOLS[cur]
        if _ISO_CURRENCY.match(cur) and cur.upper() in _KNOWN_ISO:
            return match["base"], cur.upper()
    return header, None


_KNOWN_ISO = frozenset(
    "USD EUR GBP RUB BRL JPY CNY INR CAD AUD CHF SEK NOK DKK PLN CZK HUF TRY UAH KZT MXN ARS CLP COP PEN "
    "ZAR AED SAR ILS SGD HKD NZD KRW THB IDR MYR PHP VND BYN GEL AMD AZN UZS RON BGN".split()
)

# ---------------------------------------------------------------- derived ratio columns

# Ratios and averages computed by the platform (cost per X, CTR, CPM, frequency, ROAS, rates).
# They are never summed into a measure; we recompute KPIs from the additive measures.
_DERIVED = re.compile(
    r"^(cost per|cost / |cost/|cpc|cpm|cpa|cpl|cpv|cpe|ctr|roas|roi|frequency|avg\.?|average|"
    r"цена за|стоимость за|средн|частота|kosten pro|kosten/|preis pro|durchschn|häufigkeit|"
    r"coût par|cout par|coût/|moyenne|fréquence|costo por|coste por|custo por|costo/|custo/|"
    r"frecuencia|frequência|promedio|média|purchase roas|website purchase roas|taxa|tasa|tasso|taux|"
    r"коэффициент|процент|durata media|duración media|duração média|tempo médio|tiempo promedio)"
    r"|(rate|ratio|rate \(%\)|%|\(%\)|\bper\b.*|/ conv\.|/conv\.|/ ?cost|\(cost per [^)]*\))$"
    r"|clickthroughrate|conversionrate|\brate\b|\bratio\b|pro 1\.000|per 1,000|за 1 000|за 1000"
)


def is_derived_ratio(normalized_header: str) -> bool:
    return bool(_DERIVED.search(normalized_header))


# ---------------------------------------------------------------- alias index

def _alias_index() -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for column in schema.COLUMNS:
        for position, alias in enumerate((column.name, *column.aliases)):
            key = schema.normalize_header(alias)
            # First declaration wins: the schema lists the most common meaning first.
            index.setdefault(key, (column.name, position))
    return index


ALIASES: dict[str, tuple[str, int]] = _alias_index()
# Every header spelling we know, used to find the header row among title lines.
KNOWN_HEADERS: frozenset[str] = frozenset(ALIASES) | frozenset(
    h for f in FAMILIES for h in (*f.markers, *(k for k, _ in f.headers), *f.derived)
) | RESULT_TYPE_HEADERS | OBJECTIVE_HEADERS

# Several source columns may describe the audience (gender, age, region): they are joined.
_AUDIENCE_ORDER = ("gender", "sex", "пол", "geschlecht", "sexe", "gênero", "género", "age", "age group", "возраст",
                   "alter", "âge", "idade", "edad")

# Markers that on their own are too common to decide a family: they count a quarter.
WEAK_MARKERS = frozenset({
    "time", "engagements", "follows", "leads", "reactions", "campaign id", "account name", "clicks (all)",
    "campaign type", "post id", "profile visits", "post link", "created date", "total clicks", "plays",
    "navigation", "total views", "total likes", "total comments", "total shares", "post time", "bookmarks",
})

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])")
_QUALIFIED = re.compile(r"^(?P<base>.+?)\s*\((?P<qualifier>[^()]+)\)$")
# "(total)" in the languages of the schema: the column is the whole, its base name is the measure.
TOTAL_QUALIFIERS = frozenset({"total", "totals", "gesamt", "insgesamt", "totale", "totali", "totaux", "totales",
                              "всего", "итого", "общий", "общее", "all"})
# "(organic)", "(sponsored)": a part of a total; adding it to the total would double count.
PART_QUALIFIERS = frozenset({
    "organic", "sponsored", "paid", "promoted", "organisch", "gesponsert", "bezahlt", "organique", "organiques",
    "sponsorisé", "sponsorisée", "sponsorisées", "sponsorisés", "payant", "payante", "orgánico", "orgánica",
    "orgánicas", "orgánicos", "patrocinado", "patrocinada", "patrocinadas", "patrocinados", "pagado", "pago",
    "orgânico", "orgânica", "orgânicas", "orgânicos", "organico", "organica", "organiche", "organici",
    "sponsorizzato", "sponsorizzata", "sponsorizzate", "sponsorizzati", "органические", "органический",
    "органика", "спонсорские", "спонсорский", "платные", "рекламные", "promovido(a)(s)",
})
_PROMOTED = re.compile(r"^promoted |^promovido |\bpromovido\(a\)\(s\)$|^promocionad[oa]s? |^beworben ")


def header_keys(header: str) -> list[str]:
    """Spellings to look up, most specific first (see the module docstring)."""
    normalized = schema.normalize_header(header)
    keys = [normalized]
    keys.append(split_currency_suffix(normalized)[0])
    keys.append(schema.normalize_header(_CAMEL_BOUNDARY.sub(" ", str(header))))
    keys.extend([k.rstrip(":").rstrip() for k in keys])
    qualified = _QUALIFIED.match(keys[-1])
    if qualified and qualified["qualifier"].strip() in TOTAL_QUALIFIERS:
        keys.append(qualified["base"])
    return list(dict.fromkeys(k for k in keys if k))


def is_part_column(normalized: str) -> bool:
    """"Impressions (organic)", "promoted retweets", "retweets promovido(a)(s)": a part of a total column."""
    qualified = _QUALIFIED.match(normalized.rstrip(":"))
    if qualified and qualified["qualifier"].strip() in PART_QUALIFIERS:
        return True
    return bool(_PROMOTED.search(normalized))


def header_is_known(normalized: str) -> bool:
    return any(k in KNOWN_HEADERS or is_derived_ratio(k) for k in header_keys(normalized))


def detect_family(normalized_headers: list[str], file_name: str = "") -> Family:
    """Pick the family whose markers match most headers; generic when nothing distinctive is present.

    A family needs one distinctive marker, or a file name of its downloads together with two of
    its headers (YouTube's "Chart data.csv" holds only "Date" and "Views").
    """
    present = {k for h in normalized_headers if len(h) <= MAX_HEADER_CHARS for k in header_keys(h)}
    lower_name = file_name.strip().lower()
    best, best_score = GENERIC, 0.0
    for family in FAMILIES:
        hits = family.markers & present
        strong = [h for h in hits if h not in WEAK_MARKERS]
        score = len(strong) + 0.25 * (len(hits) - len(strong))
        if family.marker_pattern and any(re.search(family.marker_pattern, h) for h in present):
            strong.append("pattern")
            score += 1
        named = bool(family.file_names and re.search(family.file_names, lower_name))
        if named and len(present & {h for h, c in family.headers if c}) >= 2:
            strong.append("file name")
            score += 1
        if strong and score > best_score:
            best, best_score = family, score
    if best is GENERIC and any(h.startswith(("fb ", "facebook ")) for h in normalized_headers):
        return GENERIC_FACEBOOK
    return best


# ---------------------------------------------------------------- mapping


@dataclass
class ColumnPlan:
    """One source column that feeds a canonical column (or a role such as Meta's Results)."""

    index: int  # position in the file's header
    header: str  # as written in the file
    canonical: str
    # A net change (gained − lost) read into new_followers: negative values are data, not errors.
    net: bool = False


@dataclass
class MappingPlan:
    columns: list[ColumnPlan]
    unmapped: list[str]
    ignored_derived: list[str]
    header_currency: str | None
    notes: list[tuple[str, str, str]]  # (code, message, severity)
    # Meta "Results", read per row by its result type (or the campaign objective): see results.py.
    results: ColumnPlan | None = None
    result_type: ColumnPlan | None = None
    ignored_parts: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)  # the file's header, in file order

    @property
    def mapping(self) -> dict[str, str]:
        roles = [c for c in (self.results, self.result_type) if c is not None]
        return {c.header: c.canonical for c in sorted([*self.columns, *roles], key=lambda c: c.index)}

    def by_canonical(self, name: str) -> list[ColumnPlan]:
        return [c for c in self.columns if c.canonical == name]

    @property
    def mapped_indices(self) -> set[int]:
        roles = [c.index for c in (self.results, self.result_type) if c is not None]
        return {*(c.index for c in self.columns), *roles}

    @property
    def source_indices(self) -> list[int]:
        """Header positions the readers must read: column 0 (a total label often stands there) and every mapped one."""
        return sorted({0, *self.mapped_indices})

    @property
    def has_measure(self) -> bool:
        return self.results is not None or any(c.canonical in schema.MEASURES for c in self.columns)


Candidate = tuple[int, int, str, str]  # (priority, index, header, canonical or role)


def resolve_mapping(headers: list[str], family: Family, user_mapping: dict[str, str] | None = None) -> MappingPlan:
    """Map file headers to canonical columns.

    Priority: the user's mapping (exact header, then normalised), the family table, then schema
    aliases. One source column per canonical column (the highest priority, then the leftmost);
    several audience columns are joined. Everything else is listed as unmapped, with a reason.
    """
    user_exact = dict(user_mapping or {})
    user_normalized = {schema.normalize_header(k): v for k, v in user_exact.items()}
    family_rank = {h: (c, i) for i, (h, c) in enumerate(family.headers)}
    notes: list[tuple[str, str, str]] = []
    candidates: list[Candidate] = []
    unmapped: list[str] = []
    ignored_derived: list[str] = []
    ignored_parts: list[str] = []
    currencies: list[str] = []
    seen_headers: dict[str, int] = {}

    for index, header in enumerate(headers):
        normalized = schema.normalize_header(header)
        if not normalized:
            continue
        if normalized in seen_headers:
            notes.append(("duplicate_header",
                          f"The column '{header}' appears more than once; the first one (column "
                          f"{seen_headers[normalized] + 1}) is used and column {index + 1} is ignored.", "warning"))
            unmapped.append(header)
            continue
        seen_headers[normalized] = index

        if header in user_exact or normalized in user_normalized:
            target = user_exact[header] if header in user_exact else user_normalized[normalized]
            if not target:
                unmapped.append(header)
            elif target not in MAPPING_TARGETS:
                notes.append(("unknown_mapping_target",
                              f"The mapping sends '{header}' to '{target}', which is not a known column; "
                              "it is ignored.", "error"))
                unmapped.append(header)
            else:
                candidates.append((0, index, header, target))
            continue

        if len(normalized) > MAX_HEADER_CHARS:  # a text, not a header we could know
            unmapped.append(header)
            continue
        keys = header_keys(header)
        if any(is_derived_ratio(k) or k in family.derived for k in keys):
            ignored_derived.append(header)
            unmapped.append(header)
            continue
        if is_part_column(normalized):
            ignored_parts.append(header)
            unmapped.append(header)
            continue
        hit = _lookup(keys, family_rank)
        if hit is None or hit[0] is None:
            unmapped.append(header)
            continue
        canonical, priority = hit
        currency = split_currency_suffix(normalized)[1]
        if currency and canonical in schema.MEASURES:
            currencies.append(currency)
        candidates.append((priority, index, header, canonical))

    results, result_type, candidates = _result_roles(candidates, unmapped, notes)
    chosen = _choose(candidates, unmapped, notes)
    net = _mark_net(chosen, family)
    if net:
        notes.append(("net_change_column",
                      f"'{net.header}' is a net change (gained − lost), so it is kept in new followers and may be "
                      "negative; unfollows are not reported separately, and net follower growth is exact.", "info"))
    if ignored_parts:
        notes.append(("part_columns_ignored",
                      f"These columns are parts of a total (organic, sponsored or promoted) and were not added, so "
                      f"nothing is counted twice: {', '.join(ignored_parts)}.", "info"))
    header_currency = currencies[0] if currencies else None
    if len(set(currencies)) > 1:
        notes.append(("mixed_header_currencies",
                      f"Column headers name several currencies ({', '.join(sorted(set(currencies)))}); "
                      f"{header_currency} is used for the file.", "warning"))
    unmapped_set = set(unmapped)
    unmapped_in_order = [h for h in headers if h in unmapped_set]
    return MappingPlan(chosen, list(dict.fromkeys(unmapped_in_order)), ignored_derived, header_currency, notes,
                       results=results, result_type=result_type, ignored_parts=ignored_parts, headers=list(headers))


def _lookup(keys: list[str], family_rank: dict[str, tuple[str | None, int]]) -> tuple[str | None, int] | None:
    """(canonical or None, priority) from the family table first, then the schema aliases."""
    for key in keys:
        if key in family_rank:
            return family_rank[key][0], 100 + family_rank[key][1]
    for key in keys:
        if key in ALIASES:
            return ALIASES[key][0], 1000 + ALIASES[key][1]
    for key in keys:
        if key in RESULT_TYPE_HEADERS or key in OBJECTIVE_HEADERS:
            return RESULT_TYPE, 5000
    return None


def _result_roles(
    candidates: list[Candidate], unmapped: list[str], notes: list[tuple[str, str, str]]
) -> tuple[ColumnPlan | None, ColumnPlan | None, list[Candidate]]:
    """Meta's Results column becomes a role read per row when the file says each row's result type.

    Without a Result type (or objective) column, Results stay conversions (older exports), with a
    warning; a type column without Results is listed as unmapped.
    """
    typed = [c for c in candidates if c[3] == RESULT_TYPE]
    rest = [c for c in candidates if c[3] != RESULT_TYPE]
    # Result type / indicator before the objective; the user's choice before both.
    typed.sort(key=lambda c: (c[0], any(k in OBJECTIVE_HEADERS for k in header_keys(c[2])), c[1]))
    explicit = [c for c in rest if c[3] == RESULTS]
    implicit = [c for c in rest if c[0] > 0 and c[3] == "conversions"
                and any(k in RESULTS_HEADERS for k in header_keys(c[2]))]
    source = (explicit or implicit or [None])[0]
    if source is None or not typed:
        unmapped.extend(c[2] for c in typed)
        if source is not None:
            notes.append(("results_without_type",
                          f"'{source[2]}' has no result type in this file, so it was read as conversions; check that "
                          "these results are purchases (link clicks or video views are not conversions).", "warning"))
        return None, None, [(c[0], c[1], c[2], "conversions") if c[3] == RESULTS else c for c in rest]
    kind, *others = typed
    unmapped.extend(c[2] for c in others)
    remaining = [c for c in rest if c is not source and c[3] != RESULTS]
    return ColumnPlan(source[1], source[2], RESULTS), ColumnPlan(kind[1], kind[2], RESULT_TYPE), remaining


def _choose(candidates: list[Candidate], unmapped: list[str], notes: list[tuple[str, str, str]]) -> list[ColumnPlan]:
    chosen: list[ColumnPlan] = []
    for canonical in schema.CANONICAL_SCHEMA:
        group = sorted((c for c in candidates if c[3] == canonical), key=lambda c: (c[0], c[1]))
        if not group:
            continue
        if canonical == "audience":
            # Gender before age before the rest, e.g. "female 25-34".
            def audience_rank(c: Candidate) -> tuple[int, int]:
                n = schema.normalize_header(c[2])
                return (_AUDIENCE_ORDER.index(n) if n in _AUDIENCE_ORDER else len(_AUDIENCE_ORDER), c[1])
            chosen.extend(ColumnPlan(c[1], c[2], canonical) for c in sorted(group, key=audience_rank))
            continue
        winner, *losers = group
        chosen.append(ColumnPlan(winner[1], winner[2], canonical))
        for loser in losers:
            unmapped.append(loser[2])
            notes.append(("ambiguous_column",
                          f"Both '{winner[2]}' and '{loser[2]}' could be {canonical}; '{winner[2]}' is used "
                          f"and '{loser[2]}' is ignored (change the mapping to swap them).", "info"))
    # `chosen` keeps the audience parts in display order (gender before age); `mapping` is in file order.
    return chosen


def _mark_net(chosen: list[ColumnPlan], family: Family) -> ColumnPlan | None:
    for column in chosen:
        if column.canonical == "new_followers" and any(k in family.net_headers for k in header_keys(column.header)):
            column.net = True
            return column
    return None
