"""The figures reader over a corpus of statistics-page shapes: every figure right or honestly empty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.crawlers.stats import FIGURES, extract

CORPUS = Path(__file__).parent.parent / "fixtures" / "statpages"
PAGES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".html", ".json") and ".expected." not in p.name)
CASES = [
    pytest.param(page, case, id=f"{page.stem}[{case['period'] or '-'}]")
    for page in PAGES
    for case in json.loads(page.with_name(f"{page.stem}.expected.json").read_text(encoding="utf-8"))["cases"]
]


def read(page: Path, period: str | None):
    content_type = "application/json" if page.suffix == ".json" else "text/html"
    return extract(page.read_bytes(), content_type, None, period)


def test_corpus_has_the_shapes_agencies_publish():
    assert len(PAGES) >= 30
    assert all(p.with_name(f"{p.stem}.expected.json").is_file() for p in PAGES)


@pytest.mark.parametrize(("page", "case"), CASES)
def test_every_figure_right_or_honestly_empty(page, case):
    result = read(page, case["period"])
    wrong = {
        name: (result.figures[name], case["figures"][name])
        for name in FIGURES
        if result.figures[name] is not None and result.figures[name] != case["figures"][name]
    }
    assert not wrong, f"wrong figures (read, expected): {wrong}; warnings: {result.warnings}"
    for name in FIGURES:
        if result.figures[name] is not None:
            evidence = result.evidence[name]
            assert evidence and evidence["where"], f"{name} has no provenance"
        else:
            assert result.evidence[name] is None
    assert result.number_format in (case["number_format"], None)
    for fragment in case["warnings"]:
        assert any(fragment in w for w in result.warnings), (fragment, result.warnings)


def test_corpus_recall():
    """Honest emptiness is allowed page by page, but the reader must find nearly everything a person sees."""
    expected = found = formats = format_expected = 0
    missed = []
    for page, case in ((p.values[0], p.values[1]) for p in CASES):
        result = read(page, case["period"])
        for name in FIGURES:
            if case["figures"][name] is not None:
                expected += 1
                if result.figures[name] == case["figures"][name]:
                    found += 1
                else:
                    missed.append(f"{page.name}[{case['period']}] {name}")
        if case["number_format"] is not None:
            format_expected += 1
            if result.number_format == case["number_format"]:
                formats += 1
            else:
                missed.append(f"{page.name}[{case['period']}] number_format {result.number_format}")
    assert found / expected >= 0.95 and formats == format_expected, missed
