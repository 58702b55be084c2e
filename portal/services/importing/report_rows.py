"""Official per-agency report figures and the Government Office's quarterly table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from portal.services import periods
from portal.services.importing.headers import REPORT_FIELDS, REPORT_INDEX_FIELDS, report_field_for_header
from portal.services.importing.tables import (
    HEADER_SCAN_ROWS,
    ParseResult,
    Row,
    RowError,
    is_footer_line,
    map_columns,
    row_number,
    row_text,
)
from portal.services.importing.values import parse_count, parse_index
from portal.text import fold


@dataclass(frozen=True)
class ReportRow:
    row: int
    agency_code: str
    period: str
    services_l3: int | None = None
    services_l4: int | None = None
    online_applications: int | None = None
    it_infrastructure_index: float | None = None
    it_internal_index: float | None = None
    website_index: float | None = None
    it_policy_index: float | None = None
    it_hr_index: float | None = None


_REPORT_LABELS = {
    "code": "Mã cơ quan (code)",
    "year": "Năm (year)",
    "services_l3": "Số DVC mức độ 3",
    "services_l4": "Số DVC mức độ 4",
    "online_applications": "Số hồ sơ trực tuyến",
    "it_infrastructure_index": "Chỉ số hạ tầng kỹ thuật",
    "it_internal_index": "Chỉ số ứng dụng nội bộ",
    "website_index": "Chỉ số trang/cổng thông tin điện tử",
    "it_policy_index": "Chỉ số cơ chế, chính sách",
    "it_hr_index": "Chỉ số nguồn nhân lực",
}


def parse_report(rows: Sequence[Row], *, period: str, known_agencies: set[str]) -> ParseResult[ReportRow]:
    """Validate per-agency report figures (columns as in report_2016.csv) for period "2016" or "2018-Q1"."""
    if not periods.is_period(period):
        raise ValueError(f"period must look like 2016 or 2018-Q1, not {period!r}")
    result: ParseResult[ReportRow] = ParseResult()
    if not rows:
        result.errors.append(RowError(0, "", "Tệp không có dòng dữ liệu nào"))
        return result
    columns, result.errors = map_columns(rows, report_field_for_header, _REPORT_LABELS)
    if "code" not in columns:
        result.errors.append(RowError(0, "code", f"Không tìm thấy cột “{_REPORT_LABELS['code']}”"))
    if not any(f in columns for f in REPORT_FIELDS):
        result.errors.append(RowError(0, "", "Không tìm thấy cột số liệu nào"))
    if result.errors:
        return result

    seen: dict[str, int] = {}
    for position, row in enumerate(rows):
        number = row_number(row, position)
        errors: list[RowError] = []
        code = row_text(row, columns, "code").lower()
        if not code:
            errors.append(RowError(number, "code", "Thiếu mã cơ quan"))
        elif code not in known_agencies:
            errors.append(RowError(number, "code", f"Không có cơ quan mã “{code}”"))
        elif code in seen:
            errors.append(RowError(number, "code", f"Cơ quan “{code}” đã có ở dòng {seen[code]}"))
        else:
            seen[code] = number

        year = row_text(row, columns, "year")
        if year and year != period and year != period[:4] and _normalized(year) != period:
            errors.append(RowError(number, "year", f"Kỳ báo cáo “{year}” không khớp kỳ đang nhập {period}"))

        values: dict[str, int | float | None] = {}
        for name in REPORT_FIELDS:
            raw = row_text(row, columns, name)
            values[name] = None
            if not raw:
                continue
            try:
                values[name] = parse_index(raw) if name in REPORT_INDEX_FIELDS else parse_count(raw)
            except ValueError:
                expected = "một số từ 0 đến 1" if name in REPORT_INDEX_FIELDS else "số nguyên không âm"
                message = f"{_REPORT_LABELS[name]} phải là {expected}, không phải “{raw}”"
                errors.append(RowError(number, name, message))

        if errors:
            result.errors.extend(errors)
            continue
        result.rows.append(ReportRow(row=number, agency_code=code, period=period, **values))  # type: ignore[arg-type]
    return result


QUARTERLY_FIELDS = ("services_l3", "services_l4", "new_services_l3", "new_services_l4", "received_l3",
                    "received_l4", "online_l3", "online_l4")
_QUARTERLY_GROUPS = (("so luong dvctt muc 3", "services"), ("so luong dvctt hien", "services"),
                     ("so luong dvctt xay dung", "new_services"), ("so luong hs tiep nhan", "online"),
                     ("so luong ho so tiep nhan", "online"), ("tong so hs", "received"), ("tong so ho so", "received"))
_QUARTERLY_LABELS = {
    "services_l3": "Số DVCTT mức 3 hiện có", "services_l4": "Số DVCTT mức 4 hiện có",
    "new_services_l3": "Số DVCTT mức 3 triển khai trong quý", "new_services_l4": "Số DVCTT mức 4 triển khai trong quý",
    "received_l3": "Tổng số hồ sơ mức 3", "received_l4": "Tổng số hồ sơ mức 4",
    "online_l3": "Số hồ sơ trực tuyến mức 3", "online_l4": "Số hồ sơ trực tuyến mức 4",
}
_TITLE_PERIOD_RE = re.compile(r"(quy\s+(?:iv|iii|ii|i|[1-4])\s*/\s*\d{4})")


@dataclass(frozen=True)
class QuarterlyRow:
    """One agency's row of the quarterly table; figures None when the agency did not report."""

    row: int
    agency: str
    figures: dict[str, int | None]
    note: str | None = None


