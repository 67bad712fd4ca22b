"""The web chat end to end: the real runtime serving the real Starlette app with uvicorn on
127.0.0.1 (a free port), a real SQLite file, the minimal flow with its compiled catalogs.

`WebPerson` is one browser without JavaScript: an httpx client with its own cookie jar, posting
the forms the page shows. The browser tests (test_browser.py) drive Chromium instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bot.channels.telegram import BotSetup
from bot.channels.web.app import WebSetup
from bot.config import Deployment, load_deployment
from bot.dialogue import Engine
from bot.runtime import Runtime
from bot.store import SecretKeys
from tests.conftest import MINIMAL_DEPLOYMENT, MINIMAL_FLOW, MINIMAL_LOCALES, engine_for

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
ENTRY = re.compile(r'<li id="m(\d+)" class="entry (\w+)"[^>]*>(.*?)</li>', re.S)
BUTTON = re.compile(r'<button type="submit" name="choice" value="([^"]*)">(.*?)</button>', re.S)
TEXT = re.compile(r"<p>(.*?)</p>", re.S)


@dataclass
class Shown:
    """One entry of the chat log as the page shows it."""

    ref: int
    kind: str
    text: str
    buttons: dict[str, str] = field(default_factory=dict)  # label -> value


@dataclass
class Page:
    status: int
    body: str
    headers: httpx.Headers

    @property
    def log(self) -> list[Shown]:
        shown = []
        for ref, kind, inner in ENTRY.findall(self.body):
            text = TEXT.search(inner)
            buttons = {
                html.unescape(label): html.unescape(value) for value, label in BUTTON.findall(inner)
            }
            shown.append(
                Shown(int(ref), kind, html.unescape(text.group(1)) if text else "", buttons)
            )
        return shown

    @property
    def screen(self) -> Shown:
        return [entry for entry in self.log if entry.kind == "screen"][-1]

    @property
    def token(self) -> str:
        return re.search(r'<meta name="t" content="([^"]*)">', self.body).group(1)

    @property
    def lang(self) -> str:
        return re.search(r'<html lang="([^"]*)"', self.body).group(1)


class WebPerson:
    """A browser without JavaScript: follows the forms of the page it was shown last."""

    def __init__(self, base_url: str, **headers: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=20)
        self.last: Page | None = None

    async def open(self) -> Page:
        reply = await self.client.get("/")
        self.last = Page(reply.status_code, reply.text, reply.headers)
        return self.last

    async def press(self, label: str) -> Page:
        """Press the button of the current screen whose label is or contains `label`."""
        page = self.last or await self.open()
        screen = page.screen
        (value,) = [
            v
            for shown, v in screen.buttons.items()
            if label in shown.split(" ", 1)[-1] or shown == label
        ][:1] or [screen.buttons[label]]
        await self.post("/p", choice=value, screen=str(screen.ref))
        return await self.open()

    async def say(self, text: str) -> Page:
        await self.post("/s", text=text)
        return await self.open()

    async def post(self, path: str, **form: str) -> httpx.Response:
        page = self.last or await self.open()
        return await self.client.post(path, data={"t": page.token, **form})

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class RunningWeb:
    runtime: Runtime
    setup: BotSetup

    @property
    def url(self) -> str:
        assert self.runtime.web is not None
        return self.runtime.web.url

    @property
    def database(self) -> Path:
        return self.setup.database

    def person(self, **headers: str) -> WebPerson:
        return WebPerson(self.url, **headers)


@pytest.fixture
def deployment() -> Deployment:
    return load_deployment(MINIMAL_DEPLOYMENT)


@pytest.fixture
def engine(deployment: Deployment) -> Engine:
    return engine_for(MINIMAL_FLOW, deployment, locales=MINIMAL_LOCALES)


@pytest.fixture
def setup(tmp_path: Path, deployment: Deployment) -> BotSetup:
    return BotSetup(
        token=None,
        api_url="http://127.0.0.1:9/bot",
        database=tmp_path / "wegweiser.sqlite3",
        keys=SecretKeys(TEST_SECRET),
        deployment=deployment,
    )


@pytest.fixture
def web_setup() -> WebSetup:
    return WebSetup(port=0, media_root=MINIMAL_FLOW, exit_url="https://example.org/weather")


async def start_web(engine: Engine, setup: BotSetup, web_setup: WebSetup) -> RunningWeb:
    runtime = Runtime(engine, setup, web_setup)
    await runtime.start()
    return RunningWeb(runtime, setup)


@pytest.fixture
async def web(engine: Engine, setup: BotSetup, web_setup: WebSetup) -> AsyncIterator[RunningWeb]:
    running = await start_web(engine, setup, web_setup)
    yield running
    await running.runtime.stop()


@pytest.fixture
async def person(web: RunningWeb) -> AsyncIterator[WebPerson]:
    browser = web.person()
    yield browser
    await browser.close()
