"""Every message of the application (templates and Python) has an English translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1] / "portal"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
FILES = sorted([*ROOT.glob("templates/**/*.html"), *ROOT.glob("**/*.py")])


def messages(path: Path) -> set[str]:
    method = "jinja2.ext:babel_extract" if path.suffix == ".html" else "python"
    found = set()
    for _line, message, _comments, _context in extract_from_file(method, str(path), keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.sqlite_only
def test_english_catalogue_covers_every_message(backend):
    with (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    missing = sorted(
        f"{path.relative_to(ROOT)}: {message}" for path in FILES for message in messages(path)
        if not (catalogue.get(message) and catalogue.get(message).string)
    )
    assert missing == []
