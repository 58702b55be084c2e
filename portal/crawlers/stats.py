"""Application figures from an agency's statistics page: HTML tables, lists, text or JSON."""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import charset_normalizer
import lxml.html
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from portal.crawlers.numbers import NumberMatch, detect_convention, find_numbers
from portal.text import fold

FIGURES = ("received_total", "received_online", "resolved", "resolved_on_time", "online_rate")
COUNT_FIGURES = frozenset(FIGURES[:4])
EXTRACTORS = ("auto", "css", "regex", "json")

_EARLY = "resolved_early"
_EXCLUDED = "excluded"


class InvalidRule(ValueError):
    """A stat-source rule that validate_rule rejects."""


@dataclass
class Extraction:
    """Figures found on one page, the number convention seen, and what went wrong."""

    figures: dict[str, int | float | None]
    number_format: str | None
    extractor: str
    warnings: list[str] = field(default_factory=list)

    def to_dict(self, url: str) -> dict[str, Any]:
        """The `portal stats probe --json` object for this page."""
        return {
            "url": url,
            "figures": {name: self.figures.get(name) for name in FIGURES},
            "number_format": self.number_format,
            "extractor": self.extractor,
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------- rules


def validate_rule(rule: Any) -> list[str]:
    """Errors in a stat-source rule (empty when it is usable)."""
    if rule is None:
        return []
    if not isinstance(rule, dict):
        return ["rule must be a JSON object"]
    errors = [f"unknown key {key!r}" for key in rule if key not in ("extractor", "figures")]
    extractor = rule.get("extractor", "auto")
    if extractor not in EXTRACTORS:
        return [*errors, f"extractor must be one of {', '.join(EXTRACTORS)}"]
    figures = rule.get("figures") or {}
    if not isinstance(figures, dict):
        return [*errors, "figures must be an object"]
    if extractor == "auto":
        if figures:
            errors.append("the auto extractor takes no figures")
        return errors
    if not figures:
        errors.append(f"the {extractor} extractor needs at least one figure")
    for name, spec in figures.items():
        if name not in FIGURES:
            errors.append(f"unknown figure {name!r}; expected one of {', '.join(FIGURES)}")
            continue
        if not isinstance(spec, str) or not spec.strip():
            errors.append(f"{name}: must be a non-empty string")
            continue
        if extractor == "css":
            try:
                CSSSelector(spec)
            except (SelectorError, etree.XPathError) as exc:
                errors.append(f"{name}: invalid CSS selector: {exc}")
        elif extractor == "regex":
            try:
                groups = re.compile(spec).groups
            except re.error as exc:
                errors.append(f"{name}: invalid regular expression: {exc}")
                continue
            if groups != 1:
                errors.append(f"{name}: the regular expression must have exactly one group, not {groups}")
        elif any(not part for part in spec.split(".")):
            errors.append(f"{name}: invalid JSON path {spec!r}")
    return errors


# ---------------------------------------------------------------- decoding

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(body: bytes | str, content_type: str | None = None) -> tuple[str, list[str]]:
    """Body as NFC text: declared charset, then <meta>, then charset-normalizer; with warnings."""
    if isinstance(body, str):
        return unicodedata.normalize("NFC", body), []
    warnings: list[str] = []
    header = _HEADER_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(body[:8192])
    declared = [
        ("Content-Type", header.group(1) if header else None),
        ("<meta>", meta.group(1).decode("ascii", "replace") if meta else None),
    ]
    for where, name in declared:
        codec = _codec(name)
        if name and codec is None:
            warnings.append(f"unknown charset {name!r} declared in {where}")
        if codec is None:
            continue
        if codec != "utf-8" and not body.isascii():
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                warnings.append(f"{where} declares {name} but the body is UTF-8")
                return unicodedata.normalize("NFC", text), warnings
        try:
            return unicodedata.normalize("NFC", body.decode(codec)), warnings
        except UnicodeDecodeError:
            warnings.append(f"body is not valid {name} as declared in {where}")
    try:
        return unicodedata.normalize("NFC", body.decode("utf-8")), warnings
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body).best()
    if best is not None:
        warnings.append(f"charset guessed as {best.encoding}")
        return unicodedata.normalize("NFC", str(best)), warnings
    warnings.append("body could not be decoded; undecodable bytes replaced")
    return unicodedata.normalize("NFC", body.decode("utf-8", "replace")), warnings


# ---------------------------------------------------------------- labels


def _any(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])")


