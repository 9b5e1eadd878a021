"""The Data page in AppTest: uploads, per-file cards, mapping edits, rejected rows and the demo button."""

from __future__ import annotations

from metrics import ingest, kpis
from tests.conftest import DATA
from ui.state import LAST_UPLOAD
from ui.widgets import PAGE_STYLE


def open_data_page(app):
    app.run()
    app.switch_page("pages/upload.py").run()
    assert not app.exception, app.exception
    return app


def upload(app, *paths_or_files):
    files = []
    for item in paths_or_files:
        if isinstance(item, tuple):
            files.append(item)
        else:
            files.append((item.name, item.read_bytes(), "text/csv"))
    app.file_uploader(key="upload_files").set_value(files if len(files) > 1 else files[0]).run()
    assert not app.exception, app.exception
    return app


def metric_values(app) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_mapping_edit_can_add_an_unrecognised_column(app):
    csv = b"campaign,impressions,Kosten netto\nA,100,5.5\nB,200,4.5\n"
    open_data_page(app)
    upload(app, ("custom.csv", csv, "text/csv"))
    assert kpis.total(app.session_state["cl_dataset"].frame)["spend"] is None
    app.selectbox(key="fix_src_0").set_value("Kosten netto")
    app.selectbox(key="fix_dst_0").set_value("spend")
    next(b for b in app.get("form_submit_button") if b.label == "Set column").click().run()
    assert not app.exception, app.exception
    assert kpis.total(app.session_state["cl_dataset"].frame)["spend"] == 10.0


def test_empty_data_page_offers_the_demo(app):
    open_data_page(app)
    assert any("No data yet" in i.value for i in app.info)
    app.button(key="use_demo").click().run()
    dataset = app.session_state["cl_dataset"]
    assert dataset.label == "Demo account" and dataset.frame.height > 5_000
    assert app.sidebar.multiselect(key="flt_platforms") is not None


def test_upload_shows_family_counts_and_feeds_the_dataset(app):
    open_data_page(app)
    upload(app, DATA / "x_ads_total_row.csv")
    values = metric_values(app)
    assert any(m.value.startswith("Recognised as") and m.value.endswith("**X Ads**") for m in app.markdown)
    assert (values["Rows read"], values["Rows loaded"], values["Rows rejected"]) == ("4", "3", "0")
    assert values["Total rows excluded"] == "1"
    dataset = app.session_state["cl_dataset"]
    expected = ingest.load((DATA / "x_ads_total_row.csv").read_bytes(), "x_ads_total_row.csv").frame
    assert kpis.total(dataset.frame)["spend"] == kpis.total(expected)["spend"] == 25.0
    # The preview table is the canonical frame.
    preview = app.dataframe[-1].value
    assert "impressions" in preview.columns and len(preview) == 3


def test_several_files_and_rejected_rows_with_reasons(app):
    open_data_page(app)
    upload(app, DATA / "x_ads_total_row.csv", DATA / "generic_bad_rows.csv")
    dataset = app.session_state["cl_dataset"]
    assert set(dataset.frame["source_file"].unique()) == {"x_ads_total_row.csv", "generic_bad_rows.csv"}
    assert any(s.value == "Rejected rows" for s in app.subheader)
    rejected = next(df.value for df in app.dataframe if "reason" in df.value.columns)
    assert len(rejected) >= 1 and rejected["reason"].str.len().min() > 5
    assert {"file", "line", "reason", "raw"} <= set(rejected.columns)
    assert any(b.label.startswith("Download rejected rows") for b in app.get("download_button"))


def test_unreadable_file_is_one_sentence_and_the_others_are_kept(app):
    open_data_page(app)
    upload(app, DATA / "x_ads_total_row.csv", ("junk.csv", bytes(range(256)) * 20, "text/csv"))
    errors = [e.value for e in app.error]
    assert any("junk" in e for e in errors)
    assert app.session_state["cl_dataset"].frame.height == 3
    assert not app.exception


def test_mapping_edit_changes_what_is_loaded(app):
    open_data_page(app)
    upload(app, DATA / "x_ads_total_row.csv")
    before = kpis.total(app.session_state["cl_dataset"].frame)
    assert before["spend"] == 25.0
    app.selectbox(key="fix_src_0").set_value("Spend")
    app.selectbox(key="fix_dst_0").set_value("(ignore)")
    next(b for b in app.get("form_submit_button") if b.label == "Set column").click().run()
    assert not app.exception, app.exception
    after = kpis.total(app.session_state["cl_dataset"].frame)
    assert after["spend"] is None
    assert after["impressions"] == before["impressions"]
    assert app.session_state[LAST_UPLOAD].files[0].mapping["Spend"] == ""


def test_upload_text_is_rendered_as_text(app):
    evil = "<img src=x onerror=alert(1)>"
    csv = f"campaign,impressions,clicks\n{evil},100,5\n**bold** [link](http://x),50,1\n".encode()
    open_data_page(app)
    upload(app, ("evil.csv", csv, "text/csv"))
    # The only raw HTML on any page is the static layout CSS (ui.widgets.PAGE_STYLE), never upload text.
    html = [h for h in app.get("html") if h.proto.body != PAGE_STYLE]
    html += [m for m in app.markdown if "<img" in m.value and "\\<img" not in m.value]
    assert html == []
    frame = app.session_state["cl_dataset"].frame
    assert evil in frame["campaign"].to_list()


def test_a_file_with_unrecognised_columns_can_be_mapped_by_hand(app):
    open_data_page(app)
    upload(app, DATA / "generic_no_measures.csv")
    assert any("no column recognised as a measure" in e.value for e in app.error)
    app.selectbox(key="unreadable_0_0").set_value("campaign")
    app.selectbox(key="unreadable_0_2").set_value("conversions")
    next(b for b in app.get("form_submit_button") if b.label == "Load with this mapping").click().run()
    assert not app.exception, app.exception
    dataset = app.session_state["cl_dataset"]
    assert app.session_state[LAST_UPLOAD].files[0].read_error is None
    assert kpis.total(dataset.frame)["conversions"] == 7.0
    assert sorted(dataset.frame["campaign"].to_list()) == ["Alpha", "Beta"]


def test_platform_values_read_by_guess_are_listed_for_checking(app):
    """PPC → google_ads and Referral → affiliate are guesses; Social Media is no platform we know; Facebook Ads is exact."""
    csv = (b"date,channel,spend\n2024-01-01,PPC,1\n2024-01-02,Referral,2\n2024-01-03,Social Media,3\n"
           b"2024-01-04,PPC,4\n2024-01-05,Facebook Ads,5\n")
    open_data_page(app)
    upload(app, ("channels.csv", csv, "text/csv"))
    table = next(frame.value for frame in app.dataframe if "Read as" in frame.value.columns)
    shown = {row["Value in file"]: (row["Read as"], row["How sure"], row["Rows"]) for _, row in table.iterrows()}
    assert shown == {"PPC": ("google_ads", "a guess", 2), "Referral": ("affiliate", "a guess", 1),
                     "Social Media": ("social_media", "not a platform we know", 1)}
