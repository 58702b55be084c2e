"""Sessions end on the server side: a saved cookie replayed after logout, disabling or "sign out everywhere"."""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from portal.models import AuditLog
from tests.admin.test_auth import login
from tests.helpers import PASSWORD, csrf_token


def fresh(client):
    """Forget what this app context cached about the previous request (its user, its CSRF token)."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    return client


def saved_session(app, client, user) -> str:
    """Sign in through the login form and return the session cookie an attacker could have copied."""
    assert login(fresh(client), user.email, PASSWORD).status_code == 302
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    return cookie.value


def replay(app, cookie: str):
    """A different browser presenting the copied cookie."""
    other = app.test_client()
    other.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), cookie)
    return fresh(other).get("/admin")


def test_a_cookie_saved_before_logout_no_longer_opens_admin(app, db, client, officer):
    cookie = saved_session(app, client, officer)
    assert replay(app, cookie).status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(fresh(client), "/admin")}).status_code == 302
    response = replay(app, cookie)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_disabling_ends_sessions_and_re_enabling_does_not_revive_them(app, db, client, officer, admin):
    from portal.services import accounts

    cookie = saved_session(app, client, officer)
    accounts.set_enabled(db.session, officer, False, by=admin)
    assert replay(app, cookie).status_code == 302
    accounts.set_enabled(db.session, officer, True, by=admin)
    assert replay(app, cookie).status_code == 302
    assert saved_session(app, app.test_client(), officer) != cookie


def test_an_admin_signs_a_user_out_everywhere(app, db, officer, admin_client, admin):
    cookie = saved_session(app, app.test_client(), officer)
    second = saved_session(app, app.test_client(), officer)
    page = fresh(admin_client).get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{officer.id}/sign-out" in page and "Đăng xuất mọi phiên" in page
    response = admin_client.post(f"/admin/users/{officer.id}/sign-out",
                                 data={"csrf_token": csrf_token(fresh(admin_client), "/admin/users")})
    assert response.status_code == 302
    assert replay(app, cookie).status_code == 302 and replay(app, second).status_code == 302
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "user.sessions_ended")).scalar_one()
    assert entry.user_id == admin.id and entry.entity_id == str(officer.id)
    assert fresh(admin_client).get("/admin").status_code == 200  # the admin's own session is untouched


def test_only_admins_sign_others_out(app, db, officer_client, admin):
    response = officer_client.post(f"/admin/users/{admin.id}/sign-out",
                                   data={"csrf_token": csrf_token(officer_client, "/admin")})
    assert response.status_code == 403
