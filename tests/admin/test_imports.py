"""Bulk imports of services and report figures: CLI and upload page, all-or-nothing, idempotent, scoped."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.models import ApplicationStat, AuditLog, Procedure, ReportFigure, Service
from portal.services import importing
from tests.helpers import csrf_token

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
GOOD = FIXTURES / "services_good.csv"
BAD = FIXTURES / "services_bad.csv"


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def actions(db) -> list[str]:
    return list(db.session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars())


def xlsx(rows, title: str | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
        sheet.append([])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def invoke(runner, *args):
    return runner.invoke(args=["import", *map(str, args)])


# ---------------------------------------------------------------- CLI


def test_cli_imports_the_reporting_template(db, runner, agencies):
    result = invoke(runner, "services", GOOD, "--agency", "ha-noi")
    assert result.exit_code == 0, result.output
    assert "added: 3, updated: 0, unchanged: 0" in result.output
    assert "not stored: give --period" in result.output
    by_name = {s.name: s for s in db.session.execute(select(Service)).scalars()}
    birth = by_name["Đăng ký khai sinh"]
    assert (birth.level, birth.field, birth.agency_id) == (4, "Hộ tịch", agencies["ha-noi"].id)
    assert birth.procedure.code == "1.001193" and birth.legal_basis == "Quyết định 846/QĐ-TTg"
    assert by_name["Cấp đổi giấy phép lái xe"].procedure.code == "1.002804.H26"
    assert by_name["Cấp đổi giấy phép lái xe"].level == 4
    assert count(db, Procedure) == 3 and count(db, ApplicationStat) == 0
    assert actions(db).count("service.create") == 3 and actions(db)[-1] == "import.services"
    summary = db.session.execute(select(AuditLog).where(AuditLog.action == "import.services")).scalar_one()
    assert summary.actor == "cli" and summary.agency_id == agencies["ha-noi"].id
    assert summary.after["added"] == 3 and summary.after["file"] == "services_good.csv"


def test_reimporting_the_same_file_changes_nothing(db, runner, agencies):
    invoke(runner, "services", GOOD, "--agency", "ha-noi", "--period", "2017")
    before = (count(db, Service), count(db, Procedure), count(db, ApplicationStat), count(db, AuditLog))
    stamps = [s.updated_at for s in db.session.execute(select(Service).order_by(Service.id)).scalars()]
    result = invoke(runner, "services", GOOD, "--agency", "ha-noi", "--period", "2017")
    assert result.exit_code == 0, result.output
    assert "added: 0, updated: 0, unchanged: 3" in result.output
    db.session.expire_all()
    after = (count(db, Service), count(db, Procedure), count(db, ApplicationStat), count(db, AuditLog))
    assert after == (before[0], before[1], before[2], before[3] + 1)
    assert actions(db)[-1] == "import.services"
    assert [s.updated_at for s in db.session.execute(select(Service).order_by(Service.id)).scalars()] == stamps


def test_application_counts_are_kept_for_a_period(db, runner, agencies):
    result = invoke(runner, "services", GOOD, "--agency", "ha-noi", "--period", "2017")
    assert result.exit_code == 0, result.output
    stat = db.session.execute(
        select(ApplicationStat).join(Service, ApplicationStat.service_id == Service.id)
        .where(Service.name == "Đăng ký khai sinh")
    ).scalar_one()
    assert (stat.provenance, stat.period, stat.received_online, stat.received_total) == ("imported", "2017", 10309,
                                                                                         12500)
    assert stat.period_start.isoformat() == "2017-01-01" and stat.online_rate == pytest.approx(82.47, abs=0.01)
    assert count(db, ApplicationStat) == 2


def test_bad_rows_reject_the_whole_file(db, runner, agencies):
    result = invoke(runner, "services", BAD, "--agency", "ha-noi")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("row ")]
    numbers = sorted({int(re.match(r"row (\d+):", line).group(1)) for line in lines})
    assert numbers == [3, 4, 5, 6, 7, 8, 9]
    assert any(line.startswith("row 3: name: ") for line in lines)
    assert any(line.startswith("row 4: level: ") for line in lines)
    assert any(line.startswith("row 7: url: ") and "dòng 2" in line for line in lines)
    assert "nothing was written" in result.output
    assert count(db, Service) == 0 and count(db, Procedure) == 0
    assert actions(db) == ["import.rejected"]


def test_dry_run_writes_nothing(db, runner, agencies):
    result = invoke(runner, "services", GOOD, "--agency", "ha-noi", "--dry-run")
    assert result.exit_code == 0
    assert "added: 3, updated: 0, unchanged: 0 (dry run: nothing was written)" in result.output
    assert count(db, Service) == 0 and count(db, Procedure) == 0 and count(db, AuditLog) == 0
    bad = invoke(runner, "services", BAD, "--agency", "ha-noi", "--dry-run")
    assert bad.exit_code == 1 and count(db, AuditLog) == 0


def test_rows_match_on_address_or_procedure_code(db, runner, agencies, tmp_path):
    invoke(runner, "services", GOOD, "--agency", "ha-noi")
    moved = tmp_path / "moved.csv"
    moved.write_text(
        "Tên dịch vụ công,Mã thủ tục,Mức độ,Địa chỉ trên Internet\n"
        "Đăng ký khai sinh (liên thông),1.001193,4,https://dichvucong.hanoi.gov.vn/dich-vu/khai-sinh-moi\n"
        "Cấp giấy phép xây dựng nhà ở riêng lẻ,1.009794,4,https://DICHVUCONG.hanoi.gov.vn/dich-vu/gpxd/\n",
        encoding="utf-8",
    )
    result = invoke(runner, "services", moved, "--agency", "ha-noi")
    assert result.exit_code == 0, result.output
    assert "added: 0, updated: 2, unchanged: 0" in result.output
    birth = db.session.execute(select(Service).where(Service.name.like("Đăng ký khai sinh%"))).scalar_one()
    assert birth.url.endswith("/khai-sinh-moi") and birth.name == "Đăng ký khai sinh (liên thông)"
    assert birth.field == "Hộ tịch"  # no "Lĩnh vực" column in this file: left alone
    update = db.session.execute(
        select(AuditLog).where(AuditLog.action == "service.update", AuditLog.entity_id == str(birth.id))
    ).scalar_one()
    assert update.before["url"].endswith("/khai-sinh") and update.after["url"].endswith("/khai-sinh-moi")
    assert update.note == "nhập từ tệp moved.csv"
    assert count(db, Service) == 3


def test_xlsx_with_vietnamese_headers_and_agency_column(db, runner, agencies, tmp_path):
    path = tmp_path / "danh-muc.xlsx"
    path.write_bytes(xlsx([
        ["STT", "Tên thủ tục hành chính", "Lĩnh vực", "Mức độ cung cấp", "Số hồ sơ tiếp nhận trực tuyến",
         "Tổng số hồ sơ", "Địa chỉ truy cập", "Văn bản quy định", "Mã cơ quan"],
        ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)"],
        [1, "Đăng ký kết hôn", "Hộ tịch", "Một phần", 1234, 2000, "https://dichvucong.danang.gov.vn/ket-hon",
         "Quyết định 846/QĐ-TTg", "da-nang"],
        [2, "Cấp phiếu lý lịch tư pháp", "Lý lịch tư pháp", "Toàn trình", 0, 15,
         "https://sotuphap.hanoi.gov.vn/ly-lich", "", "so-tu-phap-ha-noi"],
    ], title="DANH MỤC DỊCH VỤ CÔNG TRỰC TUYẾN"))
    result = invoke(runner, "services", path, "--period", "2017-Q3")
    assert result.exit_code == 0, result.output
    assert "added: 2" in result.output
    rows = {s.name: s for s in db.session.execute(select(Service)).scalars()}
    assert rows["Đăng ký kết hôn"].agency_id == agencies["da-nang"].id and rows["Đăng ký kết hôn"].level == 3
    assert rows["Cấp phiếu lý lịch tư pháp"].agency_id == agencies["so-tu-phap-ha-noi"].id
    assert rows["Cấp phiếu lý lịch tư pháp"].level == 4 and rows["Cấp phiếu lý lịch tư pháp"].legal_basis is None
    stat = db.session.execute(select(ApplicationStat).where(ApplicationStat.received_total == 2000)).scalar_one()
    assert (stat.period, stat.period_start.isoformat(), stat.period_end.isoformat()) == (
        "2017-Q3", "2017-07-01", "2017-09-30")
    again = invoke(runner, "services", path, "--period", "2017-Q3")
    assert "added: 0, updated: 0, unchanged: 2" in again.output


def test_cli_refuses_private_addresses_when_not_allowed(app, db, runner, agencies, tmp_path):
    app.config["PORTAL_ALLOW_PRIVATE_ADDRESSES"] = False
    path = tmp_path / "internal.csv"
    path.write_text("Tên dịch vụ,Mức độ,Địa chỉ\nDịch vụ nội bộ,3,http://192.168.1.20/dvc\n", encoding="utf-8")
    result = invoke(runner, "services", path, "--agency", "ha-noi")
    assert result.exit_code == 1 and "row 2: url: " in result.output and "mạng nội bộ" in result.output
    assert count(db, Service) == 0


def test_cli_refuses_an_unknown_agency_and_a_bad_period(db, runner, agencies):
    result = invoke(runner, "services", GOOD, "--agency", "khong-co")
    assert result.exit_code == 1 and "row 0: agency: " in result.output
    result = invoke(runner, "services", GOOD, "--agency", "ha-noi", "--period", "2017-Q5")
    assert result.exit_code == 1 and "row 0: period: " in result.output
    assert count(db, Service) == 0


def test_cli_refuses_files_over_the_size_limit(db, runner, agencies, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "MAX_IMPORT_BYTES", 100)
    result = invoke(runner, "services", GOOD, "--agency", "ha-noi")
    assert result.exit_code == 1 and "the limit is" in result.output
    assert count(db, Service) == 0


def test_report_figures_import(db, runner, agencies, tmp_path):
    path = tmp_path / "report.csv"
    path.write_text(
        "code,year,services_l3,services_l4,online_applications,it_infrastructure_index,website_index\n"
        "ha-noi,2016,157,2,\"340.027\",\"1,000\",0.927\n"
        "da-nang,2016,301,32,46842,1.000,0.942\n",
        encoding="utf-8",
    )
    result = invoke(runner, "report", path, "--period", "2016")
    assert result.exit_code == 0, result.output
    assert "added: 2, updated: 0, unchanged: 0" in result.output
    hanoi = db.session.execute(select(ReportFigure).where(ReportFigure.agency_id == agencies["ha-noi"].id)).scalar_one()
    assert (hanoi.services_l3, hanoi.services_l4, hanoi.online_applications) == (157, 2, 340027)
    assert hanoi.website_index == pytest.approx(0.927) and hanoi.it_hr_index is None
    assert invoke(runner, "report", path, "--period", "2016").output.startswith("added: 0, updated: 0, unchanged: 2")

    hanoi.it_hr_index = 0.805
    db.session.commit()
    path.write_text(path.read_text(encoding="utf-8").replace("157,2", "160,2"), encoding="utf-8")
    assert "updated: 1" in invoke(runner, "report", path, "--period", "2016").output
    db.session.expire_all()
    assert hanoi.services_l3 == 160 and hanoi.it_hr_index == pytest.approx(0.805)  # column absent: kept
    assert actions(db).count("report_figure.update") == 1 and actions(db).count("import.report") == 3


def test_report_import_of_the_official_2016_figures_is_all_or_nothing(db, runner, demo, tmp_path):
    result = invoke(runner, "report", FIXTURES / "report_2016.csv", "--period", "2016")
    assert result.exit_code == 0, result.output
    assert "unchanged: " in result.output and "added: 0" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("code,year,services_l3\nha-noi,2016,12\nkhong-co,2016,3\nda-nang,2015,1\n", encoding="utf-8")
    result = invoke(runner, "report", bad, "--period", "2016")
    assert result.exit_code == 1
    assert "row 3: code: " in result.output and "row 4: year: " in result.output
    figure = db.session.execute(
        select(ReportFigure).join(ReportFigure.agency).where(ReportFigure.period == "2016")
        .where(ReportFigure.agency.has(code="ha-noi"))
    ).scalar_one()
    assert figure.services_l3 == 157


# ---------------------------------------------------------------- upload page


def upload(client, data: bytes, filename: str, **fields):
    form = {"agency": "ha-noi", "period": "", **fields, "csrf_token": csrf_token(client, "/admin/imports")}
    form["file"] = (io.BytesIO(data), filename)
    return client.post("/admin/imports", data=form, content_type="multipart/form-data")


def confirm_token(page: str) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)


def test_upload_previews_then_imports_on_confirmation(db, officer_client, officer, agencies):
    response = upload(officer_client, GOOD.read_bytes(), "services_good.csv")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Thêm mới 3 · cập nhật 0 · không đổi 0" in page and "Đăng ký khai sinh" in page
    assert count(db, Service) == 0 and count(db, AuditLog) == 0
    token = confirm_token(page)
    response = officer_client.post("/admin/imports/confirm", data={
        "token": token, "csrf_token": csrf_token(officer_client, "/admin/imports"),
    })
    assert response.status_code == 302
    assert count(db, Service) == 3
    summary = db.session.execute(select(AuditLog).where(AuditLog.action == "import.services")).scalar_one()
    assert summary.user_id == officer.id and summary.after["added"] == 3
    replay = officer_client.post("/admin/imports/confirm", data={
        "token": token, "csrf_token": csrf_token(officer_client, "/admin/imports"),
    })
    assert replay.status_code == 302 and count(db, Service) == 3

    again = upload(officer_client, GOOD.read_bytes(), "services_good.csv").get_data(as_text=True)
    assert "Thêm mới 0 · cập nhật 0 · không đổi 3" in again


def test_upload_with_bad_rows_lists_them_and_writes_nothing(db, officer_client, agencies):
    response = upload(officer_client, BAD.read_bytes(), "services_bad.csv")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "bị từ chối" in page and "Dòng 3 — Thiếu tên dịch vụ" in page and "Dòng 4 — Mức độ" in page
    assert 'name="token"' not in page
    assert count(db, Service) == 0


def test_an_officers_import_is_restricted_to_their_agency(db, officer_client, agencies):
    data = ("Tên dịch vụ,Mức độ,Địa chỉ,Mã cơ quan\n"
            "Dịch vụ của sở,3,https://stp.hanoi.gov.vn/a,so-tu-phap-ha-noi\n"
            "Dịch vụ của Đà Nẵng,3,https://dvc.danang.gov.vn/a,da-nang\n").encode()
    response = upload(officer_client, data, "mixed.csv")
    assert response.status_code == 400
    assert "Dòng 3 — Bạn không quản lý cơ quan “da-nang”" in response.get_data(as_text=True)
    assert count(db, Service) == 0
    tampered = upload(officer_client, GOOD.read_bytes(), "services_good.csv", agency="da-nang")
    assert tampered.status_code == 400 and count(db, Service) == 0


def test_a_pending_upload_belongs_to_its_uploader(db, client, officer, admin, agencies):
    from tests.helpers import sign_in

    sign_in(client, officer)
    token = confirm_token(upload(client, GOOD.read_bytes(), "services_good.csv").get_data(as_text=True))
    sign_in(client, admin)
    response = client.post("/admin/imports/confirm", data={"token": token,
                                                           "csrf_token": csrf_token(client, "/admin/imports")})
    assert response.status_code == 302 and count(db, Service) == 0


def test_upload_of_xlsx_with_vietnamese_headers(db, admin_client, agencies):
    data = xlsx([["Tên dịch vụ công", "Mức độ", "Địa chỉ trên Internet", "Mã thủ tục"],
                 ["Đăng ký thường trú", "Mức độ 4", "https://dichvucong.hanoi.gov.vn/thuong-tru", "1.004194"]])
    response = upload(admin_client, data, "dich-vu.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    admin_client.post("/admin/imports/confirm", data={
        "token": confirm_token(response.get_data(as_text=True)),
        "csrf_token": csrf_token(admin_client, "/admin/imports"),
    })
    service = db.session.execute(select(Service)).scalar_one()
    assert (service.name, service.level, service.procedure.code) == ("Đăng ký thường trú", 4, "1.004194")


def test_upload_over_the_limits_gives_a_clear_message(app, db, admin_client, agencies, monkeypatch):
    monkeypatch.setattr(importing, "MAX_IMPORT_BYTES", 2000)
    response = upload(admin_client, b"x" * 3000, "big.csv")
    assert response.status_code == 413
    assert "Tệp quá lớn: giới hạn là" in response.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = upload(admin_client, b"x" * 20_000, "huge.csv")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Tệp quá lớn: giới hạn là" in page and 'enctype="multipart/form-data"' in page
    assert count(db, Service) == 0


def test_upload_without_a_csrf_token_is_refused(db, admin_client, agencies):
    response = admin_client.post("/admin/imports", data={"file": (io.BytesIO(GOOD.read_bytes()), "x.csv")},
                                 content_type="multipart/form-data")
    assert response.status_code == 400 and count(db, Service) == 0


def test_templates_can_be_downloaded(admin_client):
    csv_body = admin_client.get("/admin/imports/template.csv").get_data()
    assert csv_body.startswith(b"\xef\xbb\xbf") and "Tên dịch vụ công".encode() in csv_body
    response = admin_client.get("/admin/imports/template.xlsx")
    assert response.status_code == 200 and response.get_data()[:2] == b"PK"
