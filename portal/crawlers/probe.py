"""Fetch one statistics page through the guarded checker and extract its application figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.crawlers.checker import CheckerConfig, FetchResult, fetch
from portal.crawlers.stats import FIGURES, Extraction, extract

# Check reasons after which the page itself was seen and can be read.
READABLE_REASONS = frozenset({"ok", "slow"})


@dataclass
class ProbeResult:
    """What one probe saw: the fetch, and the extraction when the page could be read."""

    url: str
    extractor: str
    fetched: FetchResult | None
    extraction: Extraction | None

    @property
    def ok(self) -> bool:
        return self.extraction is not None

    @property
    def error(self) -> dict[str, Any] | None:
        """Why the page could not be read: the checker's reason (portal/vocabulary.py), status, detail."""
        if self.ok or self.fetched is None:
            return None
        check = self.fetched.check
        return {
            "reason": check.reason,
            "http_status": check.http_status,
            "final_url": check.final_url,
            "message": check.detail or reason_message(check.reason),
        }

    @property
    def figures(self) -> dict[str, int | float | None]:
        if self.extraction is None:
            return dict.fromkeys(FIGURES)
        return {name: self.extraction.figures.get(name) for name in FIGURES}

    @property
    def evidence(self) -> dict[str, dict[str, Any] | None]:
        """Where each figure was read (table, row, column or sentence); None for a figure not found."""
        if self.extraction is None:
            return dict.fromkeys(FIGURES)
        return {name: self.extraction.evidence.get(name) for name in FIGURES}

    @property
    def found_any(self) -> bool:
        return any(value is not None for value in self.figures.values())

    def to_dict(self) -> dict[str, Any]:
        """The `portal stats probe --json` object; a failed fetch adds an `error` object to it."""
        if self.extraction is not None:
            return self.extraction.to_dict(self.url)
        error = self.error or {"reason": "invalid_url", "http_status": None, "final_url": None, "message": ""}
        status = f" (HTTP {error['http_status']})" if error["http_status"] else ""
        return {
            "url": self.url,
            "figures": self.figures,
            "number_format": None,
            "extractor": self.extractor,
            "warnings": [f"fetch failed: {error['reason']}{status}: {error['message']}"],
            "evidence": dict.fromkeys(FIGURES),
            "error": error,
        }


_REASON_MESSAGES = {
    "http_error": "the server answered with an error status",
    "not_found": "the page does not exist",
    "maintenance": "the site announces maintenance",
    "timeout": "no answer in time",
    "dns_error": "the host name does not resolve",
    "connection_error": "the connection failed",
    "tls_error": "the certificate or TLS handshake failed",
    "too_many_redirects": "too many redirects",
    "challenge": "a bot wall (challenge page) stood in the way",
    "rate_limited": "the server refused with too many requests (429/503 with Retry-After)",
    "empty_response": "the page is empty",
    "blocked_address": "the address is private, loopback or link-local",
    "invalid_url": "not an http(s) URL",
}


def reason_message(reason: str) -> str:
    """Why a page could not be read, in a sentence (the `message` of `portal stats probe --json` errors)."""
    return _REASON_MESSAGES.get(reason, reason)


def probe(
    url: str, rule: dict[str, Any] | None = None, config: CheckerConfig | None = None, period: str | None = None
) -> ProbeResult:
    """Fetch `url` (address guard, limits, redirects of the checker) and extract figures with `rule`.

    The rule must already be valid (validate_rule); extract raises InvalidRule otherwise. `period` names
    the period to read on a page showing several.
    """
    return read_page(fetch(url, config or CheckerConfig()), rule, period)


def read_page(fetched: FetchResult, rule: dict[str, Any] | None = None, period: str | None = None) -> ProbeResult:
    """Extract figures from a page already fetched (see probe); a page that could not be read gives none."""
    extractor = (rule or {}).get("extractor", "auto")
    if fetched.check.reason not in READABLE_REASONS:
        return ProbeResult(fetched.url, extractor, fetched, None)
    extraction = extract(fetched.body, fetched.content_type, rule, period)
    return ProbeResult(fetched.url, extractor, fetched, extraction)
