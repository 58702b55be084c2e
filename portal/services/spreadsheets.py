"""Defensive reading of uploaded XLSX files, before openpyxl sees them (web and CLI alike).

An XLSX is a zip of XML parts. `check_xlsx` refuses what could exhaust the server while reading:
members whose declared or actual uncompressed size, or compression ratio, is over the limits; XML with
a DTD (entity expansion, external entities); and, streaming every sheet and the shared strings through
expat in small chunks, too many filled rows or columns, an over-long cell, too many shared strings, or
more characters in all than the memory budget — each refused as soon as it is seen, not after the
whole part is in memory. A time budget bounds the whole read. Messages are Vietnamese, for officers.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import IO, Any
from xml.parsers import expat

CHUNK = 64 * 1024
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


class SpreadsheetRefused(ValueError):
    """The file is refused; `too_large` tells a size or time limit from a malformed file."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class ReadLimits:
    """What one upload's parse may use (settings PORTAL_IMPORT_*; see config.py)."""

    memory_bytes: int = 32 * 1024 * 1024  # uncompressed XML in all, and characters of text in all
    max_ratio: int = 100  # uncompressed / compressed size of a member (above 1 MB)
    max_rows: int = 20_000  # data rows; the last filled row's number may be header_rows more
    header_rows: int = 30
    max_columns: int = 200  # the last filled column's number
    max_cell_chars: int = 32_767  # Excel's own limit
    max_shared_strings: int = 200_000
    max_members: int = 1_000
    seconds: float = 20.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> ReadLimits:
        limits = cls(
            memory_bytes=int(config.get("PORTAL_IMPORT_MEMORY_MB", 32) * 1024 * 1024),
            max_ratio=config.get("PORTAL_IMPORT_MAX_RATIO", cls.max_ratio),
            max_columns=config.get("PORTAL_IMPORT_MAX_COLUMNS", cls.max_columns),
            max_cell_chars=config.get("PORTAL_IMPORT_MAX_CELL_CHARS", cls.max_cell_chars),
            max_shared_strings=config.get("PORTAL_IMPORT_MAX_SHARED_STRINGS", cls.max_shared_strings),
            seconds=config.get("PORTAL_IMPORT_SECONDS", cls.seconds),
        )
        return replace(limits, **overrides)


