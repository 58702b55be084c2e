import csv
import io
import unicodedata
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from portal.services.importing import (
    MAX_IMPORT_BYTES,
    ROW_KEY,
    TEMPLATE_HEADERS,
    ImportFileError,
    ImportTooLarge,
    ParseResult,
    ReportRow,
    RowError,
    ServiceRow,
    iter_errors_text,
    parse_count,
    parse_index,
    parse_level,
    parse_report,
    parse_services,
    read_table,
    report_field_for_header,
    service_field_for_header,
    template_csv,
    template_xlsx,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
KNOWN = {"ha-noi", "da-nang", "bo-tu-phap", "ho-chi-minh"}


def load(name: str) -> list[dict]:
    return read_table((FIXTURES / name).read_bytes(), name)


def errors_by_row(result: ParseResult) -> dict[int, list[RowError]]:
    grouped: dict[int, list[RowError]] = {}
    for err in result.errors:
        grouped.setdefault(err.row, []).append(err)
    return grouped


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed vowel shapes, tone marks as combining characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out: list[list[str]] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and out:
            out[-1].append(char)
        else:
            out.append([char])
    encoded = []
    for base, *marks in out:
        shape = unicodedata.normalize("NFC", base + "".join(m for m in marks if m not in tones))
        encoded.append(shape + "".join(m for m in marks if m in tones))
    return "".join(encoded).encode("cp1258")


# --------------------------------------------------------------------------- header mapping


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Tên dịch vụ công", "name"),
        ("1. Tên dịch vụ", "name"),
        ("TÊN THỦ TỤC HÀNH CHÍNH", "name"),
        ("ten tthc", "name"),
        ("Tên DVC trực tuyến (theo nhóm, lĩnh vực)", "name"),
        ("  Mức   độ ", "level"),
        ("Mức độ cung cấp (mức độ 3, 4)", "level"),
        ("Level", "level"),
        ("Số hồ sơ trực tuyến", "online_applications"),
        ("Số hồ sơ tiếp nhận trực tuyến", "online_applications"),
        ("Tổng số hồ sơ tiếp nhận, xử lý trên môi trường mạng", "online_applications"),
        ("Tổng số hồ sơ", "total_applications"),
        ("Số hồ sơ tiếp nhận", "total_applications"),
        (
            "Tổng số hồ sơ thực tế tiếp nhận, xử lý (bao gồm cả trực tuyến, trực tiếp) "
            "từ 01/01/2017 đến 31/10/2017",
            "total_applications",
        ),
        ("Địa chỉ", "url"),
        ("Địa chỉ Internet", "url"),
        ("dia chi truy cap", "url"),
        ("URL", "url"),
        ("Căn cứ pháp lý", "legal_basis"),
        ("Văn bản quy định TTHC cung cấp DVC trực tuyến mức 3, 4 (QĐ 846/QĐ-TTg)", "legal_basis"),
        ("Mã thủ tục", "procedure_code"),
        ("Mã TTHC", "procedure_code"),
        ("Lĩnh vực", "field"),
        ("Mã cơ quan", "agency"),
        ("agency_code", "agency"),
        ("STT", None),
        ("Tên cơ quan", None),
        ("Ghi chú", None),
    ],
)
def test_service_header_mapping(header: str, expected: str | None) -> None:
    assert service_field_for_header(header) == expected


def test_report_header_mapping_accepts_csv_columns() -> None:
    columns = "code,year,services_l3,services_l4,online_applications,it_infrastructure_index".split(",")
    assert [report_field_for_header(c) for c in columns] == columns[:1] + columns[1:]
    assert report_field_for_header("Chỉ số nguồn nhân lực") == "it_hr_index"


# --------------------------------------------------------------------------- value parsing


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("3", 3), ("4", 4), ("Mức 3", 3), ("mức độ 4", 4), ("MỨC ĐỘ 3", 3), ("4.0", 4), ("3,0", 3),
        ("toàn trình", 4), ("Toàn trình", 4), ("toan trinh", 4), ("một phần", 3), ("mot phan", 3),
        ("DVC mức độ 4", 4), ("muc do 3", 3),
    ],
)
def test_parse_level_accepts(text: str, level: int) -> None:
    assert parse_level(text) == level


@pytest.mark.parametrize("text", ["5", "2", "mức 5", "34", "cao", "3.5", ""])
def test_parse_level_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_level(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("12", 12), ("10.309", 10309), ("10,309", 10309), ("1.234", 1234), ("1.234.567", 1234567),
     ("1 234", 1234)],
)
def test_parse_count_accepts(text: str, value: int) -> None:
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["-3", "1.5", "12,34", "1.234,567", "abc", "3e4"])
def test_parse_count_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_count(text)


