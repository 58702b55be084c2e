"""Agencies answer reports at /admin/feedback (scoped, audited); contacts stay private and are erased."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from portal.models import AuditLog, FeedbackIncident, FeedbackReport, utcnow
from portal.services import jobs
from tests.helpers import csrf_token, make_user, sign_in

CONTACT = "nguoidan.bimat@example.vn"


def _report(db, service, **extra) -> FeedbackReport:
    report = FeedbackReport(service_id=service.id, category="sign_in", client_hash="c" * 64, **extra)
    db.session.add(report)
    db.session.commit()
    return report


def test_officers_see_their_agency_and_sub_units_only_admins_see_all(db, client, services, agencies):
    mine, sub, other = (_report(db, services[k]) for k in ("khai-sinh", "ly-lich", "da-nang"))
    officer = make_user(db, "canbo@hanoi.gov.vn", "officer", agencies["ha-noi"])
    sign_in(client, officer)
    listing = client.get("/admin/feedback").get_data(as_text=True)
    assert services["khai-sinh"].name in listing and services["ly-lich"].name in listing
    assert services["da-nang"].name not in listing
    assert client.get(f"/admin/feedback/{mine.id}").status_code == 200
    assert client.get(f"/admin/feedback/{sub.id}").status_code == 200
    assert client.get(f"/admin/feedback/{other.id}").status_code == 403
    token = csrf_token(client, f"/admin/feedback/{mine.id}")
    refused = client.post(f"/admin/feedback/{other.id}/reply", data={"csrf_token": token, "reply": "x"})
    assert refused.status_code == 403
    denied = db.session.execute(select(AuditLog).where(AuditLog.action == "feedback.denied")).scalars().all()
    assert len(denied) == 2 and {d.entity_id for d in denied} == {str(other.id)}
    db.session.refresh(other)
    assert other.reply is None

    admin = make_user(db, "admin@example.vn", "admin")
    sign_in(client, admin)
    listing = client.get("/admin/feedback").get_data(as_text=True)
    assert all(services[k].name in listing for k in services)
    assert client.get("/admin/feedback").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/feedback")})
    assert client.get("/admin/feedback").status_code == 302  # signed out: to the sign-in page


def test_officer_workflow_and_public_reply_are_audited_and_shown(db, client, services, agencies):
    service = services["khai-sinh"]
    report = _report(db, service, contact=CONTACT)
    officer = make_user(db, "canbo@hanoi.gov.vn", "officer", agencies["ha-noi"])
    sign_in(client, officer)
    detail = client.get(f"/admin/feedback/{report.id}").get_data(as_text=True)
    assert CONTACT in detail  # the agency's officers see the contact
    token = csrf_token(client, f"/admin/feedback/{report.id}")
    url = f"/admin/feedback/{report.id}"
    assert client.post(url + "/status", data={"csrf_token": token, "status": "acknowledged"}).status_code == 303
    assert client.post(url + "/reply", data={"csrf_token": token,
                                             "reply": "Đã sửa lỗi <đăng nhập> lúc 9 giờ."}).status_code == 303
    assert client.post(url + "/status", data={"csrf_token": token, "status": "resolved"}).status_code == 303
    db.session.refresh(report)
    assert report.status == "resolved" and report.closed_at is not None and report.first_reply_at is not None
    assert client.post(url + "/status", data={"csrf_token": token, "status": "new"}).status_code == 303
    assert "Không thể chuyển" in client.get(url).get_data(as_text=True)
    assert client.post(url + "/status", data={"status": "acknowledged"}).status_code == 400  # no CSRF token
    actions = [a for (a,) in db.session.execute(
        select(AuditLog.action).where(AuditLog.entity_type == "feedback_report").order_by(AuditLog.id))]
    assert actions == ["feedback.acknowledged", "feedback.replied", "feedback.resolved"]
    replied = db.session.execute(select(AuditLog).where(AuditLog.action == "feedback.replied")).scalar_one()
    assert replied.user_id == officer.id and replied.after["reply"].startswith("Đã sửa lỗi")
    assert CONTACT not in json.dumps([replied.before, replied.after])

    client.post("/logout", data={"csrf_token": token})
    page = client.get(f"/services/{service.id}").get_data(as_text=True)
    assert "Đã khắc phục" in page and "Đã sửa lỗi &lt;đăng nhập&gt; lúc 9 giờ." in page


def test_first_reply_time_on_the_agency_page(db, client, services):
    now = utcnow()
    _report(db, services["khai-sinh"], created_at=now - timedelta(hours=10), first_reply_at=now - timedelta(hours=8),
            reply="Đã nhận", status="acknowledged")
    _report(db, services["ly-lich"], created_at=now - timedelta(hours=10), first_reply_at=now - timedelta(hours=6),
            reply="Đã nhận", status="resolved", closed_at=now)
    _report(db, services["khai-sinh"])
    page = client.get("/agencies/ha-noi").get_data(as_text=True)
    assert "Đang xử lý: 2 phản ánh." in page
    assert "Thời gian trả lời (trung vị): 3,0 giờ" in page, re.search("Thời gian trả lời[^<]*", page)


def test_contacts_are_erased_90_days_after_closing(app, db, services):
    now = utcnow()
    old = _report(db, services["khai-sinh"], contact=CONTACT, status="resolved", closed_at=now - timedelta(days=91))
    recent = _report(db, services["khai-sinh"], contact="0912345678", status="not_a_problem",
                     closed_at=now - timedelta(days=89))
    still_open = _report(db, services["khai-sinh"], contact="0987654321", created_at=now - timedelta(days=400))
    assert jobs.erase_feedback_contacts(db.session, app.config) == 1
    for report in (old, recent, still_open):
        db.session.refresh(report)
    assert old.contact is None and old.contact_erased_at is not None
    assert recent.contact == "0912345678" and still_open.contact == "0987654321"
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "feedback.contact_erased")).scalar_one()
    assert entry.after == {"reports": 1, "retention_days": 90}
    assert jobs.erase_feedback_contacts(db.session, app.config, now + timedelta(days=2)) == 1
    db.session.refresh(recent)
    assert recent.contact is None


def test_no_contact_detail_in_any_public_page_export_or_api(app, db, client, services):
    service = services["khai-sinh"]
    _report(db, service, contact=CONTACT, description="riêng tư 0912345678", status="resolved", closed_at=utcnow(),
            reply="Đã xử lý")
    _report(db, service, contact="0912345678")
    db.session.add(FeedbackIncident(service_id=service.id, reports=2))
    db.session.commit()
    urls = [f"/services/{service.id}", "/agencies/ha-noi", "/status", "/feedback/1", "/feedback/2",
            f"/api/v1/services/{service.id}", "/api/v1/services", "/open-data/services.csv",
            "/open-data/services.json", "/open-data/services.jsonl", "/open-data/feedback.csv",
            f"/services/{service.id}/feedback", "/rankings?metric=reply_hours&kind=province"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert CONTACT not in body and "0912345678" not in body and "riêng tư" not in body, url
    assert "Người dân phản ánh sự cố" in client.get("/status").get_data(as_text=True)
    detail = client.get(f"/api/v1/services/{service.id}").get_json()
    assert detail["reports"] == {"total": 2, "open": 1, "by_status": {
        "new": 1, "acknowledged": 0, "resolved": 1, "not_a_problem": 0}}
    counts = client.get("/open-data/feedback.csv").get_data(as_text=True).splitlines()
    assert counts[0].lstrip("\ufeff") == ("service_id,agency_code,reports_total,reports_new,reports_acknowledged,"
                                          "reports_resolved,reports_not_a_problem")
    assert counts[1] == f"{service.id},ha-noi,2,1,0,1,0"


def test_rankings_time_to_reply_ranks_the_quickest_first(db, client, services, agencies):
    now = utcnow()
    _report(db, services["khai-sinh"], created_at=now - timedelta(hours=30), first_reply_at=now - timedelta(hours=28))
    _report(db, services["ly-lich"], created_at=now - timedelta(hours=30), first_reply_at=now - timedelta(hours=26))
    _report(db, services["da-nang"], created_at=now - timedelta(hours=30), first_reply_at=now - timedelta(hours=29))
    data = client.get("/api/v1/rankings/reply_hours?kind=province&source=verified").get_json()
    assert data["value_type"] == "hours"
    items = [(i["agency"]["code"], i["rank"], round(i["value"], 2)) for i in data["items"]]
    assert items == [("da-nang", 1, 1.0), ("ha-noi", 2, 3.0)]  # Hà Nội with its sub-unit: median of 2 h and 4 h
    page = client.get("/rankings?metric=reply_hours&kind=province").get_data(as_text=True)
    assert "Thời gian trả lời phản ánh của người dân" in page