def configured_limits(**overrides: Any) -> ReadLimits:
    """The limits of the running application's settings (defaults outside an application)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return ReadLimits.from_config(current_app.config, **overrides)
    return replace(ReadLimits(), **overrides)


def invalid(detail: str) -> SpreadsheetRefused:
    return SpreadsheetRefused(f"Tệp XLSX không hợp lệ: {detail}")


class _Budget:
    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.bytes = 0
        self.chars = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise SpreadsheetRefused(
                f"Đọc tệp quá {self.limits.seconds:g} giây; hãy chia tệp thành nhiều phần.", too_large=True)

    def add_bytes(self, count: int, name: str) -> None:
        self.bytes += count
        if self.bytes > self.limits.memory_bytes:
            raise SpreadsheetRefused(
                f"Tệp XLSX giải nén ra quá {self.limits.memory_bytes // (1024 * 1024)} MB (phần {name}); "
                "hãy chia tệp thành nhiều phần.", too_large=True)

    def add_chars(self, count: int) -> None:
        self.chars += count
        if self.chars > self.limits.memory_bytes:
            raise SpreadsheetRefused(
                f"Tệp XLSX chứa quá nhiều chữ (hơn {self.limits.memory_bytes // (1024 * 1024)} triệu ký tự); "
                "hãy chia tệp thành nhiều phần.", too_large=True)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


class _PartScanner:
    """Expat handlers for one XML part: no DTD; counts what the limits bound while the part streams by."""

    def __init__(self, name: str, budget: _Budget) -> None:
        self.name, self.budget, self.limits = name, budget, budget.limits
        self.kind = ("strings" if name.endswith("sharedStrings.xml")
                     else "sheet" if name.startswith("xl/worksheets/") else "other")
        self.parser = expat.ParserCreate()
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._doctype
        self.parser.ExternalEntityRefHandler = self._doctype
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.elements = 0
        self.strings = 0
        self.in_text = False
        self.text_chars = 0
        self.row = 0
        self.column = 0
        self.cell_filled = False

    def _doctype(self, *args: Any) -> None:
        raise invalid(f"phần {self.name} có khai báo DTD (không được phép).")

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        self.elements += 1
        if self.elements % 2000 == 0:
            self.budget.tick()
        local = tag.rsplit(":", 1)[-1]
        if self.kind == "strings" and local == "si":
            self.strings += 1
            self.text_chars = 0
            if self.strings > self.limits.max_shared_strings:
                raise SpreadsheetRefused(
                    f"Tệp XLSX có quá nhiều chuỗi (hơn {self.limits.max_shared_strings}).", too_large=True)
        elif self.kind == "sheet" and local == "row":
            self.row = int(attrs["r"]) if attrs.get("r", "").isdigit() else self.row + 1
            self.column = 0
        elif self.kind == "sheet" and local == "c":
            match = _CELL_REF.match(attrs.get("r", ""))
            if match:
                self.column, self.row = _column_number(match.group(1)), int(match.group(2))
            else:
                self.column += 1
            self.cell_filled = False
            self.text_chars = 0
        elif self.kind == "sheet" and local in ("v", "is"):
            self.cell_filled = True
            if self.row > self.limits.max_rows + self.limits.header_rows:
                raise SpreadsheetRefused(f"Tệp có quá nhiều dòng; giới hạn là {self.limits.max_rows} dòng.",
                                         too_large=True)
            if self.column > self.limits.max_columns:
                raise SpreadsheetRefused(f"Tệp có quá nhiều cột; giới hạn là {self.limits.max_columns} cột.",
                                         too_large=True)
        if local in ("t", "v"):
            self.in_text = True

    def _end(self, tag: str) -> None:
        if tag.rsplit(":", 1)[-1] in ("t", "v"):
            self.in_text = False

    def _text(self, data: str) -> None:
        if not self.in_text:
            return
        self.text_chars += len(data)
        self.budget.add_chars(len(data))
        if self.text_chars > self.limits.max_cell_chars:
            where = "một chuỗi" if self.kind == "strings" else f"ô ở dòng {self.row}"
            raise SpreadsheetRefused(
                f"Tệp XLSX có {where} dài quá {self.limits.max_cell_chars} ký tự.", too_large=True)

    def feed(self, stream: IO[bytes], declared: int) -> None:
        actual = 0
        try:
            while chunk := stream.read(CHUNK):
                actual += len(chunk)
                if actual > declared:
                    raise invalid(f"phần {self.name} lớn hơn kích thước khai báo.")
                self.budget.add_bytes(len(chunk), self.name)
                self.budget.tick()
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise invalid(f"XML hỏng trong phần {self.name} (dòng {exc.lineno}).") from None


def check_xlsx(data: bytes | IO[bytes], limits: ReadLimits) -> float:
    """Refuse (SpreadsheetRefused) an XLSX whose reading would break the limits; when it is safe, return
    the time.monotonic() deadline left for reading it."""
    budget = _Budget(limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetRefused("Không đọc được tệp XLSX (tệp hỏng hoặc không phải Excel)") from exc
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise invalid(f"có {len(members)} phần (giới hạn {limits.max_members}).")
        declared_total = 0
        for info in members:
            declared_total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > limits.max_ratio:
                raise SpreadsheetRefused(
                    f"Tệp XLSX nén bất thường (phần {info.filename} giải nén gấp {ratio:.0f} lần, giới hạn "
                    f"{limits.max_ratio}); có thể là tệp “bom nén”.", too_large=True)
            if declared_total > limits.memory_bytes:
                raise SpreadsheetRefused(
                    f"Tệp XLSX giải nén ra quá {limits.memory_bytes // (1024 * 1024)} MB; "
                    "hãy chia tệp thành nhiều phần.", too_large=True)
        for info in members:
            if info.is_dir():
                continue
            try:
                with archive.open(info) as stream:
                    if info.filename.endswith((".xml", ".rels")):
                        _PartScanner(info.filename, budget).feed(stream, info.file_size)
                    else:
                        _drain(stream, info, budget)
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
                raise invalid(f"phần {info.filename} hỏng ({exc}).") from None
    return budget.deadline


def _drain(stream: IO[bytes], info: zipfile.ZipInfo, budget: _Budget) -> None:
    actual = 0
    while chunk := stream.read(CHUNK):
        actual += len(chunk)
        if actual > info.file_size:
            raise invalid(f"phần {info.filename} lớn hơn kích thước khai báo.")
        budget.add_bytes(len(chunk), info.filename)
        budget.tick()