@pytest.mark.parametrize(("text", "value"), [("0.942", 0.942), ("0,942", 0.942), ("1.000", 1.0), ("0", 0.0)])
def test_parse_index_accepts(text: str, value: float) -> None:
    assert parse_index(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["1.5", "-0.1", "x", "94,2%"])
def test_parse_index_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_index(text)


# --------------------------------------------------------------------------- reading files


def test_good_csv_parses_every_row() -> None:
    rows = load("services_good.csv")
    assert [r[ROW_KEY] for r in rows] == [2, 3, 4]
    result = parse_services(rows, default_agency="ha-noi", known_agencies=KNOWN)
    assert result.errors == []
    assert result.ok
    first, second, third = result.rows
    assert first == ServiceRow(
        row=2, agency_code="ha-noi", name="Đăng ký khai sinh", level=4,
        url="https://dichvucong.hanoi.gov.vn/dich-vu/khai-sinh", procedure_code="1.001193",
        field="Hộ tịch", online_applications=10309, total_applications=12500,
        legal_basis="Quyết định 846/QĐ-TTg",
    )
    assert (second.level, second.online_applications, second.legal_basis) == (3, 120, None)
    assert (third.level, third.procedure_code, third.online_applications) == (4, "1.002804.H26", None)


def test_bom_semicolon_csv_uses_agency_column_then_default() -> None:
    rows = load("services_bom_semicolon.csv")
    assert "TT" in rows[0]
    result = parse_services(rows, default_agency="bo-tu-phap", known_agencies=KNOWN)
    assert result.errors == []
    summary = [(r.row, r.agency_code, r.level, r.online_applications, r.total_applications)
               for r in result.rows]
    assert summary == [
        (2, "da-nang", 3, 1234, 2000),
        (3, "bo-tu-phap", 4, 0, 15),
    ]
    assert result.rows[0].name == "Đăng ký kết hôn"


def test_bad_csv_reports_every_bad_row_with_its_number() -> None:
    result = parse_services(load("services_bad.csv"), default_agency="ha-noi", known_agencies=KNOWN)
    by_row = errors_by_row(result)
    assert [r.row for r in result.rows] == [2]
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9]
    assert [(e.field, e.message) for e in by_row[3]] == [("name", "Thiếu tên dịch vụ")]
    assert [e.field for e in by_row[4]] == ["level"]
    assert by_row[4][0].message.startswith("Mức độ phải là 3 hoặc 4")
    assert "“5”" in by_row[4][0].message
    assert [e.field for e in by_row[5]] == ["url"]
    assert "http:// hoặc https://" in by_row[5][0].message
    assert [e.field for e in by_row[6]] == ["procedure_code"]
    assert "1.0001" in by_row[6][0].message
    assert [(e.field, e.message) for e in by_row[7]] == [
        ("url", "Địa chỉ trùng với dòng 2 của cùng cơ quan: “https://DVC.example.gov.vn/khai-sinh/”")
    ]
    assert [(e.field, e.message) for e in by_row[8]] == [("agency", "Không có cơ quan mã “tinh-khong-co”")]
    assert {e.field for e in by_row[9]} == {"online_applications", "total_applications"}
    assert all("số nguyên không âm" in e.message for e in by_row[9])


def test_same_url_in_two_agencies_is_not_a_duplicate() -> None:
    rows = [
        {"Tên dịch vụ": "A", "Mức độ": "3", "URL": "https://x.gov.vn/a", "Mã cơ quan": "ha-noi", ROW_KEY: 2},
        {"Tên dịch vụ": "B", "Mức độ": "3", "URL": "https://x.gov.vn/a", "Mã cơ quan": "da-nang", ROW_KEY: 3},
    ]
    result = parse_services(rows, default_agency=None, known_agencies=KNOWN)
    assert result.errors == []
    assert len(result.rows) == 2


def test_missing_agency_without_default_is_an_error() -> None:
    rows = [{"Tên dịch vụ": "A", "Mức độ": "3", "URL": "https://x.gov.vn/a", ROW_KEY: 7}]
    result = parse_services(rows, default_agency=None, known_agencies=KNOWN)
    assert [(e.row, e.field) for e in result.errors] == [(7, "agency")]


