"""A citizen in headless Chromium: home page, search without diacritics, open a result, rankings, report a service."""

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


@contextmanager
def serving(app) -> Iterator[str]:
    """The app served on a loopback port, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def live_server(app, demo):
    with serving(app) as base:
        yield base


@pytest.fixture(name="browser")
def browser_fixture():
    """Headless Debian Chromium (skipped when missing, except in CI)."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium is required in CI but not found at {CHROMIUM}")
        pytest.skip("Chromium not installed (Debian package 'chromium'); browser test skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    """A 375 px wide phone."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="vi-VN", is_mobile=True,
                                  has_touch=True)
    yield context.new_page()
    context.close()


def test_search_without_diacritics_and_open_result(live_server, page):
    page.goto(live_server + "/")
    assert page.locator("h1").first.inner_text().startswith("Dịch vụ công")
    page.fill("#q", "cap the bhyt do het han")
    page.keyboard.press("Enter")
    page.wait_for_url("**/services?q=*")
    first = page.locator("ol.results li a").first
    assert first.inner_text() == "Cấp thẻ BHYT do hết hạn" or "BHYT" in first.inner_text()
    title = first.inner_text()
    first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/services/*")
    assert page.locator("h1").inner_text() == title
    assert page.locator("text=Bảo hiểm Xã hội Việt Nam").first.is_visible()


def test_rankings_switch_kind_and_metric_then_download_csv(live_server, page):
    page.goto(live_server + "/rankings")
    assert page.locator("h1").inner_text() == "Xếp hạng các bộ, ngành, địa phương"
    assert "Bộ, cơ quan ngang bộ" in page.locator("#ranking-heading").inner_text()
    page.select_option("#f-kind", "province")
    page.select_option("#f-metric", "services_l4")
    page.locator("button[type=submit]", has_text="Xem xếp hạng").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/rankings?kind=province&metric=services_l4*")
    heading = page.locator("#ranking-heading").inner_text()
    assert "Số dịch vụ công trực tuyến mức độ 4" in heading and "Tỉnh, thành phố" in heading
    rows = page.locator("table.ranking tbody tr")
    assert rows.count() == 34
    assert page.locator("#merged-note").is_visible()
    assert page.locator("figure.chart svg[role=img]").is_visible()
    first = rows.first.locator("th").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    download = info.value
    assert download.suggested_filename == "xep-hang_services_l4_province_current_verified.csv"
    with open(download.path(), encoding="utf-8", newline="") as f:
        content = f.read()
    assert content.startswith("\ufeffHạng,Mã cơ quan,Cơ quan,")
    lines = content.strip().split("\r\n")
    assert len(lines) == 1 + 34
    assert lines[1].startswith("1,") and first in lines[1]


def test_report_a_service_by_keyboard_on_a_phone(app, live_server, phone):
    """375 px wide, keyboard only: open the report form, choose what went wrong, write, send, see the thanks."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import FeedbackReport, Service

    app.config["PORTAL_FEEDBACK_MIN_SECONDS"] = 0
    service = db.session.execute(select(Service).where(Service.status == "active").order_by(Service.id)).scalar()
    phone.goto(f"{live_server}/services/{service.id}")
    assert phone.locator("#feedback-heading").inner_text() == "Dịch vụ này không dùng được?"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    assert not phone.locator("#fb-website").is_visible() or phone.locator("#fb-website").bounding_box()["x"] < 0
    phone.locator("#fb-category-1").focus()
    phone.keyboard.press("ArrowDown")  # radio group: the arrow keys move and select
    assert phone.locator("#fb-category-2").is_checked()
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "fb-description"
    phone.keyboard.type("Bấm “Nộp hồ sơ” thì báo lỗi <500>")
    phone.keyboard.press("Tab")
    phone.keyboard.press("Space")  # allow the description to be public
    assert phone.locator("#fb-description_public").is_checked()
    phone.keyboard.press("Tab")
    phone.keyboard.press("Tab")
    phone.keyboard.press("Tab")  # past the contact and the consent box: the honeypot is not reachable
    assert phone.evaluate("document.activeElement.tagName") == "BUTTON"
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/feedback/*")
    assert phone.locator("h1").inner_text() == "Cảm ơn bạn đã phản ánh"
    assert "Kiểm tra lại ngay" in phone.locator("#recheck").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.goto(f"{live_server}/services/{service.id}")
    assert "Bấm “Nộp hồ sơ” thì báo lỗi <500>" in phone.locator(".feedback-list").inner_text()
    report = db.session.execute(select(FeedbackReport)).scalar_one()
    assert report.category == "submit_error" and report.description_public


def test_search_box_suggestions_by_keyboard(live_server, page):
    page.goto(live_server + "/agencies")
    box = page.locator("#site-q")
    box.focus()
    page.keyboard.type("bang lai", delay=30)
    listbox = page.get_by_role("listbox", name="Gợi ý tìm kiếm")
    listbox.wait_for(state="visible")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "true"
    options = listbox.get_by_role("option")
    assert "giấy phép lái xe" in options.first.inner_text()
    assert "gợi ý" in page.locator("[role=status]", has_text="gợi ý").inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    active = box.get_attribute("aria-activedescendant")
    assert active == options.first.get_attribute("id") and options.first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false" and listbox.is_hidden()
    page.keyboard.press("ArrowDown")
    chosen = options.first.evaluate("option => option.firstChild.textContent.trim()")
    page.keyboard.press("Enter")
    page.wait_for_url("**/services?q=*")
    assert page.locator("ol.results li h2").first.inner_text() == chosen
    assert box.input_value() == "" and page.locator("#q").input_value() == chosen


def test_search_box_works_without_javascript(live_server):
    import urllib.request

    with urllib.request.urlopen(live_server + "/services?q=gplx") as response:  # noqa: S310 - loopback server
        html = response.read().decode()
    assert "giấy phép lái xe" in html.lower() and 'id="site-q"' in html
