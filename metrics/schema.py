"""The canonical activity table, declared once.

Every upload is normalised into this long table (SPEC §2). Readers, the KPI engine,
the UI and the docs all read the declarations below; nothing downstream re-checks
names or types.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

Kind = Literal["dimension", "measure", "meta"]
# How a column behaves when rows are combined:
#  sum    - additive flow (impressions, spend, ...)
#  unique - counts unique users; the sum of rows is only an upper bound (reach)
#  stock  - a level at a date (followers): latest value per series, then summed
#  key    - a dimension used for grouping
Aggregation = Literal["sum", "unique", "stock", "key"]
# How a value is shown (metrics.display formats each): counts, money in the group's currency,
# fractions shown as percent, multiples (ROAS 3.20×), minutes.
Format = Literal["percent", "currency", "number", "ratio", "minutes"]
# Whether a rise is good news (more clicks), bad news (more unfollows) or neither (spend).
Direction = Literal["higher", "lower", "neutral"]


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    kind: Kind
    description: str
    aggregation: Aggregation = "key"
    # Header spellings seen in real exports, in English, Russian, German,
    # Portuguese, Spanish and French. Compared after `normalize_header`.
    aliases: tuple[str, ...] = field(default_factory=tuple)
    # Display: the label people read (default: the name in words), its format and direction.
    label: str = ""
    format: Format = "number"
    direction: Direction = "higher"

    @property
    def display_label(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


def _dim(name: str, description: str, *aliases: str, dtype: pl.DataType = pl.String, label: str = "") -> Column:
    return Column(name, dtype, "dimension", description, "key", aliases, label=label)


def _measure(
    name: str, description: str, *aliases: str, aggregation: Aggregation = "sum", label: str = "",
    format: Format = "number", direction: Direction = "higher",
) -> Column:
    return Column(name, pl.Float64, "measure", description, aggregation, aliases, label=label, format=format,
                  direction=direction)


COLUMNS: tuple[Column, ...] = (
    _dim(
        "date", "Date of activity. Exports without a day breakdown use the reporting start date.",
        "date", "day", "time", "period", "reporting starts", "start date", "start date (in utc)", "date start",
        "дата", "день", "дата начала отчетности", "начало отчетного периода",
        "datum", "tag", "berichtsbeginn",
        "data", "dia", "início dos relatórios",
        "fecha", "día", "inicio del informe",
        "jour", "début des rapports", "date de début",
        "dates", "by day", "stat time day", "date (day)",
        dtype=pl.Date,
    ),
    _dim(
        "platform", "Platform slug (facebook, instagram, google_ads, ...).",
        "platform", "channel", "network", "source", "publisher platform", "platform name", "channel used",
        "campaign channel", "media", "medium",
        "платформа", "канал", "источник", "площадка", "соцсеть",
        "plattform", "kanal", "netzwerk",
        "plataforma", "canal", "rede", "rede social",
        "plateforme", "réseau", "réseau social",
    ),
    _dim(
        "campaign", "Campaign name as exported.",
        "campaign", "campaign name", "campaign_name", "campaign title",
        "кампания", "название кампании", "имя кампании",
        "kampagne", "kampagnenname", "name der kampagne",
        "campanha", "nome da campanha",
        "campaña", "nombre de la campaña",
        "campagne", "nom de la campagne",
        # Ids only when no name column exists (names above win).
        "campaign id", "xyz campaign id",
    ),
    _dim(
        "ad_group", "Ad group / ad set name.",
        "ad group", "ad set", "ad set name", "adset", "adset name", "ad group name", "line item",
        "группа объявлений", "название группы объявлений", "группа",
        "anzeigengruppe", "name der anzeigengruppe",
        "conjunto de anúncios", "nome do conjunto de anúncios", "grupo de anúncios",
        "conjunto de anuncios", "nombre del conjunto de anuncios", "grupo de anuncios",
        "ensemble de publicités", "nom de l'ensemble de publicités", "groupe d'annonces",
    ),
    _dim(
        "ad", "Ad / creative name.",
        "ad", "ad name", "ads", "creative", "creative name", "ad_name",
        "объявление", "название объявления",
        "anzeige", "anzeigenname", "name der anzeige",
        "anúncio", "nome do anúncio",
        "anuncio", "nombre del anuncio",
        "publicité", "nom de la publicité", "annonce",
        "ad id",
    ),
    _dim(
        "variant", "A/B arm label.",
        "variant", "variation", "test group", "ab group", "a/b group", "arm", "experiment group", "test variant",
        "вариант", "группа теста",
        "testgruppe", "variante",
        "variação", "grupo de teste",
        "variación", "grupo de prueba",
        "groupe de test",
    ),
    _dim(
        "content_format", "image, video, carousel, reel, story, text, live, ... as given.",
        "content format", "format", "content type", "post type", "media type", "creative type", "ad format",
        "формат", "тип контента", "формат контента", "тип публикации",
        "inhaltsformat", "beitragstyp",
        "formato", "tipo de conteúdo", "tipo de publicação",
        "tipo de contenido", "tipo de publicación",
        "type de contenu", "type de publication",
    ),
    _dim(
        "funnel_stage", "awareness, interest, consideration, action, loyalty (free text kept).",
        "funnel stage", "stage", "funnel", "campaign type", "objective stage",
        "этап воронки", "стадия воронки", "этап",
        "funnel-phase", "phase", "trichterphase",
        "etapa do funil", "estágio do funil",
        "etapa del embudo", "etapa",
        "étape du funnel", "étape de l'entonnoir",
    ),
    _dim(
        "audience", "Age / gender / region / segment label.",
        "audience", "segment", "target audience", "customer segment", "age", "gender", "region", "country",
        "age group", "demographic",
        "аудитория", "сегмент", "возраст", "пол", "регион",
        "zielgruppe", "alter", "geschlecht",
        "público", "público-alvo", "idade", "gênero",
        "audiencia", "edad", "género",
        "âge", "sexe", "public cible",
    ),
    _dim(
        "currency", "ISO currency code (USD, EUR, RUB, ...).",
        "currency", "currency code", "валюта", "währung", "moeda", "moneda", "devise",
    ),
    _measure(
        "impressions", "Times shown.",
        "impressions", "impr.", "impr", "views (impressions)", "total impressions",
        "показы", "просмотры (показы)",
        "impressionen", "einblendungen",
        "impressões",
        "impresiones",
        # French uses "impressions" too.
    ),
    _measure(
        "reach", "Unique accounts reached. Not additive: the sum of rows is an upper bound.",
        "reach", "unique reach", "accounts reached",
        "охват", "reichweite", "alcance", "couverture", "portée",
        aggregation="unique", label="Reach (sum of rows)",
    ),
    _measure(
        "clicks", "All clicks.",
        "clicks", "clicks (all)", "all clicks", "total clicks", "clicks (all) ",
        "клики", "клики (все)", "все клики",
        "klicks", "klicks (alle)", "alle klicks",
        "cliques", "cliques (todos)",
        "clics", "clics (todos)", "clics (tous)", "tous les clics",
    ),
    _measure(
        "link_clicks", "Clicks to the destination.",
        "link clicks", "clicks (destination)", "outbound clicks", "destination clicks", "website clicks",
        "клики по ссылке", "переходы по ссылке",
        "link-klicks", "linkklicks",
        "cliques no link",
        "clics en el enlace",
        "clics sur un lien", "clics sur le lien",
    ),
    _measure(
        "likes", "Reactions / likes.",
        "likes", "reactions", "post reactions", "hearts", "favorites", "favourites",
        "лайки", "реакции", "отметки нравится",
        "gefällt mir", "reaktionen",
        "curtidas", "reações",
        "me gusta", "reacciones",
        "j'aime", "réactions",
    ),
    _measure(
        "comments", "Comments / replies.",
        "comments", "replies", "post comments",
        "комментарии", "ответы",
        "kommentare", "comentários", "comentarios", "commentaires",
    ),
    _measure(
        "shares", "Reposts / shares / retweets.",
        "shares", "reposts", "retweets", "post shares",
        "репосты", "поделились",
        "geteilte inhalte", "geteilt", "compartilhamentos", "compartidos", "partages", "social shares",
    ),
    _measure(
        "saves", "Saves / bookmarks.",
        "saves", "saved", "bookmarks", "post saves",
        "сохранения", "gespeichert", "salvamentos", "guardados", "enregistrements",
    ),
    _measure(
        "engagements", "Engagements as exported; when absent, likes+comments+shares+saves+clicks of the row.",
        "engagements", "total engagements", "engagement", "post engagement", "interactions",
        "вовлеченность", "взаимодействия", "вовлечённость",
        "interaktionen", "engajamento", "interações", "interacciones", "interactions totales",
    ),
    _measure(
        "video_views", "Video views as the platform counts them.",
        "video views", "2-second video views", "views", "video plays", "thruplays", "3-second video plays",
        "просмотры видео", "просмотры",
        "videoaufrufe", "visualizações do vídeo", "visualizaciones de video", "vues de la vidéo",
    ),
    _measure(
        "followers", "Audience size at the row's date (a stock).",
        "followers", "followers total", "total followers", "subscribers", "fans",
        "подписчики", "всего подписчиков",
        "follower", "abonnenten", "seguidores", "abonnés",
        aggregation="stock", label="Followers (latest)",
    ),
    _measure(
        "new_followers", "New followers in the period (a flow).",
        "new followers", "follows", "followers gained", "new subscribers", "page likes",
        "новые подписчики", "подписки",
        "neue follower", "novos seguidores", "nuevos seguidores", "nouveaux abonnés",
    ),
    _measure(
        "unfollows", "Unfollows in the period (a flow).",
        "unfollows", "lost followers", "unsubscribes",
        "отписки", "entfolgt", "deixaram de seguir", "dejaron de seguir", "désabonnements",
        direction="lower",
    ),
    _measure(
        "spend", "Cost in `currency`.",
        "spend", "cost", "amount spent", "total spent", "spent", "ad spend", "adspend", "budget spent",
        "acquisition cost", "media cost",
        "расход", "расходы", "потраченная сумма", "затраты", "стоимость",
        "kosten", "ausgaben", "ausgegebener betrag",
        "custo", "valor gasto", "gasto",
        "costo", "coste", "importe gastado",
        "coût", "dépenses", "montant dépensé",
        format="currency", direction="neutral",
    ),
    _measure(
        "leads", "Leads / sign-ups.",
        "leads", "lead", "sign-ups", "signups", "registrations",
        "лиды", "заявки", "регистрации",
        "anmeldungen", "cadastros", "registros", "prospects",
    ),
    _measure(
        "conversions", "Purchases / results.",
        "conversions", "results", "purchases", "total conversions", "total_conversion", "conv.", "orders",
        "key events", "acquisti",
        "конверсии", "результаты", "покупки", "заказы",
        "konversionen", "ergebnisse", "käufe",
        "conversões", "resultados", "compras",
        "conversiones",
        "résultats", "achats",
        "conversion",
    ),
    _measure(
        "revenue", "Conversion value.",
        "revenue", "conv. value", "conversion value", "purchases conversion value", "sales", "income value",
        "total conversion value", "purchase value", "total revenue", "purchase revenue",
        "website purchases conversion value", "ценность конверсии покупок", "ценность конверсии покупок на сайте",
        "conversion-wert der käufe", "conversion-wert für käufe", "valeur de conversion des achats",
        "valor de conversión de compras", "valor de conversión de las compras", "valor de conversão de compras",
        "valor de conversão das compras", "valor de conversão da compra", "valore di conversione degli acquisti",
        "valore di conversione acquisti",
        "выручка", "доход", "ценность конверсий",
        "umsatz", "conversion-wert", "conversionwert",
        "receita", "valor de conversão",
        "ingresos", "valor de conversión",
        "chiffre d'affaires", "valeur de conversion", "revenu",
        format="currency",
    ),
    _measure(
        "messages", "Inbound messages.",
        "messages", "inbound messages", "messages received", "conversations",
        "сообщения", "входящие сообщения", "nachrichten", "mensagens", "mensajes",
    ),
    _measure(
        "messages_answered", "Inbound messages answered.",
        "messages answered", "answered messages", "replied messages", "responses",
        "отвечено", "отвеченные сообщения", "beantwortet", "respondidas", "respondidos", "répondus",
    ),
    _measure(
        "response_minutes", "Total minutes to first answer over the answered messages.",
        "response minutes", "response time (min)", "total response minutes", "minutes to first response",
        "время ответа", "время ответа (мин)", "antwortzeit", "tempo de resposta", "tiempo de respuesta",
        "temps de réponse",
        format="minutes", direction="lower",
    ),
)

SOURCE_FILE = Column("source_file", pl.String, "meta", "Name of the uploaded file the row came from.")

COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
DIMENSIONS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "dimension")
MEASURES: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind == "measure")
ADDITIVE_MEASURES: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.aggregation == "sum")
# The full canonical schema, in display order, including the provenance column.
CANONICAL_SCHEMA: dict[str, pl.DataType] = {c.name: c.dtype for c in COLUMNS} | {SOURCE_FILE.name: SOURCE_FILE.dtype}


def normalize_header(text: str) -> str:
    """Compare headers case-, accent-of-case- and spacing-insensitively.

    Lower-cases, folds `_`/`-`/repeated spaces into one space and strips; keeps
    letters of every script (Cyrillic aliases must still match).
    """
    text = unicodedata.normalize("NFC", str(text)).replace("\ufeff", "").strip().lower()
    text = text.replace("ё", "е")
    text = re.sub(r"[_\s]+", " ", text)
    return text.strip()


def conform(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Return `frame` with exactly the canonical columns, in order, with their dtypes.

    Missing columns are added as nulls; extra columns are dropped. Used at the
    boundary only (readers, demo generator, snapshot restore).
    """
    present = set(frame.collect_schema().names())
    exprs = []
    for name, dtype in CANONICAL_SCHEMA.items():
        if name in present:
            exprs.append(pl.col(name).cast(dtype, strict=False))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(exprs)


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=CANONICAL_SCHEMA)


