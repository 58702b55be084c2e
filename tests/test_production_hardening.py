"""Production settings: HSTS, common passwords, formula lookalikes, PORTAL_PUBLIC_URL, trusted proxies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from config import ProductionConfig, TestingConfig
from portal.extensions import db as _db
from portal.models import AuditLog
from portal.services import accounts, exports
from tests.conftest import make_app
from tests.helpers import PASSWORD, csrf_token, make_user


def test_hsts_in_production_only(tmp_path):
    assert ProductionConfig.PORTAL_HSTS_SECONDS >= 180 * 24 * 3600 and not TestingConfig.PORTAL_HSTS_SECONDS
    app = make_app(f"sqlite:///{tmp_path / 'a.db'}", PORTAL_HSTS_SECONDS=ProductionConfig.PORTAL_HSTS_SECONDS)
    assert app.test_client().get("/api/v1/catalogues").headers["Strict-Transport-Security"] == \
        f"max-age={ProductionConfig.PORTAL_HSTS_SECONDS}; includeSubDomains"
    plain = make_app(f"sqlite:///{tmp_path / 'b.db'}")
    assert "Strict-Transport-Security" not in plain.test_client().get("/api/v1/catalogues").headers


@pytest.mark.parametrize("password", ["1234567890", "qwertyuiop", "Password123", "1q2w3e4r5t6y", "matkhau@123",
                                      " 1234567890 "])
def test_common_passwords_are_refused(password):
    assert "quá phổ biến" in accounts.password_problem(password)


def test_uncommon_passwords_pass():
    assert len(accounts.common_passwords()) >= 5000
    assert accounts.password_problem(PASSWORD) is None


def test_changing_to_a_common_password_is_refused(db, client, app):
    from tests.helpers import sign_in

    user = make_user(db, "canbo@example.vn", "admin")
    sign_in(client, user)
    page = "/account/password"
    response = client.post(page, data={"current_password": PASSWORD, "new_password": "1234567890",
                                       "confirm": "1234567890", "csrf_token": csrf_token(client, page)})
    assert response.status_code == 400 and "quá phổ biến" in response.get_data(as_text=True)


@pytest.mark.parametrize("text", ["＝1+1", "﹦HYPERLINK(\"x\")", "＋1", "﹢1", "－1", "﹣1", "＠SUM(A1)", "﹫x", "−1",
                                  "\u3000=1+1", "  =1+1", "\u00a0@x"])
def test_lookalikes_of_formula_signs_are_neutralised(text):
    assert exports.neutralise(text) == "'" + text
    assert exports.to_csv(["a"], [[text]]).splitlines()[1].lstrip('"').startswith("'")


@pytest.mark.parametrize("text", ["-12.5", "12", "Cấp phép", "a=b", "x@y.vn"])
def test_ordinary_values_are_left_alone(text):
    assert exports.neutralise(text) == text


def test_feed_and_openapi_use_the_public_url_not_the_host_header(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'c.db'}", PORTAL_PUBLIC_URL="https://dichvucong.example.vn/")
    with app.app_context():
        _db.create_all()
    client = app.test_client()
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    feed = client.get("/status/incidents.atom", headers=headers).get_data(as_text=True)
    assert "https://dichvucong.example.vn/status/incidents.atom" in feed and "evil.example" not in feed
    document = client.get("/api/v1/openapi.json", headers=headers).get_json()
    assert document["servers"][0]["url"].startswith("https://dichvucong.example.vn") and \
        "evil.example" not in str(document)


@pytest.mark.parametrize("hops", [0, 1])
def test_trusted_proxies_let_throttling_see_each_client(tmp_path, hops):
    app = make_app(f"sqlite:///{tmp_path / 'd.db'}", PORTAL_TRUSTED_PROXIES=hops, PORTAL_LOGIN_IP_MAX_FAILURES=2)
    with app.app_context():
        _db.create_all()
        client = app.test_client()

        def attempt(address: str) -> int:
            token = csrf_token(client, "/login")
            return client.post("/login", data={"email": "x@example.vn", "password": "sai mật khẩu rồi",
                                               "csrf_token": token},
                               headers={"X-Forwarded-For": f"{address}, 10.0.0.1" if hops == 0 else address},
                               ).status_code

        assert [attempt("203.0.113.5") for _ in range(3)] == [400, 400, 429]
        other = attempt("203.0.113.6")
        ips = set(_db.session.execute(select(AuditLog.ip)).scalars())
        if hops:
            assert other == 400 and ips == {"203.0.113.5", "203.0.113.6"}
        else:  # the header is not trusted: every attempt is the proxy's (the test client's) address
            assert other == 429 and ips == {"127.0.0.1"}
        _db.session.remove()
