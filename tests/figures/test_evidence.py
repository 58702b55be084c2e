"""Provenance of crawled figures and the period a source reads: admin test page, snapshots, API, probe."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from portal.commands.stats import stats_cli
from portal.crawlers.checker import CheckerConfig
from portal.models import ApplicationStat, AuditLog, StatSource
from portal.services import figures
from tests.helpers import csrf_token

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "statpages"
CONFIG = CheckerConfig(allow_private=True, deadline=5, read_timeout=2, connect_timeout=2)
JULY = datetime(2026, 7, 10, 3, 0, tzinfo=UTC)
NEW = "/admin/stat-sources/new"


def corpus_page(stats_server, name: str) -> str:
    return stats_server.set_page(f"/{name}", (CORPUS / name).read_text(encoding="utf-8"))


def form_data(client, **fields):
    data = {"agency": "ha-noi", "url": "", "extractor": "auto", "label": "", "service_id": "", "period": ""}
    data.update(fields)
    data["csrf_token"] = csrf_token(client, NEW)
    return data


def test_test_page_says_where_each_figure_was_read(db, admin_client, agencies, stats_server):
    url = corpus_page(stats_server, "unit_table_two_row_header.html")
    page = admin_client.post(NEW, data=form_data(admin_client, url=url, test="1")).get_data(as_text=True)
    assert re.search(r'class="preview-received_online">7\.075<', page)
    assert "Số liệu được đọc ở đâu" in page
    assert "Bảng 1, dòng “Tổng cộng”, cột “Tiếp nhận › Trực tuyến”" in page


def test_period_setting_reads_that_period_and_is_saved_audited(db, admin_client, agencies, stats_server):
    url = corpus_page(stats_server, "periods_columns.html")
    page = admin_client.post(NEW, data=form_data(admin_client, url=url, test="1")).get_data(as_text=True)
    assert "several periods on the page" in page and "Không tìm thấy số liệu nào" in page
    page = admin_client.post(NEW, data=form_data(admin_client, url=url, test="1", period="Lũy kế")).get_data(
        as_text=True
    )
    assert re.search(r'class="preview-received_total">24\.000<', page)
    assert "kỳ Lũy kế" in page
    response = admin_client.post(NEW, data=form_data(admin_client, url=url, save="1", period="Lũy kế"))
    assert response.status_code == 302
    source = db.session.execute(select(StatSource)).scalar_one()
    assert source.period == "Lũy kế"
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "stat_source.create")).scalar_one()
    assert log.after["period"] == "Lũy kế"


def test_unrecognised_period_is_a_form_error(db, admin_client, agencies, stats_server):
    url = corpus_page(stats_server, "periods_columns.html")
    response = admin_client.post(NEW, data=form_data(admin_client, url=url, save="1", period="hôm kia nữa"))
    assert response.status_code == 400
    assert "Không nhận ra kỳ số liệu" in response.get_data(as_text=True)
    assert db.session.execute(select(StatSource)).first() is None


def test_snapshot_keeps_evidence_and_api_shows_it(db, agencies, stats_server, client):
    url = corpus_page(stats_server, "periods_rows.html")
    db.session.add(StatSource(agency_id=agencies["ha-noi"].id, url=url, rule={"extractor": "auto"},
                              period="Tháng 10"))
    db.session.commit()
    summary = figures.run_stats_crawl(db.session, config=CONFIG, now=JULY)
    assert summary.published == 1
    stat = db.session.execute(select(ApplicationStat)).scalar_one()
    assert (stat.received_total, stat.received_online, stat.resolved) == (2345, 1800, 2300)
    assert stat.evidence["received_total"]["row"] == "Tháng 10"
    assert stat.evidence["received_total"]["column"] == "Tiếp nhận"
    assert stat.evidence["online_rate"] is None
    crawled = client.get("/api/v1/agencies/ha-noi/figures").get_json()["periods"][0]["crawled"]
    assert crawled["evidence"]["resolved"]["where"] == "table 1, row 'Tháng 10', column 'Đã giải quyết'"
    page = client.get("/agencies/ha-noi").get_data(as_text=True)
    assert "Bảng 1, dòng “Tháng 10”, cột “Đã giải quyết”" in page


def test_probe_json_evidence_and_period_option(stats_server):
    url = corpus_page(stats_server, "prose_monthly_report.html")
    env = {"PORTAL_ALLOW_PRIVATE_ADDRESSES": "1", "PORTAL_CHECK_DEADLINE": "5"}
    data = json.loads(CliRunner().invoke(stats_cli, ["probe", "--json", url], env=env).output)
    assert data["figures"]["received_total"] == 23871 and data["number_format"] == "vi"
    assert "trong đó trực tuyến: 18.102" in data["evidence"]["received_online"]["sentence"]
    url = corpus_page(stats_server, "periods_sections.html")
    result = CliRunner().invoke(stats_cli, ["probe", "--json", "--period", "Năm 2024", url], env=env)
    data = json.loads(result.output)
    assert data["figures"]["received_total"] == 24000
    assert data["evidence"]["received_total"]["period"] == "Năm 2024"
