from __future__ import annotations

from pathlib import Path

import pytest

from portal.crawlers.checker import CheckerConfig
from portal.crawlers.pagetext import classify, decode_body

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
CONFIG = CheckerConfig()


def page(name: str) -> str:
    return decode_body((PAGES / name).read_bytes())[0]


@pytest.mark.parametrize(
    ("name", "status", "headers", "expected"),
    [
        ("service_ok_vi.html", 200, {}, ("up", "ok")),
        ("soft404_vi.html", 200, {}, ("down", "not_found")),
        ("soft404_en.html", 200, {}, ("down", "not_found")),
        ("soft404_iis.html", 200, {}, ("down", "not_found")),
        ("maintenance_vi.html", 200, {}, ("down", "maintenance")),
        ("maintenance_en.html", 200, {}, ("down", "maintenance")),
        ("maintenance_vi.html", 503, {}, ("down", "maintenance")),
        ("maintenance_cp1258.html", 200, {}, ("down", "maintenance")),
        ("cloudflare_challenge.html", 403, {"Server": "cloudflare"}, ("degraded", "challenge")),
        ("cloudflare_challenge.html", 200, {}, ("degraded", "challenge")),
        ("f5_rejected.html", 200, {}, ("degraded", "challenge")),
        ("waf_captcha_vi.html", 403, {}, ("degraded", "challenge")),
        ("service_ok_vi.html", 429, {}, ("degraded", "rate_limited")),
        ("service_ok_vi.html", 403, {}, ("down", "http_error")),
        ("service_ok_vi.html", 500, {}, ("down", "http_error")),
        ("service_ok_vi.html", 404, {}, ("down", "not_found")),
        ("service_ok_vi.html", 410, {}, ("down", "not_found")),
        ("blank_markup.html", 200, {}, ("down", "empty_response")),
    ],
)
def test_saved_pages(name, status, headers, expected):
    assert classify(status, headers, page(name), 120, CONFIG) == expected


def test_slow_only_for_working_pages():
    text = page("service_ok_vi.html")
    assert classify(200, {}, text, 3001, CONFIG) == ("degraded", "slow")
    assert classify(200, {}, text, 3000, CONFIG) == ("up", "ok")
    assert classify(500, {}, text, 9000, CONFIG) == ("down", "http_error")
    assert classify(200, {}, page("soft404_vi.html"), 9000, CONFIG) == ("down", "not_found")


def test_challenge_header_and_empty_text():
    assert classify(403, {"CF-Mitigated": "challenge"}, "", 10, CONFIG) == ("degraded", "challenge")
    assert classify(200, {}, None, 10, CONFIG) == ("down", "empty_response")
    assert classify(200, {}, "", 10, CONFIG) == ("down", "empty_response")


def test_long_real_page_mentioning_words_is_ok():
    filler = "<p>" + "Hướng dẫn nộp hồ sơ trực tuyến cho công dân và doanh nghiệp. " * 80 + "</p>"
    text = (
        f"<html><head><title>Dịch vụ công</title></head><body>{filler}"
        "<p>Lịch bảo trì: Chủ nhật.</p></body></html>"
    )
    assert classify(200, {}, text, 10, CONFIG) == ("up", "ok")
    text404 = text.replace("Lịch bảo trì: Chủ nhật.", "Mã lỗi 404 được ghi nhận trong nhật ký.")
    assert classify(200, {}, text404, 10, CONFIG) == ("up", "ok")


@pytest.mark.parametrize(
    ("body", "http_charset", "encoding"),
    [
        ("Hệ thống đang bảo trì".encode(), "utf-8", "utf-8"),
        ("Hệ thống đang bảo trì".encode(), "iso-8859-1", "utf-8"),
        ("Hệ thống đang bảo trì".encode(), None, "utf-8"),
        (b"\xef\xbb\xbf" + "Hệ thống đang bảo trì".encode(), "windows-1252", "utf-8"),
    ],
)
def test_decode_distrusts_declared_charset(body, http_charset, encoding):
    text, used = decode_body(body, http_charset)
    assert text == "Hệ thống đang bảo trì"
    assert used == encoding


def test_decode_windows_1258_declared_and_lied_about():
    raw = (PAGES / "maintenance_cp1258.html").read_bytes()
    assert "Website đang bảo trì" in decode_body(raw)[0]
    assert decode_body(raw)[1] == "cp1258"
    text, used = decode_body(raw, "utf-8")
    assert "Website đang bảo trì" in text
    assert used == "cp1258"


def test_decode_prefix_does_not_fail_on_split_character():
    body = ("ả" * 40_000).encode()
    text, used = decode_body(body, "utf-8", limit=65_535)
    assert used == "utf-8"
    assert set(text) == {"ả"}


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        ("Thủ tục 404", "ok"),
        ("Nghị định 404/2024", "ok"),
        ("404", "not_found"),
        ("Lỗi 404 | Cổng", "not_found"),
    ],
)
def test_404_in_title_only_as_an_error_title(title, reason):
    text = (
        f"<html><head><title>{title}</title></head><body><p>{'Nộp hồ sơ trực tuyến. ' * 20}</p></body></html>"
    )
    assert classify(200, {}, text, 10, CONFIG)[1] == reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [("<h1>Thủ tục 404</h1><p>Nộp hồ sơ.</p>", "ok"), ("<p>404</p><p>Quay lại</p>", "not_found")],
)
def test_404_on_tiny_pages(body, reason):
    assert classify(200, {}, f"<html><body>{body}</body></html>", 10, CONFIG)[1] == reason


def test_page_language_hints():
    from portal.crawlers.pagetext import declared_language, language_hint, text_language

    assert declared_language('<html lang="vi-VN"><head></head>') == "vi"
    assert declared_language('<meta http-equiv="Content-Language" content="en">') == "en"
    assert declared_language('<meta property="og:locale" content="vi_VN">') == "vi"
    assert declared_language("<html><body>") is None
    assert text_language("Tổng số hồ sơ tiếp nhận trong tháng") == "vi"
    assert text_language("Applications received this month and the online rate") == "en"
    assert text_language("12 34") is None
    assert language_hint('<html lang="en">', "Kết quả giải quyết hồ sơ trực tuyến của tỉnh") == "vi"
    assert language_hint('<html lang="en">', "12.345") == "en"