_RATE = _any(r"ty le|rate|percent|percentage|phan tram|share")
_ONLINE = _any(r"truc tuyen|qua mang|moi truong mang|online")
_IN_PERSON = _any(r"truc tiep|buu chinh|bcci|mot cua|in person|by post|postal|offline|paper")
_LATE = _any(r"tre han|qua han|cham|late|overdue|delayed")
_NOT_DONE = _any(
    r"dang giai quyet|dang xu ly|chua giai quyet|chua xu ly|chua den han|ky truoc|chuyen sang|ton(?! giao)"
    r"|tra lai|rut|huy|bo sung|tu choi|pending|in progress|backlog|carried over|returned|withdrawn|rejected"
)
_NOT_APPLICATIONS = _any(
    r"thoi gian|trung binh|so ngay|so gio|hotline|dien thoai|fax|dia chi|email|phien ban|truy cap|luot"
    r"|nguoi dung|tai khoan|thanh vien|dang truc tuyen|dang online|average|days|hours|duration"
    r"|visits?|visitors|users|accounts|version"
)
_SERVICES = _any(r"dich vu|thu tuc|tthc|dvc|dvctt|services?|procedures?")
_APPLICATIONS = _any(r"ho so|hs|applications?|dossiers?|files?|cases?|requests?")
_ON_TIME = _any(r"dung han|trong han|dung hen|on time|on-time|ontime|within deadline")
_EARLY_WORDS = _any(r"truoc han|som han|early|ahead of time|before deadline")
_RESOLVED = _any(r"giai quyet|xu ly|tra ket qua|resolved|processed|settled|completed|handled|decided")
_RECEIVED = _any(r"tiep nhan|nhan giai quyet|nhan ho so|da nhan|received|submitted|applications received")
_RECEIVED_WEAK = _any(r"tong so ho so|tong ho so|total applications|applications")
_TOTAL_ROW = re.compile(r"^(?:tong cong|tong so|tong|cong|toan tinh|toan bo|total|all|sum)(?![a-z0-9])")


def _clean_label(label: str) -> str:
    folded = fold(label)
    without_notes = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", folded)
    if re.search(r"[a-z]", without_notes):
        folded = without_notes
    return re.sub(r"[^a-z0-9%-]+", " ", folded).strip()


def classify(parts: Sequence[str]) -> str | None:
    """Figure named by label parts (most specific first); _EXCLUDED for known non-figures, None if unknown."""
    cleaned = [_clean_label(p) for p in parts if p and p.strip()]
    cleaned = [p for p in cleaned if p]
    if not cleaned:
        return None
    joined = " ".join(cleaned)
    percent = "%" in joined or any("%" in p for p in parts)

    base = None
    for part in cleaned:
        has_received = bool(_RECEIVED.search(part))
        has_resolved = bool(_RESOLVED.search(part)) and not re.search(r"nhan giai quyet", part)
        if has_received and has_resolved:
            return _EXCLUDED
        if has_received or has_resolved:
            base = "received" if has_received else "resolved"
            break
    if base is None and _RECEIVED_WEAK.search(joined):
        base = "received_weak"

    online = bool(_ONLINE.search(joined))
    if _NOT_APPLICATIONS.search(joined):
        return _EXCLUDED
    if _SERVICES.search(joined) and base is None and not _APPLICATIONS.search(joined):
        return _EXCLUDED
    if _RATE.search(joined) or percent:
        if online and not (_LATE.search(joined) or _NOT_DONE.search(joined) or _ON_TIME.search(joined)):
            if not _IN_PERSON.search(joined) and not _EARLY_WORDS.search(joined):
                return "online_rate"
        return _EXCLUDED
    if _LATE.search(joined) or _NOT_DONE.search(joined):
        return _EXCLUDED
    if _ON_TIME.search(joined):
        return "resolved_on_time"
    if _EARLY_WORDS.search(joined):
        return _EARLY
    if online:
        if _IN_PERSON.search(joined) or base == "resolved":
            return _EXCLUDED
        return "received_online"
    if _IN_PERSON.search(joined):
        return _EXCLUDED
    if base == "resolved":
        return "resolved"
    if base in ("received", "received_weak"):
        return "received_total"
    return None


# ---------------------------------------------------------------- candidates


@dataclass
class _Candidate:
    figure: str
    value: int | float
    where: str
    group: str | None = None
    total_row: bool = False


