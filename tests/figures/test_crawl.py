"""`portal crawl stats` / run_stats_crawl: snapshots with provenance, plausibility holds, review (audited)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from portal.crawlers.checker import CheckerConfig
from portal.models import ApplicationStat, AuditLog, StatSource
from portal.services import figures
from tests.figures.conftest import stats_page
from tests.helpers import csrf_token

CONFIG = CheckerConfig(allow_private=True, deadline=5, read_timeout=2, connect_timeout=2)
JULY = datetime(2026, 7, 10, 3, 0, tzinfo=UTC)
AUGUST = datetime(2026, 8, 10, 3, 0, tzinfo=UTC)


def add_source(db, agency, url, rule=None, enabled=True):
    source = StatSource(agency_id=agency.id, url=url, rule=rule or {"extractor": "auto"}, is_enabled=enabled)
    db.session.add(source)
    db.session.commit()
    return source


def stats(db, **where):
    stmt = select(ApplicationStat).filter_by(**where).order_by(ApplicationStat.id)
    return list(db.session.execute(stmt).scalars())


def test_crawl_stores_published_snapshot_with_provenance(db, agencies, stats_server):
    source = add_source(db, agencies["ha-noi"], stats_server.url("province_table.html"))
    summary = figures.run_stats_crawl(db.session, config=CONFIG, now=JULY)
    assert summary.to_dict() == {"sources": 1, "published": 1, "held": 0, "empty": 0, "failed": 0}
    (stat,) = stats(db)
    assert (stat.provenance, stat.status, stat.source_id) == ("crawled", "published", source.id)
    assert (stat.received_total, stat.received_online, stat.online_rate) == (125480, 81562, 65.0)
    assert stat.number_format == "vi"
    assert stat.period == "2026-Q3" and stat.observed_at == JULY
    assert stat.source_url == source.url
    assert db.session.get(StatSource, source.id).last_status == "published"


def test_implausible_drop_is_held_then_approved_or_rejected(db, agencies, stats_server, admin_client):
    url = stats_server.set_page("/hn", stats_page("10.309", "2.874"))
    add_source(db, agencies["ha-noi"], url)
    figures.run_stats_crawl(db.session, config=CONFIG, now=JULY)

    stats_server.set_page("/hn", stats_page("1.030", "2.874"))  # total fell by 90 %, online > total
    summary = figures.run_stats_crawl(db.session, config=CONFIG, now=AUGUST)
    assert (summary.published, summary.held) == (0, 1)
    held = stats(db, status="held")
    assert len(held) == 1
    assert any(p.startswith("total_dropped") for p in held[0].problems)
    assert any(p.startswith("online_exceeds_total") for p in held[0].problems)

    # A held figure is not what later snapshots are compared with, nor what the public sees.
    assert figures.last_published(db.session, held[0].source_id).received_total == 10309
    api = admin_client.get("/api/v1/agencies/ha-noi/figures").get_json()
    assert api["periods"][0]["crawled"]["received_total"] == 10309

    page = admin_client.get("/admin/figures/held").get_data(as_text=True)
    assert "Hà Nội" in page and "total_dropped" in page and "10.309" in page
    token = csrf_token(admin_client, "/admin/figures/held")
    assert admin_client.post(f"/admin/figures/{held[0].id}/approve").status_code == 400  # no CSRF token
    response = admin_client.post(f"/admin/figures/{held[0].id}/approve", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert stats(db, id=held[0].id)[0].status == "published"
    assert stats(db, id=held[0].id)[0].reviewed_by_id is not None
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "figure.approve")).scalar_one()
    assert entry.before["status"] == "held" and entry.after["status"] == "published"

    stats_server.set_page("/hn", stats_page("-5", "0"))
    figures.run_stats_crawl(db.session, config=CONFIG, now=AUGUST)
    (second,) = stats(db, status="held")
    admin_client.post(f"/admin/figures/{second.id}/reject", data={"csrf_token": token})
    db.session.expire_all()
    assert stats(db, id=second.id)[0].status == "rejected"
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "figure.reject")).scalar_one()
    assert "Không có số liệu nào chờ duyệt" in admin_client.get("/admin/figures/held").get_data(as_text=True)


def test_failures_and_empty_pages_never_stop_the_pass(db, agencies, stats_server):
    broken = add_source(db, agencies["ha-noi"], stats_server.url("missing.html"))
    empty = add_source(db, agencies["ha-noi"], stats_server.url("no_figures.html"))
    add_source(db, agencies["da-nang"], stats_server.url("definition_list.html"))
    add_source(db, agencies["da-nang"], stats_server.url("province_table.html"), enabled=False)
    summary = figures.run_stats_crawl(db.session, config=CONFIG, now=JULY)
    assert summary.to_dict() == {"sources": 3, "published": 1, "held": 0, "empty": 1, "failed": 1}
    db.session.expire_all()
    assert db.session.get(StatSource, broken.id).last_status == "not_found"
    assert "fetch failed" in db.session.get(StatSource, broken.id).last_message
    assert db.session.get(StatSource, empty.id).last_status == "no_figures"
    assert len(stats(db)) == 1


def test_crawl_command_with_agency_filter(app, db, agencies, stats_server, runner):
    add_source(db, agencies["ha-noi"], stats_server.url("province_table.html"))
    add_source(db, agencies["da-nang"], stats_server.url("definition_list.html"))
    result = runner.invoke(args=["crawl", "stats", "--agency", "da-nang"])
    assert result.exit_code == 0, result.output
    assert "1 sources: 1 published" in result.output
    (stat,) = stats(db)
    assert stat.agency_id == agencies["da-nang"].id and stat.received_total == 48217
    assert runner.invoke(args=["crawl", "stats", "--agency", "nowhere"]).exit_code == 2


def test_crawl_refuses_private_addresses_unless_allowed(db, agencies, stats_server):
    add_source(db, agencies["ha-noi"], stats_server.url("province_table.html"))
    summary = figures.run_stats_crawl(db.session, config=CheckerConfig(), now=JULY)
    assert summary.failed == 1
    assert db.session.execute(select(StatSource)).scalar_one().last_status == "blocked_address"
