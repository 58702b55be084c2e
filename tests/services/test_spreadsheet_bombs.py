"""Spreadsheet bombs and malformed XLSX: refused with a message while reading, within a memory bound.

Each bomb is built here small on disk (megabytes of repeated text compress to kilobytes) with the
limits set low; a child process reads them all through importing.read_table and reports the peak of
memory traced while reading each one, which must stay far below what the bomb would inflate to.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[2]
SHEET = "xl/worksheets/sheet1.xml"
HEAD = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Tên dịch vụ công</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Mức độ</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>Địa chỉ trên Internet</t></is></c></row>')
TAIL = "</sheetData></worksheet>"
MB = 1024 * 1024
BOMB_MB = 48  # what each bomb would inflate to
LAUGH = "&lol{};"
KINDS = ["huge cell", "huge shared string", "many shared strings", "wide row", "many rows", "compression ratio",
         "uncompressed size", "billion laughs", "external entity", "malformed xml"]


def base_members() -> dict[str, bytes]:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Tên dịch vụ công", "Mức độ", "Địa chỉ trên Internet"])
    sheet.append(["Đăng ký khai sinh", 4, "https://dvc.gov.vn/a"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def build(path: Path, replaced: dict[str, Iterable[str | bytes]]) -> Path:
    """An XLSX like openpyxl's with some members replaced by streamed (huge but compressible) content."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in base_members().items():
            if name not in replaced:
                archive.writestr(name, body)
        for name, pieces in replaced.items():
            with archive.open(name, "w", force_zip64=True) as stream:
                for piece in pieces:
                    stream.write(piece.encode() if isinstance(piece, str) else piece)
    return path


def repeated(text: str, total: int) -> Iterable[str]:
    block = text * max(1, 64 * 1024 // len(text))
    for _ in range(total // len(block)):
        yield block


def bombs(folder: Path) -> dict[str, tuple[Path, dict, str]]:
    """name → (file, limits, expected message part)."""
    generous = {"memory_bytes": 256 * MB, "max_ratio": 100_000}
    return {
        "huge cell": (build(folder / "cell.xlsx", {SHEET: [
            HEAD, '<row r="2"><c r="A2" t="inlineStr"><is><t>', *repeated("A", BOMB_MB * MB), "</t></is></c></row>",
            TAIL]}), generous | {"max_cell_chars": 1000}, "dài quá 1000 ký tự"),
        "huge shared string": (build(folder / "shared.xlsx", {"xl/sharedStrings.xml": [
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>',
            *repeated("B", BOMB_MB * MB), "</t></si></sst>"]}), generous | {"max_cell_chars": 1000},
            "một chuỗi dài quá 1000 ký tự"),
        "many shared strings": (build(folder / "strings.xlsx", {"xl/sharedStrings.xml": [
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
            *repeated("<si><t>x</t></si>", BOMB_MB * MB), "</sst>"]}), generous | {"max_shared_strings": 5000},
            "quá nhiều chuỗi (hơn 5000)"),
        "wide row": (build(folder / "wide.xlsx", {SHEET: [
            HEAD, "<row>", *repeated('<c t="n"><v>1</v></c>', BOMB_MB * MB), "</row>", TAIL]}),
            generous | {"max_columns": 50}, "quá nhiều cột; giới hạn là 50 cột"),
        "many rows": (build(folder / "rows.xlsx", {SHEET: [
            HEAD, *repeated('<row><c t="n"><v>3</v></c></row>', BOMB_MB * MB), TAIL]}),
            generous | {"max_rows": 1000, "header_rows": 30}, "quá nhiều dòng; giới hạn là 1000 dòng"),
        "compression ratio": (build(folder / "ratio.xlsx", {"xl/media/image1.png": repeated("\0", BOMB_MB * MB)}),
                              {"memory_bytes": 256 * MB, "max_ratio": 100}, "nén bất thường"),
        "uncompressed size": (build(folder / "size.xlsx", {"xl/media/image1.png": repeated("\0", BOMB_MB * MB)}),
                              {"memory_bytes": 8 * MB, "max_ratio": 100_000}, "giải nén ra quá 8 MB"),
        "billion laughs": (build(folder / "dtd.xlsx", {SHEET: [
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{LAUGH.format(i - 1 or "") * 10}">' for i in range(1, 10))
            + ']>', HEAD.replace("Tên dịch vụ công", "&lol9;"), TAIL]}), {}, "có khai báo DTD"),
        "external entity": (build(folder / "xxe.xlsx", {SHEET: [
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            HEAD.replace("Tên dịch vụ công", "&xxe;"), TAIL]}), {}, "có khai báo DTD"),
        "malformed xml": (build(folder / "broken.xlsx", {SHEET: [HEAD, '<row r="2"><c><v>1</c></row>', TAIL]}),
                          {}, "XML hỏng trong phần xl/worksheets/sheet1.xml"),
    }


READER = """
import json, sys, tracemalloc
from pathlib import Path
from portal.services import importing, spreadsheets
import openpyxl.reader.excel  # imported before tracing: module code is not what is measured
results = {}
for name, (path, limits) in json.loads(sys.argv[1]).items():
    data = Path(path).read_bytes()
    tracemalloc.start()
    try:
        importing.read_table(data, "bomb.xlsx", spreadsheets.ReadLimits(**limits))
        message = None
    except importing.ImportFileError as exc:
        message = str(exc)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    results[name] = {"message": message, "peak": peak, "size": len(data)}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def read_bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    made = bombs(folder)
    argument = json.dumps({name: [str(path), limits] for name, (path, limits, _) in made.items()})
    done = subprocess.run([sys.executable, "-c", READER, argument], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return made, json.loads(done.stdout)


@pytest.mark.parametrize("kind", KINDS)
def test_each_bomb_is_refused_while_reading_within_a_memory_bound(read_bombs, kind):
    made, results = read_bombs
    result = results[kind]
    assert result["size"] < 2 * MB  # the file itself is small
    assert result["message"] is not None and made[kind][2] in result["message"], result["message"]
    assert result["peak"] < 4 * MB, f"{kind}: {result['peak'] / MB:.1f} MB traced"


def test_malformed_files_name_the_problem_in_the_import_message(read_bombs):
    _, results = read_bombs
    assert results["billion laughs"]["message"].startswith("Tệp XLSX không hợp lệ: ")
    assert results["malformed xml"]["message"].startswith("Tệp XLSX không hợp lệ: ")


def test_the_time_budget_stops_a_long_read(tmp_path):
    from portal.services import importing, spreadsheets

    rows = [f'<row><c t="inlineStr"><is><t>Dịch vụ {i}</t></is></c><c t="n"><v>3</v></c></row>' for i in range(15000)]
    data = build(tmp_path / "slow.xlsx", {SHEET: [HEAD, *rows, TAIL]}).read_bytes()
    with pytest.raises(importing.ImportTooLarge, match="quá 0.01 giây"):
        importing.read_table(data, "slow.xlsx", spreadsheets.ReadLimits(seconds=0.01))
    assert len(importing.read_table(data, "slow.xlsx", spreadsheets.ReadLimits())) == 15000


def test_an_ordinary_workbook_still_reads(tmp_path):
    from portal.services import importing

    path = tmp_path / "ok.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in base_members().items():
            archive.writestr(name, body)
    rows = importing.read_table(path.read_bytes(), "ok.xlsx")
    assert [(r["Tên dịch vụ công"], r["Mức độ"]) for r in rows] == [("Đăng ký khai sinh", "4")]
