"""Write the tiny ingestion fixtures in this folder (run: python tests/data/make_fixtures.py).

Each file imitates one real export family or one quirk; its expected totals are computed by hand
and written in tests/unit/test_ingest_*.py. Encodings and separators are set byte for byte here
(UTF-16, Windows-1252, BOMs, no-break spaces), which is why they are generated, not typed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent
NBSP, NNBSP = "\u00a0", "\u202f"


def write_text(name: str, text: str, encoding: str = "utf-8", bom: bytes = b"") -> None:
    (HERE / name).write_bytes(bom + text.encode(encoding))


def google_ads_utf16_preamble_totals() -> None:
    # The "Excel .csv" download: UTF-16 LE with BOM, tab separated, title + date-range lines, totals at the end.
    rows = [
        "Campaign performance report",
        "January 1, 2024 - January 31, 2024",
        "Campaign\tDay\tCurrency code\tImpr.\tClicks\tCTR\tCost\tConversions\tCost / conv.\tConv. value",
        "Brand\t2024-01-01\tUSD\t1,234\t56\t4.54%\t1,234.56\t3.00\t411.52\t300.00",
        "Brand\t2024-01-02\tUSD\t2,000\t40\t2.00%\t100.00\t--\t--\t--",
        "Generic\t2024-01-01\tUSD\t500\t5\t1.00%\t10.50\t1.00\t10.50\t50.00",
        "Total: Campaigns\t--\tUSD\t3,734\t101\t2.70%\t1,345.06\t4.00\t336.27\t350.00",
        "Total: Account\t--\tUSD\t3,734\t101\t2.70%\t1,345.06\t4.00\t336.27\t350.00",
    ]
    write_text("google_ads_utf16_preamble_totals.csv", "\r\n".join(rows) + "\r\n", "utf-16-le", b"\xff\xfe")


def google_ads_web_comma() -> None:
    # The plain web CSV: UTF-8, comma separated, quoted thousands, "--" for empty.
    text = (
        "Campaign report\n"
        '"Jan 1, 2024 - Jan 2, 2024"\n'
        "Campaign,Day,Impr.,Clicks,Avg. CPC,Cost,Conversions,Conv. value\n"
        'Search,2024-01-01,"10,000",200,0.50,100.00,5.00,"1,000.00"\n'
        "Search,2024-01-02,5000,100,0.50,50.00,--,--\n"
        'Total: Account,--,"15,000",300,0.50,150.00,5.00,"1,000.00"\n'
    )
    write_text("google_ads_web_comma.csv", text)


def meta_ru_decimal_comma() -> None:
    text = (
        "Название кампании;День;Возраст;Пол;Показы;Охват;Клики (все);Клики по ссылке;Результаты;"
        "Цена за результаты;Потраченная сумма (RUB)\n"
        f"Весна;01.03.2024;25-34;female;1{NBSP}000;800;50;20;5;12,34;61,70\n"
        f"Весна;02.03.2024;25-34;female;2{NBSP}000;1{NBSP}500;80;30;4;25,00;100,00\n"
        "Лето;01.03.2024;35-44;male;500;450;10;5;;;15,5\n"
    )
    write_text("meta_ru_decimal_comma.csv", text, bom=b"\xef\xbb\xbf")


def meta_de_semicolon() -> None:
    text = (
        "Kampagnenname;Tag;Ausgegebener Betrag (EUR);Impressionen;Reichweite;Ergebnisse;Kosten pro Ergebnis\n"
        "Sommer;2024-06-01;1.234,56;10.000;8.000;12;102,88\n"
        "Sommer;2024-06-02;765,44;5.000;4.000;8;95,68\n"
        "Gesamt;;2.000,00;15.000;12.000;20;100,00\n"
    )
    write_text("meta_de_semicolon.csv", text)


def meta_fr() -> None:
    text = (
        "Nom de la campagne,Jour,Montant dépensé (EUR),Impressions,Couverture,Clics (tous),Résultats,"
        "Coût par résultat\n"
        f'Rentrée,2024-09-01,"1{NNBSP}234,50",12{NNBSP}000,9000,300,10,"123,45"\n'
        f'Rentrée,2024-09-02,"765,50",8{NNBSP}000,6000,200,5,"153,10"\n'
    )
    write_text("meta_fr.csv", text)


def meta_title_case_duplicate_headers() -> None:
    # Older title-case export, no Day column (Reporting Starts is the date), "Results" twice.
    text = (
        '"Campaign Name","Ad Set Name","Age","Gender","Reporting Starts","Reporting Ends","Amount Spent (USD)",'
        '"Impressions","Reach","Link Clicks","Results","Cost per Result","Results"\r\n'
        "Camp A,Set 1,25-34,female,2024-05-01,2024-05-31,100.50,10000,8000,150,10,10.05,99\r\n"
        "Camp A,Set 1,35-44,male,2024-05-01,2024-05-31,49.50,5000,4000,50,5,9.90,99\r\n"
        "Camp B,Set 2,18-24,female,2024-05-01,2024-05-31,50.00,4000,3500,40,,,\r\n"
    )
    write_text("meta_title_case_duplicate_headers.csv", text, bom=b"\xef\xbb\xbf")


def linkedin_title_lines() -> None:
    text = (
        "Campaign Performance Report (in UTC)\n"
        '"Report Start: Jan 1, 2024, 12:00 AM"\n'
        '"Report End: Jan 31, 2024, 11:59 PM"\n'
        "Date Generated: Feb 1, 2024\n"
        "\n"
        "Start Date (in UTC),Campaign Name,Campaign Group Name,Total Spent,Impressions,Clicks,Reactions,Comments,"
        "Shares,Follows,Total Engagements,Leads,Conversions,Average CPC\n"
        "1/15/2024,B2B Leads,Group 1,150.25,10000,120,30,5,3,2,160,4,2,1.25\n"
        '1/16/2024,B2B Leads,Group 1,"1,049.75",20000,180,20,5,2,3,210,6,3,5.83\n'
    )
    write_text("linkedin_title_lines.csv", text)


def tiktok_header_row3() -> None:
    import xlsxwriter

    path = HERE / "tiktok_header_row3.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Report")
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write(0, 0, "TikTok Ads Manager - Campaign report")
    sheet.write(1, 0, "Date range: 2024-02-01 ~ 2024-02-03")
    header = ["By Day", "Campaign name", "Cost", "Impressions", "Clicks (destination)", "Clicks (all)",
              "Conversions", "2-second video views", "CTR (destination)", "Currency"]
    sheet.write_row(2, 0, header)
    data = [
        (dt.datetime(2024, 2, 1), "Launch", 10.5, 1000, 20, 30, "<5", 400, "2.00%", "USD"),
        (dt.datetime(2024, 2, 2), "Launch", 20.25, 2000, 40, 55, 6, "<5", "2.00%", "USD"),
        (dt.datetime(2024, 2, 3), "Retarget", 5.25, 500, "<5", 12, 2, 100, "0.00%", "USD"),
    ]
    for r, row in enumerate(data, start=3):
        sheet.write_datetime(r, 0, row[0], day)
        sheet.write_row(r, 1, row[1:])
    sheet.write_row(6, 0, ["Total", "", 36.0, 3500, 60, 97, 8, 500, "1.71%", "USD"])
    workbook.close()


def x_ads_total_row() -> None:
    text = (
        "Campaign,Time,Spend,Impressions,Engagements,Retweets,Replies,Likes,Follows,Link Clicks,Engagement rate\n"
        "Launch,2024-03-01,12.00,1000,50,5,3,20,1,10,5.00%\n"
        "Launch,2024-03-02,8.00,800,30,2,1,12,0,8,3.75%\n"
        "Promo,2024-03-01,5.00,500,20,1,1,8,2,4,4.00%\n"
        "Total,,25.00,2300,100,8,5,40,3,22,4.35%\n"
    )
    write_text("x_ads_total_row.csv", text)


def generic_windows1252() -> None:
    text = (
        "Campagne;Canal;Date;Coût;Impressions;Clics;Conversions\r\n"
        "Été 2024;Facebook Ads;15/07/2024;1.234,56 €;10 000;250;12\r\n"
        "Été 2024;instagram;16/07/2024;765,44 €;5 000;150;8\r\n"
        "Noël;Google Ads;20/12/2024;100,00 €;2 000;50;1\r\n"
    )
    write_text("generic_windows1252.csv", text, "cp1252")


def generic_day_first_semicolon() -> None:
    text = (
        "date;channel;campaign;cost;impressions;clicks;leads\n"
        f"03/02/2024;Facebook Ads;Brand;1{NBSP}234,56;10000;100;5\n"
        "04/02/2024;facebook ads;Brand;65,44;5000;50;\n"
        "13/02/2024;LinkedIn;B2B;200,00;3000;30;3\n"
        "Итого;;;1 500,00;18000;180;8\n"
    )
    write_text("generic_day_first_semicolon.csv", text)


def generic_bad_rows() -> None:
    text = (
        "date,platform,campaign,spend,impressions,clicks\n"
        "2024-01-01,facebook,A,10.00,100,5\n"
        "2024-01-02,facebook,A,abc,100,5\n"
        "2024-01-03,facebook,A,-5.00,100,5\n"
        "2024-01-04,facebook,A,inf,100,5\n"
        "2024-01-05,facebook,A,1e309,100,5\n"
        "2024-13-45,facebook,A,1.00,100,5\n"
        "2024-01-07,facebook,A,2.00,100,5,extra\n"
        "2024-01-08,facebook,A,3.00,100,5\n"
        "2024-01-09,facebook,A,4.00,-1,5\n"
    )
    write_text("generic_bad_rows.csv", text)


def generic_multiline_quoted() -> None:
    text = 'campaign,notes,spend\nA,"line one\nline two",10\nB,ok,oops\nC,"x",5\n'
    write_text("generic_multiline_quoted.csv", text)


def generic_unbalanced_quote() -> None:
    text = 'campaign,spend,clicks\nA,10,1\n"B,20,2\nC,30,3\n'
    write_text("generic_unbalanced_quote.csv", text)


def generic_double_counting() -> None:
    text = (
        "date,campaign,spend,clicks\n"
        "2024-01-01,A,10,1\n"
        "2024-01-02,A,20,2\n"
        ",A,30,3\n"
        "2024-01-01,B,5,1\n"
        "2024-01-01,All,15,2\n"
    )
    write_text("generic_double_counting.csv", text)


def generic_no_measures() -> None:
    write_text("generic_no_measures.csv", "name,colour,score\nAlpha,red,3\nBeta,blue,4\n")


def generic_currency_symbols() -> None:
    text = 'campaign,cost,revenue,ctr\nA,"$1,234.56","$2,000.00",5.23%\nB,$65.44,$500.00,1.00%\n'
    write_text("generic_currency_symbols.csv", text)


def generic_parquet() -> None:
    import polars as pl

    pl.DataFrame({
        "Date": [dt.date(2024, 4, 1), dt.date(2024, 4, 2)],
        "Channel": ["YouTube Ads", "Email Marketing"],
        "Spend": [12.5, 7.5],
        "Clicks": [10, 20],
    }).write_parquet(HERE / "generic_small.parquet")


# ---------------------------------------------------------------- issue 8: real-export families and quirks


def gads_keywords_utf16_total_in_col3() -> None:
    # Google Ads keyword report, "Excel .csv" download: the Total rows carry their label in the third column
    # (Match type) with the other dimension cells empty, as the genuine keyword and search-term reports do.
    header = ("Keyword status\tKeyword\tMatch type\tCampaign\tAd group\tStatus\tCurrency code\tMax. CPC\tClicks\t"
              "Impr.\tCTR\tAvg. CPC\tCost\tConversions\tCost / conv.")
    rows = [
        "Search keyword report",
        "January 1, 2024 - January 31, 2024",
        header,
        "Enabled\trunning shoes\tPhrase match\tShoes\tRunning\tEligible\tUSD\t1.20\t120\t2,400\t5.00%\t0.95\t"
        "114.00\t6.00\t19.00",
        "Enabled\ttrail shoes\tExact match\tShoes\tTrail\tEligible\tUSD\t1.50\t45\t900\t5.00%\t1.10\t49.50\t"
        "2.00\t24.75",
        "Paused\tcheap shoes\tBroad match\tShoes\tRunning\tPaused\tUSD\t0.80\t3\t150\t2.00%\t0.70\t2.10\t0.00\t0.00",
        "Enabled\twaterproof boots\tPhrase match\tBoots\tWinter\tEligible\tUSD\t2.00\t30\t1,000\t3.00%\t1.80\t"
        "54.00\t1.50\t36.00",
        "\t\tTotal: Keywords\t\t\t\tUSD\t--\t198\t4,450\t4.45%\t1.11\t219.60\t9.50\t23.12",
        "\t\tTotal: Search\t\t\t\tUSD\t--\t198\t4,450\t4.45%\t1.11\t219.60\t9.50\t23.12",
        "\t\tTotal: Display Network\t\t\t\tUSD\t--\t0\t0\t0.00%\t0.00\t0.00\t0.00\t0.00",
        "\t\tTotal: Campaign\t\t\t\tUSD\t--\t198\t4,450\t4.45%\t1.11\t219.60\t9.50\t23.12",
        "\t\tTotal: Account\t\t\t\tUSD\t--\t198\t4,450\t4.45%\t1.11\t219.60\t9.50\t23.12",
    ]
    write_text("gads_keywords_utf16_total_in_col3.csv", "\r\n".join(rows) + "\r\n", "utf-16-le", b"\xff\xfe")


def gads_search_terms_utf8() -> None:
    # Search-terms report, plain web CSV: quoted thousands, "--" for empty, a campaign named "Total Recall"
    # (data, not a total) and "Total: …" rows in the third column.
    text = (
        "Search terms report\n"
        '"February 1, 2024 - February 29, 2024"\n'
        "Search term,Match type,Added/Excluded,Campaign,Ad group,Currency code,Impr.,Clicks,Cost,Conversions,"
        "Conv. value\n"
        'blue shoes,Phrase match,None,Shoes,Running,EUR,"1,200",40,36.00,2.00,120.00\n'
        "recall movie,Exact match,Added,Total Recall,Films,EUR,800,25,20.00,1.00,15.00\n"
        "sum 41 tickets,Broad match,None,Sum 41,Concerts,EUR,300,9,7.20,--,--\n"
        ',,Total: Search terms,,,EUR,"2,300",74,63.20,3.00,135.00\n'
        ",,Total: Account,,,EUR,\"2,300\",74,63.20,3.00,135.00\n"
    )
    write_text("gads_search_terms_utf8.csv", text)


_TWEET_HEADER_EN = (
    "Tweet id,Tweet permalink,Tweet text,time,impressions,engagements,engagement rate,retweets,replies,likes,"
    "user profile clicks,url clicks,hashtag clicks,detail expands,permalink clicks,app opens,app installs,follows,"
    "email tweet,dial phone,media views,media engagements,promoted impressions,promoted engagements,"
    "promoted engagement rate,promoted retweets,promoted replies,promoted likes,promoted url clicks"
)


def twitter_tweets_en() -> None:
    rows = [
        '1387999000000000001,https://twitter.com/acme/status/1387999000000000001,"Launch day, finally",'
        "2021-04-30 09:32 +0000,5120,132,0.02578125,12,4,60,20,18,2,10,6,0,0,1,0,0,300,12,-,-,-,-,-,-,-",
        "1387999000000000002,https://twitter.com/acme/status/1387999000000000002,Thread 2/2,"
        "2021-04-30 23:58 +0000,900,16,0.0177777778,1,0,5,3,4,0,2,1,0,0,0,0,0,0,0,-,-,-,-,-,-,-",
        "1388999000000000003,https://twitter.com/acme/status/1388999000000000003,Promoted post,"
        "2021-05-02 14:00 +0000,2000,40,0.02,3,1,10,5,12,0,6,3,0,0,0,0,0,0,0,7000,150,0.0214,9,2,30,60",
    ]
    write_text("twitter_tweets_en.csv", _TWEET_HEADER_EN + "\n" + "\n".join(rows) + "\n")


def twitter_tweets_pt() -> None:
    # Portuguese per-tweet export (tweet_activity_metrics_*_pt.csv): several headers end with a colon.
    header = (
        "id do Tweet,link permanente do Tweet,texto do Tweet,horário,impressões,engajamentos,taxa de engajamento,"
        "retweets,respostas,favoritos,cliques no perfil do usuário:,cliques no URL,cliques em hashtags:,"
        "expansões de detalhes:,cliques no link permanente,aberturas de aplicativos,instalações de aplicativo:,"
        "seguiram,Tweet enviado por e-mail,número de telefone discado,visualizações da mídia,"
        "engajamentos com mídia,impressões promovido(a)(s),engajamentos promovido(a)(s),"
        "retweets promovido(a)(s),favoritos promovido(a)(s),cliques no URL promovido(a)(s)"
    )
    rows = [
        "1502000000000000001,https://twitter.com/vayno/status/1502000000000000001,Bom dia,"
        "2022-03-12 10:05 +0000,40210,1132,0.0281522,88,31,402,150,96,12,210,95,0,0,7,0,0,4800,41,-,-,-,-,-",
        "1502000000000000002,https://twitter.com/vayno/status/1502000000000000002,\"Novo vídeo, confira\","
        "2022-03-13 21:40 +0000,12000,310,0.0258333,20,9,140,30,60,1,30,20,0,0,2,0,0,900,15,-,-,-,-,-",
    ]
    write_text("twitter_tweets_pt.csv", header + "\n" + "\n".join(rows) + "\n")


def twitter_daily() -> None:
    header = (
        "Date,Tweets published,impressions,engagements,engagement rate,retweets,replies,likes,user profile clicks,"
        "url clicks,hashtag clicks,detail expands,permalink clicks,app opens,app installs,follows,email tweet,"
        "dial phone,media views,media engagements,promoted impressions,promoted engagements"
    )
    rows = [
        "2021-04-30,2,6020,148,0.0245847,13,4,65,23,22,2,12,7,0,0,1,0,0,300,12,0,0",
        "2021-05-01,0,350,3,0.0085714,0,0,3,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
        "2021-05-02,1,2000,40,0.02,3,1,10,5,12,0,6,3,0,0,0,0,0,0,0,7000,150",
    ]
    write_text("twitter_daily.csv", header + "\n" + "\n".join(rows) + "\n")


def x_account_analytics_content() -> None:
    # The 2024+ X analytics download: weekday dates in quotes, Reposts beside Shares.
    text = (
        "Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,Replies,"
        "Reposts,Profile visits,Detail Expands,URL Clicks,Hashtag Clicks,Permalink Clicks\n"
        '1798000000000000001,"Fri, Jun 14, 2024",Shipping today,https://x.com/acme/status/1798000000000000001,'
        '"1,234",40,77,5,2,3,6,9,11,8,4,0,1\n'
        '1798000000000000002,"Sat, Jun 15, 2024","A thread, 1/3",https://x.com/acme/status/1798000000000000002,'
        "560,12,20,1,0,0,2,3,4,2,1,0,0\n"
    )
    write_text("account_analytics_content_2024-06-14_2024-06-15.csv", text)


def youtube_table_data_total_row() -> None:
    # YouTube Studio "Table data.csv": a leading Total row; Subscribers is the net change (can be negative).
    text = (
        "Content,Video title,Video publish time,Duration,Views,Watch time (hours),Subscribers,"
        "Estimated revenue (USD),Impressions,Impressions click-through rate (%),Average view duration\n"
        "Total,,,,13450,801.2301,37,48.113,190210,4.91,0:03:34\n"
        'dQw4w9WgXcQ,"How we ship, every week","Sep 20, 2024",812,10000,600.5,40,40.10,150000,5.10,0:03:36\n'
        "aBcDeFgHiJk,Office tour,\"Aug 30, 2024\",901,3000,190.7301,-5,7.513,35210,4.70,0:03:48\n"
        "-xYz123AbCd,Outtakes,\"Aug 1, 2024\",120,450,10,2,0.5,5000,3.00,0:01:20\n"
    )
    write_text("youtube_table_data_total_row.csv", text)


def youtube_chart_data() -> None:
    text = (
        "Date,Content,Video title,Video publish time,Duration,Views\n"
        '2024-09-20,dQw4w9WgXcQ,"How we ship, every week","Sep 20, 2024",812,4000\n'
        '2024-09-21,dQw4w9WgXcQ,"How we ship, every week","Sep 20, 2024",812,2500\n'
        '2024-09-21,aBcDeFgHiJk,Office tour,"Aug 30, 2024",901,300\n'
    )
    write_text("youtube_chart_data.csv", text)


def youtube_subscribers_gained_lost() -> None:
    text = (
        "Date,Subscribers gained,Subscribers lost,Subscribers,Views\n"
        "2024-09-20,12,3,9,400\n"
        "2024-09-21,4,6,-2,380\n"
    )
    write_text("youtube_totals_subscribers.csv", text)


def gsc_queries() -> None:
    # Search Console → Performance → Export → Queries.csv; a query may literally read "total".
    text = (
        "Top queries,Clicks,Impressions,CTR,Position\n"
        "campaign lens,120,1500,8%,2.1\n"
        "marketing dashboard,30,4000,0.75%,9.4\n"
        "total,3,90,3.33%,12\n"
        "sum 41,1,20,5%,20.5\n"
    )
    write_text("gsc_queries.csv", text)


def gsc_dates() -> None:
    text = (
        "Date,Clicks,Impressions,CTR,Position\n"
        "2024-03-03,50,2000,2.5%,7.2\n"
        "2024-03-02,61,2100,2.9%,6.8\n"
        "2024-03-01,43,1950,2.21%,7.9\n"
    )
    write_text("gsc_dates.csv", text)


def meta_results_mixed_types() -> None:
    # Ads Manager broken down by campaign: each row's Results mean its own Result type.
    text = (
        "Campaign name,Day,Result type,Results,Reach,Impressions,Amount spent (USD),Purchases conversion value\n"
        "Shop,2024-05-01,Website purchases,12,8000,10000,200.00,960.00\n"
        "Shop,2024-05-02,Website purchases,8,6000,7000,150.00,640.00\n"
        "Webinar,2024-05-01,Leads (Form),30,5000,6000,90.00,\n"
        "Traffic,2024-05-01,Link clicks,420,9000,15000,60.00,\n"
        "Video,2024-05-01,ThruPlays,2500,20000,30000,40.00,\n"
        "Engage,2024-05-01,Post engagement,800,7000,9000,25.00,\n"
        "Draft,2024-05-01,,,100,120,0.50,\n"
    )
    write_text("meta_results_mixed_types.csv", text, bom=b"\xef\xbb\xbf")


def meta_ru_purchase_value() -> None:
    text = (
        "Название кампании;День;Тип результата;Результаты;Показы;Охват;Потраченная сумма (RUB);"
        "Ценность конверсии покупок;Цена за результаты\n"
        "Весна;01.03.2024;Покупки на сайте;4;10 000;8 000;5 000,00;12 400,50;1 250,00\n"
        "Весна;02.03.2024;Покупки на сайте;2;6 000;5 000;3 000,00;6 100,00;1 500,00\n"
        "Охват;01.03.2024;Охват;9 000;12 000;9 000;1 500,00;;0,17\n"
    )
    write_text("meta_ru_purchase_value.csv", text, bom=b"\xef\xbb\xbf")


def meta_de_platform_xlsx() -> None:
    # German Ads Manager .xlsx broken down by platform: link clicks, page likes and video views are results,
    # none of them conversions.
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(HERE / "meta_de_platform.xlsx"))
    sheet = workbook.add_worksheet("Raw Data Report")
    sheet.write_row(0, 0, ["Kampagnenname", "Plattform", "Berichtsbeginn", "Berichtsende", "Ergebnistyp",
                           "Ergebnisse", "Reichweite", "Impressionen", "Ausgegebener Betrag (EUR)",
                           "Kosten pro Ergebnis"])
    data = [
        ("Sommer", "facebook", "2024-06-01", "2024-06-30", "Link-Klicks", 1200, 50000, 90000, 300.0, 0.25),
        ("Sommer", "instagram", "2024-06-01", "2024-06-30", "Link-Klicks", 800, 40000, 70000, 200.0, 0.25),
        ("Fans", "facebook", "2024-06-01", "2024-06-30", "Seitenlikes", 350, 20000, 30000, 100.0, 0.29),
        ("Video", "instagram", "2024-06-01", "2024-06-30", "ThruPlays", 9000, 60000, 120000, 150.0, 0.02),
        ("Video", "audience_network", "2024-06-01", "2024-06-30", "ThruPlays", 1000, 8000, 15000, 20.0, 0.02),
    ]
    for r, row in enumerate(data, start=1):
        sheet.write_row(r, 0, row)
    workbook.close()


def fb_page_insights() -> None:
    # Meta Business Suite → Insights → Content, Facebook posts. "Date" holds "Lifetime": the day is Publish time.
    text = (
        "Post ID,Page ID,Page name,Title,Description,Duration (sec),Publish time,Caption type,Permalink,"
        "Is crosspost,Is share,Post type,Languages,Custom labels,Funded content status,Data comment,Date,Views,"
        "Reach,\"Reactions, Comments and Shares\",Reactions,Comments,Shares,Total clicks,Link clicks,Other clicks\n"
        "101_1,101,Acme,,Spring sale starts,,03/15/2024 10:00,,https://facebook.com/101_1,No,No,Photos,,,,,"
        "Lifetime,5400,4100,230,180,30,20,95,40,55\n"
        "101_2,101,Acme,,Behind the scenes,62,03/16/2024 18:30,,https://facebook.com/101_2,No,No,Videos,,,,,"
        "Lifetime,2300,1800,61,50,6,5,20,0,20\n"
    )
    write_text("fb_page_insights.csv", text, bom=b"\xef\xbb\xbf")


def instagram_insights() -> None:
    text = (
        "Post ID,Account ID,Account username,Account name,Description,Duration (sec),Publish time,Permalink,"
        "Post type,Data comment,Date,Views,Reach,Likes,Shares,Follows,Comments,Saves,Plays\n"
        "178_1,178,acme,Acme,New colours,0,04/02/2024 09:00,https://instagram.com/p/1,IG image,,Lifetime,"
        "3300,2500,210,12,4,18,33,\n"
        "178_2,178,acme,Acme,Reel: packing,31,04/03/2024 17:45,https://instagram.com/reel/2,IG reel,,Lifetime,"
        "8800,6100,540,41,15,27,60,7200\n"
    )
    write_text("instagram_insights.csv", text, bom=b"\xef\xbb\xbf")


def vk_stats() -> None:
    text = (
        "День;Полный охват;Охват подписчиков;Просмотры;Посетители;Подписавшиеся;Отписавшиеся;Мне нравится;"
        "Комментарии;Репосты\n"
        "01.04.2024;12 500;8 000;30 200;900;45;12;610;40;25\n"
        "02.04.2024;9 800;6 400;21 000;700;30;18;420;22;14\n"
    )
    write_text("vk_stats.csv", text, "cp1251")


def telegram_stats() -> None:
    text = (
        "Date,Subscribers,Joined,Left,Views,Shares,Muted\n"
        "2024-04-01,10250,80,30,45000,120,5\n"
        "2024-04-02,10290,60,20,38000,95,2\n"
    )
    write_text("telegram_stats.csv", text)


def linkedin_page() -> None:
    # LinkedIn page analytics, content metrics: a description line first; (organic)/(sponsored) are parts of (total).
    text = (
        "Aggregated engagement metrics for your updates. Learn more about this data.\n"
        "Date,Impressions (organic),Impressions (sponsored),Impressions (total),Unique impressions (organic),"
        "Clicks (organic),Clicks (sponsored),Clicks (total),Reactions (organic),Reactions (sponsored),"
        "Reactions (total),Comments (organic),Comments (sponsored),Comments (total),Reposts (organic),"
        "Reposts (sponsored),Reposts (total),Engagement rate (organic),Engagement rate (sponsored),"
        "Engagement rate (total)\n"
        "05/01/2024,1200,800,2000,700,30,20,50,40,10,50,5,1,6,3,2,5,0.065,0.041,0.0555\n"
        "05/02/2024,900,0,900,500,12,0,12,20,0,20,2,0,2,1,0,1,0.0389,0,0.0389\n"
    )
    write_text("linkedin_page.csv", text)


def tiktok_organic() -> None:
    # TikTok analytics "Overview.csv": dates without a year, every cell quoted.
    text = (
        '"Date","Video Views","Profile Views","Likes","Comments","Shares"\n'
        '"January 1","1441","52","31","2","11"\n'
        '"January 2","2110","77","57","1","6"\n'
        '"January 3","990","20","12","0","1"\n'
    )
    write_text("tiktok_organic.csv", text)


def xlsx_error_cells() -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(HERE / "xlsx_error_cells.xlsx"))
    sheet = workbook.add_worksheet("Report")
    sheet.write(0, 1, "Monthly report")  # a title, and the table starting in column B
    sheet.write_row(2, 1, ["Date", "Campaign", "Spend", "Clicks", "Impressions"])
    sheet.write_row(3, 1, ["2024-01-01", "A", 10.5, 4, 100])
    sheet.write_row(4, 1, ["2024-01-02", "B"])
    sheet.write_formula(4, 3, "=1/0", None, "#DIV/0!")
    sheet.write_row(4, 4, [5, 120])
    sheet.write_row(5, 1, ["2024-01-03", "C", 7.25])
    sheet.write_formula(5, 4, "=NA()", None, "#N/A")
    sheet.write(5, 5, 80)
    sheet.write_row(6, 1, ["2024-01-04", "D", 3.0, 2])
    sheet.write_formula(6, 5, '="x"+1', None, "#VALUE!")
    sheet.write_row(7, 1, ["2024-01-05", "E", 1.25, 1, 10])
    workbook.close()


def ga4_multi_table() -> None:
    text = (
        "# ----------------------------------------\n"
        "# Reports snapshot\n"
        "# Account: Demo Account\n"
        "# Property: GA4 - Demo Shop\n"
        "# ----------------------------------------\n"
        "#\n"
        "# Start date: 20240101\n"
        "# End date: 20240131\n"
        "Nth day,Active users\n"
        "0000,1234\n"
        "0001,1500\n"
        "\n"
        "# ----------------------------------------\n"
        "# Reports snapshot\n"
        "# ----------------------------------------\n"
        "#\n"
        "# Start date: 20240101\n"
        "# End date: 20240131\n"
        "Session default channel group,Sessions,Key events,Total revenue\n"
        "Organic Search,4000,120,5400.5\n"
        "Direct,2500,80,3900\n"
    )
    write_text("ga4_multi_table.csv", text)


def main() -> None:
    for make in (
        google_ads_utf16_preamble_totals, google_ads_web_comma, meta_ru_decimal_comma, meta_de_semicolon, meta_fr,
        meta_title_case_duplicate_headers, linkedin_title_lines, tiktok_header_row3, x_ads_total_row,
        generic_windows1252, generic_day_first_semicolon, generic_bad_rows, generic_multiline_quoted,
        generic_unbalanced_quote, generic_double_counting, generic_no_measures, generic_currency_symbols,
        generic_parquet, gads_keywords_utf16_total_in_col3, gads_search_terms_utf8, twitter_tweets_en,
        twitter_tweets_pt, twitter_daily, x_account_analytics_content, youtube_table_data_total_row,
        youtube_chart_data, youtube_subscribers_gained_lost, gsc_queries, gsc_dates, meta_results_mixed_types,
        meta_ru_purchase_value, meta_de_platform_xlsx, fb_page_insights, instagram_insights, vk_stats, telegram_stats,
        linkedin_page, tiktok_organic, xlsx_error_cells, ga4_multi_table,
    ):
        make()


if __name__ == "__main__":
    main()
