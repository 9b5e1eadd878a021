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


def main() -> None:
    for make in (
        google_ads_utf16_preamble_totals, google_ads_web_comma, meta_ru_decimal_comma, meta_de_semicolon, meta_fr,
        meta_title_case_duplicate_headers, linkedin_title_lines, tiktok_header_row3, x_ads_total_row,
        generic_windows1252, generic_day_first_semicolon, generic_bad_rows, generic_multiline_quoted,
        generic_unbalanced_quote, generic_double_counting, generic_no_measures, generic_currency_symbols,
        generic_parquet,
    ):
        make()


if __name__ == "__main__":
    main()
