"""Column headers as officers write them (Vietnamese or English, with or without diacritics) mapped to fields."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from portal.text import fold

_NUMBERING_RE = re.compile(r"^(\(?\d+(\.\d+)*[.)]?|[a-z]\)|[ivx]+\.)\s*[-–:]?\s+")
_PARENS_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def normalize_header(header: str) -> str:
    """Fold a column header and drop numbering ("1. "), notes in brackets and punctuation."""
    text = fold(header)
    text = _PARENS_RE.sub(" ", text)
    text = _NUMBERING_RE.sub("", text.strip())
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


_SERVICE_ALIASES: dict[str, set[str]] = {
    "name": {
        "ten dich vu cong", "ten dich vu", "ten thu tuc hanh chinh", "ten thu tuc", "ten tthc",
        "ten dvc", "ten dvc truc tuyen", "ten dvctt", "ten dich vu cong truc tuyen",
        "name", "service", "service name",
    },
    "level": {"muc do", "muc", "muc do cung cap", "muc do dvc", "level", "service level"},
    "online_applications": {
        "so ho so truc tuyen", "so ho so tiep nhan truc tuyen", "online applications",
    },
    "total_applications": {
        "tong so ho so", "so ho so tiep nhan", "all applications", "total applications",
        "applications",
    },
    "url": {
        "dia chi", "dia chi tren internet", "dia chi internet", "dia chi truy cap", "url", "link",
        "duong dan", "duong link", "address", "internet address", "website",
    },
    "legal_basis": {"can cu phap ly", "van ban quy dinh", "legal basis"},
    "procedure_code": {
        "ma thu tuc", "ma tthc", "ma thu tuc hanh chinh", "ma so thu tuc", "procedure code",
    },
    "field": {"linh vuc", "field"},
    "agency": {"ma co quan", "ma don vi", "agency", "agency code"},
}


def _service_rule(h: str) -> str | None:
    words = h.split()
    if h.startswith("ten ") and any(k in h for k in ("dich vu", "thu tuc", "tthc", "dvc")):
        return "name"
    if words[:1] == ["muc"]:
        return "level"
    if h.startswith("ma ") and any(k in h for k in ("thu tuc", "tthc")):
        return "procedure_code"
    if h.startswith(("ma co quan", "ma don vi")):
        return "agency"
    if h.startswith("dia chi"):
        return "url"
    if h.startswith(("can cu", "van ban")):
        return "legal_basis"
    if h.startswith("linh vuc"):
        return "field"
    if "ho so" in h or "applications" in words:
        if any(k in h for k in ("truc tuyen", "moi truong mang", "qua mang", "online")):
            return "online_applications"
        return "total_applications"
    return None


REPORT_FIELDS = (
    "services_l3", "services_l4", "online_applications", "it_infrastructure_index",
    "it_internal_index", "website_index", "it_policy_index", "it_hr_index",
)
REPORT_INDEX_FIELDS = frozenset(f for f in REPORT_FIELDS if f.endswith("_index"))

_REPORT_ALIASES: dict[str, set[str]] = {
    "code": {"code", "agency code", "agency", "ma co quan", "ma don vi"},
    "year": {"year", "nam", "period", "ky bao cao"},
    **{f: {f.replace("_", " ")} for f in REPORT_FIELDS},
}
_REPORT_ALIASES["services_l3"] |= {"so dvc muc do 3", "so dvctt muc do 3", "dvc muc do 3", "muc do 3"}
_REPORT_ALIASES["services_l4"] |= {"so dvc muc do 4", "so dvctt muc do 4", "dvc muc do 4", "muc do 4"}
_REPORT_ALIASES["online_applications"] |= _SERVICE_ALIASES["online_applications"]
_REPORT_ALIASES["it_infrastructure_index"] |= {"chi so ha tang ky thuat cntt", "chi so ha tang ky thuat"}
_REPORT_ALIASES["it_internal_index"] |= {
    "chi so ung dung cntt trong hoat dong noi bo", "chi so ung dung noi bo",
}
_REPORT_ALIASES["website_index"] |= {
    "chi so trang cong thong tin dien tu", "chi so cong thong tin dien tu",
}
_REPORT_ALIASES["it_policy_index"] |= {
    "chi so co che chinh sach va cac quy dinh cho ung dung cntt", "chi so co che chinh sach",
}
_REPORT_ALIASES["it_hr_index"] |= {"chi so nguon nhan luc cho ung dung cntt", "chi so nguon nhan luc"}


def _lookup(aliases: Mapping[str, set[str]]) -> dict[str, str]:
    return {alias: name for name, group in aliases.items() for alias in group}


_SERVICE_LOOKUP = _lookup(_SERVICE_ALIASES)
_REPORT_LOOKUP = _lookup(_REPORT_ALIASES)


def service_field_for_header(header: str) -> str | None:
    """The ServiceRow field (or "agency") a services column header stands for, or None."""
    h = normalize_header(header)
    return (_SERVICE_LOOKUP.get(h) or _service_rule(h)) if h else None


def report_field_for_header(header: str) -> str | None:
    """The report column ("code", "year" or a ReportRow figure) a header stands for, or None."""
    return _REPORT_LOOKUP.get(normalize_header(header))


def header_score(cells: Sequence[str]) -> int:
    best = 0
    for mapper in (service_field_for_header, report_field_for_header, procedure_field_for_header):
        best = max(best, len({f for f in map(mapper, cells) if f}))
    return best


_PROCEDURE_ALIASES: dict[str, set[str]] = {
    "code": {
        "ma thu tuc", "ma tthc", "ma thu tuc hanh chinh", "ma so thu tuc", "ma so tthc", "ma so", "ma",
        "code", "procedure code",
    },
    "name": {
        "ten thu tuc", "ten thu tuc hanh chinh", "ten tthc", "ten dich vu cong", "ten dich vu", "ten",
        "name", "procedure", "procedure name",
    },
    "field": {"linh vuc", "field"},
    "scope": {"pham vi", "pham vi ap dung", "cap", "cap thuc hien", "cap ap dung", "khoi", "scope"},
    "required_level": {
        "muc do", "muc do yeu cau", "muc do toi thieu", "muc do dvctt", "muc do cung cap", "muc",
        "required level", "level",
    },
    "agency": {
        "co quan", "co quan thuc hien", "co quan chu tri", "co quan chu quan", "bo nganh", "bo", "ma co quan",
        "agency", "agency code", "responsible agency",
    },
}
_PROCEDURE_LOOKUP = _lookup(_PROCEDURE_ALIASES)


def _procedure_rule(h: str) -> str | None:
    if h.startswith("ma ") and any(k in h for k in ("thu tuc", "tthc")):
        return "code"
    if h.startswith("ten ") and any(k in h for k in ("thu tuc", "tthc", "dich vu", "dvc")):
        return "name"
    if h.startswith("linh vuc"):
        return "field"
    if h.startswith(("pham vi", "cap ")):
        return "scope"
    if h.split()[:1] == ["muc"]:
        return "required_level"
    if h.startswith(("co quan", "bo nganh", "ma co quan", "ma don vi")):
        return "agency"
    return None


def procedure_field_for_header(header: str) -> str | None:
    """The ProcedureRow field (code, name, field, scope, required_level, agency) a header stands for."""
    h = normalize_header(header)
    return (_PROCEDURE_LOOKUP.get(h) or _procedure_rule(h)) if h else None
