"""A citizen reports a service: abuse control, escaping, the immediate re-check, the citizens' incident."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.models import AlertEvent, AuditLog, Check, FeedbackIncident, FeedbackRecheck, FeedbackReport
from portal.services import alerts, jobs
from tests.monitoring_helpers import FakeChecker


def _reports(db) -> list[FeedbackReport]:
    return list(db.session.execute(select(FeedbackReport).order_by(FeedbackReport.id)).scalars())


def test_service_page_has_the_form_with_every_category(client, services):
    page = client.get(f"/services/{services['khai-sinh'].id}").get_data(as_text=True)
    assert "Dịch vụ này không dùng được?" in page
    for label in ("Trang không mở được", "Báo lỗi khi nộp hồ sơ", "Không đăng nhập được", "Thông tin sai", "Khác"):
        assert label in page
    assert 'name="csrf_token"' in page and 'name="website"' in page and 'tabindex="-1"' in page


def test_a_report_is_stored_and_the_thank_you_page_waits_for_the_recheck_then_shows_it(app, db, reporter, services):
    service = services["khai-sinh"]
    response = reporter.post(service, description="Bấm Nộp thì báo lỗi 500")
    assert response.status_code == 303
    (report,) = _reports(db)
    assert report.category == "submit_error" and report.status == "new" and report.contact is None
    assert report.description == "Bấm Nộp thì báo lỗi 500" and report.description_public is False
    thanks = reporter.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đang chờ kiểm tra lại" in thanks and 'http-equiv="refresh"' in thanks

    checker = FakeChecker(lambda url: "http_error")
    done = jobs.feedback_rechecks(db.session, app.config, checker)
    assert done.checked == 1 and checker.checked == [service.url]
    check = db.session.execute(select(Check)).scalar_one()
    thanks = reporter.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "http-equiv" not in thanks and "Kiểm tra lại ngay" in thanks
    assert check.checked_at.astimezone(alerts.DAY_ZONE).strftime("%H:%M") in thanks
    assert "Không truy cập được" in thanks or "không truy cập được" in thanks.lower()
    db.session.refresh(service)
    assert service.consecutive_failures == 1  # recorded as any check: the monitor confirms the failure soon


def test_one_recheck_per_service_however_many_reports(app, db, reporter, services):
    service = services["khai-sinh"]
    for n in range(4):
        assert reporter.post(service, address=f"198.51.100.{n}").status_code == 303
    assert len(_reports(db)) == 4
    assert db.session.execute(select(func.count()).select_from(FeedbackRecheck)).scalar_one() == 1
    checker = FakeChecker()
    jobs.feedback_rechecks(db.session, app.config, checker)
    jobs.feedback_rechecks(db.session, app.config, checker)
    assert checker.checked == [service.url]  # checked once
    reporter.post(service, address="198.51.100.9")  # a report after the check asks for a new one
    jobs.feedback_rechecks(db.session, app.config, checker)
    assert checker.checked == [service.url, service.url]


def test_honeypot_is_answered_politely_and_nothing_is_kept(db, reporter, services):
    response = reporter.post(services["khai-sinh"], website="http://spam.example")
    assert response.status_code == 200 and "Cảm ơn" in response.get_data(as_text=True)
    assert _reports(db) == []
    assert db.session.execute(select(func.count()).select_from(FeedbackRecheck)).scalar_one() == 0


def test_minimum_time_on_the_page_and_a_signed_start(db, reporter, services):
    service = services["khai-sinh"]
    too_fast = reporter.post(service, age=0)
    assert too_fast.status_code == 400 and "nhanh quá" in too_fast.get_data(as_text=True)
    forged = reporter.post(service, started="1700000000.abc")
    assert forged.status_code == 400 and "không hợp lệ" in forged.get_data(as_text=True)
    other_service = reporter.post(service, started=reporter.token(services["da-nang"].id))
    assert other_service.status_code == 400
    stale = reporter.post(service, age=25 * 3600)
    assert stale.status_code == 400 and "quá lâu" in stale.get_data(as_text=True)
    assert _reports(db) == []


def test_rate_limit_per_client(app, db, reporter, services):
    app.config["PORTAL_FEEDBACK_CLIENT_LIMIT"] = 2
    assert reporter.post(services["khai-sinh"]).status_code == 303
    assert reporter.post(services["ly-lich"]).status_code == 303
    refused = reporter.post(services["da-nang"])
    assert refused.status_code == 429 and "nhiều phản ánh" in refused.get_data(as_text=True)
    assert reporter.post(services["da-nang"], address="192.0.2.1").status_code == 303  # another client
    assert len(_reports(db)) == 3


def test_rate_limit_per_service(app, db, reporter, services):
    app.config["PORTAL_FEEDBACK_SERVICE_LIMIT"] = 2
    service = services["khai-sinh"]
    assert reporter.post(service, address="192.0.2.1").status_code == 303
    assert reporter.post(service, address="192.0.2.2").status_code == 303
    assert reporter.post(service, address="192.0.2.3").status_code == 429
    assert reporter.post(services["ly-lich"], address="192.0.2.3").status_code == 303
    assert len(_reports(db)) == 3


def test_size_limits(app, db, reporter, services):
    service = services["khai-sinh"]
    too_long = reporter.post(service, description="x" * 1001)
    assert too_long.status_code == 400 and "Dài quá 1000 ký tự" in too_long.get_data(as_text=True)
    assert reporter.post(service, contact="a" * 250 + "@example.vn", contact_consent="y").status_code == 400
    app.config["PORTAL_FEEDBACK_MAX_BYTES"] = 2000
    assert reporter.post(service, description="y" * 1000, other="z" * 2000).status_code == 413
    assert _reports(db) == []
    assert reporter.post(service, description="y" * 1000).status_code == 303


def test_same_client_and_service_within_a_day_counts_once(db, reporter, services):
    service = services["khai-sinh"]
    first = reporter.post(service)
    again = reporter.post(service, category="sign_in")
    assert first.status_code == again.status_code == 303
    (report,) = _reports(db)
    assert report.repeats == 1 and "folded=1" in again.headers["Location"]
    assert "được tính một lần" in reporter.client.get(again.headers["Location"]).get_data(as_text=True)
    report.created_at -= timedelta(days=1, minutes=1)
    db.session.commit()
    reporter.post(service)
    assert len(_reports(db)) == 2


def test_contact_needs_the_consent_box_and_a_plausible_value(db, reporter, services):
    service = services["khai-sinh"]
    no_consent = reporter.post(service, contact="nguoidan@example.vn")
    assert no_consent.status_code == 400 and "ô đồng ý" in no_consent.get_data(as_text=True)
    assert reporter.post(service, contact="not a contact", contact_consent="y").status_code == 400
    assert reporter.post(service, contact="0912 345 678", contact_consent="y").status_code == 303
    assert _reports(db)[0].contact == "0912 345 678"


def test_a_category_is_required(db, reporter, services):
    response = reporter.post(services["khai-sinh"], category="hack")
    assert response.status_code == 400 and _reports(db) == []


def test_text_is_stored_as_text_and_shown_escaped(db, reporter, services):
    service = services["khai-sinh"]
    evil = '<script>alert("x")</script><b>đậm</b>'
    reporter.post(service, description=evil, description_public="y")
    report = _reports(db)[0]
    assert report.description == evil
    page = reporter.client.get(f"/services/{service.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_description_is_public_only_when_the_reporter_agreed(db, reporter, services):
    service = services["khai-sinh"]
    reporter.post(service, description="Riêng tư: số hồ sơ 123", address="192.0.2.1")
    reporter.post(service, description="Công khai: nút Nộp không bấm được", description_public="y",
                  address="192.0.2.2")
    page = reporter.client.get(f"/services/{service.id}").get_data(as_text=True)
    assert "Công khai: nút Nộp không bấm được" in page and "Riêng tư" not in page
    assert "Phản ánh của người dân: 2" in page


def _officer(db, agency, email="canbo@hanoi.gov.vn"):
    from tests.helpers import make_user

    return make_user(db, email, "officer", agency)


def test_several_reports_within_an_hour_open_a_citizens_incident_and_alert_the_officers(app, db, reporter,
                                                                                          services, agencies):
    app.config["PORTAL_FEEDBACK_INCIDENT_THRESHOLD"] = 3
    service = services["ly-lich"]
    _officer(db, agencies["so-tu-phap-ha-noi"], "canbo@stp.hanoi.gov.vn")
    _officer(db, agencies["da-nang"], "canbo@danang.gov.vn")
    from tests.helpers import make_user

    make_user(db, "admin@example.vn", "admin")
    for n in range(2):
        reporter.post(service, address=f"192.0.2.{n}")
    assert db.session.execute(select(FeedbackIncident)).scalar_one_or_none() is None
    reporter.post(service, address="192.0.2.9")
    incident = db.session.execute(select(FeedbackIncident)).scalar_one()
    assert incident.service_id == service.id and incident.ended_at is None and incident.reports == 3
    event = db.session.execute(select(AlertEvent)).scalar_one()
    assert event.kind == "citizen_reports" and event.service_id == service.id
    reporter.post(service, address="192.0.2.10")
    assert db.session.execute(select(func.count()).select_from(AlertEvent)).scalar_one() == 1  # one alert
    assert "Người dân phản ánh sự cố" in reporter.client.get(f"/services/{service.id}").get_data(as_text=True)
    status = reporter.client.get("/status").get_data(as_text=True)
    assert "Người dân phản ánh sự cố" in status and service.name in status

    sent = []
    settings = alerts.AlertSettings(smtp_host="mail.invalid")
    report = alerts.deliver_pending(db.session, settings, mailer=lambda mails, s: sent.extend(mails))
    assert report.mails == 1 and not report.digest
    (mail,) = sent
    assert mail.to == ["admin@example.vn", "canbo@stp.hanoi.gov.vn"]
    assert "Người dân phản ánh" in mail.subject and service.name in mail.subject


def test_citizens_incident_alert_joins_the_digest_in_a_storm(app, db, reporter, services):
    app.config["PORTAL_FEEDBACK_INCIDENT_THRESHOLD"] = 1
    from tests.helpers import make_user

    make_user(db, "admin@example.vn", "admin")
    for key in ("khai-sinh", "ly-lich", "da-nang"):
        reporter.post(services[key], address=f"192.0.2.{len(key)}")
    sent = []
    report = alerts.deliver_pending(db.session, alerts.AlertSettings(smtp_host="mail.invalid", storm_threshold=2),
                                    mailer=lambda mails, s: sent.extend(mails))
    assert report.digest and len(sent) == 1 and "Tổng hợp: 3" in sent[0].subject


def test_reports_are_audited_without_what_the_reporter_wrote(db, reporter, services):
    reporter.post(services["khai-sinh"], description="mô tả riêng", contact="nguoidan@example.vn",
                  contact_consent="y")
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "feedback.created")).scalar_one()
    assert entry.actor == "public" and entry.agency_id == services["khai-sinh"].agency_id
    assert "nguoidan" not in str(entry.after) and "mô tả" not in str(entry.after)


def test_a_retired_service_takes_no_reports(db, reporter, services):
    service = services["khai-sinh"]
    service.status = "retired"
    db.session.commit()
    assert 'action="/services/' not in reporter.client.get(f"/services/{service.id}").get_data(as_text=True)
    response = reporter.post(service, page_of=services["da-nang"])
    assert response.status_code == 400 and "ngừng cung cấp" in response.get_data(as_text=True)
    assert _reports(db) == []
