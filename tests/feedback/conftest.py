"""Fixtures of the citizens' reports tests: agencies with a sub-unit, services, and a reporting client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.models import Agency, Service, utcnow
from portal.services import feedback as svc

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def agencies(db):
    ha_noi = Agency(code="ha-noi", name="Hà Nội", kind="province")
    items = {
        "ha-noi": ha_noi,
        "so-tu-phap-ha-noi": Agency(code="so-tu-phap-ha-noi", name="Sở Tư pháp Hà Nội", kind="province",
                                    parent=ha_noi),
        "da-nang": Agency(code="da-nang", name="Đà Nẵng", kind="province"),
    }
    db.session.add_all(items.values())
    db.session.commit()
    return items


@pytest.fixture
def services(db, agencies):
    items = {
        "khai-sinh": Service(agency_id=agencies["ha-noi"].id, name="Đăng ký khai sinh", level=4,
                             url="https://dichvucong.hanoi.gov.vn/khai-sinh"),
        "ly-lich": Service(agency_id=agencies["so-tu-phap-ha-noi"].id, name="Cấp phiếu lý lịch tư pháp", level=4,
                           url="https://stp.hanoi.gov.vn/ly-lich"),
        "da-nang": Service(agency_id=agencies["da-nang"].id, name="Đăng ký kết hôn", level=3,
                           url="https://dichvucong.danang.gov.vn/ket-hon"),
    }
    db.session.add_all(items.values())
    db.session.commit()
    return items


class Reporter:
    """Posts the report form as a browser would: the page first (CSRF token), then the form, seconds later."""

    def __init__(self, app, client, address: str = "203.0.113.7") -> None:
        self.app, self.client, self.address = app, client, address

    def token(self, service_id: int, age: float = 30) -> str:
        return svc.form_token(self.app.config["SECRET_KEY"], service_id, utcnow() - timedelta(seconds=age))

    def post(self, service, *, age: float = 30, started: str | None = None, address: str | None = None,
             page_of=None, **fields):
        environ = {"REMOTE_ADDR": address or self.address}
        page = self.client.get(f"/services/{(page_of or service).id}", environ_base=environ).get_data(as_text=True)
        data = {"csrf_token": _TOKEN.search(page).group(1), "category": "submit_error",
                "started": started if started is not None else self.token(service.id, age)}
        data.update({k: v for k, v in fields.items() if v is not None})
        return self.client.post(f"/services/{service.id}/feedback", data=data, environ_base=environ)


@pytest.fixture
def reporter(app, client):
    return Reporter(app, client)
