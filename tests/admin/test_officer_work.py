"""An officer's work without help: period spellings, signature lines, changes in words, round trips."""

from __future__ import annotations

import html
import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.models import ApplicationStat, AuditLog, Service
from portal.services import quarterly_reports
from tests.admin.test_imports import GOOD, confirm_token, upload
from tests.helpers import csrf_token

SIGNED = (
    "Tên dịch vụ công,Mã thủ tục,Mức độ,Số hồ sơ trực tuyến,Tổng số hồ sơ,Địa chỉ trên Internet\r\n"
    "Đăng ký khai sinh,1.001193.000.00.00.H26,4,7035,9.000,https://dvc.hanoi.gov.vn/dich-vu#khai-sinh\r\n"
    "Đăng ký kết hôn,1.000894,3,12,40,https://dvc.hanoi.gov.vn/dich-vu#ket-hon\r\n"
    ",,,,,\r\n"
    "Hà Nội, ngày 05 tháng 01 năm 2027,,,,,\r\n"
    "Người lập biểu,,,,Thủ trưởng đơn vị,\r\n"
    "(Ký, ghi rõ họ tên),,,,\"(Ký tên, đóng dấu)\",\r\n"
    "Nguyễn Văn An,,,,Trần Thị Bình,\r\n"
)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def words(response) -> str:
    """The page as a reader sees it: tags dropped, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).replace(" :", ":").split())


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_signature_lines_are_skipped_and_quarter_spellings_accepted(db, officer_client, agencies):
    response = upload(officer_client, SIGNED.encode("utf-8"), "ha-noi.csv", period="Quý IV/2026")
    page = text(response)
    assert response.status_code == 200, page
    assert "Thêm mới 2 · cập nhật 0 · không đổi 0" in page
    assert "Bỏ qua 4 dòng chữ ký, ghi chú dưới bảng (dòng 5, 6, 7, 8)" in page
    # a new row shows its values, labelled, Vietnamese numbers, the agency by name
    flat = words(response)
    assert "Số hồ sơ trực tuyến: 7.035" in flat and "Tổng số hồ sơ: 9.000" in flat
    assert "Mức 4 (toàn trình)" in page and "Hà Nội" in page and "online_applications" not in page
    officer_client.post("/admin/imports/confirm", data={
        "token": confirm_token(page), "csrf_token": csrf_token(officer_client, "/admin/imports")})
    services = db.session.execute(select(Service).order_by(Service.id)).scalars().all()
    assert [s.url for s in services] == ["https://dvc.hanoi.gov.vn/dich-vu#khai-sinh",
                                        "https://dvc.hanoi.gov.vn/dich-vu#ket-hon"]
    assert services[0].procedure.code == "1.001193"  # the national full form names the procedure
    stat = db.session.execute(select(ApplicationStat).where(ApplicationStat.service_id == services[0].id)).scalar_one()
    assert (stat.period, stat.received_online, stat.received_total) == ("2026-Q4", 7035, 9000)
    # the same file with the period written another way changes nothing
    for spelling in ("Q4/2026", "IV/2026", "2026-q4"):
        again = text(upload(officer_client, SIGNED.encode("utf-8"), "ha-noi.csv", period=spelling))
        assert "Thêm mới 0 · cập nhật 0 · không đổi 2" in again, spelling


def test_a_bad_period_is_explained(db, officer_client, agencies):
    page = text(upload(officer_client, GOOD.read_bytes(), "services_good.csv", period="quý năm"))
    assert "Quý IV/2026" in page and count(db, Service) == 0


def test_cli_accepts_spellings_and_reports_skipped_lines(db, runner, agencies, tmp_path):
    path = tmp_path / "signed.csv"
    path.write_text(SIGNED, encoding="utf-8")
    result = runner.invoke(args=["import", "services", str(path), "--agency", "ha-noi", "--period", "Q4/2026"])
    assert result.exit_code == 0, result.output
    assert "added: 2, updated: 0, unchanged: 0" in result.output
    assert "skipped: rows 5, 6, 7, 8" in result.output
    assert db.session.execute(select(ApplicationStat.period)).scalars().all() == ["2026-Q4", "2026-Q4"]


def test_preview_of_an_update_in_both_languages(db, admin_client, agencies, make_service):
    make_service(agencies["ha-noi"], name="Đăng ký khai sinh", url="https://dvc.hanoi.gov.vn/dich-vu#khai-sinh",
                 level=3)
    flat = words(upload(admin_client, SIGNED.encode("utf-8"), "ha-noi.csv", period="2026"))
    assert "Mức độ: Mức 3 (một phần) → Mức 4 (toàn trình)" in flat
    assert "Số hồ sơ trực tuyến: — → 7.035" in flat
    admin_client.get("/?lang=en")
    english = words(upload(admin_client, SIGNED.encode("utf-8"), "ha-noi.csv", period="2026"))
    assert "Level: Level 3 (partly online) → Level 4 (fully online)" in english
    assert "Online applications: — → 7,035" in english


def test_history_and_audit_log_read_in_words(db, admin_client, agencies, make_service):
    service = make_service(agencies["ha-noi"])
    admin_client.post(f"/admin/services/{service.id}/retire", data={
        "csrf_token": csrf_token(admin_client, "/admin/services"), "confirmed": "1"})
    history = words(admin_client.get(f"/admin/services/{service.id}/edit"))
    assert "Ngừng dịch vụ" in history and "service.retire" not in history
    assert "Trạng thái: Đang cung cấp → Đã ngừng" in history
    audit_page = words(admin_client.get("/admin/audit"))
    assert "Ngừng dịch vụ" in audit_page and "Trạng thái: Đang cung cấp → Đã ngừng" in audit_page
    assert "T" not in audit_page.split("Ngừng từ: — → ")[1][:10]  # a local date, not an ISO timestamp
    admin_client.get("/?lang=en")
    english = words(admin_client.get("/admin/audit"))
    assert "Retire service" in english and "Status: Active → Retired" in english
    history_en = words(admin_client.get(f"/admin/services/{service.id}/edit"))
    assert "Retire service" in history_en


def test_the_service_page_and_the_export_show_imported_counts(db, client, admin_client, agencies, runner,
                                                               tmp_path):
    path = tmp_path / "signed.csv"
    path.write_text(SIGNED, encoding="utf-8")
    runner.invoke(args=["import", "services", str(path), "--agency", "ha-noi", "--period", "Quý IV/2026"])
    service = db.session.execute(select(Service).order_by(Service.id)).scalars().first()
    page = words(client.get(f"/services/{service.id}"))
    assert "7.035" in page and "9.000" in page and "Quý IV/2026" in page
    edit = words(admin_client.get(f"/admin/services/{service.id}/edit"))
    assert "Số hồ sơ (Quý IV/2026): 7.035 trực tuyến / 9.000 tổng số" in edit
    sheet = load_workbook(io.BytesIO(admin_client.get("/admin/services.xlsx").get_data())).active
    header = [c.value for c in sheet[1]]
    rows = [{header[i]: c.value for i, c in enumerate(r)} for r in sheet.iter_rows(min_row=2)]
    row = next(r for r in rows if r["Tên dịch vụ công"] == "Đăng ký khai sinh")
    assert row["Số hồ sơ trực tuyến"] == 7035 and row["Tổng số hồ sơ"] == 9000


def test_exports_import_back_unchanged_with_fragments_and_counts(db, admin_client, runner, agencies, tmp_path):
    path = tmp_path / "signed.csv"
    path.write_text(SIGNED, encoding="utf-8")
    runner.invoke(args=["import", "services", str(path), "--agency", "ha-noi", "--period", "2026-Q4"])
    entries = count(db, AuditLog)
    for fmt in ("csv", "xlsx"):
        exported = tmp_path / f"export.{fmt}"
        exported.write_bytes(admin_client.get(f"/admin/services.{fmt}").get_data())
        result = runner.invoke(args=["import", "services", str(exported), "--period", "2026-Q4"])
        assert result.exit_code == 0, result.output
        assert "added: 0, updated: 0, unchanged: 2" in result.output
        page = text(upload(admin_client, exported.read_bytes(), f"export.{fmt}", agency="", period="Quý IV/2026"))
        assert "Thêm mới 0 · cập nhật 0 · không đổi 2" in page, page
    assert count(db, AuditLog) == entries + 2  # one import.services summary per CLI run, nothing else


def test_full_national_procedure_code_in_the_form(db, admin_client, agencies):
    response = admin_client.post("/admin/services/new", data={
        "name": "Đăng ký thường trú", "agency": "ha-noi", "level": "4", "url": "https://dvc.hanoi.gov.vn/tt",
        "procedure_code": "1.001234.000.00.00.H26", "csrf_token": csrf_token(admin_client, "/admin/services/new"),
    })
    assert response.status_code == 302, text(response)
    service = db.session.execute(select(Service)).scalar_one()
    assert service.procedure.code == "1.001234"


def test_the_quarterly_export_imports_back(db, admin_client, runner, agencies, tmp_path):
    from portal.models import QuarterlyReport

    values = {"services_l3": 29, "services_l4": 24, "new_services_l3": 2, "new_services_l4": 1,
              "received_l3": 336207, "received_l4": 1200, "online_l3": 178456, "online_l4": 600}
    quarterly_reports.save_report(db.session, agency=agencies["ha-noi"], period="2026-Q3", values=values,
                                  note="Đến 30/9")
    quarterly_reports.save_report(db.session, agency=agencies["bo-tu-phap"], period="2026-Q3", values=values)
    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(admin_client.get("/admin/reports/2026-Q3.xlsx").get_data())
    entries = count(db, AuditLog)
    result = runner.invoke(args=["import", "quarterly", str(path)])
    assert result.exit_code == 0, result.output
    assert "added: 0, updated: 0, unchanged: 2" in result.output
    assert count(db, AuditLog) == entries + 1  # the import's summary only
    # the same table, changed in a spreadsheet, updates that agency only; a signature line is skipped
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    sheet = workbook.active
    row = next(r for r in sheet.iter_rows(min_row=4) if r[1].value == "Hà Nội")
    row[3].value = 30
    sheet.append([])
    sheet.append([None, "Người lập biểu", None, None, None, None, None, None, None, "Thủ trưởng đơn vị"])
    workbook.save(path)
    result = runner.invoke(args=["import", "quarterly", str(path), "--period", "Quý III/2026"])
    assert result.exit_code == 0, result.output
    assert "added: 0, updated: 1, unchanged: 1" in result.output and "skipped: rows" in result.output
    reports = {r.agency.code: r for r in db.session.execute(select(QuarterlyReport)).scalars()}
    assert reports["ha-noi"].services_l3 == 30 and reports["ha-noi"].note == "Đến 30/9"
    result = runner.invoke(args=["import", "quarterly", str(path), "--period", "2026-Q2"])
    assert result.exit_code == 1 and "không phải Quý II/2026" in result.output


def test_the_procedure_catalogue_export_imports_back(db, client, runner, demo, tmp_path):
    from portal.services.seed import DATA_DIR

    first = runner.invoke(args=["import", "procedures", str(DATA_DIR / "procedures_sample_846.csv"),
                                "--catalogue", "qd-846-2017"])
    assert first.exit_code == 0, first.output
    path = tmp_path / "procedures.csv"
    path.write_bytes(client.get("/open-data/procedures.csv?catalogue=qd-846-2017").get_data())
    result = runner.invoke(args=["import", "procedures", str(path), "--catalogue", "qd-846-2017"])
    assert result.exit_code == 0, result.output
    assert "added 0, updated 0" in result.output and "(procedures: 0 new, 0 changed)" in result.output


def test_the_service_form_reports_every_error_in_one_round(db, admin_client, agencies):
    response = admin_client.post("/admin/services/new", data={
        "name": "", "agency": "ha-noi", "level": "4", "url": "ftp://dvc.hanoi.gov.vn/x",
        "procedure_code": "1.23", "csrf_token": csrf_token(admin_client, "/admin/services/new"),
    })
    assert response.status_code == 400
    page = words(response)
    assert "Bắt buộc nhập tên dịch vụ" in page and "http:// hoặc https://" in page and "Mã thủ tục “1.23”" in page
