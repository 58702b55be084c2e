"""Figures in HTML: tables with header grids, definition lists, text blocks, and CSS/regex rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from portal.crawlers.numbers import (
    NumberMatch,
    blank_non_figures,
    find_numbers,
)
from portal.crawlers.stats.base import _EXCLUDED
from portal.crawlers.stats.candidates import _UNIT, _Candidate, _Context, _figure_value, _lone_number
from portal.crawlers.stats.labels import (
    _INDEX_HEADER,
    _LEVEL_FILLER,
    _SERVICES,
    _clean_label,
    _looks_like_date,
    classify,
    find_period,
    level_name,
    total_rank,
)
from portal.crawlers.stats.prose import _prose
from portal.text import fold

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot th thead tr ul "
    "caption".split()
)
_SKIP_TAGS = frozenset("script style noscript template head title svg button select option".split())
_WS = re.compile(r"[ \t\r\n\f\v]+")
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6 caption legend".split())


def _tag(el: Any) -> str | None:
    return el.tag.lower() if isinstance(el.tag, str) else None


class _TooLong(Exception):
    pass


def _text(el: Any, skip: frozenset[str] = _SKIP_TAGS, limit: int | None = None) -> str:
    """Visible text of an element, with a space at element boundaries (cards put label and number side by side).

    With `limit`, "" as soon as the raw text grows past it (a whole page is not a label).
    """
    chunks: list[str] = []
    size = 0

    def walk(node: Any) -> None:
        nonlocal size
        if limit is not None:
            size += len(node.text or "") + len(node.tail or "")
            if size > limit:
                raise _TooLong
        if node.text:
            chunks.append(node.text)
        for child in node:
            tag = _tag(child)
            if tag is not None and tag not in skip:
                chunks.append(" ")
                walk(child)
                chunks.append(" ")
            if child.tail:
                chunks.append(child.tail)

    try:
        walk(el)
    except _TooLong:
        return ""
    return _WS.sub(" ", "".join(chunks)).strip()


def _parse_html(text: str) -> Any | None:
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


def _context_periods(root: Any) -> dict[Any, str]:
    """For each element, the period named by the nearest heading (or short period tab) before it.

    Period markers one after another with no figure between them (a strip of tabs: "Tháng này · Năm nay ·
    Lũy kế") do not say which period the content shows: what follows them gets no period from them.
    """
    current: str | None = None
    found: dict[Any, str] = {}
    content_since_marker = True
    for el in root.iter():
        tag = _tag(el)
        if tag is None or tag in _SKIP_TAGS and tag != "button":
            continue
        label = None
        if tag in _HEADINGS:
            label = _text(el)
        elif len(el) == 0 and el.text and len(el.text.strip()) <= 40 and tag not in ("td", "th", "dd", "dt"):
            label = el.text.strip()
            if find_numbers(blank_non_figures(label)) and not find_period(label):
                label = None
        period = find_period(label) if label else None
        if period and (tag in _HEADINGS or _is_period_only(label or "")) and (
            tag == "caption" or not any(_tag(a) in ("table", "dl") for a in el.iterancestors())
        ):
            current = period if content_since_marker else None
            content_since_marker = False
        elif not content_since_marker and re.search(r"\d", (el.text or "") + (el.tail or "")):
            content_since_marker = True
        if current:
            found[el] = current
    return found


@lru_cache(maxsize=8192)
def _is_period_only(label: str) -> bool:
    rest = re.sub(
        r"(?<![a-z])(?:luy ke|tu dau nam|cong don|trong|thang|nam|quy|tuan|ngay|hom nay|nay|dau|this|month|year"
        r"|quarter|today|week|cumulative|to date|ytd|so lieu|ky|bao cao|[ivx]+|\d+)(?![a-z])",
        " ",
        re.sub(r"[^a-z0-9]+", " ", fold(label)),
    )
    return not rest.strip()


def _rows(table: Any) -> list[Any]:
    return table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")


@dataclass
class _Cell:
    text: str
    header: bool
    number: NumberMatch | None = None


def _grid(table: Any) -> Iterator[tuple[Any, list[_Cell | None]]]:
    """Rows of a table with colspan/rowspan expanded, one at a time; a spanning cell repeats in every slot."""
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
            text = _text(td)
            cell = _Cell(text, _tag(td) == "th", _lone_number(text))
            down = _int_attr(td, "rowspan")
            for _ in range(_int_attr(td, "colspan")):
                row.append(cell)
                if down > 1:
                    next_carry[col] = (cell, down - 1)
                col += 1
        carry = next_carry
        yield tr, row


def _int_attr(el: Any, name: str) -> int:
    try:
        return max(1, min(int(el.get(name, "1")), 50))
    except ValueError:
        return 1


_INDEX_CELL = re.compile(r"^\(\s*[0-9a-zA-Z]{1,3}\s*\)$|^$")
_ROW_INDEX = re.compile(r"^(?:[IVXivx]{1,5}|[a-zđ]|\d{1,3}(?:\.\d{1,2})*)[.)]?$")
_YEAR_CELL = re.compile(r"^(?:19|20)\d{2}$")


def _header_path(header_rows: list[list[_Cell | None]], col: int) -> list[str]:
    """The texts naming a column, top to bottom ("Tiếp nhận", "Trực tuyến"); spans counted once."""
    return _dedupe(
        h[col].text
        for h in header_rows
        if col < len(h) and h[col] is not None and not _INDEX_CELL.match(h[col].text)
    )


def _tables(root: Any, ctx: _Context, periods: dict[Any, str]) -> None:
    for t_index, table in enumerate(root.iter("table"), start=1):
        grid = _grid(table)
        caption = table.find("caption")
        caption_text = _text(caption)[:80] if caption is not None else ""
        group = f"table {t_index}"
        table_period = (find_period(caption_text) if caption_text else None) or periods.get(table)
        header_rows: list[list[_Cell | None]] = []
        columns: list[_Column] = []
        first = len(ctx.candidates)
        data_seen = False
        for tr, row in grid:
            cells = [c for c in row if c is not None]
            if not cells or all(_INDEX_CELL.match(c.text) for c in cells):
                continue
            numbered = [c for c in cells if c.number is not None]
            in_thead = tr.getparent() is not None and _tag(tr.getparent()) == "thead"
            years_only = bool(numbered) and all(_YEAR_CELL.match(c.text) for c in numbered)
            if not data_seen and (in_thead or all(c.header for c in cells) or not numbered or years_only):
                header_rows.append(row)
            elif numbered:
                data_seen = True
                columns.extend(_Column.of(_header_path(header_rows, col)) for col in range(len(columns), len(row)))
                _table_row(row, columns, ctx, group, table_period, t_index, caption_text)
        _drop_beaten_rows(ctx.candidates, first)


def _drop_beaten_rows(candidates: list[_Candidate], first: int) -> None:
    """Forget a table's unit-row candidates of a figure and period that has a total row (keeps memory flat)."""
    totals = {(c.figure, c.period) for c in candidates[first:] if c.row_total is not None}
    if totals:
        candidates[first:] = [
            c for c in candidates[first:] if c.row_total is not None or (c.figure, c.period) not in totals
        ]


@dataclass
class _Column:
    """What a column's header path says: the figure words, a level, a period, whether it is the row index."""

    path: list[str]
    name: str | None
    parts: list[str]
    figure: str | None
    level: str | None
    period: str | None
    index: bool

    @classmethod
    def of(cls, path: list[str]) -> _Column:
        parts = [
            p for p in reversed(path) if total_rank(p, strict=True) is None and not level_name(p)
            and not _is_period_only(p) and not _names_services(p)
        ]
        return cls(
            path, " › ".join(path)[:160] or None, parts, classify(parts) if parts else None,
            next((name for p in path if (name := level_name(p))), None),
            next((period for p in path if (period := find_period(p))), None),
            _index_column(path),
        )


def _table_row(
    row: list[_Cell | None],
    columns: list[_Column],
    ctx: _Context,
    group: str,
    table_period: str | None,
    t_index: int,
    caption: str,
) -> None:
    labels = _dedupe(
        c.text
        for col, c in enumerate(row)
        if c is not None and c.number is None and c.text and not _ROW_INDEX.match(c.text)
        and not (col < len(columns) and columns[col].index)
    )
    row_name = " · ".join(labels)[:120]
    ranks = [r for r in (total_rank(t) for t in labels) if r is not None]
    row_total = max(ranks) if ranks else None
    row_level = next((name for t in labels if (name := level_name(t))), None)
    row_period = next((p for t in labels if (p := find_period(t))), None)
    row_parts = [t for t in reversed(labels) if total_rank(t) is None and not level_name(t) and not _is_period_only(t)]
    row_fig = classify(row_parts) if row_parts else None
    for col, cell in enumerate(row):
        if cell is None or cell.number is None or (col > 0 and row[col - 1] is cell):
            continue
        column_info = columns[col] if col < len(columns) else _Column.of([])
        if column_info.index:
            continue
        col_parts, col_fig = column_info.parts, column_info.figure
        col_level, col_period = column_info.level, column_info.period
        if row_total is not None or row_level is not None or row_fig is None:
            figure = col_fig
            if figure is None and row_total is not None and not row_level:
                figure = classify(labels[::-1])
        elif col_fig is None:
            figure = row_fig
        else:
            figure = classify([*row_parts, *col_parts])
        evidence = {"kind": "table", "table": t_index, "caption": caption or None, "row": row_name,
                    "column": column_info.name}
        ctx.offer([*row_parts, *col_parts], cell.number, evidence, figure=figure or _EXCLUDED, group=group,
                  row_total=row_total, level=row_level or col_level,
                  period=col_period or row_period or table_period)


def _names_services(label: str) -> bool:
    """A header naming the services ("Dịch vụ công trực tuyến") above level columns, not a figure."""
    words = _clean_label(label).split()
    return bool(_SERVICES.search(" ".join(words))) and all(w in _LEVEL_FILLER for w in words) and "ho" not in words


def _index_column(path: list[str]) -> bool:
    return bool(path) and bool(_INDEX_HEADER.match(_clean_label(path[-1])))


def _dedupe(texts: Iterator[str] | Any) -> list[str]:
    out: list[str] = []
    for text in texts:
        if text and (not out or out[-1] != text):
            out.append(text)
    return out


def _definition_lists(root: Any, ctx: _Context, periods: dict[Any, str]) -> None:
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
                evidence = {"kind": "list", "where": f"list {d_index}, '{label[:60]}'", "list": d_index,
                            "label": label[:120]}
                ctx.offer([label], match, evidence, period=find_period(label) or periods.get(dl))


def _nearest(el: Any, tag: str) -> Any | None:
    parent = el.getparent()
    while parent is not None and _tag(parent) != tag:
        parent = parent.getparent()
    return parent




def _text_blocks(root: Any, ctx: _Context, periods: dict[Any, str]) -> None:
    """Labelled numbers outside tables and lists: small label+number boxes and sentences of prose."""
    skip = _SKIP_TAGS | {"table", "dl"}
    body = root.find("body")
    if body is None:
        body = root
    shadowed: set[Any] = set()
    found: list[tuple[Any, NumberMatch, str]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(body, ())]
    while stack:
        el, ancestors = stack.pop()
        tag = _tag(el)
        if tag is None or tag in skip:
            continue
        text = _text(el, skip, limit=6000)
        if len(text) > 3000:
            text = ""
        matches = find_numbers(blank_non_figures(text)) if text else []
        descend = True
        if len(matches) == 1 and len(text) <= 160:
            match = matches[0]
            before, after = text[: match.start].strip(), text[match.end :].strip()
            label = _box_label(before, after)
            if label is not None and not _looks_like_date(text, match):
                found.append((el, match, label))
                shadowed.update(ancestors)
                matches = []
        if matches:
            words = re.findall(r"[^\W\d_]{2,}", text)
            if (len(matches) > 1 or len(words) >= 3) and not any(_tag(c) in _BLOCK_TAGS for c in el):
                shadowed.update(ancestors)
                _prose(text, ctx, periods.get(el))
                descend = False
        if descend:
            inner = (*ancestors, el)
            stack.extend((child, inner) for child in reversed(el))
    for el, match, label in found:
        if el not in shadowed:
            evidence = {"kind": "text", "where": f"text '{label[:60]}'", "label": label[:120]}
            ctx.offer([label], match, evidence, period=find_period(label) or periods.get(el))


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



def _css(root: Any, figures: dict[str, str], ctx: _Context, found: dict[str, Any]) -> dict[str, int | float | None]:
    result: dict[str, int | float | None] = {}
    for name, selector in figures.items():
        values: list[int | float] = []
        elements = CSSSelector(selector)(root)
        if not elements:
            ctx.warnings.append(f"{name}: selector {selector!r} matched nothing")
        texts = []
        for el in elements:
            text = _text(el)
            value = _explicit_value(name, text, ctx, found)
            if value is not None:
                values.append(value)
                texts.append(text)
        result[name] = _agree(name, values, ctx.warnings)
        if result[name] is not None:
            found[name] = {"kind": "css", "where": f"CSS selector {selector}", "selector": selector,
                           "text": texts[0][:120]}
    return result


def _regex(
    text: str, figures: dict[str, str], ctx: _Context, found: dict[str, Any]
) -> dict[str, int | float | None]:
    result: dict[str, int | float | None] = {}
    for name, pattern in figures.items():
        groups = [m.group(1) for m in re.finditer(pattern, text) if m.group(1) is not None]
        if not groups:
            ctx.warnings.append(f"{name}: regular expression matched nothing")
        values = [v for g in groups if (v := _explicit_value(name, g, ctx, found)) is not None]
        result[name] = _agree(name, values, ctx.warnings)
        if result[name] is not None:
            found[name] = {"kind": "regex", "where": f"regular expression {pattern}", "pattern": pattern,
                           "text": groups[0][:120]}
    return result


def _explicit_value(name: str, text: str, ctx: _Context, found: dict[str, Any]) -> int | float | None:
    plain = re.sub(r"<[^>]*>", " ", text)
    matches = find_numbers(plain)
    if len(matches) != 1:
        ctx.warnings.append(f"{name}: expected one number in {plain.strip()[:60]!r}, found {len(matches)}")
        return None
    found.setdefault("_tokens", []).append((name, matches[0]))
    return _figure_value(name, matches[0], ctx.convention, [], name, ctx.warnings)


def _agree(name: str, values: list[int | float], warnings: list[str]) -> int | float | None:
    distinct = set(values)
    if len(distinct) > 1:
        warnings.append(f"{name}: matches disagree, left empty: {', '.join(map(str, sorted(distinct)))}")
        return None
    return values[0] if values else None
