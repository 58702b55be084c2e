"""What the public sees of a refused internal address: the reason and its label, never the technical detail."""

from __future__ import annotations

from datetime import timedelta

from portal.crawlers.checker import CheckerConfig
from portal.crawlers.dispatch import check_urls
from portal.models import Incident, Service, utcnow
from portal.services import sweeps
from tests.helpers import csrf_token


def test_feed_api_and_pages_after_a_refused_internal_address(app, db, client, agencies, admin):
    from tests.helpers import sign_in

    service = Service(agency_id=agencies["ha-noi"].id, name="Dịch vụ nội bộ", level=3,
                      url="http://localhost:18960/svc-5")  # registered before the form resolved names
    db.session.add(service)
    db.session.commit()

    def checker(urls):
        return check_urls(urls, CheckerConfig(allow_private=False))

    start = utcnow()
    for minutes in (0, 3):
        sweeps.run_sweep(db.session, checker, clock=lambda m=minutes: start + timedelta(minutes=m))
    incident = db.session.execute(db.select(Incident)).scalar_one()
    assert incident.reason == "blocked_address" and "127.0.0.1" in incident.detail

    feed = client.get("/status/incidents.atom").get_data(as_text=True)
    assert "Dịch vụ nội bộ" in feed and "127.0.0.1" not in feed and "non-public" not in feed
    api = client.get(f"/api/v1/services/{service.id}").get_data(as_text=True)
    assert "blocked_address" in api and "127.0.0.1" not in api and "non-public" not in api
    page = client.get(f"/services/{service.id}").get_data(as_text=True)
    assert "127.0.0.1" not in page and "non-public" not in page

    sign_in(client, admin)
    staff = client.get(f"/admin/services/{service.id}/edit").get_data(as_text=True)
    assert "localhost resolves to a non-public address (127.0.0.1)" in staff


def test_the_form_resolves_names_and_refuses_internal_ones(app, db, officer_client, agencies):
    app.config["PORTAL_ALLOW_PRIVATE_ADDRESSES"] = False
    form = {"name": "Dịch vụ", "agency": "ha-noi", "level": "3", "url": "http://localhost:18960/svc-5",
            "csrf_token": csrf_token(officer_client, "/admin/services/new")}
    response = officer_client.post("/admin/services/new", data=form)
    assert response.status_code == 400 and "mạng nội bộ" in response.get_data(as_text=True)
    assert db.session.execute(db.select(Service)).first() is None
    app.config["PORTAL_ALLOW_PRIVATE_ADDRESSES"] = True
    assert officer_client.post("/admin/services/new", data=form).status_code == 302
