"""An agency's service list: rows validated into ServiceRow, and the reporting template."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from portal.services.addresses import url_key
from portal.services.importing.headers import service_field_for_header
from portal.services.importing.tables import (
    MAX_NAME_LENGTH,
    ParseResult,
    Row,
    RowError,
    error_collector,
    map_columns,
    row_number,
    row_text,
)
from portal.services.importing.values import check_url, parse_count, parse_level, procedure_code, procedure_code_problem


@dataclass(frozen=True)
class ServiceRow:
    row: int
    agency_code: str
    name: str
    level: int
    url: str
    procedure_code: str | None = None
    field: str | None = None
    online_applications: int | None = None
    total_applications: int | None = None
    legal_basis: str | None = None


_SERVICE_LABELS = {
    "name": "Tên dịch vụ",
    "level": "Mức độ",
    "url": "Địa chỉ trên Internet",
    "online_applications": "Số hồ sơ trực tuyến",
    "total_applications": "Tổng số hồ sơ",
    "legal_basis": "Căn cứ pháp lý",
    "procedure_code": "Mã thủ tục",
    "field": "Lĩnh vực",
    "agency": "Mã cơ quan",
}
_REQUIRED_SERVICE_COLUMNS = ("name", "level", "url")


def parse_services(
    rows: Sequence[Row], *, default_agency: str | None, known_agencies: set[str]
) -> ParseResult[ServiceRow]:
    """Validate service rows read by read_table; every bad row is reported, valid rows are returned."""
    result: ParseResult[ServiceRow] = ParseResult()
    if not rows:
        result.errors.append(RowError(0, "", "Tệp không có dòng dữ liệu nào"))
        return result
    columns, result.errors = map_columns(rows, service_field_for_header, _SERVICE_LABELS)
    for required in _REQUIRED_SERVICE_COLUMNS:
        if required not in columns:
            result.errors.append(RowError(0, required, f"Không tìm thấy cột “{_SERVICE_LABELS[required]}”"))
    if result.errors:
        return result

    seen_urls: dict[tuple[str, str], int] = {}
    for position, row in enumerate(rows):
        number = row_number(row, position)
        errors: list[RowError] = []
        error = error_collector(errors, number)

        name = row_text(row, columns, "name")
        if not name:
            error("name", "Thiếu tên dịch vụ")
        elif len(name) > MAX_NAME_LENGTH:
            error("name", f"Tên dịch vụ dài quá {MAX_NAME_LENGTH} ký tự ({len(name)} ký tự)")

        level_text = row_text(row, columns, "level")
        level = 0
        if not level_text:
            error("level", "Thiếu mức độ (3 hoặc 4)")
        else:
            try:
                level = parse_level(level_text)
            except ValueError:
                error(
                    "level",
                    f"Mức độ phải là 3 hoặc 4 (hoặc “một phần”, “toàn trình”), không phải “{level_text}”",
                )

        agency = row_text(row, columns, "agency").lower() or (default_agency or "")
        if not agency:
            error("agency", "Thiếu mã cơ quan (thêm cột “Mã cơ quan” hoặc chọn cơ quan khi nhập)")
        elif agency not in known_agencies:
            error("agency", f"Không có cơ quan mã “{agency}”")

        url = row_text(row, columns, "url")
        if not url:
            error("url", "Thiếu địa chỉ trên Internet")
        elif problem := check_url(url):
            error("url", f"{problem}: “{url}”")
        elif agency:
            key = (agency, url_key(url))
            if key in seen_urls:
                error("url", f"Địa chỉ trùng với dòng {seen_urls[key]} của cùng cơ quan: “{url}”")
            else:
                seen_urls[key] = number

        code = procedure_code(row_text(row, columns, "procedure_code"))
        if code and (problem := procedure_code_problem(code)):
            error("procedure_code", problem)

        counts: dict[str, int | None] = {}
        for count_field in ("online_applications", "total_applications"):
            raw = row_text(row, columns, count_field)
            counts[count_field] = None
            if raw:
                try:
                    counts[count_field] = parse_count(raw)
                except ValueError:
                    label = _SERVICE_LABELS[count_field]
                    error(count_field, f"{label} phải là số nguyên không âm, không phải “{raw}”")
        online, total = counts["online_applications"], counts["total_applications"]
        if online is not None and total is not None and online > total:
            error("online_applications", f"Số hồ sơ trực tuyến ({online}) lớn hơn tổng số hồ sơ ({total})")

        if errors:
            result.errors.extend(errors)
            continue
        result.rows.append(ServiceRow(
            row=number, agency_code=agency, name=name, level=level, url=url, procedure_code=code,
            field=row_text(row, columns, "field") or None, online_applications=online,
            total_applications=total, legal_basis=row_text(row, columns, "legal_basis") or None,
        ))
    return result


TEMPLATE_HEADERS = (
    "Tên dịch vụ công",
    "Mã thủ tục",
    "Lĩnh vực",
    "Mức độ",
    "Số hồ sơ trực tuyến",
    "Tổng số hồ sơ",
    "Địa chỉ trên Internet",
    "Căn cứ pháp lý",
    "Mã cơ quan",
)
TEMPLATE_TITLE = "DANH MỤC DỊCH VỤ CÔNG TRỰC TUYẾN"
TEMPLATE_NOTE = (
    "Mức độ: 3 (một phần) hoặc 4 (toàn trình). Mã thủ tục theo Cơ sở dữ liệu quốc gia, ví dụ 1.000178. "
    "Mã cơ quan có thể bỏ trống nếu chọn cơ quan khi nhập."
)


def template_csv() -> str:
    """Blank CSV template; encode it as utf-8-sig so that Excel shows the diacritics."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(TEMPLATE_HEADERS)
    return buffer.getvalue()


def template_xlsx() -> bytes:
    """Blank XLSX template: a title, a note, the header row, and text-formatted code columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Dịch vụ công"
    sheet["A1"] = TEMPLATE_TITLE
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = TEMPLATE_NOTE
    sheet["A2"].font = Font(italic=True)
    header_row = 4
    widths = {"Tên dịch vụ công": 60, "Địa chỉ trên Internet": 50, "Căn cứ pháp lý": 40}
    for column, header in enumerate(TEMPLATE_HEADERS, start=1):
        cell = sheet.cell(row=header_row, column=column, value=header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = widths.get(header, 18)
        if header in ("Mã thủ tục", "Mã cơ quan"):
            for row in range(header_row + 1, header_row + 501):
                sheet.cell(row=row, column=column).number_format = "@"
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def iter_errors_text(errors: Iterable[RowError]) -> Iterator[str]:
    """Format errors one a line as officers see them: "Dòng 5 — Mức độ phải là 3 hoặc 4 …"."""
    for err in errors:
        yield f"Dòng {err.row} — {err.message}" if err.row else err.message
