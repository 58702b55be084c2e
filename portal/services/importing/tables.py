"""Reading a CSV or XLSX file into rows keyed by header: limits, encodings, the header row, footer lines."""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

from portal.services import spreadsheets
from portal.services.importing.headers import header_score
from portal.text import fold

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
MAX_NAME_LENGTH = 500
ROW_KEY = "_row"
HEADER_SCAN_ROWS = 30

Row = dict[str, str | int]


class Table(list):
    """The data rows read from a file (dicts keyed by header); `skipped` holds the numbers of the
    signature and footer lines under the table that were left out."""

    skipped: list[int]

    def __init__(self, rows: Iterable[Row] = (), skipped: Iterable[int] = ()) -> None:
        super().__init__(rows)
        self.skipped = list(skipped)


T = TypeVar("T")


class ImportFileError(ValueError):
    """The file cannot be read as a table; the message is meant for the officer."""


class ImportTooLarge(ImportFileError):
    """The file is bigger than MAX_IMPORT_BYTES or has more than MAX_IMPORT_ROWS rows."""


@dataclass(frozen=True)
class RowError:
    """A problem in one spreadsheet row (row 0 means the file as a whole, e.g. a missing column)."""

    row: int
    field: str
    message: str


@dataclass
class ParseResult(Generic[T]):
    rows: list[T] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_table(data: bytes, filename: str, limits: spreadsheets.ReadLimits | None = None) -> Table:
    """Read a CSV or XLSX file into one dict per data row, keyed by header, plus ROW_KEY → row number.

    The header row is the first row (within the first HEADER_SCAN_ROWS) that names the most known
    columns; blank rows are skipped but keep their numbering, and so are signature and footer lines
    under the table (listed in `Table.skipped`). Raises ImportTooLarge or ImportFileError.
    """
    return _rows_from_grid(read_grid(data, filename, limits))


