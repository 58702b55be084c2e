"""Address guard: refuse URLs that are not http(s) or that lead to non-public addresses (SSRF)."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_IPV4_COMPAT = ipaddress.ip_network("::/96")


class GuardError(Exception):
    """A URL refused before or during connection; `reason` is a check reason (portal/vocabulary.py)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class BlockedAddressError(OSError):
    """Raised by the resolver when a host resolves to a refused address."""

    reason = "blocked_address"


@dataclass(frozen=True)
class Target:
    """A parsed, host-normalised URL."""

    url: URL
    scheme: str
    host: str
    port: int
    ip: IPAddress | None


def _parse_ipv4_part(part: str) -> int:
    if part.lower().startswith("0x"):
        digits = part[2:]
        return int(digits, 16) if digits else 0
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part, 10)


def parse_legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse an IPv4 address in any inet_aton spelling (decimal, hex, octal, 1-4 parts), or None."""
    if not host or host.endswith("."):
        host = host[:-1] if host else host
    if not host:
        return None
    parts = host.split(".")
    if len(parts) > 4:
        return None
    try:
        values = [_parse_ipv4_part(p) for p in parts]
    except ValueError:
        return None
    if any(v < 0 for v in values):
        return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = number * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(number)


@functools.lru_cache(maxsize=4096)
def normalise_host(host: str) -> str:
    """Lower-case, strip brackets and a trailing dot, IDNA-encode, and write numeric IPv4 as a dotted quad."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return str(ipaddress.IPv6Address(host.split("%", 1)[0]))
    host = host.rstrip(".")
    legacy = parse_legacy_ipv4(host)
    if legacy is not None:
        return str(legacy)
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


@functools.lru_cache(maxsize=4096)
def host_ip(host: str) -> IPAddress | None:
    """The IP address a (normalised or raw) host denotes literally, or None for a name."""
    try:
        return ipaddress.ip_address(normalise_host(host))
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64 or (ip in _IPV4_COMPAT and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_blocked_ip(ip: str | IPAddress) -> bool:
    """True for loopback, private, link-local, CGNAT, multicast, reserved or unspecified addresses."""
    if isinstance(ip, str):
        parsed = host_ip(ip)
        if parsed is None:
            raise ValueError(f"not an IP address: {ip!r}")
        ip = parsed
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and is_blocked_ip(embedded):
            return True
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return True
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def parse_target(url: str | URL, allow_private: bool = False) -> Target:
    """Parse and vet a URL without DNS: scheme, host, port and literal addresses."""
    if isinstance(url, URL):
        parsed = url
    else:
        if not isinstance(url, str) or not url.strip() or any(ord(c) < 0x21 for c in url.strip()):
            raise GuardError("invalid_url", "empty URL or URL with spaces/control characters")
        try:
            parsed = URL(url.strip())
        except (ValueError, TypeError) as exc:
            raise GuardError("invalid_url", f"unparsable URL: {exc}") from exc
    scheme = (parsed.scheme or "").lower()
    if scheme not in ALLOWED_SCHEMES:
        raise GuardError("invalid_url", f"scheme {scheme or '(none)'!r} is not http or https")
    try:
        raw_host = parsed.raw_host
        port = parsed.port
    except ValueError as exc:
        raise GuardError("invalid_url", str(exc)) from exc
    if not raw_host or port is None or not 0 < port < 65536:
        raise GuardError("invalid_url", "URL has no host or a bad port")
    if any(c in raw_host for c in " /\\@?#"):
        raise GuardError("invalid_url", f"bad host {raw_host!r}")
    try:
        host = normalise_host(raw_host)
    except ValueError as exc:
        raise GuardError("invalid_url", f"bad host {raw_host!r}") from exc
    ip = host_ip(host)
    if ip is not None and not allow_private and is_blocked_ip(ip):
        raise GuardError("blocked_address", f"{raw_host} is a non-public address ({ip})")
    return Target(url=parsed, scheme=scheme, host=host, port=port, ip=ip)


async def resolve_host(
    host: str,
    port: int,
    allow_private: bool = False,
    family: int = socket.AF_UNSPEC,
    getaddrinfo: Callable[[str, int, int], Awaitable[list[Any]]] | None = None,
) -> list[tuple[int, str]]:
    """Resolve a host once and return (family, address) pairs, refusing non-public answers.

    Raises socket.gaierror when the name does not resolve and BlockedAddressError when any
    answer is a refused address. `getaddrinfo(host, port, family)` replaces the event loop's lookup.
    """
    literal = host_ip(host)
    if literal is not None:
        if not allow_private and is_blocked_ip(literal):
            raise BlockedAddressError(f"{host} is a non-public address ({literal})")
        fam = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        return [(fam, str(literal))]
    if getaddrinfo is not None:
        infos = await getaddrinfo(normalise_host(host), port, family)
    else:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(normalise_host(host), port, type=socket.SOCK_STREAM, family=family)
    answers: list[tuple[int, str]] = []
    for fam, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not allow_private and is_blocked_ip(ip):
            raise BlockedAddressError(f"{host} resolves to a non-public address ({ip})")
        if (fam, address) not in answers:
            answers.append((fam, address))
    if not answers:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
    return answers


_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="guard-resolve")


def resolve_public(url: str, *, allow_private: bool = False, timeout: float = 3.0) -> tuple[Target, str]:
    """Vet a URL and resolve its host once, synchronously (forms, webhooks): the target and the address to
    connect to, so what was vetted is what gets used. GuardError when the URL or any answer is refused;
    OSError (socket.gaierror, TimeoutError) when the name does not resolve in time."""
    target = parse_target(url, allow_private=allow_private)
    if target.ip is not None:
        return target, str(target.ip)
    future = _resolver.submit(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except FutureTimeout as exc:
        raise TimeoutError(f"{target.host} did not resolve within {timeout:g} s") from exc
    addresses = [str(sockaddr[0]).split("%", 1)[0] for *_rest, sockaddr in infos]
    for address in addresses:
        if not allow_private and is_blocked_ip(ipaddress.ip_address(address)):
            raise GuardError("blocked_address", f"{target.host} resolves to a non-public address ({address})")
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, f"{target.host} has no address")
    return target, addresses[0]