# --- Platform vocabulary (SPEC §3) -------------------------------------------------

PLATFORMS: tuple[str, ...] = (
    "facebook", "instagram", "messenger", "linkedin", "tiktok", "youtube", "x", "threads", "vk", "telegram",
    "pinterest", "snapchat", "google_ads", "bing_ads", "email", "seo", "affiliate", "other",
)

# Synonyms after normalisation (lower case, suffixes such as "ads" removed).
PLATFORM_SYNONYMS: dict[str, str] = {
    "fb": "facebook", "facebook": "facebook", "фейсбук": "facebook",
    "ig": "instagram", "insta": "instagram", "instagram": "instagram", "инстаграм": "instagram",
    "messenger": "messenger", "facebook messenger": "messenger",
    "linkedin": "linkedin", "linked in": "linkedin", "линкедин": "linkedin",
    "tiktok": "tiktok", "tik tok": "tiktok", "тикток": "tiktok",
    "youtube": "youtube", "yt": "youtube", "ютуб": "youtube",
    "x": "x", "twitter": "x", "x (twitter)": "x", "x twitter": "x", "твиттер": "x",
    "threads": "threads",
    "vk": "vk", "vkontakte": "vk", "вконтакте": "vk", "вк": "vk", "vk.com": "vk",
    "telegram": "telegram", "tg": "telegram", "телеграм": "telegram",
    "pinterest": "pinterest", "snapchat": "snapchat",
    "google ads": "google_ads", "google search": "google_ads", "adwords": "google_ads",
    "google adwords": "google_ads", "google display": "google_ads", "google_ads": "google_ads",
    "bing": "bing_ads", "microsoft advertising": "bing_ads", "bing_ads": "bing_ads",
    "email": "email", "e-mail": "email", "newsletter": "email", "mail": "email", "email marketing": "email",
    "seo": "seo", "organic search": "seo",
    "affiliate": "affiliate", "affiliates": "affiliate", "affiliate marketing": "affiliate",
    "other": "other",
}
# Readings that are likely but not certain (PPC may be Microsoft Ads, Referral may be any link, Meta
# may be Instagram): used, and listed in the load report as guesses for the user to check.
PLATFORM_GUESSES: dict[str, str] = {
    "ppc": "google_ads", "sem": "google_ads", "search": "google_ads", "paid search": "google_ads",
    "google": "google_ads", "microsoft": "bing_ads", "referral": "affiliate", "meta": "facebook",
}

