"""bot.qr: which addresses a flyer's QR code may hold, and what is warned about."""

from __future__ import annotations

import pytest

from bot.qr import AddressError, address_warnings


@pytest.mark.parametrize(
    "url", ["https://chat.example.org/", "HTTPS://chat.example.org", "https://example.org/chat"]
)
def test_a_plain_https_address_gets_no_warning(url: str) -> None:
    assert address_warnings(url) == []


@pytest.mark.parametrize(
    ("url", "starts"),
    [
        ("http://chat.example.org/", ["the address starts with http://"]),
        ("https://chat.example.org/?utm_source=flyer", ["the address has a query string"]),
        ("https://chat.example.org/#token", ["the address has a query string"]),
        ("https://chat.example.org/?", ["the address has a query string"]),
        ("https://staff:secret@chat.example.org/", ["the address holds a user name"]),
        (
            "http://chat.example.org/?t=1",
            ["the address starts with http://", "the address has a query string"],
        ),
    ],
)
def test_what_would_make_a_flyer_unsafe_is_warned_about(url: str, starts: list[str]) -> None:
    warnings = address_warnings(url)

    assert len(warnings) == len(starts)
    for warning, start in zip(warnings, starts, strict=True):
        assert warning.startswith(start)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "chat.example.org",
        "ftp://chat.example.org/",
        "mailto:info@example.org",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "https://chat.example.org/a b",
    ],
)
def test_what_is_not_an_http_address_is_refused(url: str) -> None:
    with pytest.raises(AddressError):
        address_warnings(url)
