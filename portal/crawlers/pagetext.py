"""Decoding of fetched bytes and verdicts on page text (pure functions, no I/O)."""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from collections.abc import Mapping

import charset_normalizer

from portal.vocabulary import REASON_OUTCOMES

CLASSIFY_LIMIT = 65_536


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
_SINGLE_BYTE = ("iso8859", "latin", "cp125", "cp874", "ascii", "koi8", "mac", "tis")

_HIDDEN = re.compile(r"<(script|style|noscript|template|svg)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title", re.S | re.I)
_HEADING = re.compile(r"<h[1-3]\b[^>]*>(.*?)</h[1-3]", re.S | re.I)
_TITLE_404 = re.compile(r"(?:^|\|)\s*(?:http\s+)?(?:error|lỗi|err)?[\s:]*404(?![\d.,])")

NOT_FOUND_PHRASES = (
    "không tìm thấy trang",
    "không tìm thấy đường dẫn",
    "không tìm thấy nội dung",
    "trang không tồn tại",
    "trang này không tồn tại",
    "trang bạn tìm",
    "trang bạn yêu cầu không tồn tại",
    "trang bạn truy cập không tồn tại",
    "đường dẫn không tồn tại",
    "liên kết không tồn tại",
    "nội dung không tồn tại",
    "page not found",
    "page does not exist",
    "page cannot be found",
    "page could not be found",
    "404 not found",
    "error 404",
    "lỗi 404",
)
MAINTENANCE_PHRASES = (
    "đang bảo trì",
    "đang được bảo trì",
    "bảo trì hệ thống",
    "bảo trì website",
    "bảo trì cổng",
    "đang nâng cấp",
    "đang được nâng cấp",
    "nâng cấp hệ thống",
    "tạm ngừng hoạt động",
    "tạm ngưng hoạt động",
    "tạm dừng hoạt động",
    "tạm ngừng cung cấp dịch vụ",
    "under maintenance",
    "down for maintenance",
    "scheduled maintenance",
    "maintenance mode",
    "undergoing maintenance",
    "performing maintenance",
    "performing some maintenance",
    "site maintenance",
)
MAINTENANCE_WORDS = ("bảo trì", "nâng cấp", "maintenance")
CHALLENGE_MARKERS = (
    "cf-chl",
    "/cdn-cgi/challenge-platform",
    "just a moment...",
    "checking your browser",
    "checking if the site connection is secure",
    "attention required! | cloudflare",
    "enable javascript and cookies to continue",
    "_incapsula_resource",
    "incapsula incident id",
    "ddos-guard",
    "sucuri website firewall",
    "the requested url was rejected",
    "verify you are human",
    "are you a robot",
    "xác minh bạn không phải là robot",
)
BLOCK_PAGE_MARKERS = (
    "captcha",
    "firewall",
    "access denied",
    "request blocked",
    "bị chặn",
    "truy cập bị từ chối",
)

SHORT_PAGE = 3000
TINY_PAGE = 200


