"""Quarterly reports: the template form, validation, officer scoping, locking, audit, XLSX export."""

from __future__ import annotations

import io

import pytest
from flask import g
from openpyxl import load_workbook
from sqlalchemy import select

from portal.models import ApplicationStat, AuditLog, QuarterlyReport
from portal.services import quarterly_reports
from tests.helpers import csrf_token, sign_in

PERIOD = "2026-Q3"
GOOD = {
    "services_l3": "120", "services_l4": "45", "new_services_l3": "10", "new_services_l4": "5",
    "received_l3": "10.309", "received_l4": "2000", "online_l3": "4.500", "online_l4": "500",
    "note": "Số liệu đến 30/9",
}


def post_report(client, data, code="ha-noi", period=PERIOD):
    url = f"/admin/reports/{period}/{code}"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def audit_actions(db):
    return [e.action for e in db.session.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]


def test_officer_submits_and_edits_own_report(db, officer_client, agencies, officer):
    form = officer_client.get(f"/admin/reports/{PERIOD}/ha-noi").get_data(as_text=True)
    assert "Quý III/2026" in form and 'name="online_l4"' in form

    response = post_report(officer_client, GOOD)
    assert response.status_code == 302
    report = db.session.execute(select(QuarterlyReport)).scalar_one()
    assert (report.received_l3, report.online_l3, report.services_l4) == (10309, 4500, 45)
    assert report.submitted_by_id == officer.id and report.note == "Số liệu đến 30/9"

    mirror = db.session.execute(select(ApplicationStat)).scalar_one()
    assert (mirror.provenance, mirror.period, mirror.status) == ("reported", PERIOD, "published")
    assert (mirror.received_total, mirror.received_online) == (12309, 5000)
    assert mirror.online_rate == pytest.approx(40.62, abs=0.01)

    assert post_report(officer_client, {**GOOD, "online_l4": "600"}).status_code == 302
    db.session.expire_all()
    assert db.session.execute(select(QuarterlyReport)).scalar_one().online_l4 == 600
    assert db.session.execute(select(ApplicationStat)).scalar_one().received_online == 5100
    assert audit_actions(db) == ["report.submit", "report.update"]
    update = db.session.execute(select(AuditLog).where(AuditLog.action == "report.update")).scalar_one()
    assert (update.before["online_l4"], update.after["online_l4"]) == (500, 600)

    listing = officer_client.get(f"/admin/reports?period={PERIOD}").get_data(as_text=True)
    assert "Hà Nội" in listing and "Đà Nẵng" not in listing and "4.500" in listing


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"online_l3": "10.310"}, "online_l3", "không được lớn hơn tổng số hồ sơ"),
        ({"new_services_l4": "46"}, "new_services_l4", "không được lớn hơn số dịch vụ"),
        ({"services_l3": "-1"}, "services_l3", "không được âm"),
        ({"received_l4": "12,5"}, "received_l4", "Nhập một số nguyên"),
        ({"received_l4": ""}, "received_l4", "Bắt buộc nhập"),
    ],
)
def test_invalid_figures_are_refused(db, officer_client, change, field, message):
    response = post_report(officer_client, {**GOOD, **change})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page
    assert db.session.execute(select(QuarterlyReport)).first() is None


