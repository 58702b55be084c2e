"""Every public page in headless Chromium, as citizens and journalists see it: axe-core finds nothing in either
language at 1280 and 375 px, no page scrolls sideways on a phone, a keyboard reaches a service's start button,
thin evidence reads "chưa đủ dữ liệu", and a merged province is one truth across search, status, agency and
rankings pages. One browser and one demo database for the whole module; axe-core is vendored (no network)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_app
from tests.test_browser import CHROMIUM, LAUNCH_ARGS

pytestmark = [pytest.mark.browser]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
OWN_PAGE = "https://dichvucong.baohiemxahoi.gov.vn/thu-tuc/cap-the-bhyt-do-het-han"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo data, one service with a week of checks and its own address, one with two checks, one former
    province's service down; served on an ephemeral port."""
    from portal.extensions import db
    from portal.models import Check, Service, utcnow
    from portal.services import availability, search
    from portal.services.seed import seed_demo

    search.clear_caches()
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'portal.db'}")
    ids = {}
    with app.app_context():
        db.create_all()
        seed_demo(db.session)
        services = db.session.execute(db.select(Service).order_by(Service.id)).scalars().all()
        monitored = next(s for s in services if s.name == "Cấp thẻ BHYT do hết hạn")
        monitored.url = OWN_PAGE
        thin = next(s for s in services if s is not monitored and not s.is_sample)
        former = next(s for s in services if s.agency.code == "ha-giang")
        now = utcnow()
        for hour in range(0, 24 * 5, 3):
            db.session.add(Check(service_id=monitored.id, checked_at=now - timedelta(hours=hour),
                                 outcome="up", reason="ok", http_status=200, elapsed_ms=300))
        for minutes in (5, 65):
            db.session.add(Check(service_id=thin.id, checked_at=now - timedelta(minutes=minutes),
                                 outcome="up", reason="ok", http_status=200, elapsed_ms=300))
        former.health, former.health_reason, former.health_since = "down", "timeout", now - timedelta(hours=2)
        monitored.health = thin.health = "up"
        db.session.commit()
        today = availability.local_day(now)
        for back in range(1, 6):
            availability.rollup_day(db.session, today - timedelta(days=back))
        ids = {"monitored": monitored.id, "thin": thin.id, "former": former.id, "former_name": former.name}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", **ids}
    server.shutdown()
    thread.join(5)
    search.clear_caches()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed (Debian package 'chromium'); browser test skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def public_paths(site) -> list[str]:
    return [
        "/", "/services?q=ho+chieu", "/services?q=zzzz", f"/services/{site['monitored']}", f"/services/{site['thin']}",
        f"/services/{site['former']}", "/agencies", "/agencies?former=1", "/agencies/tuyen-quang", "/agencies/ha-giang",
        "/rankings", "/rankings?kind=province&metric=availability", "/rankings?kind=province&metric=online_rate",
        "/rankings/agency/tuyen-quang", "/status", "/compliance", "/compliance/tuyen-quang", "/open-data",
        "/khong-co-trang-nay", "/login",
    ]


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("width", [1280, 375])
def test_every_public_page_passes_axe_and_fits_the_screen(site, browser, lang, width):
    # bypass_csp only lets the test inject axe-core; the pages' own policy is unchanged
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    axe = AXE.read_text(encoding="utf-8")
    problems = []
    for path in public_paths(site):
        page.goto(f"{site['url']}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        page.add_script_tag(content=axe)
        violations = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)"
        )
        problems += [f"{path}: {v}" for v in violations]
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        if scroll > inner:
            problems.append(f"{path}: {scroll} px wide at {inner} px")
    context.close()
    assert problems == []


def test_keyboard_reaches_the_start_button_with_a_visible_focus(site, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(site["url"] + "/")

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    def focus_ring() -> tuple[str, str]:
        return tuple(page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                             " return [s.outlineColor + ' ' + s.outlineStyle, s.boxShadow]; }"))

    # every element the keyboard reaches on the home page shows the same two-tone ring (≥ 3:1 on white and red)
    seen = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        where = page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)")
        if where in seen or where.startswith("<body"):
            break
        seen.add(where)
        assert focus_ring() == ("rgb(11, 12, 12) solid", "rgb(255, 221, 0) 0px 0px 0px 6px"), where
    assert len(seen) > 10
    page.goto(site["url"] + "/")
    tab_to("#q")
    page.keyboard.type("cap the bhyt do het han")
    page.keyboard.press("Enter")
    page.wait_for_url("**/services?q=*")
    tab_to("ol.results li a")
    assert focus_ring()[0] == "rgb(11, 12, 12) solid"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/services/{site['monitored']}")
    tab_to("#start-button")
    assert focus_ring() == ("rgb(11, 12, 12) solid", "rgb(255, 221, 0) 0px 0px 0px 6px")
    start = page.locator("#start-button")
    assert start.inner_text().startswith("Nộp hồ sơ trực tuyến")
    assert start.get_attribute("href") == OWN_PAGE
    crumbs = page.locator("nav.breadcrumbs li").all_inner_texts()
    assert crumbs[0] == "Trang chủ" and crumbs[1] == "Cơ quan" and "Cấp thẻ BHYT do hết hạn" in crumbs[-1]
    assert page.locator("header a", has_text="Đăng nhập").count() == 0
    assert page.locator("footer a", has_text="Đăng nhập dành cho cán bộ").is_visible()
    context.close()