def read_grid(data: bytes, filename: str, limits: spreadsheets.ReadLimits | None = None) -> list[list[str]]:
    """The cells of a CSV or XLSX file as text, row by row (the first sheet with a known header).

    An XLSX is checked by spreadsheets.check_xlsx within `limits` (the application's settings by default)
    before it is parsed.
    Raises ImportTooLarge or ImportFileError.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportTooLarge(
            f"Tệp quá lớn ({len(data) / 1024 / 1024:.1f} MB); giới hạn là "
            f"{MAX_IMPORT_BYTES // 1024 // 1024} MB"
        )
    name = filename.lower()
    if name.endswith(".xls"):
        raise ImportFileError("Không hỗ trợ định dạng .xls cũ; hãy lưu lại thành .xlsx hoặc .csv")
    is_zip = data[:4] == b"PK\x03\x04"
    if name.endswith((".xlsx", ".xlsm")) or (is_zip and not name.endswith((".csv", ".txt"))):
        grid = _xlsx_grid(data, limits or spreadsheets.configured_limits(
            max_rows=MAX_IMPORT_ROWS, header_rows=HEADER_SCAN_ROWS))
    else:
        grid = _csv_grid(_decode(data))
    return grid


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    elif data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="strict")
    else:
        for encoding in ("utf-8", "cp1258", "cp1252"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            text = data.decode("latin-1")
    return unicodedata.normalize("NFC", text)


def _csv_grid(text: str) -> list[list[str]]:
    candidates = []
    for delimiter in (",", ";", "\t"):
        try:
            grid = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
        except csv.Error as exc:
            raise ImportFileError(f"Không đọc được tệp CSV: {exc}") from exc
        header_at = _find_header(grid)
        score = header_score(grid[header_at]) if header_at is not None else 0
        widths = [len(r) for r in grid[:HEADER_SCAN_ROWS] if len(r) > 1]
        consistency = max((widths.count(w) for w in set(widths)), default=0)
        candidates.append((score, consistency, -len(candidates), grid))
    return max(candidates, key=lambda c: c[:3])[3]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value))


def _xlsx_grid(data: bytes, limits: spreadsheets.ReadLimits) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        deadline = spreadsheets.check_xlsx(data, limits)
    except spreadsheets.SpreadsheetRefused as exc:
        raise (ImportTooLarge if exc.too_large else ImportFileError)(str(exc)) from None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError("Không đọc được tệp XLSX (tệp hỏng hoặc không phải Excel)") from exc
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl trips on, the officer gets a message
        raise ImportFileError(str(spreadsheets.invalid(type(exc).__name__))) from exc
    try:
        fallback: list[list[str]] | None = None
        for sheet in workbook.worksheets:
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()
            rows = sheet.iter_rows(max_row=limits.max_rows + limits.header_rows, max_col=limits.max_columns,
                                   values_only=True)
            grid = _limited([_cell_text(v) for v in row] for row in _before(rows, deadline, limits.seconds))
            if _find_header(grid) is not None:
                return grid
            if fallback is None:
                fallback = grid
        return fallback or []
    except ImportFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed part openpyxl cannot read: a message, not a 500
        raise ImportFileError(str(spreadsheets.invalid(type(exc).__name__))) from exc
    finally:
        workbook.close()


def _before(rows: Iterable[T], deadline: float, seconds: float) -> Iterator[T]:
    """The rows, until the time budget of the read runs out (then ImportTooLarge)."""
    for count, row in enumerate(rows):
        if count % 500 == 0 and time.monotonic() > deadline:
            raise ImportTooLarge(f"Đọc tệp quá {seconds:g} giây; hãy chia tệp thành nhiều phần.")
        yield row


def _limited(rows: Iterable[list[str]]) -> list[list[str]]:
    grid = []
    for row in rows:
        grid.append(row)
        if len(grid) > MAX_IMPORT_ROWS + HEADER_SCAN_ROWS:
            raise ImportTooLarge(f"Tệp có quá nhiều dòng; giới hạn là {MAX_IMPORT_ROWS} dòng")
    return grid


def _find_header(grid: Sequence[Sequence[str]]) -> int | None:
    best_at, best_score = None, 1
    for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        score = header_score([str(c) for c in row])
        if score > best_score:
            best_at, best_score = index, score
    return best_at


_NUMBERING_ROW_RE = re.compile(r"^(\(\d+\)|\.+|…+)$")
_FOOTER_RE = re.compile(
    r"^\(?\s*(nguoi lap|lap bieu|thu truong|ky\b|da ky|xac nhan|giam doc|pho giam doc|chu tich|pho chu tich|"
    r"ke toan|truong phong|noi nhan|kt\.|tm\.|tl\.|tong cong)"
    r"|\bngay\b.*\bthang\b.*\bnam\b|^\d{1,2}/\d{1,2}/\d{4}$"
)
FOOTER_MAX_CELLS = 4  # a signature line has a few cells, never an address; under it only the signers' names


def is_footer_line(cells: Sequence[str]) -> bool:
    """A signature or footer line under a table ("Người lập biểu", "Hà Nội, ngày 5 tháng 1 năm 2027")."""
    filled = [fold(c) for c in cells if c]
    return (0 < len(filled) <= FOOTER_MAX_CELLS and any(_FOOTER_RE.search(c) for c in filled)
            and not any(c.startswith(("http://", "https://")) for c in filled))


def _rows_from_grid(grid: list[list[str]]) -> Table:
    grid = [[c.strip().strip("\ufeff").replace("\xa0", " ").strip() for c in row] for row in grid]
    header_at = _find_header(grid)
    if header_at is None:
        header_at = next((i for i, row in enumerate(grid) if any(row)), None)
        if header_at is None:
            return Table()
    headers: list[str] = []
    seen: dict[str, int] = {}
    for cell in grid[header_at]:
        key = " ".join(cell.split())
        if key:
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                key = f"{key} ({seen[key]})"
        headers.append(key)
    rows = Table()
    in_footer = False
    for index in range(header_at + 1, len(grid)):
        cells = grid[index]
        filled = [c for c in cells if c]
        if not filled or all(_NUMBERING_ROW_RE.match(c) for c in filled):
            continue
        if is_footer_line(cells) or (in_footer and len(filled) <= 2):
            in_footer = True
            rows.skipped.append(index + 1)
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ImportTooLarge(f"Tệp có quá nhiều dòng; giới hạn là {MAX_IMPORT_ROWS} dòng")
        row: Row = {h: "" for h in headers if h}
        for header, value in zip(headers, cells, strict=False):
            if header:
                row[header] = value
        row[ROW_KEY] = index + 1
        rows.append(row)
    return rows


# Helpers of the row parsers (services, reports, procedures)


def map_columns(
    rows: Sequence[Row], mapper: Callable[[str], str | None], labels: Mapping[str, str]
) -> tuple[dict[str, str], list[RowError]]:
    columns: dict[str, str] = {}
    errors: list[RowError] = []
    headers = [h for h in rows[0] if h != ROW_KEY] if rows else []
    for header in headers:
        target = mapper(header)
        if target is None:
            continue
        if target in columns:
            errors.append(RowError(0, target, (
                f"Có hai cột cùng là “{labels.get(target, target)}”: “{columns[target]}” và “{header}”"
            )))
        else:
            columns[target] = header
    return columns, errors


def row_number(row: Row, position: int) -> int:
    value = row.get(ROW_KEY)
    return value if isinstance(value, int) else position + 2


def row_text(row: Row, columns: Mapping[str, str], name: str) -> str:
    header = columns.get(name)
    return " ".join(str(row.get(header, "")).split()) if header else ""


def error_collector(errors: list[RowError], number: int) -> Callable[[str, str], None]:
    def error(name: str, message: str) -> None:
        errors.append(RowError(number, name, message))

    return error
