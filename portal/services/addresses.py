"""Service addresses: the one rule saying when two addresses are the same service (form, imports, exports).

Pure functions, no database. The identity key lower-cases the scheme and the host, drops the default
port and a trailing slash on the path, and keeps the query and the `#fragment` (many portals route by
fragment, and agencies register services that differ only there).
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(url: str | None) -> str:
    """An address as stored: surrounding whitespace removed."""
    return (url or "").strip()


def url_key(url: str) -> str:
    """The identity of a service address within its agency (stored in `services.url_key`)."""
    url = normalise(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    key = f"{scheme}://{netloc}{parts.path.rstrip('/')}"
    if parts.query:
        key += f"?{parts.query}"
    if parts.fragment:
        key += f"#{parts.fragment}"
    return key
