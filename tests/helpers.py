"""Helpers shared by tests of the signed-in pages: users, signing in, CSRF tokens."""

from __future__ import annotations

import re
import time

PASSWORD = "mật-khẩu-đủ-dài-123"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def make_user(db, email: str, role: str, agency=None, password: str = PASSWORD):
    from portal.models import User

    user = User(email=email, role=role, agency_id=agency.id if agency else None)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def sign_in(client, user) -> None:
    """Sign `user` in on `client` (the session keys the login view sets). The tests keep one app
    context, so what Flask-Login and Flask-WTF cached on `g` goes too."""
    from flask import g

    from portal.services.accounts import session_token

    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        session["_auth"] = session_token(user)
        session["_auth_at"] = int(time.time())


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form on the page at `url`."""
    page = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)
