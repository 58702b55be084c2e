"""Registering, editing, retiring and restoring services: validation, role boundaries, audit, exports."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.models import AuditLog, Procedure, Service
from tests.helpers import csrf_token, make_user, sign_in

NEW = "/admin/services/new"


def form(client, page=NEW, **fields):
    data = {"name": "Đăng ký khai sinh", "agency": "ha-noi", "level": "4",
            "url": "https://dichvucong.hanoi.gov.vn/khai-sinh", "procedure_code": "", "field": "", "legal_basis": ""}
    data.update(fields)
    data["csrf_token"] = csrf_token(client, page)
    return data


def services(db):
    return list(db.session.execute(select(Service).order_by(Service.id)).scalars())


def audit_entries(db, action=None):
    stmt = select(AuditLog).order_by(AuditLog.id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    return list(db.session.execute(stmt).scalars())


def test_officer_registers_a_service_for_their_agency(db, officer_client, officer, agencies):
    page = officer_client.get(NEW).get_data(as_text=True)
    assert '<option selected value="ha-noi">' in page and "so-tu-phap-ha-noi" in page
    assert "da-nang" not in page and "bo-tu-phap" not in page
    response = officer_client.post(NEW, data=form(officer_client, procedure_code="1.001193", field="Hộ tịch"))
    assert response.status_code == 302
    (service,) = services(db)
    assert (service.agency_id, service.level, service.status) == (agencies["ha-noi"].id, 4, "active")
    assert service.procedure.code == "1.001193" and service.procedure.name == "Đăng ký khai sinh"
    assert service.procedure.field == "Hộ tịch"
    entry = audit_entries(db, "service.create")[0]
    assert entry.user_id == officer.id and entry.agency_id == agencies["ha-noi"].id
    assert entry.before is None and entry.after["url"] == service.url and entry.after["procedure_code"] == "1.001193"
    assert [e.action for e in audit_entries(db)] == ["procedure.create", "service.create"]


def test_invalid_values_are_shown_next_to_fields_and_kept(db, admin_client, agencies):
    response = admin_client.post(NEW, data=form(admin_client, name="", level="5", url="ftp://dvc.hanoi.gov.vn/x",
                                                procedure_code="1.0001"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Bắt buộc nhập tên dịch vụ." in page
    assert "Lựa chọn không hợp lệ." in page
    assert 'value="ftp://dvc.hanoi.gov.vn/x"' in page
    assert services(db) == []

    response = admin_client.post(NEW, data=form(admin_client, url="ftp://dvc.hanoi.gov.vn/x", procedure_code="1.0001"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="url-error"' in page and "http:// hoặc https://" in page
    assert 'id="procedure_code-error"' in page and "không đúng định dạng" in page
    assert 'value="1.0001"' in page
    assert services(db) == [] and audit_entries(db) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/dvc", "http://10.1.2.3/dvc", "http://[::1]/dvc",
                                 "http://169.254.169.254/latest/meta-data"])
def test_private_addresses_are_refused_unless_allowed(app, db, admin_client, agencies, url):
    app.config["PORTAL_ALLOW_PRIVATE_ADDRESSES"] = False
    response = admin_client.post(NEW, data=form(admin_client, url=url))
    assert response.status_code == 400
    assert "mạng nội bộ" in response.get_data(as_text=True)
    app.config["PORTAL_ALLOW_PRIVATE_ADDRESSES"] = True
    assert admin_client.post(NEW, data=form(admin_client, url=url)).status_code == 302


def test_no_duplicate_address_within_an_agency(db, admin_client, agencies, make_service):
    existing = make_service(agencies["ha-noi"], url="https://DichVuCong.HaNoi.gov.vn/khai-sinh/")
    response = admin_client.post(NEW, data=form(admin_client, url="https://dichvucong.hanoi.gov.vn/khai-sinh"))
    assert response.status_code == 400
    assert f"dịch vụ #{existing.id}" in response.get_data(as_text=True)
    assert admin_client.post(NEW, data=form(admin_client, agency="da-nang")).status_code == 302
    assert len(services(db)) == 2


def test_an_existing_procedure_is_reused(db, admin_client, agencies):
    db.session.add(Procedure(code="1.001193", name="Đăng ký khai sinh (danh mục)", field="Hộ tịch"))
    db.session.commit()
    admin_client.post(NEW, data=form(admin_client, procedure_code="1.001193"))
    admin_client.post(NEW, data=form(admin_client, agency="da-nang", procedure_code="1.001193"))
    assert db.session.execute(select(func.count(Procedure.id))).scalar_one() == 1
    assert {s.procedure.name for s in services(db)} == {"Đăng ký khai sinh (danh mục)"}


def test_officer_edits_services_of_a_sub_unit(db, officer_client, agencies, make_service):
    service = make_service(agencies["so-tu-phap-ha-noi"], url="https://sotuphap.hanoi.gov.vn/ly-lich")
    edit = f"/admin/services/{service.id}/edit"
    page = officer_client.get(edit).get_data(as_text=True)
    assert '<option selected value="so-tu-phap-ha-noi">' in page
    response = officer_client.post(edit, data=form(officer_client, edit, name="Cấp phiếu lý lịch tư pháp",
                                                   agency="so-tu-phap-ha-noi", level="3", url=service.url))
    assert response.status_code == 302
    db.session.expire_all()
    assert (service.name, service.level) == ("Cấp phiếu lý lịch tư pháp", 3)
    entry = audit_entries(db, "service.update")[0]
    assert entry.before["name"] == "Đăng ký khai sinh" and entry.after["name"] == "Cấp phiếu lý lịch tư pháp"
    assert entry.before["level"] == 4 and entry.after["level"] == 3
    history = officer_client.get(edit).get_data(as_text=True)
    assert "Sửa dịch vụ" in history and "Cấp phiếu lý lịch tư pháp" in history and "Mức 4 (toàn trình)" in history


def test_officer_is_refused_another_agencys_service_and_it_is_audited(db, officer_client, officer, agencies,
                                                                     make_service):
    other = make_service(agencies["da-nang"], url="https://dichvucong.danang.gov.vn/khai-sinh")
    token = csrf_token(officer_client, "/admin/services")
    assert officer_client.get(f"/admin/services/{other.id}/edit").status_code == 403
    response = officer_client.post(f"/admin/services/{other.id}/edit",
                                   data={"name": "Đổi tên", "agency": "ha-noi", "level": "3", "url": other.url,
                                         "csrf_token": token})
    assert response.status_code == 403
    assert officer_client.post(f"/admin/services/{other.id}/retire", data={"csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert (other.name, other.status) == ("Đăng ký khai sinh", "active")
    denied = audit_entries(db, "service.denied")
    assert len(denied) == 3
    assert all(e.user_id == officer.id and e.agency_id == agencies["da-nang"].id for e in denied)
    assert denied[-1].note == f"POST /admin/services/{other.id}/retire"
    listing = officer_client.get("/admin/services").get_data(as_text=True)
    assert other.url not in listing


def test_officer_cannot_register_a_service_for_another_agency(db, officer_client, officer, agencies):
    response = officer_client.post(NEW, data=form(officer_client, agency="da-nang"))
    assert response.status_code == 403
    assert services(db) == []
    (entry,) = audit_entries(db, "service.denied")
    assert entry.entity_type == "agency" and entry.entity_id == "da-nang"


def test_officer_cannot_move_their_service_to_another_agency(db, officer_client, agencies, make_service):
    service = make_service(agencies["ha-noi"])
    edit = f"/admin/services/{service.id}/edit"
    assert officer_client.post(edit, data=form(officer_client, edit, agency="bo-tu-phap")).status_code == 403
    db.session.expire_all()
    assert service.agency_id == agencies["ha-noi"].id


def test_officers_are_refused_admin_pages_and_anonymous_users_are_sent_to_login(db, client, officer, agencies):
    for path in ("/admin/users", "/admin/agencies", "/admin/audit", "/admin/users/new"):
        assert client.get(path).status_code == 302
    sign_in(client, officer)
    for path in ("/admin/users", "/admin/agencies", "/admin/audit", "/admin/agencies/ha-noi/edit"):
        assert client.get(path).status_code == 403
    assert client.get("/admin").status_code == 200
    denied = audit_entries(db, "access.denied")
    assert [e.entity_id for e in denied] == ["/admin/users", "/admin/agencies", "/admin/audit",
                                             "/admin/agencies/ha-noi/edit"]


def test_retired_services_leave_the_public_listing_but_keep_their_page(db, client, officer, agencies, make_service):
    service = make_service(agencies["ha-noi"], name="Cấp giấy phép xây dựng")
    link = f'href="/services/{service.id}"'
    sign_in(client, officer)
    assert link in client.get("/services?q=giay+phep").get_data(as_text=True)
    token = csrf_token(client, "/admin/services")
    assert client.post(f"/admin/services/{service.id}/retire").status_code == 400
    assert client.post(f"/admin/services/{service.id}/retire", data={"csrf_token": token, "confirmed": "1"}
                       ).status_code == 302
    db.session.expire_all()
    assert service.status == "retired" and service.retired_at is not None
    assert link not in client.get("/services?q=giay+phep").get_data(as_text=True)
    assert "đã ngừng cung cấp" in client.get(f"/services/{service.id}").get_data(as_text=True)
    listing = client.get("/admin/services?status=retired").get_data(as_text=True)
    assert "Cấp giấy phép xây dựng" in listing and f'action="/admin/services/{service.id}/restore"' in listing

    assert client.post(f"/admin/services/{service.id}/restore", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert service.status == "active" and service.retired_at is None
    assert link in client.get("/services?q=giay+phep").get_data(as_text=True)
    retire, restore = audit_entries(db, "service.retire")[0], audit_entries(db, "service.restore")[0]
    assert retire.before["status"] == "active" and retire.after["status"] == "retired"
    assert restore.before["status"] == "retired" and restore.after["status"] == "active"
    assert retire.user_id == restore.user_id == officer.id and retire.agency_id == agencies["ha-noi"].id


def test_an_address_of_a_retired_service_points_to_restoring_it(db, admin_client, agencies, make_service):
    make_service(agencies["ha-noi"], status="retired")
    response = admin_client.post(NEW, data=form(admin_client))
    assert response.status_code == 400 and "hãy khôi phục dịch vụ đó" in response.get_data(as_text=True)


def test_user_input_is_escaped(db, admin_client, agencies):
    name = '<script>alert("x")</script>'
    assert admin_client.post(NEW, data=form(admin_client, name=name)).status_code == 302
    for path in ("/admin/services", f"/admin/services/{services(db)[0].id}/edit", "/admin/audit"):
        page = admin_client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_officers_list_only_their_services(db, officer_client, agencies, make_service):
    make_service(agencies["ha-noi"], name="Dịch vụ Hà Nội", url="https://a.hanoi.gov.vn/1")
    make_service(agencies["so-tu-phap-ha-noi"], name="Dịch vụ Sở Tư pháp", url="https://stp.hanoi.gov.vn/1")
    make_service(agencies["da-nang"], name="Dịch vụ Đà Nẵng", url="https://a.danang.gov.vn/1")
    page = officer_client.get("/admin/services").get_data(as_text=True)
    assert "Dịch vụ Hà Nội" in page and "Dịch vụ Sở Tư pháp" in page and "Dịch vụ Đà Nẵng" not in page
    filtered = officer_client.get("/admin/services?agency=da-nang").get_data(as_text=True)
    assert "Dịch vụ Đà Nẵng" not in filtered
    found = officer_client.get("/admin/services?q=tu+phap").get_data(as_text=True)
    assert "Dịch vụ Sở Tư pháp" in found and "Dịch vụ Hà Nội" not in found


def test_exports_are_safe_against_formula_injection(db, admin_client, agencies, make_service):
    make_service(agencies["ha-noi"], name="=HYPERLINK(\"http://evil\",\"bấm\")", field="@SUM(A1)")
    csv_text = admin_client.get("/admin/services.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "'@SUM(A1)" in csv_text
    assert csv_text.splitlines()[0].startswith("Tên dịch vụ công,Mã thủ tục,Lĩnh vực,Mức độ")
    sheet = load_workbook(io.BytesIO(admin_client.get("/admin/services.xlsx").get_data())).active
    assert sheet["A2"].value.startswith("'=HYPERLINK") and sheet["A2"].data_type == "s"


def test_an_exported_list_imports_back_unchanged(db, admin_client, runner, agencies, make_service, tmp_path):
    make_service(agencies["ha-noi"], name="Đăng ký khai sinh", url="https://dvc.hanoi.gov.vn/khai-sinh")
    make_service(agencies["da-nang"], name="Đăng ký kết hôn", url="https://dvc.danang.gov.vn/ket-hon", level=3)
    path = tmp_path / "export.xlsx"
    path.write_bytes(admin_client.get("/admin/services.xlsx").get_data())
    result = runner.invoke(args=["import", "services", str(path)])
    assert result.exit_code == 0, result.output
    assert "added: 0, updated: 0, unchanged: 2" in result.output


def test_a_second_officer_of_another_agency_sees_nothing_of_the_first(db, client, agencies, make_service):
    make_service(agencies["ha-noi"])
    sign_in(client, make_user(db, "canbo@danang.gov.vn", "officer", agencies["da-nang"]))
    assert "Đăng ký khai sinh" not in client.get("/admin/services").get_data(as_text=True)


def test_retiring_a_down_service_closes_its_incident_and_restoring_starts_afresh(db, admin_client, agencies,
                                                                                  make_service):
    from datetime import timedelta

    from portal.models import Incident, utcnow

    service = make_service(agencies["ha-noi"], name="Cấp phép khai thác nước")
    service.health, service.health_since = "down", utcnow() - timedelta(hours=3)
    db.session.add(Incident(service_id=service.id, started_at=service.health_since, reason="timeout"))
    db.session.commit()
    def failing(page: str) -> str:
        return page.split('id="failing-heading"')[1].split('id="agencies-heading"')[0]

    assert "Cấp phép khai thác nước" in failing(admin_client.get("/status").get_data(as_text=True))
    token = csrf_token(admin_client, "/admin/services")
    assert admin_client.post(f"/admin/services/{service.id}/retire", data={"csrf_token": token, "confirmed": "1"}
                       ).status_code == 302
    db.session.expire_all()
    incident = db.session.execute(select(Incident)).scalar_one()
    assert incident.ended_at is not None and "retired" in incident.detail
    assert "Cấp phép khai thác nước" not in failing(admin_client.get("/status").get_data(as_text=True))
    assert admin_client.post(f"/admin/services/{service.id}/restore", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert (service.health, service.consecutive_failures, service.next_check_at) == ("unknown", 0, None)
