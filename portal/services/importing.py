"""Reading and validating bulk imports: agencies' service lists and official report figures.

Pure functions over bytes and plain values; writing to the database is the caller's job.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from portal.services import periods, spreadsheets
from portal.services.addresses import url_key

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
MAX_NAME_LENGTH = 500
ROW_KEY = "_row"
HEADER_SCAN_ROWS = 30

PROCEDURE_CODE_RE = re.compile(r"^[12]\.\d{6}(\.[A-Z0-9]+)?$")
FULL_PROCEDURE_CODE_RE = re.compile(r"^([12]\.\d{6})\.\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")

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


@dataclass
class ParseResult(Generic[T]):
    rows: list[T] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------- header mapping


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ → d) and collapse whitespace."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.lower().split())


_NUMBERING_RE = re.compile(r"^(\(?\d+(\.\d+)*[.)]?|[a-z]\)|[ivx]+\.)\s*[-–:]?\s+")
_PARENS_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def normalize_header(header: str) -> str:
    """Fold a column header and drop numbering ("1. "), notes in brackets and punctuation."""
    text = fold(header)
    text = _PARENS_RE.sub(" ", text)
    text = _NUMBERING_RE.sub("", text.strip())
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


_SERVICE_ALIASES: dict[str, set[str]] = {
    "name": {
        "ten dich vu cong", "ten dich vu", "ten thu tuc hanh chinh", "ten thu tuc", "ten tthc",
        "ten dvc", "ten dvc truc tuyen", "ten dvctt", "ten dich vu cong truc tuyen",
        "name", "service", "service name",
    },
    "level": {"muc do", "muc", "muc do cung cap", "muc do dvc", "level", "service level"},
    "online_applications": {
        "so ho so truc tuyen", "so ho so tiep nhan truc tuyen", "online applications",
    },
    "total_applications": {
        "tong so ho so", "so ho so tiep nhan", "all applications", "total applications",
        "applications",
    },
    "url": {
        "dia chi", "dia chi tren internet", "dia chi internet", "dia chi truy cap", "url", "link",
        "duong dan", "duong link", "address", "internet address", "website",
    },
    "legal_basis": {"can cu phap ly", "van ban quy dinh", "legal basis"},
    "procedure_code": {
        "ma thu tuc", "ma tthc", "ma thu tuc hanh chinh", "ma so thu tuc", "procedure code",
    },
    "field": {"linh vuc", "field"},
    "agency": {"ma co quan", "ma don vi", "agency", "agency code"},
}


def _service_rule(h: str) -> str | None:
    words = h.split()
    if h.startswith("ten ") and any(k in h for k in ("dich vu", "thu tuc", "tthc", "dvc")):
        return "name"
    if words[:1] == ["muc"]:
        return "level"
    if h.startswith("ma ") and any(k in h for k in ("thu tuc", "tthc")):
        return "procedure_code"
    if h.startswith(("ma co quan", "ma don vi")):
        return "agency"
    if h.startswith("dia chi"):
        return "url"
    if h.startswith(("can cu", "van ban")):
        return "legal_basis"
    if h.startswith("linh vuc"):
        return "field"
    if "ho so" in h or "applications" in words:
        if any(k in h for k in ("truc tuyen", "moi truong mang", "qua mang", "online")):
            return "online_applications"
        return "total_applications"
    return None


_REPORT_FIELDS = (
    "services_l3", "services_l4", "online_applications", "it_infrastructure_index",
    "it_internal_index", "website_index", "it_policy_index", "it_hr_index",
)
_REPORT_INDEX_FIELDS = frozenset(f for f in _REPORT_FIELDS if f.endswith("_index"))

_REPORT_ALIASES: dict[str, set[str]] = {
    "code": {"code", "agency code", "agency", "ma co quan", "ma don vi"},
    "year": {"year", "nam", "period", "ky bao cao"},
    **{f: {f.replace("_", " ")} for f in _REPORT_FIELDS},
}
_REPORT_ALIASES["services_l3"] |= {"so dvc muc do 3", "so dvctt muc do 3", "dvc muc do 3", "muc do 3"}
_REPORT_ALIASES["services_l4"] |= {"so dvc muc do 4", "so dvctt muc do 4", "dvc muc do 4", "muc do 4"}
_REPORT_ALIASES["online_applications"] |= _SERVICE_ALIASES["online_applications"]
_REPORT_ALIASES["it_infrastructure_index"] |= {"chi so ha tang ky thuat cntt", "chi so ha tang ky thuat"}
_REPORT_ALIASES["it_internal_index"] |= {
    "chi so ung dung cntt trong hoat dong noi bo", "chi so ung dung noi bo",
}
_REPORT_ALIASES["website_index"] |= {
    "chi so trang cong thong tin dien tu", "chi so cong thong tin dien tu",
}
_REPORT_ALIASES["it_policy_index"] |= {
    "chi so co che chinh sach va cac quy dinh cho ung dung cntt", "chi so co che chinh sach",
}
_REPORT_ALIASES["it_hr_index"] |= {"chi so nguon nhan luc cho ung dung cntt", "chi so nguon nhan luc"}


def _lookup(aliases: Mapping[str, set[str]]) -> dict[str, str]:
    return {alias: name for name, group in aliases.items() for alias in group}


_SERVICE_LOOKUP = _lookup(_SERVICE_ALIASES)
_REPORT_LOOKUP = _lookup(_REPORT_ALIASES)


def service_field_for_header(header: str) -> str | None:
    """The ServiceRow field (or "agency") a services column header stands for, or None."""
    h = normalize_header(header)
    return (_SERVICE_LOOKUP.get(h) or _service_rule(h)) if h else None


def report_field_for_header(header: str) -> str | None:
    """The report column ("code", "year" or a ReportRow figure) a header stands for, or None."""
    return _REPORT_LOOKUP.get(normalize_header(header))


def _header_score(cells: Sequence[str]) -> int:
    best = 0
    for mapper in (service_field_for_header, report_field_for_header, procedure_field_for_header):
        best = max(best, len({f for f in map(mapper, cells) if f}))
    return best


# --------------------------------------------------------------------------- reading tables


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
        score = _header_score(grid[header_at]) if header_at is not None else 0
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
        score = _header_score([str(c) for c in row])
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


# --------------------------------------------------------------------------- value parsing

_INT_RE = re.compile(r"^\d+$")
_GROUPED_INT_RE = re.compile(r"^\d{1,3}(\.\d{3})+$|^\d{1,3}(,\d{3})+$")
_DECIMAL_RE = re.compile(r"^\d+([.,]\d+)?$")


def parse_count(text: str) -> int:
    """Parse a non-negative integer written plainly or grouped as 10.309 / 10,309; ValueError otherwise."""
    s = re.sub(r"[\s\u00a0\u202f]", "", text)
    if _INT_RE.match(s):
        return int(s)
    if _GROUPED_INT_RE.match(s):
        return int(re.sub(r"[.,]", "", s))
    raise ValueError(text)


def parse_index(text: str) -> float:
    """Parse an index between 0 and 1 written with a decimal point or comma; ValueError otherwise."""
    s = text.strip()
    if not _DECIMAL_RE.match(s):
        raise ValueError(text)
    value = float(s.replace(",", "."))
    if value > 1:
        raise ValueError(text)
    return value


_LEVEL_WORDS = {"toan trinh": 4, "mot phan": 3}


def parse_level(text: str) -> int:
    """Parse a service level: 3/4 in any spelling, or "toàn trình" (4) / "một phần" (3); ValueError."""
    s = fold(text)
    for word, level in _LEVEL_WORDS.items():
        if word in s:
            return level
    s = re.sub(r"^(dvc(tt)?|dich vu cong( truc tuyen)?)\s*", "", s)
    s = re.sub(r"^(muc do|muc|level)\s*", "", s).strip()
    match = re.fullmatch(r"([34])([.,]0+)?", s)
    if not match:
        raise ValueError(text)
    return int(match.group(1))


_LABEL_RE = re.compile(r"^[^\W_]([\w-]*[^\W_])?$")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if len(labels) < 2 and host != "localhost":
        return False
    return all(len(label) <= 63 and _LABEL_RE.match(label) for label in labels)


def procedure_code(text: str | None) -> str | None:
    """A procedure code as stored: upper case, and the national database's full form
    (1.001234.000.00.00.H26: the procedure as one agency carries it out) shortened to the procedure's
    code (1.001234). None when empty."""
    code = "".join((text or "").split()).upper()
    match = FULL_PROCEDURE_CODE_RE.match(code)
    return (match.group(1) if match else code) or None


def procedure_code_problem(code: str) -> str | None:
    """A Vietnamese message if `code` is not a national procedure code (1.000178, 1.012753.H19,
    1.001234.000.00.00.H26), else None."""
    if PROCEDURE_CODE_RE.match(code) or FULL_PROCEDURE_CODE_RE.match(code):
        return None
    hint = ""
    if re.fullmatch(r"[12]\.\d{1,5}", code):
        hint = " — có thể Excel đã đổi mã thành số; hãy định dạng ô là văn bản"
    return (f"Mã thủ tục “{code}” không đúng định dạng (ví dụ 1.000178, 1.012753.H19 "
            f"hoặc 1.001234.000.00.00.H26){hint}")


def check_url(url: str) -> str | None:
    """Return a Vietnamese message if url is not a syntactically valid http(s) URL, else None."""
    if any(ch.isspace() for ch in url):
        return "Địa chỉ không được chứa khoảng trắng"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Địa chỉ không hợp lệ"
    if parts.scheme.lower() not in ("http", "https"):
        return "Địa chỉ phải bắt đầu bằng http:// hoặc https://"
    if parts.username is not None or parts.password is not None:
        return "Địa chỉ không được chứa tên đăng nhập hoặc mật khẩu"
    if not parts.hostname or not _valid_host(parts.hostname):
        return "Địa chỉ không có tên miền hợp lệ"
    if port == 0:
        return "Địa chỉ có cổng không hợp lệ"
    return None


# --------------------------------------------------------------------------- services

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


def _map_columns(
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


def _row_number(row: Row, position: int) -> int:
    value = row.get(ROW_KEY)
    return value if isinstance(value, int) else position + 2


def _text(row: Row, columns: Mapping[str, str], name: str) -> str:
    header = columns.get(name)
    return " ".join(str(row.get(header, "")).split()) if header else ""


def _collector(errors: list[RowError], number: int) -> Callable[[str, str], None]:
    def error(name: str, message: str) -> None:
        errors.append(RowError(number, name, message))

    return error


def parse_services(
    rows: Sequence[Row], *, default_agency: str | None, known_agencies: set[str]
) -> ParseResult[ServiceRow]:
    """Validate service rows read by read_table; every bad row is reported, valid rows are returned."""
    result: ParseResult[ServiceRow] = ParseResult()
    if not rows:
        result.errors.append(RowError(0, "", "Tệp không có dòng dữ liệu nào"))
        return result
    columns, result.errors = _map_columns(rows, service_field_for_header, _SERVICE_LABELS)
    for required in _REQUIRED_SERVICE_COLUMNS:
        if required not in columns:
            result.errors.append(RowError(0, required, f"Không tìm thấy cột “{_SERVICE_LABELS[required]}”"))
    if result.errors:
        return result

    seen_urls: dict[tuple[str, str], int] = {}
    for position, row in enumerate(rows):
        number = _row_number(row, position)
        errors: list[RowError] = []
        error = _collector(errors, number)

        name = _text(row, columns, "name")
        if not name:
            error("name", "Thiếu tên dịch vụ")
        elif len(name) > MAX_NAME_LENGTH:
            error("name", f"Tên dịch vụ dài quá {MAX_NAME_LENGTH} ký tự ({len(name)} ký tự)")

        level_text = _text(row, columns, "level")
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

        agency = _text(row, columns, "agency").lower() or (default_agency or "")
        if not agency:
            error("agency", "Thiếu mã cơ quan (thêm cột “Mã cơ quan” hoặc chọn cơ quan khi nhập)")
        elif agency not in known_agencies:
            error("agency", f"Không có cơ quan mã “{agency}”")

        url = _text(row, columns, "url")
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

        code = procedure_code(_text(row, columns, "procedure_code"))
        if code and (problem := procedure_code_problem(code)):
            error("procedure_code", problem)

        counts: dict[str, int | None] = {}
        for count_field in ("online_applications", "total_applications"):
            raw = _text(row, columns, count_field)
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
            field=_text(row, columns, "field") or None, online_applications=online,
            total_applications=total, legal_basis=_text(row, columns, "legal_basis") or None,
        ))
    return result


# --------------------------------------------------------------------------- report figures

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
    columns, result.errors = _map_columns(rows, report_field_for_header, _REPORT_LABELS)
    if "code" not in columns:
        result.errors.append(RowError(0, "code", f"Không tìm thấy cột “{_REPORT_LABELS['code']}”"))
    if not any(f in columns for f in _REPORT_FIELDS):
        result.errors.append(RowError(0, "", "Không tìm thấy cột số liệu nào"))
    if result.errors:
        return result

    seen: dict[str, int] = {}
    for position, row in enumerate(rows):
        number = _row_number(row, position)
        errors: list[RowError] = []
        code = _text(row, columns, "code").lower()
        if not code:
            errors.append(RowError(number, "code", "Thiếu mã cơ quan"))
        elif code not in known_agencies:
            errors.append(RowError(number, "code", f"Không có cơ quan mã “{code}”"))
        elif code in seen:
            errors.append(RowError(number, "code", f"Cơ quan “{code}” đã có ở dòng {seen[code]}"))
        else:
            seen[code] = number

        year = _text(row, columns, "year")
        if year and year != period and year != period[:4] and _normalized(year) != period:
            errors.append(RowError(number, "year", f"Kỳ báo cáo “{year}” không khớp kỳ đang nhập {period}"))

        values: dict[str, int | float | None] = {}
        for name in _REPORT_FIELDS:
            raw = _text(row, columns, name)
            values[name] = None
            if not raw:
                continue
            try:
                values[name] = parse_index(raw) if name in _REPORT_INDEX_FIELDS else parse_count(raw)
            except ValueError:
                expected = "một số từ 0 đến 1" if name in _REPORT_INDEX_FIELDS else "số nguyên không âm"
                message = f"{_REPORT_LABELS[name]} phải là {expected}, không phải “{raw}”"
                errors.append(RowError(number, name, message))

        if errors:
            result.errors.extend(errors)
            continue
        result.rows.append(ReportRow(row=number, agency_code=code, period=period, **values))  # type: ignore[arg-type]
    return result


# ----------------------------------------------------------- quarterly reports (Government Office table)

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


# --------------------------------------------------------------------------- templates

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


# --------------------------------------------------------------------------- procedure catalogues

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


_PROCEDURE_ALIASES: dict[str, set[str]] = {
    "code": {
        "ma thu tuc", "ma tthc", "ma thu tuc hanh chinh", "ma so thu tuc", "ma so tthc", "ma so", "ma",
        "code", "procedure code",
    },
    "name": {
        "ten thu tuc", "ten thu tuc hanh chinh", "ten tthc", "ten dich vu cong", "ten dich vu", "ten",
        "name", "procedure", "procedure name",
    },
    "field": {"linh vuc", "field"},
    "scope": {"pham vi", "pham vi ap dung", "cap", "cap thuc hien", "cap ap dung", "khoi", "scope"},
    "required_level": {
        "muc do", "muc do yeu cau", "muc do toi thieu", "muc do dvctt", "muc do cung cap", "muc",
        "required level", "level",
    },
    "agency": {
        "co quan", "co quan thuc hien", "co quan chu tri", "co quan chu quan", "bo nganh", "bo", "ma co quan",
        "agency", "agency code", "responsible agency",
    },
}
_PROCEDURE_LOOKUP = _lookup(_PROCEDURE_ALIASES)
_PROCEDURE_LABELS = {
    "code": "Mã thủ tục",
    "name": "Tên thủ tục",
    "field": "Lĩnh vực",
    "scope": "Phạm vi",
    "required_level": "Mức độ",
    "agency": "Cơ quan",
}


def _procedure_rule(h: str) -> str | None:
    if h.startswith("ma ") and any(k in h for k in ("thu tuc", "tthc")):
        return "code"
    if h.startswith("ten ") and any(k in h for k in ("thu tuc", "tthc", "dich vu", "dvc")):
        return "name"
    if h.startswith("linh vuc"):
        return "field"
    if h.startswith(("pham vi", "cap ")):
        return "scope"
    if h.split()[:1] == ["muc"]:
        return "required_level"
    if h.startswith(("co quan", "bo nganh", "ma co quan", "ma don vi")):
        return "agency"
    return None


def procedure_field_for_header(header: str) -> str | None:
    """The ProcedureRow field (code, name, field, scope, required_level, agency) a header stands for."""
    h = normalize_header(header)
    return (_PROCEDURE_LOOKUP.get(h) or _procedure_rule(h)) if h else None


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
    columns, result.errors = _map_columns(rows, procedure_field_for_header, _PROCEDURE_LABELS)
    required = ["code", "name", "required_level"] + ([] if default_scope else ["scope"])
    for name in required:
        if name not in columns:
            result.errors.append(RowError(0, name, f"Không tìm thấy cột “{_PROCEDURE_LABELS[name]}”"))
    if result.errors:
        return result

    seen_entries: dict[tuple[str, str], int] = {}
    seen_names: dict[str, tuple[str, int]] = {}
    for position, row in enumerate(rows):
        number = _row_number(row, position)
        errors: list[RowError] = []
        error = _collector(errors, number)

        code = procedure_code(_text(row, columns, "code")) or ""
        if not code:
            error("code", "Thiếu mã thủ tục")
        elif problem := procedure_code_problem(code):
            error("code", problem)

        name = _text(row, columns, "name")
        if not name:
            error("name", "Thiếu tên thủ tục")
        elif len(name) > MAX_NAME_LENGTH:
            error("name", f"Tên thủ tục dài quá {MAX_NAME_LENGTH} ký tự ({len(name)} ký tự)")
        elif code and code in seen_names and fold(seen_names[code][0]) != fold(name):
            first_name, first_row = seen_names[code]
            error("name", f"Mã {code} ở dòng {first_row} có tên khác: “{first_name}”")

        scope_text = _text(row, columns, "scope")
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

        level_text = _text(row, columns, "required_level")
        level = 0
        if not level_text:
            error("required_level", "Thiếu mức độ yêu cầu (3 hoặc 4)")
        else:
            try:
                level = parse_level(level_text)
            except ValueError:
                error("required_level", f"Mức độ phải là 3 hoặc 4 (hoặc “một phần”, “toàn trình”), "
                                        f"không phải “{level_text}”")

        agency_text = _text(row, columns, "agency")
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
            field=_text(row, columns, "field") or None, agency_code=agency_code,
        ))
    return result
