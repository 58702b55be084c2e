from __future__ import annotations

import asyncio
import ipaddress

import pytest

from portal.crawlers.guard import (
    BlockedAddressError,
    GuardError,
    is_blocked_ip,
    normalise_host,
    parse_legacy_ipv4,
    parse_target,
    resolve_host,
)

BLOCKED = [
    "127.0.0.1",
    "127.255.255.254",
    "2130706433",
    "0x7f000001",
    "0x7F.0.0.1",
    "127.1",
    "0177.0.0.1",
    "017700000001",
    "0",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "0xa9fea9fe",
    "100.64.0.1",
    "100.127.255.254",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "[::1]",
    "::",
    "::ffff:127.0.0.1",
    "[::ffff:7f00:1]",
    "::ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::127.0.0.1",
    "2002:7f00:1::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "14.225.0.1", "100.128.0.1", "2001:4860:4860::8888"]


@pytest.mark.parametrize("host", BLOCKED)
def test_blocked_spellings(host):
    assert is_blocked_ip(host) is True
    with pytest.raises(GuardError) as info:
        parse_target(f"http://{host if ':' not in host or host.startswith('[') else f'[{host}]'}:8080/x")
    assert info.value.reason == "blocked_address"


@pytest.mark.parametrize("host", PUBLIC)
def test_public_addresses(host):
    assert is_blocked_ip(host) is False
    assert is_blocked_ip(ipaddress.ip_address(host)) is False


def test_allow_private_lets_loopback_through():
    target = parse_target("http://0x7f000001:8080/x", allow_private=True)
    assert (target.host, target.port, str(target.ip)) == ("127.0.0.1", 8080, "127.0.0.1")


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("LOCALHOST.", "localhost"),
        ("Bücher.Example", "xn--bcher-kva.example"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("192.168.1", "192.168.0.1"),
        ("[::FFFF:127.0.0.1]", "::ffff:7f00:1"),
        ("dichvucong.gov.vn", "dichvucong.gov.vn"),
        ("1.2.3.4.5", "1.2.3.4.5"),
        ("08.1.1.1", "08.1.1.1"),
    ],
)
def test_normalise_host(raw, normal):
    assert normalise_host(raw) == normal


def test_legacy_ipv4_rejects_out_of_range():
    assert parse_legacy_ipv4("256.1.1.1") is None
    assert parse_legacy_ipv4("4294967296") is None
    assert parse_legacy_ipv4("1.16777216") is None
    assert str(parse_legacy_ipv4("1.16777215")) == "1.255.255.255"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://a.vn/",
        "javascript:alert(1)",
        "garbage",
        "",
        "   ",
        "http://",
        "https:///p",
        "file:///etc/passwd",
        "http://a b.vn/",
        "http://a.vn:0/",
        "http://a.vn:70000/",
        "gopher://127.0.0.1:25/",
        "//example.org/x",
    ],
)
def test_invalid_urls(url):
    with pytest.raises(GuardError) as info:
        parse_target(url)
    assert info.value.reason == "invalid_url"


def test_parse_target_keeps_names_for_dns():
    target = parse_target("https://DichVuCong.gov.vn/p/home.html")
    assert (target.scheme, target.host, target.port, target.ip) == ("https", "dichvucong.gov.vn", 443, None)


def test_resolver_refuses_names_pointing_inside():
    with pytest.raises(BlockedAddressError):
        asyncio.run(resolve_host("localhost", 80))
    answers = asyncio.run(resolve_host("localhost", 80, allow_private=True))
    assert any(address in ("127.0.0.1", "::1") for _family, address in answers)
    assert asyncio.run(resolve_host("0x7f000001", 80, allow_private=True))[0][1] == "127.0.0.1"
    with pytest.raises(OSError):
        asyncio.run(resolve_host("no-such-host.invalid", 80))
