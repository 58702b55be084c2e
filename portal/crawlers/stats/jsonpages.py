"""Figures in JSON endpoints: leaves named like figures, and dotted-path rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from portal.crawlers.numbers import (
    NumberMatch,
    find_numbers,
)
from portal.crawlers.stats.candidates import _Context, _figure_value, _lone_number
from portal.crawlers.stats.labels import find_period, level_name


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
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=\d)", " ", key)
    return spaced.replace("_", " ").replace("-", " ")


def _json_auto(data: Any, ctx: _Context) -> None:
    for keys, value in _json_leaves(data):
        match = _json_match(value)
        if match is None:
            continue
        names = [k for k in keys if not k.startswith("[")]
        parts = [_json_key_words(k) for k in reversed(names)]
        path = ".".join(k.strip("[]") for k in keys)
        group = ".".join(k for k in keys[:-1] if not k.startswith("[")) or None
        period = next((p for part in parts if (p := find_period(part))), None)
        level = next((lv for part in parts[1:] if (lv := level_name(part))), None)
        evidence = {"kind": "json", "where": f"JSON {path}", "path": path}
        ctx.offer([p for p in parts if not find_period(p)], match, evidence, group=group, period=period,
                  level=level)


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


def _json_explicit(
    data: Any, figures: dict[str, str], ctx: _Context, found: dict[str, Any]
) -> dict[str, int | float | None]:
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
        if isinstance(value, str):
            found.setdefault("_tokens", []).append((name, match))
        result[name] = _figure_value(name, match, ctx.convention, [], path, ctx.warnings)
        if result[name] is not None:
            found[name] = {"kind": "json", "where": f"JSON {path}", "path": path, "text": str(value)[:120]}
    return result


def _json_strings(data: Any) -> list[str]:
    return [v for _, v in _json_leaves(data) if isinstance(v, str)]


def _load_json(text: str) -> Any:
    try:
        return json.loads(text.lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return None