def _codec_name(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return "cp1252" if name in ("iso8859-1", "ascii") else name


def declared_charset(body: bytes, http_charset: str | None) -> str | None:
    """The encoding a page declares: BOM, then HTTP charset, then <meta charset>."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    name = _codec_name(http_charset)
    if name:
        return name
    match = _META_CHARSET.search(body[:4096])
    return _codec_name(match.group(1).decode("ascii", "ignore")) if match else None


def _strict(data: bytes, encoding: str, final: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(data, final=final)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_body(body: bytes, http_charset: str | None = None, limit: int | None = None) -> tuple[str, str]:
    """Decode page bytes to NFC text, distrusting a declared charset the bytes contradict."""
    data = body if limit is None else body[:limit]
    final = limit is None or len(body) <= limit
    declared = declared_charset(body, http_charset)
    text: str | None = None
    encoding = declared or "utf-8"
    if declared and declared.startswith(_SINGLE_BYTE) and not data.isascii():
        as_utf8 = _strict(data, "utf-8", final)
        if as_utf8 is not None:
            text, encoding = as_utf8, "utf-8"
    if text is None:
        text = _strict(data, encoding, final)
    if text is None:
        best = charset_normalizer.from_bytes(data[:CLASSIFY_LIMIT]).best()
        encoding = best.encoding if best is not None else "utf-8"
        text = data.decode(encoding, "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return unicodedata.normalize("NFC", text), encoding


def _visible(fragment: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", fragment))).strip().lower()


def page_parts(text: str) -> tuple[str, str, str]:
    """(title and h1-h3 headings, visible text, raw lower-cased markup) of the first 64 KB."""
    head = text[:CLASSIFY_LIMIT]
    shown = _HIDDEN.sub(" ", head)
    titles = [_visible(m) for m in _TITLE.findall(shown)] + [_visible(m) for m in _HEADING.findall(shown)]
    return " | ".join(titles), _visible(shown), head.lower()


def _any(haystack: str, needles: tuple[str, ...]) -> bool:
    return any(n in haystack for n in needles)


def looks_like_challenge(status: int, headers: Mapping[str, str], text: str | tuple[str, str, str]) -> bool:
    """A WAF/CAPTCHA/bot-wall page or a rate limit, not the service itself."""
    headers = {k.lower(): v for k, v in headers.items()}
    if status == 429 or headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    _titles, visible, raw = page_parts(text) if isinstance(text, str) else text
    if status < 400 and len(visible) > SHORT_PAGE:
        return False
    if _any(raw, CHALLENGE_MARKERS):
        return True
    return status in (403, 503) and (
        "cloudflare" in headers.get("server", "").lower() or _any(visible, BLOCK_PAGE_MARKERS)
    )


def looks_like_rate_limit(status: int, headers: Mapping[str, str], text: str | tuple[str, str, str]) -> bool:
    """Too many requests: a 429, or a 503 with Retry-After that is not a maintenance page (no bot wall)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("cf-mitigated", "").lower() == "challenge":
        return False
    if status == 429:
        return True
    return status == 503 and "retry-after" in lowered and not looks_like_maintenance(text)


def looks_like_maintenance(text: str | tuple[str, str, str]) -> bool:
    """A page announcing maintenance or an upgrade."""
    titles, visible, _raw = page_parts(text) if isinstance(text, str) else text
    if _any(titles, MAINTENANCE_PHRASES):
        return True
    if len(visible) <= SHORT_PAGE and _any(visible, MAINTENANCE_PHRASES):
        return True
    return len(visible) <= TINY_PAGE and _any(visible, MAINTENANCE_WORDS)


def looks_like_not_found(text: str | tuple[str, str, str]) -> bool:
    """A page saying the requested page does not exist (soft 404)."""
    titles, visible, _raw = page_parts(text) if isinstance(text, str) else text
    if _any(titles, NOT_FOUND_PHRASES) or _TITLE_404.search(titles) or "not found" in titles:
        return True
    if len(visible) <= SHORT_PAGE and _any(visible, NOT_FOUND_PHRASES):
        return True
    return len(visible) <= TINY_PAGE and bool(_TITLE_404.search(visible))


def classify(
    status: int,
    headers: Mapping[str, str],
    text: str | None,
    elapsed_ms: int,
    config: object,
) -> tuple[str, str]:
    """Verdict (outcome, reason) on a final response; `config` needs a `slow_ms` attribute."""
    page = text or ""
    parts = page_parts(page)
    if status in (404, 410):
        reason = "not_found"
    elif looks_like_rate_limit(status, headers, parts):
        reason = "rate_limited"
    elif looks_like_challenge(status, headers, parts):
        reason = "challenge"
    elif 200 <= status < 300:
        if not page.strip():
            reason = "empty_response"
        elif looks_like_maintenance(parts):
            reason = "maintenance"
        elif looks_like_not_found(parts):
            reason = "not_found"
        elif elapsed_ms > getattr(config, "slow_ms", 3000):
            reason = "slow"
        else:
            reason = "ok"
    elif status >= 500 and looks_like_maintenance(parts):
        reason = "maintenance"
    else:
        reason = "http_error"
    return REASON_OUTCOMES[reason], reason


# ---------------------------------------------------------------- page language

_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?\s*([a-zA-Z]{2,3})", re.I)
_META_LANG = re.compile(
    r"<meta\b[^>]*?(?:http-equiv\s*=\s*[\"']?content-language|name\s*=\s*[\"']?(?:language|dc\.language)"
    r"|property\s*=\s*[\"']?og:locale)[\"']?[^>]*?content\s*=\s*[\"']?\s*([a-zA-Z]{2,3})",
    re.I,
)
_META_LANG_REVERSED = re.compile(
    r"<meta\b[^>]*?content\s*=\s*[\"']?\s*([a-zA-Z]{2,3})[^>]*?(?:http-equiv\s*=\s*[\"']?content-language"
    r"|name\s*=\s*[\"']?language|property\s*=\s*[\"']?og:locale)",
    re.I,
)
_VI_LETTERS = frozenset("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
_EN_WORDS = re.compile(r"\b(?:the|and|of|applications?|received|resolved|online|total|rate|on time)\b")


def declared_language(markup: str) -> str | None:
    """The language a page declares ("vi", "en" …): <html lang>, then <meta> content-language or og:locale."""
    head = markup[:CLASSIFY_LIMIT]
    for pattern in (_HTML_LANG, _META_LANG, _META_LANG_REVERSED):
        match = pattern.search(head)
        if match:
            return match.group(1).lower()[:2]
    return None


def text_language(text: str) -> str | None:
    """"vi" when the words carry Vietnamese letters, "en" for plain English wording, else None."""
    letters = [ch for ch in text.lower()[:CLASSIFY_LIMIT] if ch.isalpha()]
    if len(letters) < 20:
        return None
    marked = sum(ch in _VI_LETTERS for ch in letters)
    if marked >= max(3, len(letters) // 40):
        return "vi"
    if marked == 0 and len(_EN_WORDS.findall(text.lower()[:CLASSIFY_LIMIT])) >= 2:
        return "en"
    return None


def language_hint(markup: str, text: str) -> str | None:
    """The page's language as a hint: the text's own when it is clear, else the declared one."""
    return text_language(text) or declared_language(markup)
