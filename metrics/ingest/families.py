"""Export families (SPEC §7) and the header → canonical column mapping.

Headers are matched exactly after `schema.normalize_header` (never by substring), so
`Cost per result`, `Cost / conv.`, `CPC`, `CTR`, `Цена за результаты` can never become
spend/results/clicks. Derived ratio columns are recognised on purpose and listed as ignored.
Family tables come first (most specific), then the schema aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from metrics import schema

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
    r"frecuencia|frequência|promedio|média|purchase roas|website purchase roas)"
    r"|(rate|ratio|rate \(%\)|%|\bper\b.*|/ conv\.|/conv\.|/ ?cost|\(cost per [^)]*\))$"
    r"|clickthroughrate|conversionrate|\brate\b|\bratio\b|pro 1\.000|per 1,000|за 1 000|за 1000"
)


def is_derived_ratio(normalized_header: str) -> bool:
    return bool(_DERIVED.search(normalized_header))


# ---------------------------------------------------------------- families


@dataclass(frozen=True)
class Family:
    """An export family: how to recognise it and the headers that mean something specific in it."""

    slug: str
    platform: str | None
    # Normalised headers (currency suffix removed) that only this family writes.
    markers: frozenset[str]
    # Family-specific header → canonical, in priority order (earlier wins within a canonical).
    headers: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)
    # Preferred reading of ambiguous dates like 03/04/2024.
    month_first_dates: bool = False


META = Family(
    "meta_ads", "facebook",
    frozenset({
        "amount spent", "reporting starts", "reporting ends", "ad set name", "cost per result", "result type",
        "clicks (all)", "purchases conversion value", "delivery status", "attribution setting",
        "потраченная сумма", "дата начала отчетности", "начало отчетного периода", "название группы объявлений",
        "цена за результаты", "ausgegebener betrag", "berichtsbeginn", "name der anzeigengruppe",
        "montant dépensé", "début des rapports", "nom de l'ensemble de publicités", "valor usado",
        "importe gastado", "inicio del informe", "início dos relatórios",
        # Portuguese (Brazil), Spanish and Italian Ads Manager exports.
        "valor gasto", "nome do conjunto de anúncios", "custo por resultado", "nombre del conjunto de anuncios",
        "costo por resultado", "importo speso", "inizio report", "nome del gruppo di inserzioni",
        "coût par résultat", "kosten pro ergebnis",
    }),
    headers=(
        ("day", "date"), ("день", "date"), ("tag", "date"), ("jour", "date"), ("día", "date"), ("dia", "date"),
        ("reporting starts", "date"), ("дата начала отчетности", "date"), ("начало отчетного периода", "date"),
        ("berichtsbeginn", "date"), ("début des rapports", "date"), ("inicio del informe", "date"),
        ("início dos relatórios", "date"),
        ("ad name", "ad"), ("ad set name", "ad_group"),
        ("results", "conversions"), ("результаты", "conversions"), ("ergebnisse", "conversions"),
        ("résultats", "conversions"), ("resultados", "conversions"),
        ("purchases", "conversions"),
        ("purchases conversion value", "revenue"),
        ("clicks (all)", "clicks"), ("link clicks", "link_clicks"),
        ("amount spent", "spend"), ("valor usado", "spend"), ("valor gasto", "spend"), ("importo speso", "spend"),
        ("risultati", "conversions"), ("inizio report", "date"), ("giorno", "date"),
        ("nome della campagna", "campaign"), ("impression", "impressions"), ("copertura", "reach"),
        ("clic sul link", "link_clicks"),
        ("gender", "audience"), ("age", "audience"),
    ),
)
GOOGLE_ADS = Family(
    "google_ads", "google_ads",
    frozenset({
        "impr.", "conv. value", "cost / conv.", "currency code", "avg. cpc", "conv. rate", "all conv.",
        "search impr. share", "interaction rate", "campaign state", "campaign type", "budget name",
        "view-through conv.", "conv. value / cost",
    }),
    headers=(
        ("day", "date"), ("campaign", "campaign"), ("ad group", "ad_group"), ("impr.", "impressions"),
        ("clicks", "clicks"), ("cost", "spend"), ("conversions", "conversions"), ("conv. value", "revenue"),
        ("currency code", "currency"), ("campaign type", None), ("interactions", None),
    ),
    month_first_dates=True,
)
LINKEDIN = Family(
    "linkedin_ads", "linkedin",
    frozenset({
        "start date (in utc)", "end date (in utc)", "total spent", "total engagements", "campaign group name",
        "campaign id", "account name", "reactions", "follows", "leads", "other clicks", "viral impressions",
    }),
    headers=(
        ("start date (in utc)", "date"), ("campaign name", "campaign"), ("campaign group name", "ad_group"),
        ("total spent", "spend"), ("impressions", "impressions"), ("clicks", "clicks"), ("reactions", "likes"),
        ("comments", "comments"), ("shares", "shares"), ("follows", "new_followers"),
        ("total engagements", "engagements"), ("leads", "leads"), ("conversions", "conversions"),
        ("campaign id", None),
    ),
    month_first_dates=True,
)
TIKTOK = Family(
    "tiktok_ads", "tiktok",
    frozenset({
        "clicks (destination)", "2-second video views", "6-second video views", "cpc (destination)",
        "ctr (destination)", "ad group name", "video views at 25%", "video views at 100%", "by day",
        "stat time day", "cost per conversion",
    }),
    headers=(
        ("by day", "date"), ("stat time day", "date"), ("date", "date"), ("campaign name", "campaign"),
        ("ad group name", "ad_group"), ("ad name", "ad"), ("cost", "spend"), ("impressions", "impressions"),
        ("clicks (destination)", "link_clicks"), ("clicks (all)", "clicks"), ("conversions", "conversions"),
        ("2-second video views", "video_views"), ("6-second video views", None), ("video views", "video_views"),
        ("reach", "reach"), ("likes", "likes"), ("comments", "comments"), ("shares", "shares"),
    ),
    month_first_dates=True,
)
X_ADS = Family(
    "x_ads", "x",
    frozenset({"retweets", "replies", "billed charge", "media engagements", "app clicks", "follows", "time",
               "engagements", "funding instrument name", "tweet id", "reposts"}),
    headers=(
        ("time", "date"), ("campaign", "campaign"), ("campaign name", "campaign"), ("spend", "spend"),
        ("impressions", "impressions"), ("engagements", "engagements"), ("retweets", "shares"),
        ("replies", "comments"), ("likes", "likes"), ("follows", "new_followers"), ("link clicks", "link_clicks"),
        ("clicks", "clicks"), ("media engagements", None), ("billed charge", None),
    ),
    month_first_dates=True,
)
GENERIC = Family("generic", None, frozenset())
# A generic sheet whose columns say they come from Facebook (e.g. Kaggle's `fb_campaign_id`).
GENERIC_FACEBOOK = Family("generic", "facebook", frozenset())
FAMILIES: tuple[Family, ...] = (META, GOOGLE_ADS, LINKEDIN, TIKTOK, X_ADS)

# Markers that on their own are too common to decide a family (X needs two of them).
_WEAK_MARKERS = {"time", "engagements", "follows", "leads", "reactions", "campaign id", "account name",
                 "clicks (all)", "campaign type"}


def detect_family(normalized_headers: list[str]) -> Family:
    """Pick the family whose markers match most headers; generic when nothing distinctive is present."""
    present = {split_currency_suffix(h)[0] for h in normalized_headers} | set(normalized_headers)
    best, best_score = GENERIC, 0.0
    for family in FAMILIES:
        hits = family.markers & present
        strong = [h for h in hits if h not in _WEAK_MARKERS]
        score = len(strong) + 0.25 * (len(hits) - len(strong))
        if not strong:
            continue
        if score > best_score:
            best, best_score = family, score
    if best is GENERIC and any(h.startswith(("fb ", "facebook ")) for h in normalized_headers):
        return GENERIC_FACEBOOK
    return best


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
    h for f in FAMILIES for h in (*f.markers, *(k for k, _ in f.headers))
)

# Several source columns may describe the audience (gender, age, region): they are joined.
_AUDIENCE_ORDER = ("gender", "sex", "пол", "geschlecht", "sexe", "gênero", "género", "age", "age group", "возраст",
                   "alter", "âge", "idade", "edad")


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])")


def header_keys(header: str) -> list[str]:
    """Spellings to look up: normalised, and with camelCase split ("AdSpend" → "ad spend")."""
    keys = [schema.normalize_header(header)]
    camel = schema.normalize_header(_CAMEL_BOUNDARY.sub(" ", str(header)))
    if camel != keys[0]:
        keys.append(camel)
    return keys


def header_is_known(normalized: str) -> bool:
    if normalized in KNOWN_HEADERS or is_derived_ratio(normalized):
        return True
    base, currency = split_currency_suffix(normalized)
    return currency is not None and base in KNOWN_HEADERS


# ---------------------------------------------------------------- mapping


@dataclass
class ColumnPlan:
    """One source column that feeds a canonical column."""

    index: int  # position in the file's header
    header: str  # as written in the file
    canonical: str


@dataclass
class MappingPlan:
    columns: list[ColumnPlan]
    unmapped: list[str]
    ignored_derived: list[str]
    header_currency: str | None
    notes: list[tuple[str, str, str]]  # (code, message, severity)

    @property
    def mapping(self) -> dict[str, str]:
        return {c.header: c.canonical for c in sorted(self.columns, key=lambda c: c.index)}

    def by_canonical(self, name: str) -> list[ColumnPlan]:
        return [c for c in self.columns if c.canonical == name]

    @property
    def has_measure(self) -> bool:
        return any(c.canonical in schema.MEASURES for c in self.columns)


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
    candidates: list[tuple[int, int, str, str]] = []  # (priority, index, header, canonical)
    unmapped: list[str] = []
    ignored_derived: list[str] = []
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
            elif target not in schema.COLUMN_BY_NAME:
                notes.append(("unknown_mapping_target",
                              f"The mapping sends '{header}' to '{target}', which is not a known column; "
                              "it is ignored.", "error"))
                unmapped.append(header)
            else:
                candidates.append((0, index, header, target))
            continue

        base, currency = split_currency_suffix(normalized)
        keys = [normalized, base, *header_keys(header)[1:]]
        if any(is_derived_ratio(k) for k in keys):
            ignored_derived.append(header)
            unmapped.append(header)
            continue
        hit: tuple[str | None, int] | None = None
        for key in keys:
            if key in family_rank:
                hit = (family_rank[key][0], 100 + family_rank[key][1])
                break
            if key in ALIASES:
                hit = (ALIASES[key][0], 1000 + ALIASES[key][1])
                break
        if hit is None or hit[0] is None:
            unmapped.append(header)
            continue
        canonical, priority = hit
        if currency and canonical in schema.MEASURES:
            currencies.append(currency)
        candidates.append((priority, index, header, canonical))

    chosen: list[ColumnPlan] = []
    for canonical in schema.CANONICAL_SCHEMA:
        group = sorted((c for c in candidates if c[3] == canonical), key=lambda c: (c[0], c[1]))
        if not group:
            continue
        if canonical == "audience":
            # Gender before age before the rest, e.g. "female 25-34".
            def audience_rank(c: tuple[int, int, str, str]) -> tuple[int, int]:
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
    header_currency = currencies[0] if currencies else None
    if len(set(currencies)) > 1:
        notes.append(("mixed_header_currencies",
                      f"Column headers name several currencies ({', '.join(sorted(set(currencies)))}); "
                      f"{header_currency} is used for the file.", "warning"))
    unmapped_in_order = [h for h in headers if h in set(unmapped)]
    return MappingPlan(chosen, list(dict.fromkeys(unmapped_in_order)), ignored_derived, header_currency, notes)
