"""The web chat: a Starlette app served by uvicorn in the runtime's event loop, beside the
Telegram channel or alone.

Paths are short and neutral (nothing in a browser's history says what the page is about):
  GET  /      the chat; without a session, the first screen (nothing is stored until a press)
  POST /p     a pressed button      POST /s  typed text      POST /x  the quick exit
  GET  /e     live updates (server-sent events)              GET /a/…, /m/…  the page's files
Every answer says no-store, no referrer, and a Content-Security-Policy with no other host. The
client's address is used only in memory, keyed, for the flood limit; it is never stored or logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import uvicorn
from babel import Locale, UnknownLocaleError
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.web.person import CHANNEL, Entry, Listeners, Op, WebPersonChannel
from bot.channels.web.sealing import Visitor
from bot.dialogue import ButtonPressed, Command, Event, Session, Show, Start, TextTyped, TooFast
from bot.dialogue.check import MESSAGE_LIMIT
from bot.dialogue.engine import COMMANDS, GLOBAL_PREFIX, LANGUAGE_PREFIX, command_name
from bot.dialogue.schema import GlobalAction
from bot.service import Content, FloodGate, Inbound, PersonAddress, Services
from bot.store import SecretKeys, Transcripts

log = logging.getLogger(__name__)

COOKIE = "s"
STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".m4a": "audio/mp4",
}
# A form's body: a message of MESSAGE_LIMIT characters, each up to 4 bytes and percent-encoded.
BODY_LIMIT = 16 * 1024 + MESSAGE_LIMIT * 12
# Fields of a form: ours have three.
FORM_FIELDS = 16
KEEPALIVE_SECONDS = 15.0
# The ref of the first screen shown before a conversation has begun.
PREVIEW = "0"
STOP_WITHIN = 3


@dataclass(frozen=True)
class WebSetup:
    listen: str = "127.0.0.1"
    port: int = 8080  # 0: any free port
    exit_url: str = "https://www.wikipedia.org/"
    # Live update streams open at once, in all.
    streams: int = 5000
    media_root: Path = Path("flows")


class WebChat:
    """The web channel of the runtime: its person channel, its app and its server."""

    def __init__(
        self,
        setup: WebSetup,
        keys: SecretKeys,
        burst: int,
        per_minute: int,
        *,
        client_burst: int,
        client_per_minute: int,
    ) -> None:
        """`burst`, `per_minute`: the flood limit of one conversation; `client_*`: of one client
        address (many people may share one, as a house's Wi-Fi), the deployment's limits."""
        self.setup = setup
        self.keys = keys
        self.listeners = Listeners(setup.streams)
        self.people = FloodGate(burst, per_minute)
        self.clients = FloodGate(client_burst, client_per_minute)
        self._client_key = secrets.token_bytes(16)  # this process's, so the keys mean nothing later
        self.templates = Environment(
            loader=PackageLoader("bot.channels.web", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
        )
        self._entry = self.templates.get_template("entry.html")
        self._page = self.templates.get_template("page.html")
        self.channel: WebPersonChannel | None = None
        self.services: Services | None = None
        self.server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self.app = Headers(self._app(), setup.exit_url)

    def person_channel(self, transcripts: Transcripts) -> WebPersonChannel:
        self.channel = WebPersonChannel(
            transcripts,
            lambda address: self.keys.pseudonym(CHANNEL, address),
            self.listeners,
            lambda entry: self.entry_html(entry, "", True),
            self.setup.media_root,
        )
        return self.channel

    # -- start and stop --------------------------------------------------------------------------

    async def start(self, services: Services) -> None:
        self.services = services
        config = uvicorn.Config(
            self.app,
            host=self.setup.listen,
            port=self.setup.port,
            log_config=None,  # the process's logging, with its redaction
            access_log=False,  # an access log would keep addresses and paths
            server_header=False,
            date_header=False,
            lifespan="off",
            ws="none",
            proxy_headers=True,
            timeout_graceful_shutdown=STOP_WITHIN,
        )
        server = self.server = _Server(config)

        async def serve() -> None:
            # uvicorn exits the process when it cannot listen (it logs why); asyncio would let
            # that SystemExit through every task
            with contextlib.suppress(SystemExit):
                await server.serve()

        self._serving = asyncio.create_task(serve(), name="web chat")
        while not server.started:
            if self._serving.done():
                self.server = None
                raise OSError("the log says why; most often another program has the port")
            await asyncio.sleep(0.01)
        log.info("web chat listening", extra={"url": self.url})

    async def stop(self) -> None:
        if self.server is None or self._serving is None:
            return
        self.listeners.close_all()  # live streams end, so the server can finish
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, SystemExit):
            try:
                await asyncio.wait_for(self._serving, STOP_WITHIN + 1)
            except TimeoutError:
                log.warning("the web chat did not stop in time")
        self.server = None

    @property
    def port(self) -> int:
        if self.server is not None and self.server.servers:
            sockets = self.server.servers[0].sockets
            if sockets:
                return int(sockets[0].getsockname()[1])
        return self.setup.port

    @property
    def url(self) -> str:
        host = self.setup.listen
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}/"

    async def health(self) -> dict[str, bool]:
        return {"web": self.server is not None and self.server.started}

    # -- the app ---------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/", self.page, methods=["GET"]),
                Route("/p", self.press, methods=["POST"]),
                Route("/s", self.say, methods=["POST"]),
                Route("/x", self.leave, methods=["POST"]),
                Route("/e", self.events, methods=["GET"]),
                Route("/a/{name}", self.asset, methods=["GET"]),
                Route("/m/{name:path}", self.media, methods=["GET"]),
            ],
            exception_handlers={404: _not_found, 405: _not_allowed, 500: _failed},
        )

    async def page(self, request: Request) -> Response:
        visitor = Visitor.from_cookie(request.cookies.get(COOKIE))
        new = visitor is None
        visitor = visitor or Visitor.new()
        engine = self._services.engines.engine
        dialogue, entries = await self._log(visitor, request)
        language = dialogue.language or engine.default_language
        html = self._page.render(
            lang=language.split("@")[0],
            dir=_direction(language),
            texts=engine.web_texts(language),
            token=visitor.form_token,
            exit_url=self.setup.exit_url,
            entries=entries,
            current=_current(entries),
            entry_html=self.entry_html,
            text_limit=MESSAGE_LIMIT,
        )
        response = Response(html, media_type="text/html")
        if new:
            self._set_cookie(response, visitor, request)
        return response

    async def press(self, request: Request) -> Response:
        form = await _form(request)
        choice, screen = form.get("choice", ""), form.get("screen", "")
        return await self._turn(
            request,
            form,
            ButtonPressed(choice),
            pressed=screen if screen.isascii() and screen.isdigit() else None,
            erase=choice == GLOBAL_PREFIX + GlobalAction.EXIT,
        )

    async def say(self, request: Request) -> Response:
        form = await _form(request)
        text = form.get("text", "").strip()[:MESSAGE_LIMIT]
        if not text:  # nothing to send: nothing done
            return self._nothing_done(request, 200)
        event: Event = TextTyped(text)
        if text.startswith("/"):
            name = command_name(text.split(maxsplit=1)[0])
            event = Start(language_hint=_hint(request)) if name == "start" else Command(name)
        erase = isinstance(event, Command) and COMMANDS.get(event.name) is GlobalAction.EXIT
        return await self._turn(request, form, event, typed=text, erase=erase)

    async def leave(self, request: Request) -> Response:
        """The quick exit: the session and everything kept for it go, the browser is told to
        clear what it holds of the site, and the page is replaced by a neutral one."""
        visitor = Visitor.from_cookie(request.cookies.get(COOKIE))
        if visitor is not None:
            person = self._person(visitor)
            if await self._services.conversations.session_of(person) is not None:
                await self._services.conversations.handle(Inbound(person, Command("exit")))
            await self._services.conversations.forget(self._channel.session_of(visitor.address))
            self._channel.forget(visitor.address)
            self.listeners.publish(visitor.address, {"gone": True})
        return self._gone(request)

    async def events(self, request: Request) -> Response:
        visitor = Visitor.from_cookie(request.cookies.get(COOKIE))
        if visitor is None:
            return Response(status_code=204)  # EventSource stops on 204
        first = await self._sync(visitor, request)
        # nginx passes each event on at once (also without proxy_buffering off)
        return StreamingResponse(
            self._stream(visitor.address, first),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no"},
        )

    async def _stream(self, address: str, first: Op) -> AsyncIterator[str]:
        """One page's live updates: the whole log first, then each update as it comes. Every open
        page holds this while it is open, so it keeps no more than it must: not the whole log
        once sent (a long conversation's would cost each open page its size), and no task per
        wait for the next update."""
        with self.listeners.listen(address, page=True) as queue:
            if queue is None:
                yield "retry: 30000\n\n"
                return
            hello = "retry: 3000\n\n" + _event(first)
            del first
            yield hello
            del hello
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        op = await queue.get()
                except TimeoutError:
                    yield ": \n\n"
                    continue
                if op is None:
                    return
                yield _event(op)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = STATIC / name
        if name not in _ASSETS or not path.is_file():
            return await _not_found(request, None)
        return FileResponse(path, media_type=_ASSETS[name])

    async def media(self, request: Request) -> Response:
        root = self.setup.media_root.resolve()
        path = (root / request.path_params["name"]).resolve()
        if not path.is_relative_to(root) or not path.is_file() or path.suffix not in MEDIA_TYPES:
            return await _not_found(request, None)
        return FileResponse(path, media_type=MEDIA_TYPES[path.suffix])

    # -- a turn ----------------------------------------------------------------------------------

    async def _turn(
        self,
        request: Request,
        form: dict[str, str],
        event: Event,
        *,
        pressed: str | None = None,
        typed: str | None = None,
        erase: bool = False,
    ) -> Response:
        visitor = Visitor.from_cookie(request.cookies.get(COOKIE))
        if visitor is None or not visitor.token_matches(form.get("t")):
            # no cookie (they are switched off) or a form from elsewhere: nothing is done
            return self._nothing_done(request, 403)
        if erase:
            return await self.leave(request)
        now = time.monotonic()
        client = self._client(request)
        if client is not None and not self.clients.admit(client, now):
            return self._nothing_done(request, 429)
        person = self._person(visitor)
        service = self._services.conversations
        admitted = self.people.admit(visitor.address, now)
        with self.listeners.listen(visitor.address, page=False) as queue:
            assert queue is not None
            try:
                begun = await service.session_of(person) is not None
                await self._channel.begin(
                    visitor.address, visitor.public, self._services.clock.now(), known=begun
                )
                if not begun and not isinstance(event, Start):
                    event = await self._begin(request, person, event, pressed)
                if admitted is None:
                    return self._nothing_done(request, 429)
                unsent = admitted is False and typed is not None
                if admitted is False:  # the person is told to slow down; their text was not sent
                    event, typed = TooFast(), None
                keep: tuple[str, ...] = ()
                content = None
                if typed is not None:
                    ref = await self._channel.add(visitor.address, "person", typed)
                    keep, content = (ref,), Content(ref, text=typed)
                dialogue = await service.handle(
                    Inbound(person, event, keep=keep, pressed=pressed, content=content)
                )
            except Exception:
                log.exception("a web turn failed")
                return self._nothing_done(request, 500)
            if dialogue is None:  # they erased the conversation ("Chat löschen", /exit)
                self._channel.forget(visitor.address)
                return self._gone(request)
            ops = _drain(queue)
        if not _wants_json(request):
            return RedirectResponse("/", status_code=303)
        engine = self._services.engines.engine
        language = (dialogue.language or engine.default_language).split("@")[0]
        # "unsent": the page puts the text back in the box, to send once they may again
        return JSONResponse({"ops": ops, "lang": language, "unsent": unsent})

    async def _begin(
        self, request: Request, person: PersonAddress, event: Event, pressed: str | None
    ) -> Event:
        """The first turn of a conversation: its start. A language pressed on the first screen
        (shown before anything was stored) is the start in that language; anything else follows
        the start."""
        language = event.data if isinstance(event, ButtonPressed) else ""
        if pressed == PREVIEW and language.startswith(LANGUAGE_PREFIX):
            return Start(language=language.removeprefix(LANGUAGE_PREFIX))
        await self._services.conversations.handle(
            Inbound(person, Start(language_hint=_hint(request)))
        )
        return event

    async def _log(self, visitor: Visitor, request: Request) -> tuple[Session, list[Entry]]:
        """The person's conversation and its log; without one, the first screen (shown without
        storing anything)."""
        dialogue = await self._services.conversations.session_of(self._person(visitor))
        entries = await self._channel.opened(visitor) if dialogue is not None else []
        if dialogue is None or not entries:
            engine = self._services.engines.engine
            dialogue, actions = engine.step(
                Session(channel=CHANNEL), Start(language_hint=_hint(request))
            )
            entries = _preview(actions)
        return dialogue, entries

    async def _sync(self, visitor: Visitor, request: Request) -> Op:
        """The whole log as the page shows it, for a page whose live stream (re)connects: the
        first screen for a newcomer (an empty log would blank the page they were just shown)."""
        _, entries = await self._log(visitor, request)
        current = _current(entries)
        return {"sync": "".join(self.entry_html(e, "", e.ref == current) for e in entries)}

    # -- helpers ---------------------------------------------------------------------------------

    def entry_html(self, entry: Entry, token: str, current: bool) -> Markup:
        return Markup(self._entry.render(entry=entry, token=token, current=current))

    def _nothing_done(self, request: Request, status: int) -> Response:
        """A post that changed nothing (refused, failed, or empty): the script hears the status,
        a browser without JavaScript gets the page again."""
        if _wants_json(request):
            return JSONResponse({"ops": []}, status_code=status)
        return RedirectResponse("/", status_code=303)

    def _gone(self, request: Request) -> Response:
        response: Response = (
            JSONResponse({"exit": True})
            if _wants_json(request)
            else RedirectResponse(self.setup.exit_url, status_code=303)
        )
        response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    def _set_cookie(self, response: Response, visitor: Visitor, request: Request) -> None:
        response.set_cookie(
            COOKIE,
            visitor.cookie,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )  # no max_age, no expires: the browser drops it when it closes

    def _person(self, visitor: Visitor) -> PersonAddress:
        return PersonAddress(CHANNEL, visitor.address)

    def _client(self, request: Request) -> bytes | None:
        """The client's address as a key of this process only, never the address itself; None
        for a client on this machine: the reverse proxy, which passes no address on and limits
        each client itself (deploy/nginx.conf), or a test."""
        host = request.client.host if request.client else ""
        try:
            if ipaddress.ip_address(host).is_loopback:
                return None
        except ValueError:  # no address at all (a Unix socket): nothing to tell clients apart
            return None
        return hashlib.blake2b(host.encode(), key=self._client_key, digest_size=16).digest()

    @property
    def _services(self) -> Services:
        assert self.services is not None, "the web chat is not started"
        return self.services

    @property
    def _channel(self) -> WebPersonChannel:
        assert self.channel is not None
        return self.channel


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the runtime stops it on SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Headers:
    """Every answer's headers: nothing cached, no referrer, no other host, no framing."""

    def __init__(self, app: ASGIApp, exit_url: str) -> None:
        self.app = app
        exit_origin = "{0.scheme}://{0.netloc}".format(urlsplit(exit_url))
        policy = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "media-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; "
            f"form-action 'self' {exit_origin}"
        )
        self.headers = [
            (b"cache-control", b"no-store"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (
                b"permissions-policy",
                b"camera=(), microphone=(), geolocation=(), interest-cohort=()",
            ),
            (b"x-robots-tag", b"noindex, nofollow"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)


_ASSETS = {"chat.js": "text/javascript", "chat.css": "text/css", "icon.svg": "image/svg+xml"}


async def _form(request: Request) -> dict[str, str]:
    """The posted form, the first value of each field; empty (so refused for its missing token)
    over BODY_LIMIT or FORM_FIELDS, or when the client went away before sending all of it."""
    length = request.headers.get("content-length")
    if length is not None and (
        not length.isascii() or not length.isdigit() or int(length) > BODY_LIMIT
    ):
        return {}
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > BODY_LIMIT:
                return {}
    except ClientDisconnect:  # gone before the body was complete: nobody waits for an answer
        return {}
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=FORM_FIELDS)
    except ValueError:  # more fields than any form of ours: refused like a forged one
        return {}
    return {name: values[0] for name, values in fields.items()}


def _preview(actions: tuple[object, ...]) -> list[Entry]:
    """The first screen of a conversation not begun, shown without a session."""
    return [Entry.screen(int(PREVIEW), a) for a in actions if isinstance(a, Show)][:1]


def _current(entries: list[Entry]) -> int | None:
    """The screen whose buttons the page shows: the newest one."""
    return max((entry.ref for entry in entries if entry.kind == "screen"), default=None)


def _hint(request: Request) -> str | None:
    """The browser's first language, as Telegram gives the app's (never stored)."""
    accepted = request.headers.get("accept-language", "")
    first = accepted.split(",", 1)[0].split(";", 1)[0].strip()
    return first.replace("-", "_").split("_", 1)[0].lower() or None


def _direction(language: str) -> str:
    try:
        return Locale.parse(language.split("@")[0]).text_direction
    except (UnknownLocaleError, ValueError):
        return "ltr"


def _wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def _drain(queue: asyncio.Queue[Op | None]) -> list[Op]:
    ops = []
    while not queue.empty():
        op = queue.get_nowait()
        if op is not None:
            ops.append(op)
    return ops


def _event(op: Op) -> str:
    return f"data: {json.dumps(op, ensure_ascii=False)}\n\n"


# Errors answer with their status and nothing else: a deliberate silence, not a traceback.


async def _not_found(request: Request, error: object) -> Response:
    return Response(status_code=404)


async def _not_allowed(request: Request, error: object) -> Response:
    return Response(status_code=405)


async def _failed(request: Request, error: object) -> Response:
    log.error("web request failed", extra={"error": type(error).__name__})
    return Response(status_code=500)