@pytest.mark.parametrize(
    "url",
    ["ftp://x.gov.vn/a", "dichvucong.gov.vn/a", "https://", "http:///path", "https://x.gov.vn/a b",
     "javascript:alert(1)", "https://x.gov.vn:99999/", "https://user:pw@x.gov.vn/", "https://x..gov.vn/",
     "https://intranet/", "https://-x.gov.vn/"],
)
def test_invalid_urls_are_rejected(url: str) -> None:
    rows = [{"Tên dịch vụ": "A", "Mức độ": "3", "URL": url, ROW_KEY: 2}]
    result = parse_services(rows, default_agency="ha-noi", known_agencies=KNOWN)
    assert [(e.row, e.field) for e in result.errors] == [(2, "url")]


@pytest.mark.parametrize(
    "url",
    ["https://dichvucong.gov.vn/p/home/dvc-tthc.html?ma=1.000178", "http://10.0.0.1:8080/dvc",
     "https://dịchvụcông.vn/", "http://[2001:db8::1]/", "http://localhost:5000/x", "HTTPS://DVC.GOV.VN"],
)
def test_valid_urls_are_accepted(url: str) -> None:
    rows = [{"Tên dịch vụ": "A", "Mức độ": "3", "URL": url, ROW_KEY: 2}]
    result = parse_services(rows, default_agency="ha-noi", known_agencies=KNOWN)
    assert result.errors == []
    assert result.rows[0].url == url


def test_errors_are_formatted_with_row_numbers() -> None:
    errors = [RowError(0, "url", "Không tìm thấy cột “Địa chỉ”"), RowError(5, "name", "Thiếu tên dịch vụ")]
    assert list(iter_errors_text(errors)) == ["Không tìm thấy cột “Địa chỉ”", "Dòng 5 — Thiếu tên dịch vụ"]


def test_name_longer_than_500_characters_is_rejected() -> None:
    rows = [
        {"Tên dịch vụ": "x" * 500, "Mức độ": "3", "URL": "https://x.gov.vn/a", ROW_KEY: 2},
        {"Tên dịch vụ": "x" * 501, "Mức độ": "3", "URL": "https://x.gov.vn/b", ROW_KEY: 3},
    ]
    result = parse_services(rows, default_agency="ha-noi", known_agencies=KNOWN)
    assert [r.row for r in result.rows] == [2]
    assert [(e.row, e.field) for e in result.errors] == [(3, "name")]


def test_online_more_than_total_is_rejected() -> None:
    rows = [{"Tên dịch vụ": "A", "Mức độ": "4", "URL": "https://x.gov.vn/a",
             "Số hồ sơ trực tuyến": "11", "Tổng số hồ sơ": "10", ROW_KEY: 4}]
    result = parse_services(rows, default_agency="ha-noi", known_agencies=KNOWN)
    assert [(e.row, e.field) for e in result.errors] == [(4, "online_applications")]


def test_missing_required_column_is_a_file_error() -> None:
    rows = [{"Tên dịch vụ": "A", "Mức độ": "3", ROW_KEY: 2}]
    result = parse_services(rows, default_agency="ha-noi", known_agencies=KNOWN)
    assert result.rows == []
    assert [(e.row, e.field) for e in result.errors] == [(0, "url")]
    assert "Địa chỉ" in result.errors[0].message


def test_two_columns_for_the_same_field_is_a_file_error() -> None:
    rows = [{"Tên dịch vụ": "A", "Mức độ": "3", "Địa chỉ": "https://a.gov.vn", "URL": "https://b.gov.vn",
             ROW_KEY: 2}]
    result = parse_services(rows, default_agency="ha-noi", known_agencies=KNOWN)
    assert [(e.row, e.field) for e in result.errors] == [(0, "url")]


def test_empty_file_is_reported() -> None:
    result = parse_services([], default_agency="ha-noi", known_agencies=KNOWN)
    assert [e.row for e in result.errors] == [0]


def test_xlsx_with_title_row_and_vietnamese_headers() -> None:
    data = xlsx_bytes([
        ["DANH MỤC DỊCH VỤ CÔNG TRỰC TUYẾN MỨC ĐỘ 3, 4 NĂM 2017"],
        [],
        ["STT", "Tên DVC trực tuyến (theo nhóm, lĩnh vực)", "Mức độ cung cấp (mức độ 3, 4)",
         "Tổng số hồ sơ tiếp nhận, xử lý trên môi trường mạng",
         "Tổng số hồ sơ thực tế tiếp nhận, xử lý (bao gồm cả trực tuyến, trực tiếp)",
         "Địa chỉ Internet", "Văn bản quy định"],
        ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)"],
        [1, "Cấp giấy phép lái xe", 4, 1500, 3000.0, "https://dichvucong.hcm.gov.vn/gplx", "QĐ 846/QĐ-TTg"],
        [],
        [2, "Đăng ký khai sinh", "Mức độ 3", 1.234, "2,000", "https://dichvucong.hcm.gov.vn/ks", None],
        [3, "Đăng ký kết hôn", 5, None, None, "https://dichvucong.hcm.gov.vn/kh", None],
    ])
    rows = read_table(data, "danh-muc.xlsx")
    assert [r[ROW_KEY] for r in rows] == [5, 7, 8]
    result = parse_services(rows, default_agency="ho-chi-minh", known_agencies=KNOWN)
    assert [(r.row, r.name, r.level, r.online_applications, r.total_applications) for r in result.rows] == [
        (5, "Cấp giấy phép lái xe", 4, 1500, 3000),
        (7, "Đăng ký khai sinh", 3, 1234, 2000),
    ]
    assert result.rows[0].legal_basis == "QĐ 846/QĐ-TTg"
    assert [(e.row, e.field) for e in result.errors] == [(8, "level")]


