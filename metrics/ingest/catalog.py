"""The export families we recognise (SPEC §7), declared once.

A family is recognised by its headers, in any column order (`markers`; a few shared words
count a quarter, see `families.WEAK_MARKERS`), helped by the file name its exports carry.
Its `headers` table says what a header means in that family and wins over the schema
aliases; `None` means "known, deliberately not used". All headers are written normalised
(`schema.normalize_header`: lower case, single spaces, without a currency suffix).

Organic and analytics exports keep their content item (a post, video, page or search query)
in `ad`, the finest canonical dimension. Header spellings come from public parsers of these
exports (for example tweet_activity_metrics_*_pt.csv readers and YouTube Studio loaders);
localised spellings that could not be checked are exact-match aliases only, so a wrong guess
maps nothing rather than the wrong column.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Family:
    """An export family: how to recognise it and the headers that mean something specific in it."""

    slug: str
    platform: str | None
    label: str
    # Normalised headers (currency suffix removed) that only this family writes.
    markers: frozenset[str]
    # Family-specific header → canonical, in priority order (earlier wins within a canonical).
    headers: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)
    # Preferred reading of ambiguous dates like 03/04/2024.
    month_first_dates: bool = False
    # Headers holding a net change (gained − lost): read into new_followers, negative values allowed.
    net_headers: frozenset[str] = frozenset()
    # Headers the platform computes from others (average position, ...): listed as ignored ratios.
    derived: frozenset[str] = frozenset()
    # A regular expression on the lower-case file name of this family's downloads (one extra marker).
    file_names: str | None = None
    # A regular expression: any header matching it counts as one more marker (e.g. naming a tweet).
    marker_pattern: str | None = None


# ---------------------------------------------------------------- paid platforms

META = Family(
    "meta_ads", "facebook", "Meta Ads Manager",
    frozenset({
        "amount spent", "reporting starts", "reporting ends", "ad set name", "cost per result", "result type",
        "result indicator", "clicks (all)", "purchases conversion value", "delivery status", "attribution setting",
        "потраченная сумма", "дата начала отчетности", "начало отчетного периода", "название группы объявлений",
        "цена за результаты", "тип результата", "ausgegebener betrag", "berichtsbeginn", "name der anzeigengruppe",
        "ergebnistyp", "montant dépensé", "début des rapports", "nom de l'ensemble de publicités",
        "type de résultat", "valor usado", "importe gastado", "inicio del informe", "início dos relatórios",
        "tipo de resultado",
        # Portuguese (Brazil), Spanish and Italian Ads Manager exports.
        "valor gasto", "nome do conjunto de anúncios", "custo por resultado", "nombre del conjunto de anuncios",
        "costo por resultado", "importo speso", "inizio report", "nome del gruppo di inserzioni",
        "coût par résultat", "kosten pro ergebnis", "tipo di risultato",
    }),
    headers=(
        ("day", "date"), ("день", "date"), ("tag", "date"), ("jour", "date"), ("día", "date"), ("dia", "date"),
        ("reporting starts", "date"), ("дата начала отчетности", "date"), ("начало отчетного периода", "date"),
        ("berichtsbeginn", "date"), ("début des rapports", "date"), ("inicio del informe", "date"),
        ("início dos relatórios", "date"),
        ("ad name", "ad"), ("ad set name", "ad_group"),
        ("results", "conversions"), ("результаты", "conversions"), ("ergebnisse", "conversions"),
        ("résultats", "conversions"), ("resultados", "conversions"),
        ("purchases", "conversions"), ("website purchases", "conversions"),
        ("purchases conversion value", "revenue"),
        ("clicks (all)", "clicks"), ("link clicks", "link_clicks"),
        ("amount spent", "spend"), ("valor usado", "spend"), ("valor gasto", "spend"), ("importo speso", "spend"),
        ("risultati", "conversions"), ("inizio report", "date"), ("giorno", "date"),
        ("nome della campagna", "campaign"), ("impression", "impressions"), ("copertura", "reach"),
        ("clic sul link", "link_clicks"), ("acquisti", "conversions"), ("clientes potenciales", "leads"),
        ("contatti", "leads"),
        ("gender", "audience"), ("age", "audience"),
    ),
)
GOOGLE_ADS = Family(
    "google_ads", "google_ads", "Google Ads",
    frozenset({
        "impr.", "conv. value", "cost / conv.", "currency code", "avg. cpc", "conv. rate", "all conv.",
        "search impr. share", "interaction rate", "campaign state", "campaign type", "budget name",
        "view-through conv.", "conv. value / cost", "search term", "match type", "keyword status",
        "added/excluded", "ad group state", "ad state", "final url", "location type",
    }),
    headers=(
        ("day", "date"), ("week", "date"), ("campaign", "campaign"), ("ad group", "ad_group"),
        ("impr.", "impressions"),
        ("clicks", "clicks"), ("cost", "spend"), ("conversions", "conversions"), ("conv. value", "revenue"),
        ("currency code", "currency"), ("campaign type", None), ("interactions", None),
    ),
    month_first_dates=True,
)
LINKEDIN = Family(
    "linkedin_ads", "linkedin", "LinkedIn Campaign Manager",
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
    "tiktok_ads", "tiktok", "TikTok Ads Manager",
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
    "x_ads", "x", "X Ads",
    frozenset({"retweets", "replies", "billed charge", "media engagements", "app clicks", "follows", "time",
               "engagements", "funding instrument name", "reposts"}),
    headers=(
        ("time", "date"), ("campaign", "campaign"), ("campaign name", "campaign"), ("spend", "spend"),
        ("impressions", "impressions"), ("engagements", "engagements"), ("retweets", "shares"),
        ("replies", "comments"), ("likes", "likes"), ("follows", "new_followers"), ("link clicks", "link_clicks"),
        ("clicks", "clicks"), ("media engagements", None), ("billed charge", None),
    ),
    month_first_dates=True,
)

# ---------------------------------------------------------------- organic and analytics exports

# X / Twitter Analytics: per-tweet (tweet_activity_metrics_*.csv, account_analytics_content_*.csv) and daily
# (daily_tweet_activity_metrics_*.csv, account_overview_analytics_*.csv), in the account's language.
X_ANALYTICS = Family(
    "x_analytics", "x", "X (Twitter) Analytics",
    frozenset({
        "tweet id", "tweet permalink", "tweet text", "user profile clicks", "url clicks", "hashtag clicks",
        "detail expands", "permalink clicks", "app opens", "app installs", "email tweet", "dial phone",
        "media views", "media engagements", "tweets published", "post id", "post text", "post link",
        "profile visits", "new follows", "create post", "bookmarks",
        # Portuguese
        "id do tweet", "link permanente do tweet", "texto do tweet", "cliques no url", "cliques em hashtags",
        "expansões de detalhes", "cliques no link permanente", "aberturas de aplicativos",
        "instalações de aplicativo", "tweet enviado por e-mail", "número de telefone discado",
        "visualizações da mídia", "engajamentos com mídia", "cliques no perfil do usuário", "tweets publicados",
        "texto do post", "postar link", "itens salvos", "deixar de seguir", "engajamentos",
        # Spanish, French, German, Russian, Italian
        "id del tweet", "enlace permanente del tweet", "texto del tweet", "clics en url",
        "identifiant du tweet", "permalien du tweet", "texte du tweet", "tweet-id", "tweet-permalink",
        "tweet-text", "id твита", "постоянная ссылка на твит", "текст твита", "testo del tweet",
        "permalink del tweet",
    }),
    headers=(
        ("time", "date"), ("date", "date"), ("horário", "date"), ("data", "date"), ("hora", "date"),
        ("heure", "date"), ("zeit", "date"), ("uhrzeit", "date"), ("время", "date"), ("ora", "date"),
        ("datum", "date"), ("fecha", "date"), ("дата", "date"),
        ("tweet text", "ad"), ("post text", "ad"), ("texto do tweet", "ad"), ("texto do post", "ad"),
        ("texto del tweet", "ad"), ("texte du tweet", "ad"), ("tweet-text", "ad"), ("текст твита", "ad"),
        ("testo del tweet", "ad"),
        ("impressions", "impressions"), ("impressões", "impressions"), ("impresiones", "impressions"),
        ("impressionen", "impressions"), ("показы", "impressions"), ("impressioni", "impressions"),
        ("engagements", "engagements"), ("engajamentos", "engagements"), ("interações", "engagements"),
        ("interacciones", "engagements"), ("interaktionen", "engagements"), ("взаимодействия", "engagements"),
        ("interazioni", "engagements"),
        ("retweets", "shares"), ("reposts", "shares"), ("ретвиты", "shares"), ("compartilhamentos", "shares"),
        ("shares", "shares"),
        ("replies", "comments"), ("respostas", "comments"), ("respuestas", "comments"), ("réponses", "comments"),
        ("antworten", "comments"), ("ответы", "comments"), ("risposte", "comments"),
        ("likes", "likes"), ("curtidas", "likes"), ("favoritos", "likes"), ("me gusta", "likes"),
        ("j'aime", "likes"), ("gefällt mir", "likes"), ("mi piace", "likes"), ("отметки «нравится»", "likes"),
        ("url clicks", "link_clicks"), ("cliques no url", "link_clicks"), ("clics en url", "link_clicks"),
        ("clics sur l'url", "link_clicks"), ("url-klicks", "link_clicks"), ("klicks auf url", "link_clicks"),
        ("клики по url", "link_clicks"), ("clic sull'url", "link_clicks"),
        ("follows", "new_followers"), ("new follows", "new_followers"), ("seguiram", "new_followers"),
        ("novos seguidores", "new_followers"), ("seguimientos", "new_followers"), ("abonnements", "new_followers"),
        ("unfollows", "unfollows"), ("deixar de seguir", "unfollows"),
        ("bookmarks", "saves"), ("itens salvos", "saves"),
        ("video views", "video_views"),
        ("tweet id", None), ("post id", None), ("id do tweet", None), ("media views", None),
        ("media engagements", None), ("user profile clicks", None), ("profile visits", None),
        ("tweets published", None), ("tweets publicados", None), ("create post", None),
    ),
    file_names=r"tweet_activity_metrics|account_overview_analytics|account_analytics_content",
    marker_pattern=r"\btweets?\b|твит",
)

# YouTube Studio: Table data.csv (one row per video or per traffic source, country, ...; a leading Total row),
# Chart data.csv and Totals.csv (one row per day). "Subscribers" there is the net change in the period.
YOUTUBE_STUDIO = Family(
    "youtube_studio", "youtube", "YouTube Studio",
    frozenset({
        "video title", "video publish time", "watch time (hours)", "impressions click-through rate (%)",
        "average view duration", "average percentage viewed (%)", "subscribers gained", "subscribers lost",
        "comments added", "estimated revenue", "your estimated revenue", "returning viewers", "unique viewers",
        "thumbnail impressions", "thumbnail click-through rate (%)", "traffic source", "viewer age",
        "viewer gender", "subscription status", "views (%)", "watch time (hours) (%)",
        "название видео", "время публикации видео", "время просмотра (часы)", "videotitel",
        "wiedergabezeit (stunden)", "titre de la vidéo", "durée de visionnage (heures)", "título del video",
        "tiempo de visualización (horas)", "título do vídeo", "tempo de exibição (horas)", "titolo del video",
        "tempo di visualizzazione (ore)",
    }),
    headers=(
        ("date", "date"), ("дата", "date"), ("datum", "date"), ("fecha", "date"), ("data", "date"),
        ("video title", "ad"), ("название видео", "ad"), ("videotitel", "ad"), ("titre de la vidéo", "ad"),
        ("título del video", "ad"), ("título do vídeo", "ad"), ("titolo del video", "ad"),
        ("views", "video_views"), ("просмотры", "video_views"), ("aufrufe", "video_views"),
        ("vues", "video_views"), ("visualizaciones", "video_views"), ("visualizações", "video_views"),
        ("visualizzazioni", "video_views"),
        ("impressions", "impressions"), ("thumbnail impressions", "impressions"), ("показы", "impressions"),
        ("impressionen", "impressions"), ("impresiones", "impressions"), ("impressões", "impressions"),
        ("impressioni", "impressions"),
        ("subscribers gained", "new_followers"), ("subscribers lost", "unfollows"),
        ("subscribers", "new_followers"), ("подписчики", "new_followers"), ("abonnenten", "new_followers"),
        ("abonnés", "new_followers"), ("suscriptores", "new_followers"), ("inscritos", "new_followers"),
        ("iscritti", "new_followers"),
        ("likes", "likes"), ("comments added", "comments"), ("comments", "comments"), ("shares", "shares"),
        ("estimated revenue", "revenue"), ("your estimated revenue", "revenue"),
        ("geography", "audience"), ("viewer age", "audience"), ("viewer gender", "audience"),
        ("device type", "audience"),
        ("content", None), ("video publish time", None), ("duration", None), ("watch time (hours)", None),
        ("dislikes", None), ("unique viewers", None), ("new viewers", None), ("returning viewers", None),
    ),
    net_headers=frozenset({"subscribers", "подписчики", "abonnenten", "abonnés", "suscriptores", "inscritos",
                           "iscritti"}),
    file_names=r"^(table data|chart data|totals)( ?\(\d+\))?\.csv$",
)

# Google Search Console → Performance → Export: Queries, Pages, Countries, Devices, Dates (one file each).
SEARCH_CONSOLE = Family(
    "search_console", "seo", "Google Search Console",
    frozenset({
        "top queries", "top pages", "position", "search appearance",
        "principais consultas", "páginas principais", "posição", "consultas principales", "páginas principales",
        "posición", "requêtes les plus fréquentes", "pages les plus populaires", "häufigste suchanfragen",
        "top-seiten", "позиция", "query principali", "pagine principali", "posizione",
    }),
    headers=(
        ("date", "date"), ("datum", "date"), ("fecha", "date"), ("data", "date"), ("дата", "date"),
        ("top queries", "ad"), ("query", "ad"), ("queries", "ad"), ("top pages", "ad"), ("page", "ad"),
        ("pages", "ad"), ("principais consultas", "ad"), ("páginas principais", "ad"),
        ("consultas principales", "ad"), ("páginas principales", "ad"), ("requêtes les plus fréquentes", "ad"),
        ("pages les plus populaires", "ad"), ("häufigste suchanfragen", "ad"), ("top-seiten", "ad"),
        ("query principali", "ad"), ("pagine principali", "ad"),
        ("country", "audience"), ("device", "audience"), ("land", "audience"), ("pays", "audience"),
        ("país", "audience"), ("страна", "audience"), ("paese", "audience"), ("gerät", "audience"),
        ("appareil", "audience"), ("dispositivo", "audience"), ("устройство", "audience"),
        ("clicks", "clicks"), ("klicks", "clicks"), ("clics", "clicks"), ("cliques", "clicks"),
        ("клики", "clicks"), ("clic", "clicks"),
        ("impressions", "impressions"), ("impressionen", "impressions"), ("impresiones", "impressions"),
        ("impressões", "impressions"), ("показы", "impressions"), ("impressioni", "impressions"),
    ),
    derived=frozenset({"position", "posição", "posición", "позиция", "posizione"}),
)

# Meta Business Suite → Insights → Content export, Facebook Page posts (and the older Page Insights export).
FACEBOOK_INSIGHTS = Family(
    "facebook_insights", "facebook", "Facebook Page insights",
    frozenset({
        "page id", "page name", "reactions, comments and shares", "is crosspost", "is share", "caption type",
        "funded content status", "data comment", "total clicks", "other clicks", "seconds viewed",
        "average seconds viewed", "1-minute video views", "lifetime total likes", "daily new likes",
        "daily unlikes", "daily page engaged users", "daily total reach", "daily total impressions",
        "lifetime post total reach", "lifetime post total impressions", "publication time",
    }),
    headers=(
        ("publish time", "date"), ("publication time", "date"), ("date", "date"),
        ("description", "ad"), ("title", "ad"),
        ("impressions", "impressions"), ("views", "impressions"), ("daily total impressions", "impressions"),
        ("lifetime post total impressions", "impressions"),
        ("reach", "reach"), ("daily total reach", "reach"), ("lifetime post total reach", "reach"),
        ("reactions, comments and shares", "engagements"), ("reactions", "likes"), ("comments", "comments"),
        ("shares", "shares"), ("total clicks", "clicks"), ("link clicks", "link_clicks"),
        ("3-second video views", "video_views"),
        ("lifetime total likes", "followers"), ("daily new likes", "new_followers"), ("daily unlikes", "unfollows"),
        ("post type", "content_format"),
        ("post id", None), ("page id", None), ("page name", None), ("permalink", None), ("other clicks", None),
        ("duration (sec)", None), ("seconds viewed", None),
    ),
    month_first_dates=True,
)

# Meta Business Suite → Insights → Content export, Instagram posts, reels and stories.
INSTAGRAM_INSIGHTS = Family(
    "instagram_insights", "instagram", "Instagram insights",
    frozenset({"account username", "account id", "plays", "profile visits", "sticker taps", "navigation",
               "profile activity", "accounts reached"}),
    headers=(
        ("publish time", "date"), ("date", "date"), ("description", "ad"),
        ("impressions", "impressions"), ("views", "impressions"), ("reach", "reach"),
        ("accounts reached", "reach"), ("likes", "likes"), ("comments", "comments"), ("shares", "shares"),
        ("saves", "saves"), ("follows", "new_followers"), ("plays", "video_views"), ("post type", "content_format"),
        ("post id", None), ("account id", None), ("account username", None), ("account name", None),
        ("permalink", None), ("profile visits", None), ("duration (sec)", None),
    ),
    month_first_dates=True,
)

# TikTok Studio / analytics downloads: Overview.csv (daily), Content.csv (per video), FollowerHistory.csv.
TIKTOK_ANALYTICS = Family(
    "tiktok_analytics", "tiktok", "TikTok analytics",
    frozenset({
        "profile views", "total views", "total likes", "total comments", "total shares", "video link",
        "post time", "difference in followers from previous day", "net followers", "total viewers",
        "visualizaciones totales", "me gusta totales", "comentarios totales", "veces compartido",
        "enlace del video", "hora de publicación",
    }),
    headers=(
        ("date", "date"), ("post time", "date"), ("hora de publicación", "date"),
        ("video title", "ad"), ("título del video", "ad"),
        ("video views", "video_views"), ("total views", "video_views"), ("visualizaciones totales", "video_views"),
        ("likes", "likes"), ("total likes", "likes"), ("me gusta totales", "likes"),
        ("comments", "comments"), ("total comments", "comments"), ("comentarios totales", "comments"),
        ("shares", "shares"), ("total shares", "shares"), ("veces compartido", "shares"),
        ("followers", "followers"),
        ("net followers", "new_followers"), ("difference in followers from previous day", "new_followers"),
        ("profile views", None), ("video link", None), ("enlace del video", None), ("total viewers", None),
    ),
    net_headers=frozenset({"net followers", "difference in followers from previous day"}),
    month_first_dates=True,
)

# LinkedIn page analytics (company page → Analytics → Export): content metrics and followers per day.
# "(organic)" / "(sponsored)" columns are parts of "(total)" and never added (see families.split_qualifier).
LINKEDIN_PAGE = Family(
    "linkedin_page", "linkedin", "LinkedIn page analytics",
    frozenset({
        "impressions (organic)", "impressions (sponsored)", "impressions (total)", "unique impressions (organic)",
        "clicks (organic)", "clicks (total)", "reactions (total)", "engagement rate (total)", "organic followers",
        "sponsored followers", "auto-invited followers", "total page views (total)",
        "total unique visitors (total)", "post title", "post link", "posted by", "created date",
        "views (excluding off-site video views)", "off-site views",
    }),
    headers=(
        ("date", "date"), ("created date", "date"), ("post title", "ad"),
        ("impressions (total)", "impressions"), ("impressions", "impressions"),
        ("clicks (total)", "clicks"), ("clicks", "clicks"),
        ("reactions (total)", "likes"), ("likes", "likes"), ("comments (total)", "comments"),
        ("comments", "comments"), ("reposts (total)", "shares"), ("shares (total)", "shares"),
        ("reposts", "shares"), ("follows", "new_followers"), ("total followers", "new_followers"),
        ("content type", "content_format"), ("post type", "content_format"),
        ("post link", None), ("posted by", None), ("organic followers", None), ("sponsored followers", None),
        ("auto-invited followers", None), ("unique impressions (organic)", None),
    ),
    month_first_dates=True,
)

# VK community statistics (Статистика сообщества → Экспорт).
VK_STATS = Family(
    "vk_stats", "vk", "VK community statistics",
    frozenset({"полный охват", "охват подписчиков", "подписавшиеся", "отписавшиеся", "вступившие", "вышедшие",
               "subscriber reach"}),
    headers=(
        ("день", "date"), ("дата", "date"), ("date", "date"), ("day", "date"),
        ("полный охват", "reach"), ("охват", "reach"), ("total reach", "reach"), ("reach", "reach"),
        ("просмотры", "impressions"), ("views", "impressions"),
        ("подписавшиеся", "new_followers"), ("подписались", "new_followers"), ("вступившие", "new_followers"),
        ("subscribed", "new_followers"), ("new members", "new_followers"),
        ("отписавшиеся", "unfollows"), ("отписались", "unfollows"), ("вышедшие", "unfollows"),
        ("unsubscribed", "unfollows"), ("left", "unfollows"),
        ("мне нравится", "likes"), ("лайки", "likes"), ("likes", "likes"), ("комментарии", "comments"),
        ("comments", "comments"), ("репосты", "shares"), ("поделились", "shares"), ("shares", "shares"),
        ("подписчики", "followers"), ("участники", "followers"), ("members", "followers"),
        ("охват подписчиков", None), ("subscriber reach", None), ("посетители", None), ("unique visitors", None),
    ),
    file_names=r"\bvk\b|vkontakte|вконтакте|\bвк\b",
)

# Telegram channel statistics (Telegram's own graphs exported to a table, TGStat downloads).
TELEGRAM_STATS = Family(
    "telegram_stats", "telegram", "Telegram channel statistics",
    frozenset({"muted", "unmuted", "views per post", "shares per post", "просмотры на пост",
               "репосты на пост", "индекс цитирования", "прирост подписчиков", "subscriber growth"}),
    headers=(
        ("date", "date"), ("дата", "date"),
        ("joined", "new_followers"), ("подписались", "new_followers"), ("left", "unfollows"),
        ("отписались", "unfollows"), ("прирост подписчиков", "new_followers"), ("subscriber growth", "new_followers"),
        ("subscribers", "followers"), ("followers", "followers"), ("подписчики", "followers"),
        ("views", "impressions"), ("просмотры", "impressions"), ("shares", "shares"), ("репосты", "shares"),
        ("reactions", "likes"), ("реакции", "likes"),
        ("muted", None), ("unmuted", None), ("views per post", None), ("shares per post", None),
        ("просмотры на пост", None), ("репосты на пост", None),
    ),
    net_headers=frozenset({"прирост подписчиков", "subscriber growth"}),
    file_names=r"telegram|tgstat|телеграм",
)

GENERIC = Family("generic", None, "Generic sheet", frozenset())
# A generic sheet whose columns say they come from Facebook (e.g. Kaggle's `fb_campaign_id`).
GENERIC_FACEBOOK = Family("generic", "facebook", "Generic sheet", frozenset())

FAMILIES: tuple[Family, ...] = (
    META, GOOGLE_ADS, LINKEDIN, TIKTOK, X_ADS, X_ANALYTICS, YOUTUBE_STUDIO, SEARCH_CONSOLE, FACEBOOK_INSIGHTS,
    INSTAGRAM_INSIGHTS, TIKTOK_ANALYTICS, LINKEDIN_PAGE, VK_STATS, TELEGRAM_STATS,
)


def family_label(slug: str) -> str:
    """The display name of a family slug (the slug itself when unknown)."""
    return next((f.label for f in (*FAMILIES, GENERIC) if f.slug == slug), slug)