@dataclass
class _Context:
    convention: str | None
    warnings: list[str]
    candidates: list[_Candidate] = field(default_factory=list)

    def offer(
        self,
        parts: Sequence[str],
        match: NumberMatch,
        where: str,
        *,
        group: str | None = None,
        total_row: bool = False,
    ) -> None:
        figure = classify(parts)
        if figure is None or figure == _EXCLUDED:
            return
        value = _figure_value(figure, match, self.convention, parts, where, self.warnings)
        if value is not None:
            self.candidates.append(_Candidate(figure, value, where, group, total_row))


def _figure_value(
    figure: str,
    match: NumberMatch,
    convention: str | None,
    parts: Sequence[str],
    where: str,
    warnings: list[str],
) -> int | float | None:
    if figure == "online_rate":
        value = match.value(convention)
        if value is None:
            warnings.append(f"online_rate: ambiguous number {match.core!r} at {where}")
            return None
        if match.percent or any("%" in p for p in parts) or value > 1:
            return value
        warnings.append(f"online_rate: {match.text!r} at {where} has no % sign and may be a fraction")
        return None
    if match.percent:
        return None
    value = match.value(convention, integer=True)
    if value is None:
        warnings.append(f"{figure}: {match.text!r} at {where} is not a whole number")
    return value


_UNIT = re.compile(r"^(?:(?:bo|so|tong)\s+)?(?:ho so|hs|applications?|dossiers?|cases?|files?)$")


def _lone_number(text: str) -> NumberMatch | None:
    """The number in a cell-like text holding one number and at most a unit word."""
    matches = find_numbers(text)
    if len(matches) != 1:
        return None
    normalized = unicodedata.normalize("NFC", text)
    rest = normalized[: matches[0].start] + normalized[matches[0].end :]
    rest = re.sub(r"[^a-z0-9%]+", " ", fold(rest)).strip()
    return matches[0] if not rest or _UNIT.match(rest) else None


def _decide(candidates: list[_Candidate], warnings: list[str]) -> dict[str, int | float | None]:
    by_figure: dict[str, list[_Candidate]] = {}
    for cand in candidates:
        by_figure.setdefault(cand.figure, []).append(cand)
    decided: dict[str, int | float | None] = {}
    for figure in (*FIGURES, _EARLY):
        cands = _prefer_total_rows(by_figure.get(figure, []))
        values = {c.value for c in cands}
        if len(values) == 1:
            decided[figure] = cands[0].value
        else:
            decided[figure] = None
            if len(values) > 1:
                shown = "; ".join(f"{c.value} ({c.where})" for c in cands[:6])
                warnings.append(f"{figure}: candidates disagree, left empty: {shown}")
    early = decided.pop(_EARLY)
    on_time = decided["resolved_on_time"]
    if early is not None and on_time is not None:
        decided["resolved_on_time"] = on_time + early
        warnings.append("resolved_on_time is the sum of the 'đúng hạn' and 'trước hạn' figures")
    elif early is not None and not by_figure.get("resolved_on_time"):
        decided["resolved_on_time"] = early
    return decided


def _prefer_total_rows(cands: list[_Candidate]) -> list[_Candidate]:
    """Within one table, a figure found on several rows is taken from the total row(s) only."""
    groups: dict[str | None, list[_Candidate]] = {}
    for cand in cands:
        groups.setdefault(cand.group, []).append(cand)
    kept: list[_Candidate] = []
    for group, members in groups.items():
        totals = [c for c in members if c.total_row]
        kept.extend(totals if group is not None and len(members) > 1 and totals else members)
    return kept


# ---------------------------------------------------------------- HTML

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot th thead tr ul "
    "caption".split()
)
_SKIP_TAGS = frozenset("script style noscript template head title svg button select option".split())
_WS = re.compile(r"[ \t\r\n\f\v]+")


def _tag(el: Any) -> str | None:
    return el.tag.lower() if isinstance(el.tag, str) else None


def _text(el: Any, skip: frozenset[str] = _SKIP_TAGS) -> str:
    """Visible text of an element, with a space at block boundaries."""
    chunks: list[str] = []

    def walk(node: Any) -> None:
        if node.text:
            chunks.append(node.text)
        for child in node:
            tag = _tag(child)
            if tag is not None and tag not in skip:
                block = tag in _BLOCK_TAGS
                if block:
                    chunks.append(" ")
                walk(child)
                if block:
                    chunks.append(" ")
            if child.tail:
                chunks.append(child.tail)

    walk(el)
    return _WS.sub(" ", "".join(chunks)).strip()


