"""Procedure catalogues: rows validated into ProcedureRow, with the scopes that must offer them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from portal.services.importing.headers import procedure_field_for_header
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
from portal.services.importing.values import parse_level, procedure_code, procedure_code_problem
from portal.text import fold

SCOPES = ("ministry", "province")


@dataclass(frozen=True)
class ProcedureRow:
    """One catalogue row: a procedure and the scopes (ministry, province) that must offer it online."""

    row: int
    code: str
    name: str
    scopes: tuple[str, ...]
    required_level: int
    field: str | None = None
    agency_code: str | None = None


_PROCEDURE_LABELS = {
    "code": "Mã thủ tục",
    "name": "Tên thủ tục",
    "field": "Lĩnh vực",
    "scope": "Phạm vi",
    "required_level": "Mức độ",
    "agency": "Cơ quan",
}


_BOTH_SCOPES = {"ca hai", "ca bo va tinh", "tat ca", "both", "all"}
_SCOPE_STARTS = {
    "province": ("tinh", "thanh pho", "dia phuong", "ubnd", "province", "provinces", "provincial"),
    "ministry": ("bo", "nganh", "trung uong", "co quan trung uong", "ministry", "ministries", "ministerial"),
}
_SCOPE_SPLIT_RE = re.compile(r"\s*(?:[,;/+&|]|\bva\b|\band\b)\s*")


def parse_scopes(text: str) -> tuple[str, ...]:
    """Parse a scope cell: "bộ", "bộ, ngành", "tỉnh, thành phố", "ministry", "bộ; tỉnh", "cả hai"; ValueError."""
    s = fold(text).strip(" .")
    if s in _BOTH_SCOPES:
        return SCOPES
    found: set[str] = set()
    for piece in _SCOPE_SPLIT_RE.split(s):
        piece = re.sub(r"^(cap|khoi|pham vi)\s+", "", piece.strip(" .()"))
        if not piece:
            continue
        words = piece.split()
        scope = next(
            (name for name, starts in _SCOPE_STARTS.items()
             if any(words[: len(start.split())] == start.split() for start in starts)),
            None,
        )
        if scope is None:
            raise ValueError(text)
        found.add(scope)
    if not found:
        raise ValueError(text)
    return tuple(s for s in SCOPES if s in found)


def parse_procedures(
    rows: Sequence[Row],
    *,
    agencies: Mapping[str, tuple[str, str]],
    default_scope: str | None = None,
) -> ParseResult[ProcedureRow]:
    """Validate procedure-catalogue rows read by read_table (columns: code, name, field, scope, level, agency).

    `agencies` maps an agency code, and its folded name, to (code, kind), for the optional column naming
    the agency responsible for a procedure. `default_scope` stands in for a missing or blank scope column.
    """
    result: ParseResult[ProcedureRow] = ParseResult()
    if default_scope is not None and default_scope not in SCOPES:
        raise ValueError(f"default_scope must be one of {SCOPES}, not {default_scope!r}")
    if not rows:
        result.errors.append(RowError(0, "", "Tệp không có dòng dữ liệu nào"))
        return result
    columns, result.errors = map_columns(rows, procedure_field_for_header, _PROCEDURE_LABELS)
    required = ["code", "name", "required_level"] + ([] if default_scope else ["scope"])
    for name in required:
        if name not in columns:
            result.errors.append(RowError(0, name, f"Không tìm thấy cột “{_PROCEDURE_LABELS[name]}”"))
    if result.errors:
        return result

    seen_entries: dict[tuple[str, str], int] = {}
    seen_names: dict[str, tuple[str, int]] = {}
    for position, row in enumerate(rows):
        number = row_number(row, position)
        errors: list[RowError] = []
        error = error_collector(errors, number)

        code = procedure_code(row_text(row, columns, "code")) or ""
        if not code:
            error("code", "Thiếu mã thủ tục")
        elif problem := procedure_code_problem(code):
            error("code", problem)

        name = row_text(row, columns, "name")
        if not name:
            error("name", "Thiếu tên thủ tục")
        elif len(name) > MAX_NAME_LENGTH:
            error("name", f"Tên thủ tục dài quá {MAX_NAME_LENGTH} ký tự ({len(name)} ký tự)")
        elif code and code in seen_names and fold(seen_names[code][0]) != fold(name):
            first_name, first_row = seen_names[code]
            error("name", f"Mã {code} ở dòng {first_row} có tên khác: “{first_name}”")

        scope_text = row_text(row, columns, "scope")
        scopes: tuple[str, ...] = ()
        if not scope_text and default_scope:
            scopes = (default_scope,)
        elif not scope_text:
            error("scope", "Thiếu phạm vi (bộ hoặc tỉnh)")
        else:
            try:
                scopes = parse_scopes(scope_text)
            except ValueError:
                error("scope", f"Phạm vi phải là “bộ” (bộ, ngành) hoặc “tỉnh” (tỉnh, thành phố), "
                               f"không phải “{scope_text}”")

        level_text = row_text(row, columns, "required_level")
        level = 0
        if not level_text:
            error("required_level", "Thiếu mức độ yêu cầu (3 hoặc 4)")
        else:
            try:
                level = parse_level(level_text)
            except ValueError:
                error("required_level", f"Mức độ phải là 3 hoặc 4 (hoặc “một phần”, “toàn trình”), "
                                        f"không phải “{level_text}”")

        agency_text = row_text(row, columns, "agency")
        agency_code: str | None = None
        if agency_text:
            match = agencies.get(agency_text.lower()) or agencies.get(fold(agency_text))
            if match is None:
                error("agency", f"Không có cơ quan “{agency_text}”")
            else:
                agency_code, kind = match
                expected = "province" if kind == "province" else "ministry"
                if scopes and any(s != expected for s in scopes):
                    error("agency", f"Cơ quan “{agency_text}” không thuộc phạm vi "
                                    f"{'tỉnh' if 'province' in scopes else 'bộ, ngành'} của thủ tục")

        if code and not errors:
            for scope in scopes:
                key = (code, scope)
                if key in seen_entries:
                    error("code", f"Thủ tục {code} ({'tỉnh' if scope == 'province' else 'bộ'}) "
                                  f"đã có ở dòng {seen_entries[key]}")
                else:
                    seen_entries[key] = number
        if errors:
            result.errors.extend(errors)
            continue
        seen_names.setdefault(code, (name, number))
        result.rows.append(ProcedureRow(
            row=number, code=code, name=name, scopes=scopes, required_level=level,
            field=row_text(row, columns, "field") or None, agency_code=agency_code,
        ))
    return result
