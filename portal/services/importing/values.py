"""Cell values: counts, indices, levels, procedure codes and addresses, with messages for officers."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from portal.text import fold

PROCEDURE_CODE_RE = re.compile(r"^[12]\.\d{6}(\.[A-Z0-9]+)?$")
FULL_PROCEDURE_CODE_RE = re.compile(r"^([12]\.\d{6})\.\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")


_INT_RE = re.compile(r"^\d+$")
_GROUPED_INT_RE = re.compile(r"^\d{1,3}(\.\d{3})+$|^\d{1,3}(,\d{3})+$")
_DECIMAL_RE = re.compile(r"^\d+([.,]\d+)?$")


def parse_count(text: str) -> int:
    """Parse a non-negative integer written plainly or grouped as 10.309 / 10,309; ValueError otherwise."""
    s = re.sub(r"[\s\u00a0\u202f]", "", text)
    if _INT_RE.match(s):
        return int(s)
    if _GROUPED_INT_RE.match(s):
        return int(re.sub(r"[.,]", "", s))
    raise ValueError(text)


def parse_index(text: str) -> float:
    """Parse an index between 0 and 1 written with a decimal point or comma; ValueError otherwise."""
    s = text.strip()
    if not _DECIMAL_RE.match(s):
        raise ValueError(text)
    value = float(s.replace(",", "."))
    if value > 1:
        raise ValueError(text)
    return value


_LEVEL_WORDS = {"toan trinh": 4, "mot phan": 3}


def parse_level(text: str) -> int:
    """Parse a service level: 3/4 in any spelling, or "toàn trình" (4) / "một phần" (3); ValueError."""
    s = fold(text)
    for word, level in _LEVEL_WORDS.items():
        if word in s:
            return level
    s = re.sub(r"^(dvc(tt)?|dich vu cong( truc tuyen)?)\s*", "", s)
    s = re.sub(r"^(muc do|muc|level)\s*", "", s).strip()
    match = re.fullmatch(r"([34])([.,]0+)?", s)
    if not match:
        raise ValueError(text)
    return int(match.group(1))


_LABEL_RE = re.compile(r"^[^\W_]([\w-]*[^\W_])?$")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if len(labels) < 2 and host != "localhost":
        return False
    return all(len(label) <= 63 and _LABEL_RE.match(label) for label in labels)


def procedure_code(text: str | None) -> str | None:
    """A procedure code as stored: upper case, and the national database's full form
    (1.001234.000.00.00.H26: the procedure as one agency carries it out) shortened to the procedure's
    code (1.001234). None when empty."""
    code = "".join((text or "").split()).upper()
    match = FULL_PROCEDURE_CODE_RE.match(code)
    return (match.group(1) if match else code) or None


def procedure_code_problem(code: str) -> str | None:
    """A Vietnamese message if `code` is not a national procedure code (1.000178, 1.012753.H19,
    1.001234.000.00.00.H26), else None."""
    if PROCEDURE_CODE_RE.match(code) or FULL_PROCEDURE_CODE_RE.match(code):
        return None
    hint = ""
    if re.fullmatch(r"[12]\.\d{1,5}", code):
        hint = " — có thể Excel đã đổi mã thành số; hãy định dạng ô là văn bản"
    return (f"Mã thủ tục “{code}” không đúng định dạng (ví dụ 1.000178, 1.012753.H19 "
            f"hoặc 1.001234.000.00.00.H26){hint}")


def check_url(url: str) -> str | None:
    """Return a Vietnamese message if url is not a syntactically valid http(s) URL, else None."""
    if any(ch.isspace() for ch in url):
        return "Địa chỉ không được chứa khoảng trắng"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Địa chỉ không hợp lệ"
    if parts.scheme.lower() not in ("http", "https"):
        return "Địa chỉ phải bắt đầu bằng http:// hoặc https://"
    if parts.username is not None or parts.password is not None:
        return "Địa chỉ không được chứa tên đăng nhập hoặc mật khẩu"
    if not parts.hostname or not _valid_host(parts.hostname):
        return "Địa chỉ không có tên miền hợp lệ"
    if port == 0:
        return "Địa chỉ có cổng không hợp lệ"
    return None