def _parse_html(text: str) -> Any | None:
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


def _rows(table: Any) -> list[Any]:
    return table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")


@dataclass
class _Cell:
    text: str
    header: bool


def _grid(table: Any) -> list[tuple[Any, list[_Cell | None]]]:
    """Rows of a table with colspan/rowspan expanded; a spanning cell repeats in every slot."""
    grid: list[tuple[Any, list[_Cell | None]]] = []
    carry: dict[int, tuple[_Cell, int]] = {}
    for tr in _rows(table):
        tds = [td for td in tr if _tag(td) in ("td", "th")]
        row: list[_Cell | None] = []
        next_carry: dict[int, tuple[_Cell, int]] = {}
        col = index = 0
        while index < len(tds) or any(c >= col for c in carry):
            if col in carry:
                cell, left = carry[col]
                row.append(cell)
                if left > 1:
                    next_carry[col] = (cell, left - 1)
                col += 1
                continue
            if index >= len(tds):
                row.append(None)
                col += 1
                continue
            td = tds[index]
            index += 1
            cell = _Cell(_text(td), _tag(td) == "th")
            down = _int_attr(td, "rowspan")
            for _ in range(_int_attr(td, "colspan")):
                row.append(cell)
                if down > 1:
                    next_carry[col] = (cell, down - 1)
                col += 1
        carry = next_carry
        grid.append((tr, row))
    return grid


def _int_attr(el: Any, name: str) -> int:
    try:
        return max(1, min(int(el.get(name, "1")), 50))
    except ValueError:
        return 1


_INDEX_CELL = re.compile(r"^\(\s*[0-9a-zA-Z]{1,3}\s*\)$|^$")


def _tables(root: Any, ctx: _Context) -> None:
    for t_index, table in enumerate(root.iter("table"), start=1):
        grid = _grid(table)
        header_rows: list[list[_Cell | None]] = []
        data_seen = False
        caption = table.find("caption")
        where_table = f"table {t_index}" + (f" '{_text(caption)[:40]}'" if caption is not None else "")
        for tr, row in grid:
            cells = [c for c in row if c is not None]
            if not cells:
                continue
            numbers = [_lone_number(c.text) for c in row]
            in_thead = tr.getparent() is not None and _tag(tr.getparent()) == "thead"
            if all(_INDEX_CELL.match(c.text) for c in cells):
                continue
            if not data_seen and (in_thead or all(c.header for c in cells) or not any(numbers)):
                header_rows.append(row)
                continue
            if not any(numbers):
                continue
            data_seen = True
            label_cells = [c.text for c, n in zip(row, numbers, strict=True) if c is not None and n is None]
            row_name = label_cells[0] if label_cells else ""
            total_row = bool(_TOTAL_ROW.match(_clean_label(row_name)))
            for col, (cell, match) in enumerate(zip(row, numbers, strict=True)):
                if cell is None or match is None or (col > 0 and row[col - 1] is cell):
                    continue
                row_parts = _dedupe(
                    c.text
                    for c, n in zip(reversed(row[:col]), reversed(numbers[:col]), strict=True)
                    if c is not None and n is None
                )
                col_parts = _dedupe(
                    h[col].text for h in reversed(header_rows) if col < len(h) and h[col] is not None
                )
                where = f"{where_table} row '{row_name[:40]}'"
                ctx.offer([*row_parts, *col_parts], match, where, group=where_table, total_row=total_row)


def _dedupe(texts: Iterator[str] | Any) -> list[str]:
    out: list[str] = []
    for text in texts:
        if text and (not out or out[-1] != text):
            out.append(text)
    return out


def _definition_lists(root: Any, ctx: _Context) -> None:
    for d_index, dl in enumerate(root.iter("dl"), start=1):
        label = ""
        for el in dl.iter("dt", "dd"):
            if _nearest(el, "dl") is not dl:
                continue
            if _tag(el) == "dt":
                label = _text(el)
                continue
            match = _lone_number(_text(el))
            if match is not None and label:
                ctx.offer([label], match, f"list {d_index} '{label[:40]}'")


def _nearest(el: Any, tag: str) -> Any | None:
    parent = el.getparent()
    while parent is not None and _tag(parent) != tag:
        parent = parent.getparent()
    return parent


