"""Admin pages of procedures: access, CSRF, create/edit, memberships, catalogue upload with preview — all audited."""

from __future__ import annotations

import io
import re

import pytest
from flask import g
from sqlalchemy import func, select

from portal.models import AuditLog, CatalogueEntry, Procedure
from tests.helpers import csrf_token, make_user, sign_in

CSV = (
    "Mã thủ tục,Tên thủ tục,Lĩnh vực,Phạm vi,Mức độ\n"
    "1.000178,Đăng ký khai sinh,Hộ tịch,tỉnh,4\n"
    "1.000179,Đăng ký kết hôn,Hộ tịch,tỉnh,3\n"
)


@pytest.fixture
def uploads(app, tmp_path):
    app.config["PORTAL_UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads" / "procedures"


def actions(db) -> list[str]:
    return [a.action for a in db.session.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_only_admins_get_in(client, db, world):
    world.agency("ha-noi", "TP. Hà Nội")
    world.entry("1.000178", "Đăng ký khai sinh")
    world.commit()
    procedure_id = world.procedures["1.000178"].id
    pages = ["/admin/procedures", "/admin/procedures/new", f"/admin/procedures/{procedure_id}/edit",
             "/admin/procedures/import"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next="), page
    assert client.post("/admin/procedures/import/confirm").status_code in (302, 400)
    officer = make_user(db, "can-bo@hanoi.gov.vn", "officer", world.agencies["ha-noi"])
    sign_in(client, officer)
    for page in pages:
        assert client.get(page).status_code == 403, page
    assert client.post(f"/admin/procedures/{procedure_id}/memberships", data={}).status_code in (400, 403)


def test_create_edit_and_membership_are_audited(db, admin_client, world):
    world.agency("bo-cong-thuong", "Bộ Công Thương", kind="ministry")
    world.commit()
    token = csrf_token(admin_client, "/admin/procedures/new")
    response = admin_client.post("/admin/procedures/new", data={
        "csrf_token": token, "code": "2.002195", "name": "Cấp giấy chứng nhận xuất xứ", "field": "Xuất nhập khẩu",
    })
    assert response.status_code == 302
    procedure = db.session.execute(select(Procedure)).scalar_one()
    edit = f"/admin/procedures/{procedure.id}/edit"
    assert response.headers["Location"].endswith(edit)

    page = admin_client.get(edit).get_data(as_text=True)
    assert 'value="Cấp giấy chứng nhận xuất xứ"' in page and "2.002195" in page
    response = admin_client.post(edit, data={"csrf_token": csrf_token(admin_client, edit),
                                              "name": "Cấp giấy chứng nhận xuất xứ hàng hóa (C/O)", "field": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert procedure.name == "Cấp giấy chứng nhận xuất xứ hàng hóa (C/O)" and procedure.field is None
    assert procedure.code == "2.002195"

    response = admin_client.post(f"/admin/procedures/{procedure.id}/memberships", data={
        "csrf_token": csrf_token(admin_client, edit), "catalogue": "qd-846-2017", "scope": "ministry",
        "required_level": "4", "agency": "bo-cong-thuong",
    })
    assert response.status_code == 302
    entry = db.session.execute(select(CatalogueEntry)).scalar_one()
    assert (entry.catalogue, entry.scope, entry.required_level) == ("qd-846-2017", "ministry", 4)
    assert entry.agency_id == world.agencies["bo-cong-thuong"].id
    page = admin_client.get(edit).get_data(as_text=True)
    assert "qd-846-2017" in page and "Bộ Công Thương" in page
    assert actions(db) == ["procedure.create", "procedure.update", "catalogue_entry.create"]
    before = db.session.execute(select(AuditLog).where(AuditLog.action == "procedure.update")).scalar_one().before
    assert before["name"] == "Cấp giấy chứng nhận xuất xứ"


def test_invalid_input_is_refused_with_field_errors(db, admin_client, world):
    world.agency("ha-noi", "TP. Hà Nội")
    world.entry("1.000178", "Đăng ký khai sinh")
    world.commit()
    token = csrf_token(admin_client, "/admin/procedures/new")
    response = admin_client.post("/admin/procedures/new", data={"csrf_token": token, "code": "1.17", "name": "X"})
    assert response.status_code == 400 and "không đúng định dạng" in response.get_data(as_text=True)
    response = admin_client.post("/admin/procedures/new",
                                 data={"csrf_token": token, "code": "1.000178", "name": "Trùng mã"})
    assert response.status_code == 400 and "Đã có thủ tục mã 1.000178" in response.get_data(as_text=True)
    procedure_id = world.procedures["1.000178"].id
    response = admin_client.post(f"/admin/procedures/{procedure_id}/memberships", data={
        "csrf_token": token, "catalogue": "qd-846-2017", "scope": "ministry", "required_level": "4",
        "agency": "ha-noi",
    })
    assert response.status_code == 400 and "Cơ quan không thuộc phạm vi" in response.get_data(as_text=True)
    assert count(db, Procedure) == 1 and count(db, CatalogueEntry) == 1 and actions(db) == []


def test_forms_without_csrf_token_are_refused(db, admin_client, world, uploads):
    world.entry("1.000178", "Đăng ký khai sinh")
    world.commit()
    procedure_id = world.procedures["1.000178"].id
    assert admin_client.post("/admin/procedures/new", data={"code": "1.000999", "name": "X"}).status_code == 400
    assert admin_client.post(f"/admin/procedures/{procedure_id}/edit", data={"name": "Đổi tên"}).status_code == 400
    assert admin_client.post(f"/admin/procedures/{procedure_id}/memberships", data={
        "catalogue": "x", "scope": "province", "required_level": "3"}).status_code == 400
    response = admin_client.post("/admin/procedures/import", data={
        "file": (io.BytesIO(CSV.encode()), "dm.csv"), "catalogue": "qd-846-2017"})
    assert response.status_code == 400
    assert admin_client.post("/admin/procedures/import/confirm", data={"token": "0" * 32}).status_code == 400
    db.session.expire_all()
    assert db.session.execute(select(Procedure.name)).scalars().all() == ["Đăng ký khai sinh"]
    assert count(db, CatalogueEntry) == 1 and actions(db) == []


def test_search_without_diacritics_and_by_code(db, admin_client, world):
    world.entry("1.000178", "Đăng ký khai sinh")
    world.entry("2.002195", "Cấp giấy chứng nhận xuất xứ", scope="ministry")
    world.commit()
    page = admin_client.get("/admin/procedures?q=dang ky khai").get_data(as_text=True)
    assert "Đăng ký khai sinh" in page and "xuất xứ" not in page
    page = admin_client.get("/admin/procedures?q=2.002").get_data(as_text=True)
    assert "xuất xứ" in page and "Đăng ký khai sinh" not in page
    page = admin_client.get("/admin/procedures?catalogue=khac").get_data(as_text=True)
    assert "Không có thủ tục nào." in page


def upload(client, body: bytes, name: str = "dm.csv", **fields):
    token = csrf_token(client, "/admin/procedures/import")
    data = {"csrf_token": token, "catalogue": "qd-846-2017", "scope": "", **fields,
            "file": (io.BytesIO(body), name)}
    return client.post("/admin/procedures/import", data=data, content_type="multipart/form-data")


def test_upload_previews_then_confirm_imports(db, admin_client, admin, uploads):
    response = upload(admin_client, CSV.encode())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Xem trước (chưa ghi)" in page
    assert re.search(r'class="preview-added">2<', page)
    assert count(db, Procedure) == 0  # nothing written yet
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = admin_client.post("/admin/procedures/import/confirm", data={"csrf_token": csrf, "token": token})
    assert response.status_code == 302 and "catalogue=qd-846-2017" in response.headers["Location"]
    assert count(db, CatalogueEntry) == 2
    entry = db.session.execute(select(AuditLog)).scalar_one()
    assert entry.action == "procedure_catalogue.import" and entry.user_id == admin.id
    assert entry.after["added"] == 2 and entry.note == "dm.csv"
    assert not list(uploads.glob("*.upload"))

    again = admin_client.post("/admin/procedures/import/confirm", data={"csrf_token": csrf, "token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/admin/procedures/import")
    assert count(db, AuditLog) == 1


def test_upload_with_errors_lists_them_and_writes_nothing(db, admin_client, uploads):
    bad = CSV + "1.000180,Đăng ký khai tử,Hộ tịch,huyện,4\n"
    response = upload(admin_client, bad.encode())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Tệp có 1 lỗi; không có gì được ghi." in page and "Dòng 4 — Phạm vi phải là" in page
    assert 'name="token"' not in page
    assert count(db, Procedure) == 0
    assert not uploads.exists() or not list(uploads.glob("*.upload"))


def test_a_token_from_another_session_is_refused(db, admin_client, uploads, app):
    page = upload(admin_client, CSV.encode()).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    other = app.test_client()
    sign_in(other, make_user(db, "admin2@example.vn", "admin"))
    g.pop("csrf_token", None)  # the tests share one app context; the token belongs to the other session
    csrf = csrf_token(other, "/admin/procedures/import")
    response = other.post("/admin/procedures/import/confirm", data={"csrf_token": csrf, "token": token})
    assert response.status_code == 302 and count(db, CatalogueEntry) == 0