# Words that decorate a platform name without changing it ("Facebook Ads", "TikTok Ads Manager").
_PLATFORM_SUFFIXES = re.compile(
    r"\s*(\bads manager\b|\bads\b|\badvertising\b|\bmarketing\b|\bcampaigns?\b|\borganic\b|\bpaid\b|\bреклама\b)\s*$"
)


PlatformReading = Literal["exact", "guess", "unknown"]


def platform_reading(value: str | None) -> tuple[str | None, PlatformReading]:
    """The SPEC §3 slug of a free-text platform/channel name, and how sure that reading is.

    "exact": a known spelling (Facebook Ads → facebook); "guess": likely but not certain
    (`PLATFORM_GUESSES`: PPC → google_ads); "unknown": not in the vocabulary, kept as its own slug.
    """
    if value is None:
        return None, "exact"
    text = normalize_header(value)
    if not text:
        return None, "exact"
    candidates = [text]
    stripped = text
    for _ in range(3):  # "Google Ads Campaigns" needs two passes
        new = _PLATFORM_SUFFIXES.sub("", stripped).strip()
        if new == stripped:
            break
        stripped = new
        candidates.append(stripped)
    slug = re.sub(r"[^\w]+", "_", stripped or text).strip("_")
    candidates.append(slug)
    for candidate in candidates:
        if candidate in PLATFORM_SYNONYMS:
            return PLATFORM_SYNONYMS[candidate], "exact"
        if candidate in PLATFORM_GUESSES:
            return PLATFORM_GUESSES[candidate], "guess"
    return slug or None, "exact" if slug in PLATFORMS else "unknown"


