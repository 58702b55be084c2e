"""Importing a procedure catalogue: all-or-nothing, idempotent, CLI `portal import procedures`."""

from __future__ import annotations

from openpyxl import Workbook
from sqlalchemy import func, select

from portal.models import AuditLog, CatalogueEntry, Procedure
from portal.services import procedures

GOOD = (
    "Mã thủ tục,Tên thủ tục,Lĩnh vực,Phạm vi,Mức độ yêu cầu,Cơ quan\n"
    "1.000178,Đăng ký khai sinh,Hộ tịch,tỉnh,4,\n"
    "1.000179,Đăng ký kết hôn,Hộ tịch,tỉnh,3,\n"
    "2.002195,Cấp giấy chứng nhận xuất xứ hàng hóa,Xuất nhập khẩu,bộ,4,Bộ Công Thương\n"
)


def entries(db, catalogue="qd-846-2017"):
    rows = db.session.execute(
        select(Procedure.code, CatalogueEntry.scope, CatalogueEntry.required_level, CatalogueEntry.agency_id)
        .join(CatalogueEntry.procedure).where(CatalogueEntry.catalogue == catalogue).order_by(Procedure.code)
    ).all()
    return [tuple(r) for r in rows]


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_import_then_reimport_is_idempotent(db, world):
    ministry = world.agency("bo-cong-thuong", "Bộ Công Thương", kind="ministry")
    world.commit()
    plan = procedures.import_catalogue(db.session, GOOD.encode(), "dm.csv", actor="test")
    assert (plan.added, plan.updated, plan.unchanged, plan.procedures_added) == (3, 0, 0, 3)
    assert entries(db) == [("1.000178", "province", 4, None), ("1.000179", "province", 3, None),
                           ("2.002195", "ministry", 4, ministry.id)]
    again = procedures.import_catalogue(db.session, GOOD.encode(), "dm.csv", actor="test")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert count(db, Procedure) == 3 and count(db, CatalogueEntry) == 3
    audits = db.session.execute(select(AuditLog)).scalars().all()
    assert [a.action for a in audits] == ["procedure_catalogue.import"]  # nothing changed the second time
    assert audits[0].after["added"] == 3 and audits[0].actor == "test"


def test_changes_are_counted_as_updates_and_other_entries_are_kept(db, world):
    world.agency("bo-cong-thuong", "Bộ Công Thương", kind="ministry")
    world.commit()
    procedures.import_catalogue(db.session, GOOD.encode(), "dm.csv")
    changed = (
        "Mã thủ tục,Tên thủ tục,Phạm vi,Mức độ\n"
        "1.000178,Đăng ký khai sinh,tỉnh,4\n"
        "1.000179,Đăng ký kết hôn,tỉnh,toàn trình\n"
        "1.000180,Đăng ký khai tử,tỉnh,4\n"
    )
    plan = procedures.import_catalogue(db.session, changed.encode(), "dm2.csv")
    assert (plan.added, plan.updated, plan.unchanged, plan.absent) == (1, 1, 1, 1)
    assert [e.changes for e in plan.entries if e.action == "update"] == [["required_level"]]
    assert ("1.000179", "province", 4, None) in entries(db)
    assert ("2.002195", "ministry", 4, db.session.execute(select(CatalogueEntry.agency_id).where(
        CatalogueEntry.scope == "ministry")).scalar_one()) in entries(db)
    field = db.session.execute(select(Procedure.field).where(Procedure.code == "1.000178")).scalar_one()
    assert field == "Hộ tịch"  # a file without the column does not blank it


def test_a_bad_row_rejects_the_whole_file(db, world):
    world.commit()
    bad = GOOD + "1.17,Mã bị Excel đổi thành số,Hộ tịch,tỉnh,4,\n"
    plan = procedures.import_catalogue(db.session, bad.encode(), "dm.csv")
    assert not plan.ok and not plan.applied
    fields = {(e.row, e.field) for e in plan.errors}
    assert fields == {(4, "agency"), (5, "code")}  # no such agency in this database; a mangled code
    assert count(db, Procedure) == 0 and count(db, CatalogueEntry) == 0 and count(db, AuditLog) == 0


def test_a_bad_catalogue_name_or_file_is_refused(db, world):
    plan = procedures.import_catalogue(db.session, GOOD.encode(), "dm.csv", catalogue="QĐ 846!")
    assert [e.field for e in plan.errors] == ["catalogue"]
    plan = procedures.import_catalogue(db.session, b"PK\x03\x04 broken", "dm.xlsx")
    assert "XLSX" in plan.errors[0].message
    assert count(db, Procedure) == 0


def test_cli_imports_xlsx_and_reports(db, world, runner, tmp_path):
    world.agency("bo-cong-thuong", "Bộ Công Thương", kind="ministry")
    world.commit()
    workbook = Workbook()
    sheet = workbook.active
    for line in GOOD.splitlines():
        sheet.append(line.split(","))
    path = tmp_path / "danh-muc-846.xlsx"
    workbook.save(path)

    dry = runner.invoke(args=["import", "procedures", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "added 3, updated 0, unchanged 0" in dry.output and "Dry run: nothing was written." in dry.output
    assert count(db, CatalogueEntry) == 0

    result = runner.invoke(args=["import", "procedures", str(path)])
    assert result.exit_code == 0, result.output
    assert "Catalogue qd-846-2017" in result.output and "added 3" in result.output
    again = runner.invoke(args=["import", "procedures", str(path)])
    assert "added 0, updated 0, unchanged 3" in again.output
    assert count(db, CatalogueEntry) == 3


def test_cli_prints_row_errors_and_fails(db, world, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "Mã thủ tục,Tên thủ tục,Phạm vi,Mức độ\n1.000178,Đăng ký khai sinh,tỉnh,5\n1.000179,,huyện,4\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["import", "procedures", str(path), "--catalogue", "thu-nghiem"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("row 2: required_level: Mức độ phải là 3 hoặc 4")
    assert lines[1] == "row 3: name: Thiếu tên thủ tục"
    assert lines[2].startswith("row 3: scope: ")
    assert "nothing was imported" in result.output
    assert count(db, Procedure) == 0

    no_code = tmp_path / "no-code.csv"
    no_code.write_text("Tên thủ tục,Phạm vi,Mức độ\nĐăng ký khai sinh,tỉnh,4\n", encoding="utf-8")
    result = runner.invoke(args=["import", "procedures", str(no_code)])
    assert result.exit_code == 1 and "file: code: Không tìm thấy cột “Mã thủ tục”" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_text("Mã thủ tục,Tên thủ tục,Phạm vi,Mức độ\n", encoding="utf-8")
    result = runner.invoke(args=["import", "procedures", str(empty)])
    assert result.exit_code == 1 and "file: Tệp không có dòng dữ liệu nào" in result.output


def test_cli_default_scope(db, world, runner, tmp_path):
    path = tmp_path / "tinh.csv"
    path.write_text("Mã thủ tục,Tên thủ tục,Mức độ\n1.000178,Đăng ký khai sinh,4\n", encoding="utf-8")
    result = runner.invoke(args=["import", "procedures", str(path), "--scope", "province"])
    assert result.exit_code == 0, result.output
    assert entries(db) == [("1.000178", "province", 4, None)]
