"""Bad input: every case ends as a clear per-row issue or a one-sentence UnreadableFileError — nothing else.

Decision under test: a number cell holding anything that is not a number (text, inf, 1e309, a
negative amount) rejects its row with the line and the reason; the other rows are kept.
"""

from __future__ import annotations

import random
import struct
import time
import zlib
from pathlib import Path

import pytest

import metrics.ingest as ingest
from metrics import schema
from metrics.errors import InputError
from metrics.ingest import UnreadableFileError, load
from metrics.ingest.report import MAX_REJECTED_IN_REPORT

DATA = Path(__file__).resolve().parents[1] / "data"


def zip_archive(members: list[tuple[str, int, bytes, int, int]]) -> bytes:
    """A minimal zip (no zip64) from already-compressed members: (name, method, data, crc32, size)."""
    out, central = bytearray(), bytearray()
    for name, method, data, crc, size in members:
        encoded, offset = name.encode(), len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size,
                           len(encoded), 0) + encoded + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    directory_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), directory_offset, 0)
    return bytes(out)


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """~2.5 MB on disk, declaring ~740 MB: a sheet of zeros (deflated) plus 1.8 MB of incompressible noise.

    The deflate stream is one compressed 1 MB block of zeros repeated (each ends with a full flush,
    so the copies are identical), which builds in about a second instead of compressing 740 MB.
    """
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed_block = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    blocks = 740
    stream = compressed_block * blocks + compressor.flush()
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    noise = random.Random(0).randbytes(1_800_000)
    small = [(name, 0, body, zlib.crc32(body), len(body))
             for name, body in (("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>"))]
    return zip_archive([*small, ("xl/worksheets/sheet1.xml", 8, stream, crc, blocks << 20),
                        ("xl/media/noise.bin", 0, noise, zlib.crc32(noise), len(noise))])


def assert_one_sentence(message: str) -> None:
    assert message and "\n" not in message
    assert message.endswith(".")
    assert message[0].isupper() or message[0].isalnum()
    assert "Traceback" not in message and "Error" not in message


UNREADABLE = {
    "empty.csv": b"",
    "whitespace.csv": b"  \r\n\r\n",
    "binary_junk.csv": random.Random(1).randbytes(4096),
    "png_renamed.xlsx": b"\x89PNG\r\n\x1a\n" + random.Random(2).randbytes(2048),
    "png_renamed.csv": b"\x89PNG\r\n\x1a\n" + random.Random(2).randbytes(2048),
    "not_a_table.csv": b"Dear team,\nplease find the report attached.\nRegards\n",
    "no_measures.csv": (DATA / "generic_no_measures.csv").read_bytes(),
    "docx_renamed.xlsx": zip_archive([("word/document.xml", 0, b"<w/>", zlib.crc32(b"<w/>"), 4)]),
}


@pytest.mark.parametrize("name", list(UNREADABLE))
def test_unreadable_files_raise_one_sentence(name):
    with pytest.raises(UnreadableFileError) as caught:
        load(UNREADABLE[name], name)
    assert_one_sentence(str(caught.value))
    assert name in str(caught.value)
    assert isinstance(caught.value, InputError)  # the CLI maps it to exit code 3


def test_old_xls_gets_its_own_sentence():
    with pytest.raises(UnreadableFileError) as caught:
        load(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "budget.xls")
    assert ".xls" in str(caught.value) and "save it as .xlsx" in str(caught.value)
    assert_one_sentence(str(caught.value))


def test_csv_named_xlsx_is_read_as_text():
    result = load(b"campaign,spend\nA,1.5\n", "export.xlsx")
    assert result.frame["spend"].sum() == 1.5
    assert "text_named_as_excel" in {i.code for i in result.report.issues}


def test_truncated_xlsx_is_unreadable():
    data = (DATA / "tiktok_header_row3.xlsx").read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 100):
        with pytest.raises(UnreadableFileError) as caught:
            load(data[:cut], "budget.xlsx")
        assert "not a valid Excel file" in str(caught.value)
        assert_one_sentence(str(caught.value))


def test_zip_bomb_is_refused_quickly(zip_bomb):
    assert 2_000_000 < len(zip_bomb) < 3_000_000
    started = time.perf_counter()
    with pytest.raises(UnreadableFileError) as caught:
        load(zip_bomb, "bomb.xlsx")
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert_one_sentence(str(caught.value))
    assert "MB" in str(caught.value)