def normalize_platform(value: str | None) -> str | None:
    """Map a free-text platform/channel name to the SPEC §3 slug.

    Case-, space- and suffix-insensitive. An unknown value becomes its own slug
    (lower case, non-alphanumerics folded to `_`), never `other` and never dropped.
    """
    return platform_reading(value)[0]


# One colour per platform, used by every chart so a platform looks the same everywhere. Colour-blind safe
# rather than brand colours (Facebook and LinkedIn are both blue, YouTube and Instagram both red): the
# eight most common platforms take the Okabe–Ito palette (wine for email instead of its pale yellow), the
# rest Paul Tol's muted palette. tests/unit/test_palette.py keeps the common ones far apart (CIELAB
# distance) for normal vision and simulated protanopia, deuteranopia and tritanopia.
PLATFORM_COLORS: dict[str, str] = {
    "facebook": "#0072B2", "instagram": "#CC79A7", "tiktok": "#222222", "linkedin": "#009E73",
    "google_ads": "#E69F00", "x": "#56B4E9", "youtube": "#D55E00", "email": "#882255",
    "messenger": "#AA4499", "threads": "#777777", "vk": "#332288", "telegram": "#88CCEE", "pinterest": "#CC6677",
    "snapchat": "#DDCC77", "bing_ads": "#117733", "seo": "#44AA99", "affiliate": "#999933", "other": "#BBBBBB",
}
_FALLBACK_COLORS = ("#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#AAAA00")


def platform_color(slug: str) -> str:
    """Stable colour for any slug, including unknown ones (hash-free so it is stable across runs)."""
    if slug in PLATFORM_COLORS:
        return PLATFORM_COLORS[slug]
    return _FALLBACK_COLORS[sum(map(ord, slug)) % len(_FALLBACK_COLORS)]
