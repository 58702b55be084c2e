"""Application figures from an agency's statistics page: HTML tables, lists, text or JSON.

A pure reader, no I/O: `extract(body, content_type, rule, period)` returns the five figures with their evidence.
The parts: `base` (figures, rules, the result), `decoding` (bytes to text), `labels` (what a label names, periods,
levels, total rows), `candidates` (candidate figures and the decision between them), `html` (tables with header
grids, lists, text blocks, CSS and regex rules), `prose` (sentences) and `jsonpages` (JSON endpoints).
"""

from __future__ import annotations

from typing import Any

from portal.crawlers.numbers import NumberMatch, convention_of_counts, detect_convention
from portal.crawlers.pagetext import language_hint
from portal.crawlers.stats.base import COUNT_FIGURES, EXTRACTORS, FIGURES, Extraction, InvalidRule, validate_rule
from portal.crawlers.stats.candidates import _Context, _decide
from portal.crawlers.stats.decoding import decode
from portal.crawlers.stats.html import (
    _context_periods,
    _css,
    _definition_lists,
    _parse_html,
    _regex,
    _tables,
    _text,
    _text_blocks,
)
from portal.crawlers.stats.jsonpages import _json_auto, _json_explicit, _json_strings, _load_json
from portal.crawlers.stats.labels import classify, find_period, level_name, period_matches, total_rank

__all__ = [
    "COUNT_FIGURES", "EXTRACTORS", "FIGURES", "Extraction", "InvalidRule", "classify", "decode", "extract",
    "find_period", "level_name", "period_matches", "total_rank", "validate_rule",
]


def _number_format(
    convention: str | None, warnings: list[str], tokens: list[tuple[str, NumberMatch]]
) -> tuple[str | None, list[str]]:
    """The page's convention, else the one the figures' own count tokens prove (23.871 read as a count)."""
    if convention is not None or any(w.startswith("mixed number conventions") for w in warnings):
        return convention, warnings
    inferred = convention_of_counts(m for name, m in tokens if name in COUNT_FIGURES)
    if inferred is None:
        return None, warnings
    return inferred, [w for w in warnings if not w.startswith("number convention not evident")]


def extract(
    body: bytes | str,
    content_type: str | None = None,
    rule: dict[str, Any] | None = None,
    period: str | None = None,
) -> Extraction:
    """Figures from a fetched page, with where each came from; raises InvalidRule for a rule validate_rule rejects.

    `period` names the period to read on a page showing several ("Lũy kế", "Tháng 10", "Năm 2024").
    """
    errors = validate_rule(rule)
    if errors:
        raise InvalidRule("; ".join(errors))
    extractor = (rule or {}).get("extractor", "auto")
    figures_rule: dict[str, str] = (rule or {}).get("figures") or {}
    period = (period or "").strip() or None
    text, warnings = decode(body, content_type)

    looks_json = "json" in (content_type or "").lower() or text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")
    data = _load_json(text) if extractor == "json" or (extractor == "auto" and looks_json) else None

    figures: dict[str, int | float | None] = dict.fromkeys(FIGURES)
    found: dict[str, Any] = {}
    if extractor == "json" or (extractor == "auto" and data is not None):
        if data is None:
            warnings.append("body is not valid JSON")
            return Extraction(figures, None, extractor, warnings)
        convention, conv_warnings = detect_convention(_json_strings(data))
        ctx = _Context(convention, [*warnings, *conv_warnings])
        if extractor == "json":
            figures.update(_json_explicit(data, figures_rule, ctx, found))
        else:
            _json_auto(data, ctx)
            decided, found, chosen = _decide(ctx.candidates, ctx.warnings, period)
            figures.update(decided)
            found["_tokens"] = [(c.figure, c.token) for c in chosen if c.token is not None and c.token.vi != c.token.en]
        number_format, ctx.warnings = _number_format(convention, ctx.warnings, found.pop("_tokens", []))
        return Extraction(figures, number_format, extractor, ctx.warnings, _evidence(found))

    root = _parse_html(text)
    if root is None:
        warnings.append("empty or unparsable page")
        return Extraction(figures, None, extractor, warnings)
    page_text = _text(root)
    hint = language_hint(text, page_text)
    convention, conv_warnings = detect_convention([page_text], hint if hint in ("vi", "en") else None)
    ctx = _Context(convention, [*warnings, *conv_warnings])
    if extractor == "css":
        figures.update(_css(root, figures_rule, ctx, found))
    elif extractor == "regex":
        figures.update(_regex(text, figures_rule, ctx, found))
    else:
        periods = _context_periods(root)
        _tables(root, ctx, periods)
        _definition_lists(root, ctx, periods)
        _text_blocks(root, ctx, periods)
        decided, found, chosen = _decide(ctx.candidates, ctx.warnings, period)
        figures.update(decided)
        found["_tokens"] = [(c.figure, c.token) for c in chosen if c.token is not None]
    number_format, ctx.warnings = _number_format(convention, ctx.warnings, found.pop("_tokens", []))
    return Extraction(figures, number_format, extractor, ctx.warnings, _evidence(found))


def _evidence(found: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    return {name: found.get(name) for name in FIGURES}
