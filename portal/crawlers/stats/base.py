"""The figures, the extractors and their rules, and the result of an extraction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

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
    evidence: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def to_dict(self, url: str) -> dict[str, Any]:
        """The `portal stats probe --json` object for this page."""
        return {
            "url": url,
            "figures": {name: self.figures.get(name) for name in FIGURES},
            "number_format": self.number_format,
            "extractor": self.extractor,
            "warnings": list(self.warnings),
            "evidence": {name: self.evidence.get(name) for name in FIGURES},
        }


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
