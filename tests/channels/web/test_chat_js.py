"""chat.js in a real headless Chromium (Debian's), driven over the DevTools protocol with
aiohttp's websocket client: a message that does not reach the server is not lost silently."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.channels.web.conftest import RunningWeb

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt install chromium)")


class Page:
    """One tab, and Runtime.evaluate in it."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        await self.socket.send_json({"id": number, "method": method, "params": params})
        while True:
            message = json.loads((await self.socket.receive(timeout=20)).data)
            if message.get("id") == number:
                if "error" in message:
                    raise NotYet(message["error"])
                return dict(message["result"])

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise NotYet(result["exceptionDetails"])
        return result["result"].get("value")

    async def until(self, expression: str, timeout: float = 10.0) -> Any:
        """The expression's value once it is true; a page still loading (no context yet, an
        element not there yet) is asked again."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                if value := await self.evaluate(expression):
                    return value
            except NotYet as error:
                last: object = error
            else:
                last = None
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"never true: {expression} ({last})")
            await asyncio.sleep(0.05)


class NotYet(Exception):
    """DevTools could not evaluate the expression in the page (yet)."""


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    assert CHROMIUM is not None
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={tmp_path / 'profile'}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        endpoint = None
        for _ in range(200):
            line = await asyncio.to_thread(process.stderr.readline)
            found = re.search(r"DevTools listening on ws://([^/]+)/", line)
            if found:
                endpoint = found.group(1)
                break
        assert endpoint, "chromium did not start"
        async with aiohttp.ClientSession() as session:
            yield session, endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


async def open_tab(session: aiohttp.ClientSession, endpoint: str, url: str) -> Page:
    async with session.put(f"http://{endpoint}/json/new?{url}") as reply:
        target = await reply.json()
    socket = await session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
    return Page(socket)


async def test_a_message_the_server_never_got_is_back_in_the_text_box(
    web: RunningWeb, browser: tuple[aiohttp.ClientSession, str]
) -> None:
    session, endpoint = browser
    page = await open_tab(session, endpoint, web.url)
    await page.until("document.readyState === 'complete' && !!document.getElementById('text')")
    await page.until(
        "(() => { const b = document.querySelector('button[value=\"!lang:de\"]');"
        " if (b) b.click(); return !!b; })()"
    )
    await page.until("document.documentElement.lang === 'de'")
    await page.until("document.querySelector('.entry.screen button') !== null")

    # the server goes away (a crash, a restart, the network) before the message is sent
    await web.runtime.stop()
    await page.evaluate(
        "document.getElementById('text').value = 'Bist du noch da?';"
        "document.getElementById('say').requestSubmit();"
    )
    await page.until("!document.getElementById('say').classList.contains('busy')")
    kept = await page.until("document.getElementById('text').value")
    await page.socket.close()
    await web.runtime.start()  # for the fixture's own stop

    assert kept == "Bist du noch da?"