@dataclass
class QuarterlyTable:
    period: str | None = None
    rows: list[QuarterlyRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def _quarterly_columns(top: Sequence[str], sub: Sequence[str]) -> dict[int, str]:
    columns: dict[int, str] = {}
    group = ""
    for index in range(max(len(top), len(sub))):
        head = fold(top[index]) if index < len(top) else ""
        below = fold(sub[index]) if index < len(sub) else ""
        if head:
            group = next((name for start, name in _QUARTERLY_GROUPS if head.startswith(start)), head)
        if head in ("co quan", "ten co quan", "don vi"):
            columns[index] = "agency"
        elif head.startswith("ghi chu"):
            columns[index] = "note"
        elif group in ("services", "new_services", "online", "received") and (level := re.search(r"[34]", below)):
            columns[index] = f"{group}_l{level.group(0)}"
    return columns


def parse_quarterly(grid: Sequence[Sequence[str]]) -> QuarterlyTable:
    """Read the quarterly table as /admin/reports/<period>.xlsx writes it (a title naming the quarter, a
    two-level header, one row per agency). Rows without any figure are agencies that did not report."""
    table = QuarterlyTable()
    grid = [[c.strip().replace("\xa0", " ") for c in row] for row in grid]
    header_at = next((i for i, row in enumerate(grid[:HEADER_SCAN_ROWS])
                      if any(fold(c) == "co quan" for c in row)), None)
    if header_at is None or header_at + 1 >= len(grid):
        table.errors.append(RowError(0, "", "Không tìm thấy dòng tiêu đề có cột “Cơ quan”"))
        return table
    for row in grid[:header_at]:
        for cell in row:
            if match := _TITLE_PERIOD_RE.search(fold(cell)):
                table.period = periods.normalize(match.group(1))
    columns = _quarterly_columns(grid[header_at], grid[header_at + 1])
    missing = [f for f in QUARTERLY_FIELDS if f not in columns.values()]
    if "agency" not in columns.values() or missing:
        names = ", ".join(_QUARTERLY_LABELS[f] for f in missing) or "Cơ quan"
        table.errors.append(RowError(0, "", f"Thiếu cột: {names}"))
        return table
    in_footer = False
    for index in range(header_at + 2, len(grid)):
        cells, number = grid[index], index + 1
        filled = [c for c in cells if c]
        if not filled:
            continue
        if is_footer_line(cells) or (in_footer and len(filled) <= 2):
            in_footer = True
            table.skipped.append(number)
            continue
        values = {name: (cells[i] if i < len(cells) else "") for i, name in columns.items()}
        figures: dict[str, int | None] = {}
        for name in QUARTERLY_FIELDS:
            raw = values.get(name, "")
            figures[name] = None
            if raw:
                try:
                    figures[name] = parse_count(raw)
                except ValueError:
                    table.errors.append(RowError(number, name, (
                        f"{_QUARTERLY_LABELS[name]} phải là số nguyên không âm, không phải “{raw}”")))
        if not values.get("agency"):
            table.errors.append(RowError(number, "agency", "Thiếu tên cơ quan"))
            continue
        given = [v for v in figures.values() if v is not None]
        if given and len(given) < len(QUARTERLY_FIELDS):
            absent = ", ".join(_QUARTERLY_LABELS[n] for n, v in figures.items() if v is None)
            table.errors.append(RowError(number, "", f"Thiếu số liệu: {absent}"))
        table.rows.append(QuarterlyRow(number, values["agency"], figures if given else {},
                                       values.get("note") or None))
    return table


def _normalized(period: str) -> str | None:
    try:
        return periods.normalize(period)
    except ValueError:
        return None
