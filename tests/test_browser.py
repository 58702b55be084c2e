"""A citizen in headless Chromium: home page, search without diacritics, open a result."""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


@pytest.fixture
def live_server(app, demo):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium is required in CI but not found at {CHROMIUM}")
        pytest.skip("Chromium not installed (Debian package 'chromium'); browser test skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
        yield context.new_page()
        context.close()
        browser.close()


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
