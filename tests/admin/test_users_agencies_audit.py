"""Admin pages for users, agencies (mergers) and the audit log."""

from __future__ import annotations

from datetime import timedelta

from flask import g
from sqlalchemy import select

from portal.models import Agency, AuditLog, User, utcnow
from portal.services import audit
from portal.services.periods import VIETNAM
from tests.helpers import PASSWORD, csrf_token, sign_in

NEW_USER = "/admin/users/new"


def entries(db, action=None):
    stmt = select(AuditLog).order_by(AuditLog.id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    return list(db.session.execute(stmt).scalars())


# ---------------------------------------------------------------- users


def user_form(client, **fields):
    data = {"email": "canbo@danang.gov.vn", "role": "officer", "agency": "da-nang",
            "password": "một mật khẩu đủ dài", "confirm": "một mật khẩu đủ dài"}
    data.update(fields)
    data["csrf_token"] = csrf_token(client, NEW_USER)
    return data


def test_admin_creates_an_officer(db, admin_client, admin, agencies):
    response = admin_client.post(NEW_USER, data=user_form(admin_client))
    assert response.status_code == 302
    user = db.session.execute(select(User).where(User.email == "canbo@danang.gov.vn")).scalar_one()
    assert user.role == "officer" and user.agency_id == agencies["da-nang"].id and user.is_enabled
    (entry,) = entries(db, "user.create")
    assert entry.user_id == admin.id and entry.agency_id == agencies["da-nang"].id
    assert "password" not in entry.after and "password_hash" not in entry.after
    assert "canbo@danang.gov.vn" in admin_client.get("/admin/users").get_data(as_text=True)


def test_user_form_errors_are_in_vietnamese_and_keep_values(db, admin_client, admin, agencies):
    response = admin_client.post(NEW_USER, data=user_form(admin_client, agency="", confirm="khác"))
    assert response.status_code == 400
    assert "Hai mật khẩu không giống nhau." in response.get_data(as_text=True)
    response = admin_client.post(NEW_USER, data=user_form(admin_client, agency=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Cán bộ phải thuộc một cơ quan." in page
    assert 'value="canbo@danang.gov.vn"' in page and "một mật khẩu đủ dài" not in page
    response = admin_client.post(NEW_USER, data=user_form(admin_client, email=admin.email.upper(), role="admin",
                                                          agency=""))
    assert response.status_code == 400 and "Đã có tài khoản với địa chỉ này." in response.get_data(as_text=True)
    assert db.session.execute(select(User)).scalars().all() == [admin]


def test_disable_and_enable_a_user(db, admin_client, admin, officer, app):
    officer_client = app.test_client()
    sign_in(officer_client, officer)
    token = csrf_token(admin_client, "/admin/users")
    assert admin_client.post(f"/admin/users/{officer.id}/disable", data={"csrf_token": token, "confirmed": "1"}
                       ).status_code == 302
    db.session.expire_all()
    assert not officer.is_enabled
    g.pop("_login_user", None)
    assert officer_client.get("/admin").status_code == 302
    g.pop("_login_user", None)
    assert admin_client.post(f"/admin/users/{officer.id}/enable", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert officer.is_enabled
    g.pop("_login_user", None)
    assert officer_client.get("/admin").status_code == 302  # disabling ended the session for good
    disable, enable = entries(db, "user.disable")[0], entries(db, "user.enable")[0]
    assert disable.before["is_enabled"] is True and disable.after["is_enabled"] is False
    assert enable.after["is_enabled"] is True and enable.agency_id == officer.agency_id


def test_enabling_lifts_a_sign_in_lock(db, admin_client, officer):
    officer.locked_until = utcnow() + timedelta(minutes=10)
    officer.failed_logins = 3
    db.session.commit()
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Tạm khóa đến" in page and "Mở khóa" in page
    token = csrf_token(admin_client, "/admin/users")
    admin_client.post(f"/admin/users/{officer.id}/enable", data={"csrf_token": token})
    db.session.expire_all()
    assert officer.locked_until is None and officer.failed_logins == 0


def test_an_admin_cannot_disable_themselves(db, admin_client, admin):
    token = csrf_token(admin_client, "/admin/users")
    response = admin_client.post(f"/admin/users/{admin.id}/disable", data={"csrf_token": token, "confirmed": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert admin.is_enabled
    assert "Không thể tự khóa tài khoản của mình." in admin_client.get("/admin/users").get_data(as_text=True)


def test_officers_cannot_manage_users(db, officer_client, officer, admin):
    token = csrf_token(officer_client, "/admin")
    assert officer_client.post(f"/admin/users/{admin.id}/disable", data={"csrf_token": token}).status_code == 403
    assert officer_client.post(NEW_USER, data={"email": "x@y.vn", "role": "admin", "password": PASSWORD,
                                               "confirm": PASSWORD, "csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert admin.is_enabled and len(db.session.execute(select(User)).scalars().all()) == 2


# ---------------------------------------------------------------- agencies


def agency_form(client, page, **fields):
    data = {"name": "Hà Nội", "kind": "province", "portal_url": "", "parent": "", "valid_from": "", "valid_to": "",
            "successor": "", "reorganisation_basis": "", "check_interval_minutes": "60"}
    data.update(fields)
    data["csrf_token"] = csrf_token(client, page)
    return data


def test_marking_a_merger(db, admin_client, admin, agencies):
    page = "/admin/agencies/da-nang/edit"
    response = admin_client.post(page, data=agency_form(
        admin_client, page, name="Đà Nẵng", valid_to="2025-07-01", successor="ha-noi",
        reorganisation_basis="Nghị quyết 202/2025/QH15",
    ))
    assert response.status_code == 302
    db.session.expire_all()
    da_nang = agencies["da-nang"]
    assert da_nang.valid_to.isoformat() == "2025-07-01" and da_nang.successor_id == agencies["ha-noi"].id
    assert not da_nang.is_current()
    (entry,) = entries(db, "agency.merge")
    assert entry.before["successor_id"] is None and entry.after["successor_id"] == agencies["ha-noi"].id
    assert entry.after["valid_to"] == "2025-07-01" and entry.agency_id == da_nang.id and entry.user_id == admin.id
    assert "Nghị quyết 202/2025/QH15" in admin_client.get("/admin/agencies").get_data(as_text=True)
    public = admin_client.get("/agencies/ha-noi").get_data(as_text=True)
    assert "Đà Nẵng" in public


def test_merger_validation(db, admin_client, agencies):
    page = "/admin/agencies/ha-noi/edit"
    itself = admin_client.post(page, data=agency_form(admin_client, page, valid_to="2025-07-01", successor="ha-noi"))
    assert itself.status_code == 400
    assert "Lựa chọn không hợp lệ." in itself.get_data(as_text=True)  # itself is not among the choices

    agencies["da-nang"].successor_id = agencies["ha-noi"].id
    agencies["da-nang"].valid_to = agencies["da-nang"].valid_from = None
    db.session.commit()
    cycle = admin_client.post(page, data=agency_form(admin_client, page, valid_to="2025-07-01", successor="da-nang"))
    assert cycle.status_code == 400
    assert "đã sáp nhập (trực tiếp hoặc gián tiếp) vào cơ quan này" in cycle.get_data(as_text=True)

    no_date = admin_client.post(page, data=agency_form(admin_client, page, successor="bo-tu-phap"))
    assert no_date.status_code == 400 and "hãy nhập ngày hết hiệu lực" in no_date.get_data(as_text=True)
    backwards = admin_client.post(page, data=agency_form(admin_client, page, valid_from="2025-07-01",
                                                         valid_to="2020-01-01"))
    assert backwards.status_code == 400 and "phải sau ngày bắt đầu" in backwards.get_data(as_text=True)
    bad_date = admin_client.post(page, data=agency_form(admin_client, page, valid_to="31/02/2025"))
    assert bad_date.status_code == 400 and "Ngày không hợp lệ" in bad_date.get_data(as_text=True)
    sub_unit = admin_client.post(page, data=agency_form(admin_client, page, parent="so-tu-phap-ha-noi"))
    assert sub_unit.status_code == 400 and "đơn vị trực thuộc của nó" in sub_unit.get_data(as_text=True)
    db.session.expire_all()
    assert agencies["ha-noi"].successor_id is None and agencies["ha-noi"].valid_to is None
    assert entries(db) == []


def test_admin_creates_an_agency_after_a_merger(db, admin_client, agencies):
    page = "/admin/agencies/new"
    response = admin_client.post(page, data=agency_form(
        admin_client, page, code="bo-noi-vu-moi", name="Bộ Nội vụ (mới)", kind="ministry", valid_from="2025-03-01",
        portal_url="https://dichvucong.moha.gov.vn",
    ))
    assert response.status_code == 302
    agency = db.session.execute(select(Agency).where(Agency.code == "bo-noi-vu-moi")).scalar_one()
    assert agency.valid_from.isoformat() == "2025-03-01" and agency.kind == "ministry"
    duplicate = admin_client.post(page, data=agency_form(admin_client, page, code="ha-noi", name="Hà Nội 2"))
    assert duplicate.status_code == 400 and "Đã có cơ quan mã “ha-noi”." in duplicate.get_data(as_text=True)
    bad_code = admin_client.post(page, data=agency_form(admin_client, page, code="Hà Nội", name="X"))
    assert bad_code.status_code == 400
    assert [e.action for e in entries(db)] == ["agency.create"]


# ---------------------------------------------------------------- audit log


def test_audit_page_filters_and_pages(db, admin_client, admin, officer, agencies):
    now = utcnow()
    for index in range(55):
        audit.record(db.session, action="service.update", entity_type="service", entity_id=index, user=officer,
                     agency_id=agencies["so-tu-phap-ha-noi"].id, before={"level": 3}, after={"level": 4})
    old = audit.record(db.session, action="service.create", entity_type="service", entity_id=99, user=admin,
                       agency_id=agencies["da-nang"].id, before=None, after={"name": "Đăng ký kết hôn"})
    old.at = now - timedelta(days=40)
    audit.record(db.session, action="login.failed", entity_type="user", actor="ke-gian@example.vn", ip="192.0.2.9")
    db.session.commit()

    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "57 mục" in page and 'rel="next"' in page
    second = admin_client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "Trang 2 / 2" in second

    by_action = admin_client.get("/admin/audit?action=login.failed").get_data(as_text=True)
    assert "1 mục" in by_action and "ke-gian@example.vn" in by_action and "192.0.2.9" in by_action
    by_user = admin_client.get("/admin/audit?user=ADMIN@").get_data(as_text=True)
    assert "1 mục" in by_user and "Đăng ký kết hôn" in by_user
    by_agency = admin_client.get("/admin/audit?agency=ha-noi&action=service.update").get_data(as_text=True)
    assert "55 mục" in by_agency and "agency=ha-noi" in by_agency and "action=service.update" in by_agency
    day = (now - timedelta(days=40)).astimezone(VIETNAM).date()
    since, until = day - timedelta(days=1), day + timedelta(days=1)
    by_dates = admin_client.get(f"/admin/audit?date_from={since}&date_to={until}").get_data(as_text=True)
    assert "1 mục" in by_dates and "Đăng ký kết hôn" in by_dates
    bad = admin_client.get("/admin/audit?date_from=hôm-qua")
    assert bad.status_code == 400 and "Ngày không hợp lệ" in bad.get_data(as_text=True)


def test_audit_page_shows_before_and_after(db, admin_client, officer, agencies):
    audit.record(db.session, action="service.update", entity_type="service", entity_id=7, user=officer,
                 agency_id=agencies["ha-noi"].id, before={"name": "Tên cũ", "level": 3},
                 after={"name": "Tên mới", "level": 3})
    db.session.commit()
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "<del>Tên cũ</del> → <ins>Tên mới</ins>" in page
    assert "<del>3</del>" not in page  # unchanged values are not listed