def test_xlsx_with_headers_without_diacritics() -> None:
    data = xlsx_bytes([
        ["Bao cao dich vu cong"],
        ["TEN DICH VU CONG", "MA THU TUC", "MUC DO", "DIA CHI TRUY CAP", "MA CO QUAN", "LINH VUC"],
        ["Dang ky ho kinh doanh", "2.000720", "toan trinh", "https://dvc.danang.gov.vn/hkd", "DA-NANG",
         "Kinh doanh"],
        ["Cap phep", "2.0007", "3", "https://dvc.danang.gov.vn/cp", "da-nang", None],
    ])
    result = parse_services(read_table(data, "bao-cao.XLSX"), default_agency=None, known_agencies=KNOWN)
    assert [(r.row, r.agency_code, r.level, r.procedure_code, r.field) for r in result.rows] == [
        (3, "da-nang", 4, "2.000720", "Kinh doanh"),
    ]
    assert [(e.row, e.field) for e in result.errors] == [(4, "procedure_code")]
    assert "văn bản" in result.errors[0].message


def test_windows_1258_csv_is_decoded() -> None:
    text = "Tên dịch vụ công;Mức độ;Địa chỉ\r\nĐăng ký hộ tịch trực tuyến;một phần;https://a.gov.vn/x\r\n"
    data = to_cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = parse_services(read_table(data, "old.csv"), default_agency="ha-noi", known_agencies=KNOWN)
    assert result.errors == []
    assert result.rows[0].name == "Đăng ký hộ tịch trực tuyến"
    assert result.rows[0].level == 3


def test_tab_separated_file_is_read() -> None:
    data = "Tên dịch vụ\tMức độ\tURL\nA, B và C\t4\thttps://a.gov.vn/x\n".encode()
    rows = read_table(data, "export.txt")
    assert rows == [{"Tên dịch vụ": "A, B và C", "Mức độ": "4", "URL": "https://a.gov.vn/x", ROW_KEY: 2}]


def test_size_limit() -> None:
    header = "Tên dịch vụ,Mức độ,URL\n".encode()
    data = header + b"x" * (MAX_IMPORT_BYTES - len(header) + 1)
    with pytest.raises(ImportTooLarge):
        read_table(data, "big.csv")
    with pytest.raises(ImportTooLarge):
        read_table(data, "big.xlsx")
    assert read_table(header + b"A,3,https://a.gov.vn\n", "ok.csv")[0][ROW_KEY] == 2


def test_broken_xlsx_and_old_xls_are_refused() -> None:
    with pytest.raises(ImportFileError):
        read_table(b"PK\x03\x04 not really a zip", "x.xlsx")
    with pytest.raises(ImportFileError):
        read_table(b"\xd0\xcf\x11\xe0", "x.xls")


# --------------------------------------------------------------------------- report figures


def test_report_2016_parses_every_row() -> None:
    path = FIXTURES / "report_2016.csv"
    with path.open(encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))
    known = {r["code"] for r in expected}
    result = parse_report(load("report_2016.csv"), period="2016", known_agencies=known)
    assert result.errors == []
    assert len(result.rows) == len(expected) == 90
    first = result.rows[0]
    assert first == ReportRow(
        row=2, agency_code="bo-cong-thuong", period="2016", services_l3=55, services_l4=12,
        online_applications=627702, it_infrastructure_index=1.0, it_internal_index=0.503,
        website_index=0.664, it_policy_index=0.657, it_hr_index=0.85,
    )
    by_code = {r.agency_code: r for r in result.rows}
    assert by_code["bo-giao-duc-va-dao-tao"].online_applications is None
    assert by_code["vien-han-lam-khoa-hoc-xa-hoi-viet-nam"].services_l3 is None
    assert by_code["ben-tre"].online_applications == 153
    assert [r.row for r in result.rows] == list(range(2, 92))


