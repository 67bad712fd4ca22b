"""Webhook mode: a request without the secret token, or larger than any update, is refused on its
headers, before its body is read (a 30 MB body is not read first and then refused)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from bot.channels.telegram import BotSetup
from tests.channels.telegram.test_webhook import webhook_bot  # noqa: F401  # the fixture
from tests.fake_bot_api import FakeBotAPI

THIRTY_MB = 30 * 1024 * 1024


async def answer_to_a_huge_post(url: str, secret: str | None) -> bytes:
    """POST headers announcing 30 MB, then only the first 64 KB of the body: the status line the
    server answers with while the rest is still unsent ('' if it waits for the body)."""
    address = urlsplit(url)
    assert address.hostname == "127.0.0.1"
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        headers = [
            f"POST {address.path} HTTP/1.1",
            f"Host: 127.0.0.1:{address.port}",
            "Content-Type: application/json",
            f"Content-Length: {THIRTY_MB}",
        ]
        if secret is not None:
            headers.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + b" " * 65536)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.readline(), 3.0)
        except TimeoutError:
            return b""
    finally:
        writer.close()


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
async def test_a_huge_body_without_the_secret_is_refused_before_it_is_read(
    webhook_bot: str,  # noqa: F811
    api: FakeBotAPI,
    secret: str | None,
) -> None:
    status = await answer_to_a_huge_post(webhook_bot, secret)
    assert status.startswith(b"HTTP/1.1 403"), status


async def test_a_body_larger_than_any_update_is_refused_even_with_the_secret(
    webhook_bot: str,  # noqa: F811
    api: FakeBotAPI,
    setup: BotSetup,
) -> None:
    status = await answer_to_a_huge_post(webhook_bot, setup.keys.webhook_secret())
    assert status.startswith(b"HTTP/1.1 400"), status
    assert api.calls_to("sendMessage") == []
