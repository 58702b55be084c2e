"""Candidate figures with their evidence, and the rules that decide between them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.crawlers.numbers import (
    NumberMatch,
    blank_non_figures,
    find_numbers,
)
from portal.crawlers.stats.base import _EARLY, _EXCLUDED, COUNT_FIGURES, FIGURES
from portal.crawlers.stats.labels import _LEVEL_WORDS, _clean_label, classify, period_matches
from portal.text import fold


@dataclass
class _Candidate:
    figure: str
    value: int | float
    evidence: dict[str, Any]
    token: NumberMatch | None = None
    group: str | None = None
    row_total: int | None = None
    level: str | None = None
    period: str | None = None


_PLAIN_KEPT = 6


@dataclass
class _Context:
    convention: str | None
    warnings: list[str]
    candidates: list[_Candidate] = field(default_factory=list)
    plain_values: dict[tuple[str, str, str | None], list[int | float]] = field(default_factory=dict)

    def offer(
        self,
        parts: Sequence[str],
        match: NumberMatch,
        evidence: dict[str, Any],
        *,
        figure: str | None = None,
        group: str | None = None,
        row_total: int | None = None,
        level: str | None = None,
        period: str | None = None,
    ) -> None:
        figure = classify(parts) if figure is None else figure
        if figure is None or figure == _EXCLUDED:
            return
        if level is None and any(_LEVEL_WORDS.search(_clean_label(p)) for p in parts):
            return  # one level's figure named in a label, not the whole
        value = _figure_value(figure, match, self.convention, parts, evidence, self.warnings)
        if value is not None and group is not None and row_total is None and level is None:
            seen = self.plain_values.setdefault((group, figure, period), [])
            if len(seen) >= _PLAIN_KEPT and (value in seen or len(set(seen)) > 1):
                return  # rows of a breakdown: enough are kept to show whether they agree
            seen.append(value)
        if value is not None:
            evidence["text"] = match.text.strip()
            if period:
                evidence["period"] = period
            self.candidates.append(_Candidate(figure, value, evidence, match, group, row_total, level, period))


def _where(evidence: dict[str, Any] | str) -> str:
    """Where a figure was read, in words: "table 2 'caption', row 'Tổng cộng', column 'Tiếp nhận › Trực tuyến'"."""
    if isinstance(evidence, str):
        return evidence
    if "where" not in evidence and evidence.get("kind") == "table":
        caption = evidence.get("caption")
        where = f"table {evidence['table']}" + (f" '{caption[:40]}'" if caption else "")
        where += f", row '{evidence['row'][:60]}'"
        if evidence.get("column"):
            where += f", column '{evidence['column'][:80]}'"
        evidence["where"] = where
    return str(evidence.get("where", ""))


def _figure_value(
    figure: str,
    match: NumberMatch,
    convention: str | None,
    parts: Sequence[str],
    evidence: dict[str, Any] | str,
    warnings: list[str],
) -> int | float | None:
    if figure == "online_rate":
        value = match.value(convention)
        if value is None:
            warnings.append(f"online_rate: ambiguous number {match.core!r} at {_where(evidence)}")
            return None
        if match.percent or any("%" in p for p in parts) or value > 1:
            return value
        warnings.append(f"online_rate: {match.text!r} at {_where(evidence)} has no % sign and may be a fraction")
        return None
    if match.percent:
        return None
    value = match.value(convention, integer=True)
    if value is None:
        warnings.append(f"{figure}: {match.text!r} at {_where(evidence)} is not a whole number")
    return value


_UNIT = re.compile(r"^(?:(?:bo|so|tong)\s+)?(?:ho so|hs|applications?|dossiers?|cases?|files?)$")


_PLAIN_COUNT = re.compile(r"^(?:0|[1-9]\d{0,2}(?:([.,])\d{3}(?:\1\d{3})*)?)$")


def _lone_number(text: str) -> NumberMatch | None:
    """The number in a cell-like text holding one number and at most a unit word (dates, phones… aside)."""
    if _PLAIN_COUNT.match(text):
        return find_numbers(text)[0]
    normalized = blank_non_figures(text)
    matches = find_numbers(normalized)
    if len(matches) != 1:
        return None
    rest = normalized[: matches[0].start] + normalized[matches[0].end :]
    rest = re.sub(r"[^a-z0-9%]+", " ", fold(rest)).strip()
    return matches[0] if not rest or _UNIT.match(rest) else None


def _select_period(
    candidates: list[_Candidate], period: str | None, warnings: list[str]
) -> tuple[list[_Candidate], list[str]]:
    """Candidates of the period the source names; none (with a warning) when the page's periods leave a doubt."""
    seen = list(dict.fromkeys(c.period for c in candidates if c.period))
    if period:
        if not seen:
            if candidates:
                warnings.append(f"the page names no period; figures read as shown (the source names {period!r})")
            return candidates, seen
        if all(period_matches(p, period) for p in seen):
            return candidates, seen
        chosen = [c for c in candidates if c.period and period_matches(c.period, period)]
        if not chosen:
            warnings.append(f"period {period!r} not found on the page; periods seen: {', '.join(seen)}")
        return chosen, seen
    if len(seen) > 1:
        warnings.append(
            f"several periods on the page ({', '.join(seen)}); figures left empty until the source names one"
        )
        return [], seen
    return candidates, seen


