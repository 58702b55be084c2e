"""A small per-process memo with expiry, for slow-changing lists (fields, agency options)."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class TTLMemo(Generic[T]):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[Hashable, tuple[float, T]] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = compute()
        self._values[key] = (now, value)
        return value

    def forget(self, key: Hashable) -> None:
        self._values.pop(key, None)

    def clear(self) -> None:
        self._values.clear()


_ALL: list[TTLMemo] = []


def memo(seconds: float) -> TTLMemo:
    created: TTLMemo = TTLMemo(seconds)
    _ALL.append(created)
    return created


@lru_cache(maxsize=16)
def _engine_key(bind: Any) -> str:
    return str(bind.url)


def database_key(session: Any) -> str:
    """The memo key of the session's database (its URL); worked out once per session, since a page asks often."""
    info = session.info
    key = info.get("portal.database_key")
    if key is None:
        key = info["portal.database_key"] = _engine_key(session.get_bind())
    return key


def clear_all() -> None:
    """Forget every memoised value (after an admin change, and between tests)."""
    for item in _ALL:
        item.clear()