def test_report_with_semicolons_and_decimal_commas() -> None:
    data = (
        "code;year;services_l3;services_l4;online_applications;it_infrastructure_index;it_hr_index\n"
        "ha-noi;2016;1.234;12;10.309;0,942;1\n"
        "da-nang;2016;;;;;\n"
    ).encode("utf-8-sig")
    result = parse_report(read_table(data, "r.csv"), period="2016", known_agencies=KNOWN)
    assert result.errors == []
    hanoi = result.rows[0]
    assert (hanoi.services_l3, hanoi.online_applications) == (1234, 10309)
    assert hanoi.it_infrastructure_index == 0.942
    assert hanoi.it_hr_index == 1.0
    assert result.rows[1].services_l3 is None


def test_report_errors() -> None:
    data = (
        b"code,year,services_l3,services_l4,online_applications,website_index\n"
        b"ha-noi,2016,-1,2,3,1.2\n"
        b"khong-ton-tai,2016,1,2,3,0.5\n"
        b"da-nang,2015,1,2,3,0.5\n"
        b"bo-tu-phap,2016,1,2,3,0.5\n"
        b"bo-tu-phap,2016,1,2,3,0.5\n"
    )
    result = parse_report(read_table(data, "r.csv"), period="2016", known_agencies=KNOWN)
    assert [(e.row, e.field) for e in result.errors] == [
        (2, "services_l3"), (2, "website_index"), (3, "code"), (4, "year"), (6, "code"),
    ]
    assert "dòng 5" in result.errors[-1].message
    assert [r.agency_code for r in result.rows] == ["bo-tu-phap"]


def test_report_period_must_be_year_or_quarter() -> None:
    rows = [{"code": "ha-noi", "services_l3": "1", ROW_KEY: 2}]
    assert parse_report(rows, period="2018-Q1", known_agencies=KNOWN).rows[0].period == "2018-Q1"
    with pytest.raises(ValueError):
        parse_report(rows, period="năm 2016", known_agencies=KNOWN)


# --------------------------------------------------------------------------- templates


def test_template_headers_map_to_every_service_field() -> None:
    fields = [service_field_for_header(h) for h in TEMPLATE_HEADERS]
    assert None not in fields
    assert len(set(fields)) == len(fields) == 9


def test_template_csv_round_trips() -> None:
    text = template_csv()
    assert text.splitlines() == [",".join(TEMPLATE_HEADERS)]
    filled = (text + "Đăng ký khai sinh,1.001193,Hộ tịch,4,1,2,https://a.gov.vn/ks,,ha-noi\r\n").encode("utf-8-sig")
    result = parse_services(read_table(filled, "t.csv"), default_agency=None, known_agencies=KNOWN)
    assert result.errors == []
    assert result.rows[0].procedure_code == "1.001193"


def test_template_xlsx_round_trips() -> None:
    workbook = load_workbook(io.BytesIO(template_xlsx()))
    sheet = workbook.active
    header_row = next(r for r in range(1, 10) if sheet.cell(r, 1).value == TEMPLATE_HEADERS[0])
    assert [c.value for c in sheet[header_row]] == list(TEMPLATE_HEADERS)
    values = [
        "Đăng ký khai sinh", "1.001193", "Hộ tịch", "toàn trình", 5, 9, "https://a.gov.vn/ks", None, "ha-noi",
    ]
    for column, value in enumerate(values, start=1):
        sheet.cell(header_row + 1, column, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read_table(buffer.getvalue(), "t.xlsx")
    result = parse_services(rows, default_agency=None, known_agencies=KNOWN)
    assert result.errors == []
    assert [(r.row, r.level, r.online_applications) for r in result.rows] == [(header_row + 1, 4, 5)]


def test_xlsx_header_found_on_a_later_sheet_after_blank_rows_and_columns() -> None:
    workbook = Workbook()
    workbook.active.title = "Hướng dẫn"
    workbook.active["A1"] = "Điền danh mục ở trang sau"
    sheet = workbook.create_sheet("Danh mục")
    sheet["B4"], sheet["C4"], sheet["D4"] = "Tên dịch vụ", "Mức độ", "URL"
    sheet["B6"], sheet["C6"], sheet["D6"] = "Đăng ký tạm trú", 3, "https://a.gov.vn/tt"
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = read_table(buffer.getvalue(), "two-sheets.xlsx")
    assert rows == [
        {"Tên dịch vụ": "Đăng ký tạm trú", "Mức độ": "3", "URL": "https://a.gov.vn/tt", ROW_KEY: 6}
    ]