def test_thin_evidence_reads_not_enough_data_and_enough_evidence_is_shown_with_it(site, browser):
    context = browser.new_context(viewport={"width": 375, "height": 900})
    page = context.new_page()
    page.goto(f"{site['url']}/services/{site['thin']}")
    figures = page.locator("dl.uptime > div")
    assert figures.count() == 4
    for i in range(4):
        text = figures.nth(i).inner_text()
        assert "chưa đủ dữ liệu" in text and "%" not in text
    assert "2 lần kiểm tra trong 1 ngày" in figures.nth(0).inner_text()
    assert "Theo dõi từ" in page.locator("#availability-evidence").inner_text()
    assert "giờ Việt Nam" in page.locator("#availability-evidence").inner_text()
    assert "ít nhất 24 lần kiểm tra trong ít nhất 3 ngày" in page.locator("#evidence-rule").inner_text()

    page.goto(f"{site['url']}/services/{site['monitored']}?lang=en")
    week = page.locator("dl.uptime > div").nth(1).inner_text()
    assert re.search(r"100\.00\s%", week) and re.search(r"\d+ checks on [4-6] days", week)
    assert "ICT" in page.locator("#availability-evidence").inner_text()
    assert "not enough data" in page.locator("dl.uptime > div").nth(0).inner_text()  # 8 or 9 checks in 24 h

    page.goto(f"{site['url']}/rankings?kind=province&metric=availability&lang=vi")
    assert "chưa đủ dữ liệu" in page.locator("#not-enough-note").inner_text()
    assert page.locator("#empty-ranking").is_visible()
    assert page.locator("figure.chart").count() == 0
    context.close()


def test_a_merged_province_is_one_truth_across_pages(site, browser):
    context = browser.new_context(viewport={"width": 375, "height": 900})
    page = context.new_page()
    base = site["url"]
    page.goto(f"{base}/services?q=" + site["former_name"].replace(" ", "+") + "&agency=ha-giang")
    assert "Hà Giang (nay thuộc Tuyên Quang)" in page.locator("ol.results").inner_text()

    page.goto(f"{base}/status")
    failing = page.locator("section[aria-labelledby=failing-heading] tbody").inner_text()
    assert "Hà Giang (nay thuộc Tuyên Quang)" in failing
    by_agency = page.locator("section[aria-labelledby=agencies-heading] tbody").inner_text()
    assert "Tuyên Quang" in by_agency and "Hà Giang" not in by_agency

    page.goto(f"{base}/agencies/ha-giang")
    assert "(nay thuộc Tuyên Quang)" in page.locator("h1").inner_text()
    notice = page.locator("#former-notice")
    assert "dừng ở ngày sáp nhập" in notice.inner_text()
    assert notice.locator("a").get_attribute("href") == "/agencies/tuyen-quang"
    assert "Đã xác minh" not in page.locator("table.side-by-side").first.inner_text()
    assert page.locator("section[aria-labelledby=services-heading] ul.results").count() == 0

    page.goto(f"{base}/agencies/tuyen-quang")
    verified = page.locator("table.side-by-side tbody tr")
    l3 = int(re.sub(r"\D", "", verified.nth(0).locator("td").last.inner_text()))
    l4 = int(re.sub(r"\D", "", verified.nth(1).locator("td").last.inner_text()))
    assert "Hà Giang" in page.locator("#predecessors-note").inner_text()
    assert page.locator("section[aria-labelledby=services-heading] li", has_text="(Hà Giang)").count() >= 1

    page.goto(f"{base}/rankings?kind=province&metric=services_total")
    row = page.locator("table.ranking tbody tr", has_text="Tuyên Quang")
    assert int(re.sub(r"\D", "", row.locator("td").nth(1).inner_text())) == l3 + l4
    assert "Hà Giang" in row.inner_text()

    page.goto(f"{base}/agencies?former=1")
    assert page.locator("li", has_text="Hà Giang (nay thuộc Tuyên Quang)").count() == 1
    context.close()
