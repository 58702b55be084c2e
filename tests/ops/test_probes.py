"""/healthz, /readyz and /metrics, computed from the database."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from portal.models import utcnow
from portal.services import jobs, operations
from tests.conftest import make_app
from tests.monitoring_helpers import FakeChecker, make_agency, make_services


def _samples(body: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def test_healthz_answers_without_the_database(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json == {"status": "ok"}
    assert answer.headers["Cache-Control"] == "no-store"


def test_readyz_needs_a_fresh_scheduler_heartbeat_and_sweep(app, db, client):
    make_services(db.session, make_agency(db.session), 2)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["database"] == {"ok": True}
    assert answer.json["scheduler"]["age_seconds"] is None and answer.json["sweep"]["ok"] is False

    operations.beat(db.session, operations.SCHEDULER, "host:1:a")
    jobs.sweep(db.session, app.config, FakeChecker())
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.json
    assert answer.json["ready"] is True and answer.json["scheduler"]["age_seconds"] < 60
    assert answer.json["sweep"]["ok"] is True and answer.headers["Cache-Control"] == "no-store"

    operations.beat(db.session, operations.SCHEDULER, "host:1:a", utcnow() - timedelta(minutes=10))
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json["scheduler"]["ok"] is False
    assert 590 < answer.json["scheduler"]["age_seconds"] < 700

    app.config["PORTAL_MONITOR"] = "off"
    assert client.get("/readyz").json == {"ready": True, "database": {"ok": True}, "monitor": "off"}


def test_readyz_is_503_when_the_database_is_unreachable():
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/portal")
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json["ready"] is False and answer.json["database"]["ok"] is False
    assert "127.0.0.1" in answer.json["database"]["error"]


def test_metrics_in_prometheus_text_format(app, db, client):
    agency = make_agency(db.session)
    services = make_services(db.session, agency, 3)
    down = services[0].url
    jobs.sweep(db.session, app.config, FakeChecker(lambda url: "timeout" if url == down else "ok"))
    make_services(db.session, agency, 1, prefix="https://new.example.gov.vn/")  # registered since: due now
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    assert answer.headers["Cache-Control"] == "no-store"
    samples = _samples(answer.get_data(as_text=True))
    assert samples[("portal_checks_recent", (("outcome", "up"), ("reason", "ok")))] == 2
    assert samples[("portal_checks_recent", (("outcome", "down"), ("reason", "timeout")))] == 1
    assert samples[("portal_services_due", ())] == 1
    assert samples[("portal_services", (("health", "up"),))] == 2
    assert samples[("portal_last_sweep_checked", ())] == 3
    assert samples[("portal_last_sweep_duration_seconds", ())] >= 0
    assert samples[("portal_sweep_lag_seconds", ())] >= 0
    assert samples[("portal_alerts", (("status", "pending"),))] == 0
    assert ("portal_scheduler_heartbeat_age_seconds", ()) not in samples  # no scheduler has run


def test_a_metric_is_one_line(app, db, client):
    operations.gauge("portal_test_answer", "The answer", lambda session, now, config: 42)
    try:
        assert _samples(client.get("/metrics").get_data(as_text=True))[("portal_test_answer", ())] == 42
    finally:
        operations.GAUGES.pop()
