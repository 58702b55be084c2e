"""Signing in and out: no account enumeration, throttling, session rotation, safe redirects, passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from portal.models import AuditLog, User, utcnow
from tests.helpers import PASSWORD, csrf_token, sign_in


def login(client, email, password, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")})


def actions(db, action=None):
    stmt = select(AuditLog).order_by(AuditLog.id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    return list(db.session.execute(stmt).scalars())


def fresh(client):
    """Forget what this app context cached about the previous request's user."""
    g.pop("_login_user", None)
    return client


def test_login_page_has_the_contract_fields(client):
    page = client.get("/login").get_data(as_text=True)
    for name in ("email", "password", "csrf_token"):
        assert f'name="{name}"' in page
    assert "Đăng nhập" in page


def test_sign_in_rotates_the_session_and_lands_on_admin(db, client, officer):
    client.get("/login?lang=en")
    with client.session_transaction() as session:
        session["stale"] = "from before"
        old_csrf = session.get("csrf_token")
    response = login(client, "CanBo@HaNoi.gov.vn ", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin"
    with client.session_transaction() as session:
        assert session["_user_id"] == str(officer.id)
        assert "stale" not in session and session.get("csrf_token") != old_csrf
        assert session["lang"] == "en"
    page = fresh(client).get("/admin").get_data(as_text=True)
    assert "canbo@hanoi.gov.vn" in page and 'action="/logout"' in page
    db.session.expire_all()
    assert db.session.get(User, officer.id).last_login_at is not None
    assert [e.action for e in actions(db)] == ["login.success"]


def test_wrong_password_and_unknown_address_look_the_same(db, client, officer):
    wrong = login(client, officer.email, "not the password")
    unknown = login(fresh(client), "nobody@example.vn", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    message = "Thư điện tử hoặc mật khẩu không đúng."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    failed = actions(db, "login.failed")
    assert [(e.actor, e.user_id) for e in failed] == [(officer.email, officer.id), ("nobody@example.vn", None)]
    assert all(e.ip == "127.0.0.1" for e in failed)
    assert failed[0].agency_id == officer.agency_id


def test_sign_in_without_a_csrf_token_is_refused(db, client, officer):
    client.get("/login")
    response = client.post("/login", data={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_an_account_is_locked_after_repeated_failures(app, db, client, officer):
    app.config["PORTAL_LOGIN_MAX_FAILURES"] = 3
    for _ in range(3):
        assert login(fresh(client), officer.email, "wrong password!").status_code == 400
    db.session.expire_all()
    locked = db.session.get(User, officer.id)
    assert locked.locked_until is not None and locked.locked_until > utcnow()
    response = login(fresh(client), officer.email, PASSWORD)
    assert response.status_code == 429
    assert "quá nhiều lần đăng nhập không thành công" in response.get_data(as_text=True)
    assert actions(db)[-1].action == "login.throttled"

    locked.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert login(fresh(client), officer.email, PASSWORD).status_code == 302


def test_unknown_addresses_are_throttled_like_real_ones(app, db, client):
    app.config["PORTAL_LOGIN_MAX_FAILURES"] = 3
    for _ in range(3):
        assert login(fresh(client), "ghost@example.vn", "whatever123").status_code == 400
    assert login(fresh(client), "ghost@example.vn", "whatever123").status_code == 429


def test_one_client_address_is_throttled_across_accounts(app, db, client, officer, admin):
    app.config["PORTAL_LOGIN_IP_MAX_FAILURES"] = 4
    for index in range(4):
        login(fresh(client), f"guess{index}@example.vn", "wrong password!")
    response = login(fresh(client), admin.email, PASSWORD)
    assert response.status_code == 429
    other_address = fresh(client).post("/login", data={
        "email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login"),
    }, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_address.status_code == 302
    throttled = actions(db, "login.throttled")
    assert len(throttled) == 1 and throttled[0].ip == "127.0.0.1"


def test_old_failures_leave_the_window(app, db, client, admin):
    app.config["PORTAL_LOGIN_IP_MAX_FAILURES"] = 2
    for _ in range(2):
        login(fresh(client), "guess@example.vn", "wrong password!")
    for entry in actions(db, "login.failed"):
        entry.at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert login(fresh(client), admin.email, PASSWORD).status_code == 302


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/admin", "/\\evil.example", "javascript:alert(1)", "%2F%2Fevil.example",
])
def test_next_only_goes_to_local_paths(db, client, admin, target):
    response = login(client, admin.email, PASSWORD, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin"


def test_next_local_path_is_followed(db, client, admin):
    response = login(client, admin.email, PASSWORD, next_url="/admin/services?status=retired")
    assert response.headers["Location"] == "/admin/services?status=retired"


def test_anonymous_visitors_are_sent_to_login_with_next(client, agencies):
    response = client.get("/admin/services")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fadmin%2Fservices"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Vui lòng đăng nhập để tiếp tục." in page
    assert client.post("/admin/services/new", data={}).status_code == 400  # no CSRF token: refused first


def test_logout_is_a_post_with_csrf(db, admin_client):
    assert admin_client.get("/logout").status_code == 405
    assert admin_client.post("/logout").status_code == 400
    token = csrf_token(admin_client, "/admin")
    response = admin_client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    with admin_client.session_transaction() as session:
        assert "_user_id" not in session and "_auth" not in session
    assert fresh(admin_client).get("/admin").status_code == 302


def test_disabled_users_cannot_sign_in_and_their_session_stops(db, client, officer):
    sign_in(client, officer)
    assert client.get("/admin").status_code == 200
    officer.is_enabled = False
    db.session.commit()
    assert fresh(client).get("/admin").status_code == 302
    response = login(fresh(client), officer.email, PASSWORD)
    assert response.status_code == 400
    assert "Thư điện tử hoặc mật khẩu không đúng." in response.get_data(as_text=True)


def test_sessions_expire_after_the_configured_hours(app, db, client, officer):
    sign_in(client, officer)
    with client.session_transaction() as session:
        session["_auth_at"] -= 13 * 3600
    assert fresh(client).get("/admin").status_code == 302


def test_changing_the_password_ends_other_sessions(db, client, app, officer):
    other = app.test_client()
    sign_in(client, officer)
    sign_in(other, officer)
    page = "/account/password"
    bad = client.post(page, data={"current_password": "not it", "new_password": "một mật khẩu mới 2026",
                                  "confirm": "một mật khẩu mới 2026", "csrf_token": csrf_token(client, page)})
    assert bad.status_code == 400 and "Mật khẩu hiện tại không đúng." in bad.get_data(as_text=True)
    short = client.post(page, data={"current_password": PASSWORD, "new_password": "ngắn", "confirm": "ngắn",
                                    "csrf_token": csrf_token(client, page)})
    assert short.status_code == 400 and "ít nhất 10 ký tự" in short.get_data(as_text=True)
    good = client.post(page, data={"current_password": PASSWORD, "new_password": "một mật khẩu mới 2026",
                                   "confirm": "một mật khẩu mới 2026", "csrf_token": csrf_token(client, page)})
    assert good.status_code == 302
    assert fresh(client).get("/admin").status_code == 200
    assert fresh(other).get("/admin").status_code == 302
    db.session.expire_all()
    user = db.session.get(User, officer.id)
    assert user.check_password("một mật khẩu mới 2026") and user.password_hash.startswith("scrypt:")
    entry = actions(db, "user.password")[0]
    assert "mật khẩu mới" not in str(entry.before) + str(entry.after)


def test_session_cookie_flags(db, client, admin):
    response = login(client, admin.email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure():
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.SESSION_COOKIE_HTTPONLY
    assert ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"


def test_admin_pages_are_not_cached_and_carry_security_headers(admin_client):
    response = admin_client.get("/admin")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_cli_creates_users_with_the_password_from_stdin(db, runner, agencies):
    result = runner.invoke(args=["users", "create", "--email", "CanBo2@HaNoi.gov.vn", "--role", "officer",
                                 "--agency", "ha-noi"], input="một mật khẩu đủ dài\n")
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "canbo2@hanoi.gov.vn")).scalar_one()
    assert user.role == "officer" and user.agency_id == agencies["ha-noi"].id
    assert user.check_password("một mật khẩu đủ dài")
    assert "một mật khẩu" not in result.output
    entry = actions(db, "user.create")[0]
    assert entry.actor == "cli" and entry.after["email"] == "canbo2@hanoi.gov.vn" and "password" not in entry.after

    again = runner.invoke(args=["users", "create", "--email", "canbo2@hanoi.gov.vn", "--role", "officer",
                                "--agency", "ha-noi"], input="một mật khẩu đủ dài\n")
    assert again.exit_code == 1 and "Đã có tài khoản" in again.output
    no_agency = runner.invoke(args=["users", "create", "--email", "x@hanoi.gov.vn", "--role", "officer"],
                              input="một mật khẩu đủ dài\n")
    assert no_agency.exit_code == 1 and "Cán bộ phải thuộc một cơ quan." in no_agency.output
    weak = runner.invoke(args=["users", "create", "--email", "admin2@example.vn", "--role", "admin"], input="ngắn\n")
    assert weak.exit_code == 1
    assert runner.invoke(args=["users", "create", "--email", "a@b.vn", "--role", "admin", "--password", "x"]
                         ).exit_code == 2
    assert db.session.execute(select(func.count(User.id))).scalar_one() == 1


def test_cli_refuses_an_unknown_agency(db, runner, agencies):
    result = runner.invoke(args=["users", "create", "--email", "x@y.vn", "--role", "officer", "--agency", "nope"],
                           input="một mật khẩu đủ dài\n")
    assert result.exit_code == 2 and "no agency" in result.output


def test_header_shows_login_link_to_visitors(client, agencies):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/login"' in page and "/logout" not in page
