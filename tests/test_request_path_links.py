"""Links built from the request's path stay on this site, whatever the path is spelt like."""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit

import pytest

# as a browser sends them; PATH_INFO is what the server hands the application (decoded, latin-1 for WSGI)
ODD_PATHS = ["/%5Cevil.com", "/%5C%5Cevil.com", "//evil.com", "///evil.com", "/%2F%2Fevil.com", "/%09/evil.com",
             "/%5C/evil.com", "/%0D%0A/evil.com", "/%20/evil.com", "/services/%5Cevil.com", "/%E2%80%AE/evil.com",
             "//evil.com/services", "/\\evil.com"]
LINK = re.compile(r'href="([^"]*lang=(?:en|vi)[^"]*)"')


@pytest.mark.parametrize("path", ODD_PATHS)
def test_the_language_link_on_odd_paths_stays_on_this_site(client, path):
    path_info = unquote(path).encode().decode("latin-1")
    response = client.get("/", environ_overrides={"PATH_INFO": path_info})
    links = LINK.findall(response.get_data(as_text=True))
    assert links, response.status_code
    for link in links:
        link = link.replace("&amp;", "&")
        assert link.startswith("/") and not link.startswith(("//", "/\\")), link
        assert "\\" not in link and not any(ord(c) < 0x21 for c in link), link
        resolved = urlsplit(urljoin("https://portal.example/x/y", link))
        assert resolved.netloc == "portal.example", link


def test_the_language_link_keeps_an_ordinary_path(client):
    page = client.get("/services?q=khai+sinh").get_data(as_text=True)
    assert 'href="/services?q=khai+sinh&amp;lang=en"' in page