def test_officer_cannot_report_for_another_agency(db, officer_client, agencies):
    assert officer_client.get(f"/admin/reports/{PERIOD}/da-nang").status_code == 403
    assert "report.denied" in audit_actions(db)
    assert officer_client.get(f"/admin/reports/{PERIOD}.xlsx").status_code == 403
    assert officer_client.get("/admin/figures/held").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client, agencies):
    for path in (f"/admin/reports/{PERIOD}/ha-noi", "/admin/reports"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_lock_stops_edits_until_unlocked(db, officer_client, admin, agencies):
    post_report(officer_client, GOOD)
    officer_cookie = officer_client.get_cookie("session")
    sign_in(officer_client, admin)
    listing = officer_client.get(f"/admin/reports?period={PERIOD}").get_data(as_text=True)
    assert f'action="/admin/reports/{PERIOD}/lock"' in listing and f"/admin/reports/{PERIOD}.xlsx" in listing
    token = csrf_token(officer_client, f"/admin/reports?period={PERIOD}")
    assert officer_client.post(f"/admin/reports/{PERIOD}/lock", data={"csrf_token": token, "confirmed": "1"}
                       ).status_code == 302
    assert quarterly_reports.is_locked(db.session, PERIOD)
    db.session.expire_all()
    assert db.session.execute(select(QuarterlyReport)).scalar_one().is_locked

    officer_client.set_cookie("session", officer_cookie.value)
    g.pop("_login_user", None)
    page = officer_client.get(f"/admin/reports/{PERIOD}/ha-noi").get_data(as_text=True)
    assert "đã khóa" in page and "<fieldset disabled>" in page
    response = post_report(officer_client, {**GOOD, "online_l4": "700"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.execute(select(QuarterlyReport)).scalar_one().online_l4 == 500

    sign_in(officer_client, admin)
    token = csrf_token(officer_client, f"/admin/reports?period={PERIOD}")
    assert f'action="/admin/reports/{PERIOD}/unlock"' in officer_client.get(f"/admin/reports?period={PERIOD}").text
    assert officer_client.post(f"/admin/reports/{PERIOD}/unlock", data={"csrf_token": token}).status_code == 302
    assert post_report(officer_client, {**GOOD, "online_l4": "700"}, code="da-nang").status_code == 302
    assert audit_actions(db) == ["report.submit", "quarter.lock", "quarter.unlock", "report.submit"]


def test_officers_cannot_lock(officer_client, agencies):
    token = csrf_token(officer_client, f"/admin/reports/{PERIOD}/ha-noi")
    assert officer_client.post(f"/admin/reports/{PERIOD}/lock", data={"csrf_token": token}).status_code == 403


def test_bad_period(admin_client, agencies):
    assert admin_client.get("/admin/reports/2026-Q5/ha-noi").status_code == 404
    assert admin_client.get("/admin/reports?period=2026").status_code == 400
    assert admin_client.get("/admin/reports/Q3.xlsx").status_code == 404


def test_export_layout_and_formula_safety(db, admin_client, agencies, admin):
    quarterly_reports.save_report(db.session, agency=agencies["ha-noi"], period=PERIOD, note="=HYPERLINK(\"http://x\")",
                        values={k: int(v.replace(".", "")) for k, v in GOOD.items() if k != "note"}, user=admin)
    response = admin_client.get(f"/admin/reports/{PERIOD}.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "Kết quả triển khai dịch vụ công trực tuyến Quý III/2026"
    assert rows[1] == [
        "STT", "Cơ quan", "Loại cơ quan", "Số lượng DVCTT mức 3, 4 hiện tại", None,
        "Số lượng DVCTT xây dựng, triển khai Quý III/2026", None,
        "Số lượng HS tiếp nhận, giải quyết trực tuyến", None,
        "Tổng số HS tiếp nhận (trực tuyến và trực tiếp)", None, "Ghi chú",
    ]
    assert rows[2][3:11] == ["Mức 3", "Mức 4"] + ["Mức độ 3", "Mức độ 4"] * 3
    assert {str(r) for r in sheet.merged_cells.ranges} >= {"A2:A3", "D2:E2", "F2:G2", "H2:I2", "J2:K2", "L2:L3"}
    data = rows[3:]
    assert [r[1] for r in data] == ["Bộ Tư pháp", "Đà Nẵng", "Hà Nội"]  # ministries first, Vietnamese order
    hanoi = data[2]
    assert hanoi[0] == 3 and hanoi[2] == "Tỉnh, thành phố"
    assert hanoi[3:11] == [120, 45, 10, 5, 4500, 500, 10309, 2000]
    assert hanoi[11] == "'=HYPERLINK(\"http://x\")"
    assert data[1][3:] == [None] * 8 + ["Chưa báo cáo"]
