"""Malformed and oversized XLSX through the upload pages and the CLI: a message and a 4xx or exit 1."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.models import Service
from tests.admin.test_imports import upload
from tests.services.test_spreadsheet_bombs import HEAD, SHEET, TAIL, build


def dtd_file(tmp_path):
    return build(tmp_path / "dtd.xlsx", {SHEET: [
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
        HEAD.replace("Tên dịch vụ công", "&b;"), TAIL]})


def long_cell_file(tmp_path):
    return build(tmp_path / "long.xlsx", {SHEET: [
        HEAD, '<row r="2"><c r="A2" t="inlineStr"><is><t>', "A" * 5000, "</t></is></c></row>", TAIL]})


def test_upload_of_a_dtd_answers_400_with_the_reason(db, officer_client, agencies, tmp_path):
    response = upload(officer_client, dtd_file(tmp_path).read_bytes(), "dtd.xlsx")
    assert response.status_code == 400
    assert "Tệp XLSX không hợp lệ: phần xl/worksheets/sheet1.xml có khai báo DTD" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count(Service.id))).scalar_one() == 0


def test_the_operator_sets_the_limits(app, db, officer_client, agencies, tmp_path):
    app.config["PORTAL_IMPORT_MAX_CELL_CHARS"] = 1000
    response = upload(officer_client, long_cell_file(tmp_path).read_bytes(), "long.xlsx")
    assert response.status_code == 400 and "dài quá 1000 ký tự" in response.get_data(as_text=True)


def test_cli_imports_of_bad_xlsx_exit_1_without_a_traceback(db, runner, agencies, tmp_path):
    path = dtd_file(tmp_path)
    for args in (["import", "services", str(path), "--agency", "ha-noi"], ["import", "procedures", str(path)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, result.output
        assert "Tệp XLSX không hợp lệ: phần xl/worksheets/sheet1.xml có khai báo DTD" in result.output
        assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception,
                                                                                          SystemExit)
