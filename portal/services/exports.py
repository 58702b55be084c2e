"""CSV and XLSX exports, safe to open in a spreadsheet (no formula injection)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")


# what spreadsheets may also take for = + - @: minus and dash signs, heavy plus/minus/equals (NFKC maps the
# fullwidth and small forms, ＝ ﹦ ＋ ﹢ － ﹣ ＠ ﹫, to their ASCII letters)
_LOOKALIKES = frozenset("\u2212\u2010\u2011\u2012\u2013\u2014\u2015\u2796\u2795\u229c\u2261\ua78a")
_BLANKS = " \u00a0\u2007\u202f\u3000"


def _formula_like(first: str) -> bool:
    return first in _LOOKALIKES or unicodedata.normalize("NFKC", first).startswith(_FORMULA_STARTS)


def neutralise(text: str) -> str:
    """Prefix a text cell with ' if a spreadsheet could read it as a formula — after leading blanks, and
    from fullwidth or other lookalikes of = + - @ too ('-12.5' stays a number)."""
    first = text.lstrip(_BLANKS)[:1]
    if first and _formula_like(first) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return neutralise(str(value))


def _csv_line(writer: Any, buffer: io.StringIO, row: Iterable[Any]) -> str:
    buffer.seek(0)
    buffer.truncate()
    writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue()


def iter_csv(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Yield a CSV file line by line (BOM first, CRLF line ends), for a streamed response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield BOM + _csv_line(writer, buffer, header)
    for row in rows:
        yield _csv_line(writer, buffer, row)


def to_csv(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> str:
    """The whole CSV file as text, UTF-8 BOM included so that Excel reads Vietnamese correctly."""
    return "".join(iter_csv(header, rows))


def _sheet_title(title: str) -> str:
    cleaned = _SHEET_TITLE_FORBIDDEN.sub(" ", title).strip().strip("'")
    return cleaned[:31] or "Sheet1"


def _xlsx_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)  # Excel has no time zones: UTC
    if isinstance(value, bool | int | float | Decimal | dt.date | dt.datetime | dt.time) or value is None:
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value))))
    cell.data_type = "s"
    return cell


def to_xlsx(header: Sequence[Any], rows: Iterable[Iterable[Any]], sheet_title: str = "Sheet1") -> bytes:
    """An XLSX workbook with one sheet, written in openpyxl's write-only (streaming) mode."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    sheet.append([_xlsx_cell(sheet, v) for v in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