_DATE_BEFORE = re.compile(
    r"(?<![a-z])(?:ngay|thang|nam|quy|ky|tuan|luc|gio|phien ban|version|year|month)\s*$"
)
_TIME_AROUND = re.compile(r"\d\s*[:h/]\s*$")
_TIME_AFTER = re.compile(r"^\s*(?:[:/.-]\s*\d|h\d|(?:gio|phut|ngay|thang|nam)(?![a-z]))")


def _text_blocks(root: Any, ctx: _Context) -> None:
    """Labelled numbers outside tables and lists: 'label: number' and small label+number boxes."""
    skip = _SKIP_TAGS | {"table", "dl"}
    body = root.find("body")
    if body is None:
        body = root
    shadowed: set[Any] = set()
    found: list[tuple[Any, NumberMatch, str, str]] = []
    for el in body.iter():
        tag = _tag(el)
        if tag is None or tag in skip or any(_tag(a) in skip for a in el.iterancestors()):
            continue
        text = _text(el, skip)
        if not text or len(text) > 600:
            continue
        matches = find_numbers(text)
        if len(matches) == 1 and len(text) <= 160:
            match = matches[0]
            before, after = text[: match.start].strip(), text[match.end :].strip()
            label = _box_label(before, after)
            if label is not None and not _looks_like_date(text, match):
                found.append((el, match, label, f"text '{label[:40]}'"))
                shadowed.update(el.iterancestors())
        elif len(matches) > 1 and not any(_tag(c) in _BLOCK_TAGS for c in el):
            _colon_pairs(text, matches, ctx)
    for el, match, label, where in found:
        if el not in shadowed:
            ctx.offer([label], match, where)


def _box_label(before: str, after: str) -> str | None:
    """Label of a one-number box when the number sits at one end (units aside)."""
    before_f = re.sub(r"[^a-z0-9%]+", " ", fold(before)).strip()
    after_f = re.sub(r"[^a-z0-9%]+", " ", fold(after)).strip()
    if before_f and (not after_f or _UNIT.match(after_f)):
        label = before.rstrip(" :-–")
    elif after_f and not before_f:
        label = after
    else:
        return None
    return label if 0 < len(label) <= 100 else None


def _looks_like_date(text: str, match: NumberMatch) -> bool:
    before = fold(text[: match.start])
    before_words = re.sub(r"[^a-z0-9:/]+", " ", before).rstrip()
    return bool(
        _DATE_BEFORE.search(before_words)
        or _TIME_AROUND.search(text[: match.start])
        or _TIME_AFTER.match(fold(text[match.end :]))
    )


def _colon_pairs(text: str, matches: list[NumberMatch], ctx: _Context) -> None:
    previous_end = 0
    for match in matches:
        segment = text[previous_end : match.start]
        previous_end = match.end
        if not re.search(r"[:：]\s*$", segment):
            continue
        label = re.split(r"[;|•\n]", segment.rstrip().rstrip(":："))[-1].strip(" ,.-–")
        if 0 < len(label) <= 80 and not _looks_like_date(text, match):
            ctx.offer([label], match, f"text '{label[:40]}'")


def _css(root: Any, figures: dict[str, str], ctx: _Context) -> dict[str, int | float | None]:
    result: dict[str, int | float | None] = {}
    for name, selector in figures.items():
        values: list[int | float] = []
        elements = CSSSelector(selector)(root)
        if not elements:
            ctx.warnings.append(f"{name}: selector {selector!r} matched nothing")
        for el in elements:
            value = _explicit_value(name, _text(el), ctx)
            if value is not None:
                values.append(value)
        result[name] = _agree(name, values, ctx.warnings)
    return result


def _regex(text: str, figures: dict[str, str], ctx: _Context) -> dict[str, int | float | None]:
    result: dict[str, int | float | None] = {}
    for name, pattern in figures.items():
        groups = [m.group(1) for m in re.finditer(pattern, text) if m.group(1) is not None]
        if not groups:
            ctx.warnings.append(f"{name}: regular expression matched nothing")
        values = [v for g in groups if (v := _explicit_value(name, g, ctx)) is not None]
        result[name] = _agree(name, values, ctx.warnings)
    return result


def _explicit_value(name: str, text: str, ctx: _Context) -> int | float | None:
    plain = re.sub(r"<[^>]*>", " ", text)
    matches = find_numbers(plain)
    if len(matches) != 1:
        ctx.warnings.append(f"{name}: expected one number in {plain.strip()[:60]!r}, found {len(matches)}")
        return None
    return _figure_value(name, matches[0], ctx.convention, [], name, ctx.warnings)


