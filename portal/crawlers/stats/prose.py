"""Figures in sentences: label then number, number then label, "trong đó", rates with "đạt"/"chiếm"."""

from __future__ import annotations

import re

from portal.crawlers.numbers import (
    NumberMatch,
    blank_non_figures,
    find_numbers,
)
from portal.crawlers.stats.base import _EXCLUDED
from portal.crawlers.stats.candidates import _Context
from portal.crawlers.stats.labels import _looks_like_date, classify, find_period
from portal.text import fold

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\sa-zđ])|\s*[\n•]+\s*")
_CLAUSE = re.compile(r"[;,:()\[\]–—]|\s-\s|(?<![a-z])(?:va|con|gom|bao gom|trong do|of which|including|and)(?![a-z])")
_SUB_CLAUSE = re.compile(r"(?<![a-z])(?:trong do|of which|including|bao gom|gom co)(?![a-z])")
_CONNECTOR = re.compile(r"(?<![a-z])(?:la|dat|chiem|bang|=|co|voi|of|is|was|were|at|reached|with)\s*$")
_UNIT_HEAD = re.compile(r"^\s*(?:(?:bo|luot)\s+)?(?:ho so|hs|applications?|dossiers?|cases?)(?![a-z])\s*")


def _prose(text: str, ctx: _Context, context_period: str | None) -> None:
    """Figures in sentences: label then number, number then label, "trong đó", "đạt … %"; nearest label wins."""
    for sentence in _SENTENCE_END.split(text):
        clean = blank_non_figures(sentence)
        matches = [m for m in find_numbers(clean) if not _looks_like_date(sentence, m)]
        if not matches:
            continue
        period = find_period(sentence) or context_period
        folded = [fold(clean[(matches[i - 1].end if i else 0) : m.start]) for i, m in enumerate(matches)]
        folded.append(fold(clean[matches[-1].end :]))
        main_label: str | None = None
        in_sub = False
        previous: tuple[str | None, str] | None = None
        for i, match in enumerate(matches):
            before_seg, after_seg = folded[i], folded[i + 1]
            if ";" in before_seg or i == 0:
                in_sub = False
            tail = before_seg.rsplit(";", 1)[-1]
            if _SUB_CLAUSE.search(tail):
                in_sub = True
            if not _counts_applications(after_seg):
                previous = None
                continue
            trimmed = before_seg.rstrip(" \t\u00a0")
            connector = trimmed.endswith((":", "(", "="))
            before = _last_clause(trimmed.rstrip(" :(="))
            connector = connector or bool(_CONNECTOR.search(before))
            before = _CONNECTOR.sub("", before).strip()
            after = _first_clause(after_seg, last=i == len(matches) - 1)
            own = [p for p in (before, after) if p and re.search(r"[a-z]", p)]
            if match.percent and previous is not None and (not before and connector or trimmed.endswith("(")):
                figure = "online_rate" if previous[0] == "received_online" else _EXCLUDED
                label = f"{previous[1]} (%)"
            else:
                parts = [*own, main_label] if in_sub and main_label else own
                figure = classify(parts) if parts else None
                if figure in (None, _EXCLUDED) and len(own) == 2:
                    alone = [classify([*([p] if not in_sub or not main_label else [p, main_label])]) for p in own]
                    if connector and alone[0] not in (None, _EXCLUDED):
                        figure = alone[0]
                label = " … ".join(own) or (main_label or "")
            if not in_sub and own:
                main_label = " ".join(own)
            previous = (figure, label)
            if figure in (None, _EXCLUDED):
                continue
            evidence = {"kind": "text", "where": f"sentence '{_excerpt(sentence, match)}'",
                        "label": label[:120], "sentence": sentence.strip()[:300]}
            ctx.offer([label], match, evidence, figure=figure, period=period)


_AFTER_WORDS = frozenset(
    "ho hs bo applications application dossiers dossier cases case files file duoc da dang were was are is have has "
    "had submitted received resolved processed handled completed settled online truc qua dung som truoc tre tiep "
    "giai xu tra on trong of in nop nhan".split()
)


def _counts_applications(after: str) -> bool:
    """False when the word right after a number names something else counted (25 huyện, 12 thủ tục)."""
    match = re.match(r"\s*([a-z]+)", after)
    return match is None or match.group(1) in _AFTER_WORDS


def _last_clause(segment: str) -> str:
    pieces = [p.strip(" .") for p in _CLAUSE.split(segment)]
    return pieces[-1] if pieces else ""


def _first_clause(segment: str, *, last: bool) -> str:
    """The label after a number, unless it is the next number's label (no separator before it)."""
    has_unit = bool(_UNIT_HEAD.match(segment))
    rest = _UNIT_HEAD.sub("", segment)
    pieces = _CLAUSE.split(rest, maxsplit=1)
    if len(pieces) == 1 and not last and not has_unit:
        return ""
    first = pieces[0].strip(" .")
    return first if re.search(r"[a-z]", first) else ("ho so" if has_unit else "")


def _excerpt(sentence: str, match: NumberMatch) -> str:
    start = max(0, match.start - 50)
    end = min(len(sentence), match.end + 30)
    return ("…" if start else "") + sentence[start:end].strip() + ("…" if end < len(sentence) else "")