def _sum_levels(figure: str, members: list[_Candidate], warnings: list[str]) -> list[_Candidate]:
    """A table of levels without a total: one candidate, the sum of the levels (counts only)."""
    by_level: dict[str, set[int | float]] = {}
    for cand in members:
        by_level.setdefault(cand.level or "", set()).add(cand.value)
    if any(len(values) > 1 for values in by_level.values()):
        return members
    levels = {name: next(iter(values)) for name, values in by_level.items()}
    if figure not in COUNT_FIGURES and figure != _EARLY:
        warnings.append(f"{figure}: given per level only ({', '.join(levels)}), not added up")
        return []
    first = members[0]
    total = sum(levels.values())
    names = " + ".join(levels)
    evidence = {key: value for key, value in first.evidence.items() if key != "where"}
    evidence.update(levels=levels, text=None)
    evidence["where"] = f"{first.group}, sum of the levels {names}" + (
        f", column '{first.evidence['column']}'" if first.evidence.get("column") else ""
    )
    if first.evidence.get("row") in levels:
        evidence["row"] = names
    warnings.append(f"{figure} is the sum of the levels {names} ({first.group})")
    return [_Candidate(figure, total, evidence, None, first.group, None, None, first.period)]


def _resolve_group(figure: str, members: list[_Candidate], warnings: list[str]) -> list[_Candidate]:
    """Within one table: the total row wins over unit rows; a table of levels is summed."""
    totals = [c for c in members if c.row_total is not None]
    if totals:
        top = max(c.row_total or 0 for c in totals)
        members = [c for c in totals if c.row_total == top]
    plain = [c for c in members if c.level is None]
    levelled = [c for c in members if c.level is not None]
    if not plain:
        return _sum_levels(figure, levelled, warnings) if levelled else []
    levels = {c.level: c.value for c in levelled}
    if levels and len(levels) == len(levelled):
        plain = [_Candidate(c.figure, c.value, {**c.evidence, "levels": levels}, c.token, c.group, c.row_total,
                            None, c.period) for c in plain]
    return plain


def _decide(
    candidates: list[_Candidate], warnings: list[str], period: str | None = None
) -> tuple[dict[str, int | float | None], dict[str, dict[str, Any] | None], list[_Candidate]]:
    """Figures, their evidence and the chosen candidates: agreeing candidates only, never a guess."""
    candidates, _seen = _select_period(candidates, period, warnings)
    by_figure: dict[str, list[_Candidate]] = {}
    for cand in candidates:
        by_figure.setdefault(cand.figure, []).append(cand)
    decided: dict[str, int | float | None] = {}
    evidence: dict[str, dict[str, Any] | None] = {}
    chosen: list[_Candidate] = []
    for figure in (*FIGURES, _EARLY):
        groups: dict[str | None, list[_Candidate]] = {}
        for cand in by_figure.get(figure, []):
            groups.setdefault(cand.group, []).append(cand)
        kept: list[_Candidate] = []
        for group, members in groups.items():
            if group is None:
                kept.extend(members)
                continue
            resolved = _resolve_group(figure, members, warnings)
            if len({c.value for c in resolved}) > 1:
                shown = "; ".join(f"{c.value} ({_where(c.evidence)})" for c in resolved[:6])
                warnings.append(f"{figure}: candidates disagree in {group} (no total row), not read from it: {shown}")
                continue
            kept.extend(resolved[:1])
        values = {c.value for c in kept}
        decided[figure], evidence[figure] = None, None
        if len(values) == 1:
            _where(kept[0].evidence)
            decided[figure], evidence[figure] = kept[0].value, kept[0].evidence
            chosen.append(kept[0])
        elif len(values) > 1:
            shown = "; ".join(f"{c.value} ({_where(c.evidence)})" for c in kept[:6])
            warnings.append(f"{figure}: candidates disagree, left empty: {shown}")
    early, early_evidence = decided.pop(_EARLY), evidence.pop(_EARLY)
    on_time = decided["resolved_on_time"]
    if early is not None and on_time is not None:
        decided["resolved_on_time"] = on_time + early
        evidence["resolved_on_time"] = {**(evidence["resolved_on_time"] or {}), "plus": early_evidence}
        warnings.append("resolved_on_time is the sum of the 'đúng hạn' and 'trước hạn' figures")
    elif early is not None and not by_figure.get("resolved_on_time"):
        decided["resolved_on_time"], evidence["resolved_on_time"] = early, early_evidence
    return decided, evidence, chosen