def _agree(name: str, values: list[int | float], warnings: list[str]) -> int | float | None:
    distinct = set(values)
    if len(distinct) > 1:
        warnings.append(f"{name}: matches disagree, left empty: {', '.join(map(str, sorted(distinct)))}")
        return None
    return values[0] if values else None


# ---------------------------------------------------------------- JSON


def _json_leaves(obj: Any, keys: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _json_leaves(value, (*keys, str(key)))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _json_leaves(value, (*keys, f"[{index}]"))
    else:
        yield keys, obj


def _json_match(value: Any) -> NumberMatch | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        text = repr(value) if isinstance(value, float) else str(value)
        if "e" in text.lower():
            text = format(value, "f")
        matches = find_numbers(text)
        if len(matches) == 1:
            m = matches[0]
            return NumberMatch(m.text, m.start, m.end, m.core, m.en, m.en, m.multiplier, False, m.negative)
        return None
    if isinstance(value, str):
        return _lone_number(value)
    return None


def _json_key_words(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ")


def _json_auto(data: Any, ctx: _Context) -> None:
    for keys, value in _json_leaves(data):
        match = _json_match(value)
        if match is None:
            continue
        names = [k for k in keys if not k.startswith("[")]
        parts = [_json_key_words(k) for k in reversed(names)]
        path = ".".join(k.strip("[]") for k in keys)
        group = ".".join(k for k in keys[:-1] if not k.startswith("[")) or None
        ctx.offer(parts, match, f"json '{path}'", group=group)


def _json_path(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and re.fullmatch(r"-?\d+", part) and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(part)
    return node


def _json_explicit(data: Any, figures: dict[str, str], ctx: _Context) -> dict[str, int | float | None]:
    result: dict[str, int | float | None] = {}
    for name, path in figures.items():
        try:
            value = _json_path(data, path)
        except KeyError as exc:
            ctx.warnings.append(f"{name}: JSON path {path!r} not found at {exc.args[0]!r}")
            result[name] = None
            continue
        match = _json_match(value)
        if match is None:
            ctx.warnings.append(f"{name}: JSON value at {path!r} is not a number")
            result[name] = None
            continue
        result[name] = _figure_value(name, match, ctx.convention, [], path, ctx.warnings)
    return result


def _json_strings(data: Any) -> list[str]:
    return [v for _, v in _json_leaves(data) if isinstance(v, str)]


def _load_json(text: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return None


# ---------------------------------------------------------------- entry point


def extract(
    body: bytes | str, content_type: str | None = None, rule: dict[str, Any] | None = None
) -> Extraction:
    """Figures from a fetched page; raises InvalidRule for a rule that validate_rule rejects."""
    errors = validate_rule(rule)
    if errors:
        raise InvalidRule("; ".join(errors))
    extractor = (rule or {}).get("extractor", "auto")
    figures_rule: dict[str, str] = (rule or {}).get("figures") or {}
    text, warnings = decode(body, content_type)

    looks_json = "json" in (content_type or "").lower() or text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")
    data = _load_json(text) if extractor == "json" or (extractor == "auto" and looks_json) else None

    figures: dict[str, int | float | None] = dict.fromkeys(FIGURES)
    if extractor == "json" or (extractor == "auto" and data is not None):
        if data is None:
            warnings.append("body is not valid JSON")
            return Extraction(figures, None, extractor, warnings)
        convention, conv_warnings = detect_convention(_json_strings(data))
        ctx = _Context(convention, [*warnings, *conv_warnings])
        if extractor == "json":
            figures.update(_json_explicit(data, figures_rule, ctx))
        else:
            _json_auto(data, ctx)
            figures.update(_decide(ctx.candidates, ctx.warnings))
        return Extraction(figures, convention, extractor, ctx.warnings)

    root = _parse_html(text)
    if root is None:
        warnings.append("empty or unparsable page")
        return Extraction(figures, None, extractor, warnings)
    page_text = _text(root)
    convention, conv_warnings = detect_convention([page_text])
    ctx = _Context(convention, [*warnings, *conv_warnings])
    if extractor == "css":
        figures.update(_css(root, figures_rule, ctx))
    elif extractor == "regex":
        figures.update(_regex(text, figures_rule, ctx))
    else:
        _tables(root, ctx)
        _definition_lists(root, ctx)
        _text_blocks(root, ctx)
        figures.update(_decide(ctx.candidates, ctx.warnings))
    return Extraction(figures, convention, extractor, ctx.warnings)
