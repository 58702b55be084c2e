"""Reading procedure catalogues: Vietnamese and English headers, scopes, levels, row errors."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from portal.services.importing import (
    parse_procedures,
    parse_scopes,
    procedure_field_for_header,
    read_table,
)

AGENCIES = {
    "bo-cong-thuong": ("bo-cong-thuong", "ministry"),
    "bo cong thuong": ("bo-cong-thuong", "ministry"),
    "ha-noi": ("ha-noi", "province"),
}


def parse(text: str, **kwargs):
    return parse_procedures(read_table(text.encode("utf-8"), "catalogue.csv"), agencies=AGENCIES, **kwargs)


@pytest.mark.parametrize(("header", "field"), [
    ("Mã thủ tục", "code"), ("Mã TTHC", "code"), ("code", "code"), ("Procedure code", "code"),
    ("Tên thủ tục hành chính", "name"), ("Name", "name"), ("Lĩnh vực", "field"), ("Field", "field"),
    ("Phạm vi", "scope"), ("Cấp thực hiện", "scope"), ("Scope", "scope"),
    ("Mức độ", "required_level"), ("Mức độ yêu cầu", "required_level"), ("Required level", "required_level"),
    ("Cơ quan thực hiện", "agency"), ("Bộ, ngành", "agency"), ("Agency", "agency"), ("Ghi chú", None),
])
def test_headers_in_vietnamese_and_english(header, field):
    assert procedure_field_for_header(header) == field


@pytest.mark.parametrize(("text", "scopes"), [
    ("bộ", ("ministry",)), ("Bộ, ngành", ("ministry",)), ("ministries", ("ministry",)),
    ("tỉnh", ("province",)), ("Tỉnh, thành phố", ("province",)), ("Cấp tỉnh", ("province",)),
    ("province", ("province",)), ("bộ; tỉnh", ("ministry", "province")), ("cả hai", ("ministry", "province")),
])
def test_scope_words(text, scopes):
    assert parse_scopes(text) == scopes


@pytest.mark.parametrize("text", ["huyện", "xã", "abc", ""])
def test_unknown_scopes_are_refused(text):
    with pytest.raises(ValueError):
        parse_scopes(text)


def test_a_catalogue_with_a_title_row_and_vietnamese_headers():
    result = parse(
        "DANH MỤC DỊCH VỤ CÔNG TRỰC TUYẾN MỨC ĐỘ 3, 4 NĂM 2017\n"
        "STT,Mã thủ tục,Tên thủ tục,Lĩnh vực,Phạm vi,Mức độ,Cơ quan\n"
        "1,1.000178,Đăng ký khai sinh,Hộ tịch,tỉnh,toàn trình,\n"
        "2,1.012753.h19,Cấp giấy phép xây dựng,Xây dựng,\"tỉnh, thành phố\",một phần,\n"
        "3,2.002195,Cấp giấy chứng nhận xuất xứ,Xuất nhập khẩu,bộ,Mức độ 4,Bộ Công Thương\n"
        "4,2.002196,Công bố thông tin,,bộ; tỉnh,3,\n"
    )
    assert result.errors == []
    rows = [(r.row, r.code, r.scopes, r.required_level, r.agency_code, r.field) for r in result.rows]
    assert rows == [
        (3, "1.000178", ("province",), 4, None, "Hộ tịch"),
        (4, "1.012753.H19", ("province",), 3, None, "Xây dựng"),
        (5, "2.002195", ("ministry",), 4, "bo-cong-thuong", "Xuất nhập khẩu"),
        (6, "2.002196", ("ministry", "province"), 3, None, None),
    ]


def test_english_headers_and_a_default_scope():
    result = parse("code,name,required level\n1.000178,Birth registration,4\n", default_scope="province")
    assert result.errors == [] and result.rows[0].scopes == ("province",)
    missing = parse("code,name,required level\n1.000178,Birth registration,4\n")
    assert [(e.row, e.field) for e in missing.errors] == [(0, "scope")]


def test_every_bad_row_is_reported():
    result = parse(
        "Mã thủ tục,Tên thủ tục,Phạm vi,Mức độ,Cơ quan\n"
        "1.000178,Đăng ký khai sinh,tỉnh,4,\n"
        "1.17,Số bị Excel đổi,tỉnh,4,\n"
        "1.000179,,tỉnh,4,\n"
        "1.000180,Thủ tục A,huyện,4,\n"
        "1.000181,Thủ tục B,tỉnh,5,\n"
        "1.000182,Thủ tục C,bộ,4,Bộ Không Có\n"
        "1.000183,Thủ tục D,tỉnh,4,Bộ Công Thương\n"
        "1.000178,Đăng ký khai sinh,tỉnh,3,\n"
        "1.000178,Tên khác hẳn,bộ,4,\n"
    )
    errors = {(e.row, e.field): e.message for e in result.errors}
    assert set(errors) == {(3, "code"), (4, "name"), (5, "scope"), (6, "required_level"), (7, "agency"),
                           (8, "agency"), (9, "code"), (10, "name")}
    assert "Excel" in errors[(3, "code")]
    assert "dòng 2" in errors[(9, "code")]
    assert "Đăng ký khai sinh" in errors[(10, "name")]
    assert [r.row for r in result.rows] == [2]


def test_missing_columns_are_reported_once():
    result = parse("Tên thủ tục,Lĩnh vực\nĐăng ký khai sinh,Hộ tịch\n")
    assert {e.field for e in result.errors} == {"code", "required_level", "scope"}
    assert all(e.row == 0 for e in result.errors)


def test_xlsx_with_vietnamese_headers():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Danh mục thủ tục hành chính"])
    sheet.append(["Mã TTHC", "Tên thủ tục hành chính", "Lĩnh vực", "Cấp thực hiện", "Mức độ DVCTT"])
    sheet.append(["1.000178", "Đăng ký khai sinh", "Hộ tịch", "Cấp tỉnh", 4])
    sheet.append(["1.000179", "Đăng ký kết hôn", "Hộ tịch", "Cấp tỉnh", 3.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_procedures(read_table(buffer.getvalue(), "danh-muc.xlsx"), agencies=AGENCIES)
    assert result.errors == []
    assert [(r.code, r.required_level) for r in result.rows] == [("1.000178", 4), ("1.000179", 3)]