def test_too_large_upload_is_refused(monkeypatch):
    monkeypatch.setattr(ingest, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(UnreadableFileError) as caught:
        load(b"date,spend\n" + b"2024-01-01,1\n" * 20, "big.csv")
    assert_one_sentence(str(caught.value))
    assert ingest.MAX_UPLOAD_BYTES == 100 and "limit" in str(caught.value)


# name, bytes, rows loaded, {line: words in the reason}
ROW_PROBLEMS = [
    ("header_only.csv", b"date,spend,clicks\n", 0, {}),
    ("ragged.csv", b"campaign,spend\nA,1\nB,2,3,4\nC,3\n", 2, {3: "more fields than the header (2 columns)"}),
    ("preamble_then_bad.csv", b"Weekly report\n\nPeriod: 2024-01-01 - 2024-01-07\ncampaign,spend\nA,1\nB,x\n", 1,
     {6: "spend holds 'x'"}),
    ("far_too_many_fields.csv", b"campaign,spend\nA,1\n" + b"B," + b",".join([b"9"] * 400) + b"\nC,3\n", 2,
     {3: "fields"}),
    ("unbalanced_quote.csv", (DATA / "generic_unbalanced_quote.csv").read_bytes(), 2, {3: "unclosed quote"}),
    ("text_in_numbers.csv", b"campaign,spend,clicks\nA,1,2\nB,twelve,3\nC,3,n/a\nD,4,lots\n", 2,
     {3: "spend holds 'twelve', which is not a number", 5: "clicks holds 'lots'"}),
    ("negative_spend.csv", b"campaign,spend\nA,1.5\nB,-2\n", 1, {3: "negative"}),
    ("infinite.csv", b"campaign,spend\nA,1\nB,inf\nC,1e309\nD,-inf\n", 1, {3: "finite", 4: "finite", 5: "finite"}),
    ("bad_date.csv", b"date,spend\n2024-01-01,1\n2024-02-30,2\nyesterday,3\n", 1, {3: "not a date", 4: "not a date"}),
    ("windows1252.csv", "campaign;coût\nÉté;1,5\nNoël;2,5\n".encode("cp1252"), 2, {}),
    ("bad_rows_fixture.csv", (DATA / "generic_bad_rows.csv").read_bytes(), 2,
     {3: "not a number", 4: "negative", 5: "finite", 6: "finite", 7: "not a date", 8: "more fields", 10: "negative"}),
    ("multiline_quoted.csv", (DATA / "generic_multiline_quoted.csv").read_bytes(), 2, {4: "spend holds 'oops'"}),
    ("typed_then_bad.csv", b"campaign,spend\n" + b"".join(b"C%d,%d\n" % (i, i) for i in range(3000)) + b"Z,oops\n",
     3000, {3002: "spend holds 'oops'"}),
]


@pytest.mark.parametrize("name, data, loaded, expected", ROW_PROBLEMS, ids=[p[0] for p in ROW_PROBLEMS])
def test_bad_rows_are_rejected_with_line_and_reason(name, data, loaded, expected):
    result = load(data, name)
    report = result.report
    assert report.rows_loaded == loaded == result.frame.height
    assert report.rows_read == report.rows_loaded + report.rows_rejected + report.rows_excluded
    assert report.rows_rejected == len(expected)
    assert {r.line: r.reason for r in report.rejected}.keys() == expected.keys()
    for rejected in report.rejected:
        assert expected[rejected.line].lower() in rejected.reason.lower(), rejected
        assert_one_sentence(rejected.reason)
        assert rejected.raw
    if expected:
        assert "rows_rejected" in {i.code for i in report.issues}


def test_header_only_is_a_warning_not_an_error():
    result = load(b"date,spend,clicks\n", "header.csv")
    assert result.frame.height == 0
    assert "no_data_rows" in {i.code for i in result.report.issues}


def test_na_cells_are_null_not_zero():
    frame = load(b"campaign,spend,clicks\nA,1,N/A\nB,-,--\nC,,<5\n", "na.csv").frame.sort("campaign")
    assert frame["clicks"].to_list() == [None, None, None]
    assert frame["spend"].to_list() == [1, None, None]


def test_number_formats():
    text = (
        "campaign;spend;impressions;share\n"
        "A;1 234,56;1.000;5,5%\n"
        "B;1.234,56;2\u202f000;10%\n"
        "C;R$ 10,00;3\u00a0000;0,5 %\n"
    )
    frame = load(text.encode(), "numbers.csv", {"share": "reach"}).frame.sort("campaign")
    assert frame["spend"].to_list() == pytest.approx([1234.56, 1234.56, 10.0])
    assert frame["impressions"].to_list() == [1000, 2000, 3000]
    assert frame["reach"].to_list() == pytest.approx([0.055, 0.10, 0.005])  # percent strings become fractions


def test_dot_decimal_with_thousands_commas():
    data = b'campaign,spend\nA,"1,234.56"\nB,"12,345,678.9"\nC,0.5\n'
    frame = load(data, "us.csv").frame.sort("campaign")
    assert frame["spend"].to_list() == pytest.approx([1234.56, 12345678.9, 0.5])


def assert_sound_load(result) -> None:
    """What any successful load guarantees, whatever the bytes: the canonical columns, counts that add up
    (every row is loaded, rejected with a reason or excluded as a total), and only finite, non-negative
    measures (anything else rejects its row)."""
    report, frame = result.report, result.frame
    assert frame.schema == schema.CANONICAL_SCHEMA
    assert report.rows_read == report.rows_loaded + report.rows_rejected + report.rows_excluded
    assert frame.height == report.rows_loaded
    assert len(report.rejected) == min(report.rows_rejected, MAX_REJECTED_IN_REPORT)
    assert all(row.reason for row in report.rejected)
    for name in schema.MEASURES:
        values = frame.get_column(name).drop_nulls()
        assert not values.is_nan().any() and not values.is_infinite().any(), name
        assert (values >= 0).all(), name


def test_never_another_exception_on_random_bytes():
    rng = random.Random(7)
    pieces = [b"date,spend,clicks\n", b"2024-01-01,1,2\n", b'"', b",", b";", b"\r", b"\n", b"\x00", b"\xff\xfe",
              b"PK\x03\x04", b"Total", b"1,234.56", b"<5", b"--", "é".encode("cp1252"), b"\t"]
    for i in range(200):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        try:
            result = load(data, f"fuzz{i}.csv")
        except UnreadableFileError as error:
            assert_one_sentence(str(error))
        else:
            assert_sound_load(result)


@pytest.mark.parametrize("fixture", ["tiktok_header_row3.xlsx", "generic_small.parquet"])
def test_corrupted_binary_files_never_raise_anything_else(fixture):
    """Flipped bytes in a workbook or Parquet file: a load or one clear sentence, never zlib/zip/Rust errors."""
    good = (DATA / fixture).read_bytes()
    rng = random.Random(3)
    for _ in range(60):
        data = bytearray(good)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            result = load(bytes(data), fixture)
        except UnreadableFileError as error:
            assert_one_sentence(str(error))
        else:
            assert_sound_load(result)
