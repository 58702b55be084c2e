import csv
import datetime as dt
import io
from decimal import Decimal
from itertools import islice

import pytest
from openpyxl import load_workbook

from portal.services.exports import iter_csv, neutralise, to_csv, to_xlsx

HEADER = ["Thứ hạng", "Tỉnh, thành phố", "Tổng cộng"]
ROWS = [
    [1, "Hà Giang", 1374],
    [2, "Hà Nam", 1310],
    [63, 'Bạc Liêu, "Bắc Kạn"', None],
]
DANGEROUS = ['=HYPERLINK("http://x")', "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1", "-"]


def read_back(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_csv_has_bom_crlf_and_round_trips():
    text = to_csv(HEADER, ROWS)
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert "\r\n" in text
    assert read_back(text) == [
        HEADER,
        ["1", "Hà Giang", "1374"],
        ["2", "Hà Nam", "1310"],
        ["63", 'Bạc Liêu, "Bắc Kạn"', ""],
    ]


@pytest.mark.parametrize("cell", DANGEROUS)
def test_csv_neutralises_formulas(cell):
    rows = read_back(to_csv(["x"], [[cell]]))
    assert rows[1] == ["'" + cell]


@pytest.mark.parametrize(
    "cell", [-12, -12.5, Decimal("-0.942"), "-12", "-12.5", "-1.234,5", "Hà Nội", "a=b", "1+1"]
)
def test_numbers_and_plain_text_are_left_alone(cell):
    rows = read_back(to_csv(["x"], [[cell]]))
    assert rows[1] == [str(cell)]


def test_neutralise():
    assert neutralise("=1") == "'=1"
    assert neutralise("-5") == "-5"
    assert neutralise("- item") == "'- item"
    assert neutralise("ok") == "ok"


def test_csv_cells_of_other_types():
    rows = read_back(to_csv(["d", "b", "n"], [[dt.date(2016, 12, 31), True, None]]))
    assert rows[1] == ["2016-12-31", "true", ""]


def test_iter_csv_streams_row_by_row():
    pulled = 0

    def rows():
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield [i, f"row {i}"]

    stream = iter_csv(["n", "name"], rows())
    first = list(islice(stream, 4))
    assert first[0] == "\ufeffn,name\r\n"
    assert first[1:] == ["0,row 0\r\n", "1,row 1\r\n", "2,row 2\r\n"]
    assert pulled == 3
    assert all(isinstance(chunk, str) for chunk in first)


def test_iter_csv_matches_to_csv():
    assert "".join(iter_csv(HEADER, iter(ROWS))) == to_csv(HEADER, ROWS)


def test_xlsx_values_types_and_title():
    data = to_xlsx(
        HEADER, ROWS + [[4, "Cà Mau", -1.5]] + [[5, cell, 0] for cell in DANGEROUS], "Bảng 4.7: xếp hạng"
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "Bảng 4.7  xếp hạng"
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == HEADER
    assert values[1] == [1, "Hà Giang", 1374]
    assert values[3] == [63, 'Bạc Liêu, "Bắc Kạn"', None]
    assert values[4] == [4, "Cà Mau", -1.5]
    assert [r[1] for r in values[5:]] == ["'" + c for c in DANGEROUS]
    for row in sheet.iter_rows(min_row=6):
        assert row[1].data_type == "s"


def test_xlsx_drops_characters_xml_cannot_hold():
    sheet = load_workbook(io.BytesIO(to_xlsx(["x"], [["a\x00b\x07c"]]))).active
    assert sheet["A2"].value == "abc"


def test_xlsx_long_sheet_title_is_cut():
    sheet = load_workbook(io.BytesIO(to_xlsx(["x"], [], "x" * 40))).active
    assert sheet.title == "x" * 31


def test_xlsx_writes_time_zone_aware_datetimes_as_utc():
    hanoi = dt.timezone(dt.timedelta(hours=7))
    body = to_xlsx(["at"], [[dt.datetime(2026, 12, 1, 9, 30, tzinfo=hanoi)]])
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet["A2"].value == dt.datetime(2026, 12, 1, 2, 30)
