"""Bytes of a statistics page to text: declared, sniffed and guessed encodings."""

from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer

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
