"""Benchmark of the web chat: turns through HTTP against Telegram's path, the first screen's bytes,
and the real `wegweiser run` process holding 1,000 live connections under the issue's target load.

Four parts, one after the other:
  1. first screen: a browser's first visit (no cookie): the page and everything it links to (the
     script, the style sheet, the icon), headers and bodies as they come over the wire (the
     server does not compress). Target: under 60 KB (60,000 bytes) in all.
  2. turns per second, closed loop, as bench_bot.py measures Telegram: N people at once, one turn
     in flight each (the next as soon as the answer arrived): the language press, then K turns,
     each a press of a button of the current screen (seeded, never "delete chat" or a language)
     or, every fourth, a typed text; POST /p and /s with X-Requested-With: fetch, answered with
     the JSON ops a page with JavaScript applies. Four runs:
       web (own process)  `wegweiser run` in a subprocess, the load generator here;
       web (this process) the runtime in this process and event loop, as the Telegram runs are;
       telegram           bench_bot's run: the runtime against the fake Bot API, all in this
                          process, held to Telegram's 30 messages a second (AIORateLimiter);
       telegram, lifted   the same without that overall limit: the bot's own cost.
  3. live connections: a fresh `wegweiser run` subprocess; P people begin a conversation, then
     each opens GET /e (a server-sent event stream, with its own session cookie) and keeps it
     open; the server's resident memory (psutil) before and with the streams open.
  4. target load: with those streams open, each person takes a turn every 5 s (staggered: 200
     turns a second from 1,000 people) for S seconds; every live update the server pushes is
     read. Latency is from sending the request to its complete JSON answer. Targets on this
     2-core machine: the offered turns all answered (>= 98% of the offered rate sustained, no
     error), p99 under 100 ms, the server's peak resident memory under 150 MB (10^6 bytes).

The server runs as `python -m bot run` (the `wegweiser run` entry point) in a folder of its own
under a temporary directory: a fresh SQLite file (WEGWEISER_DATABASE), no Telegram token, the web
chat on a free port (WEGWEISER_WEB_PORT=0, read from its log), the shipped flows and the example
deployment with its flood limits raised (limits.burst, per_minute, client_burst,
client_per_minute in WEGWEISER_CONFIG: all load comes from 127.0.0.1, which the per-address limit
of 120 + 1200 a minute would otherwise refuse; the shipped default stays). The load generator is
aiohttp in this process (two connection pools: one for the streams, one of keep-alive
connections for the turns), so it runs on the other core; the CPU time of both is printed.

Each target prints a line, "met" or "below target" with its figure; a figure never fails the run
(a shared machine moves it). An error exits 1: a turn or a stream failed, or the server logged a
warning or an error under the load (a count lost, a turn failed); a harness that breaks (the
server does not start) exits 2. --quick is CI's form: fewer people and seconds, every figure
printed. Run from the project root:

    .venv/bin/python tests/bench/bench_web.py            # full: 200 x (1 + 10); 1,000 x 30 s
    .venv/bin/python tests/bench/bench_web.py --quick    # CI: 30 x (1 + 4); 1,000 x 6 s
    .venv/bin/python tests/bench/bench_web.py --json bench_web.json
    .venv/bin/python tests/bench/bench_web.py --py-spy server.svg   # + py-spy (pip install
                                                    # py-spy) of the server under the target load
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.channels.telegram import BotSetup
from bot.channels.web.app import WebSetup
from bot.config import EXAMPLE_DEPLOYMENT, PROJECT_ROOT, Deployment
from bot.dialogue.engine import GLOBAL_PREFIX, LANGUAGE_PREFIX
from bot.logs import configure_logging
from bot.runtime import Runtime
from bot.store import SecretKeys
from tests.bench import bench_bot
from tests.bench.bench_bot import Load, percentile
from tests.bench.report import table, verdict_lines
from tests.conftest import SHIPPED_FLOWS, engine_for

SECRET = "bench-web-secret-key-0123456789abcdefghijklmnop"  # for this script only
SEED = 20261202
LANGUAGE = f"{LANGUAGE_PREFIX}de"
# Buttons people never press: leaving (erases the session), the language list, disappearing mode.
AVOIDED = (f"{GLOBAL_PREFIX}exit", f"{GLOBAL_PREFIX}language", LANGUAGE_PREFIX, "!vanish:")
TYPED = ("Beratung", "Hallo, ich habe eine Frage", "Arzt", "Geld")  # every fourth turn
RAISED = 10**7  # a flood gate the load never reaches
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
FIRST_SCREEN_LIMIT = 60_000  # bytes
P99_LIMIT_MS = 100.0
RSS_LIMIT_MB = 150.0  # 10^6 bytes
SUSTAINED = 0.98  # of the offered turns per second

SCREEN_FORM = re.compile(r'<form method="post" action="/p" class="choices">(.*?)</form>', re.S)
SCREEN_REF = re.compile(r'name="screen" value="(\d+)"')
CHOICE = re.compile(r'name="choice" value="([^"]*)"')
TOKEN = re.compile(r'<meta name="t" content="([^"]*)">')
LINKED = re.compile(r'(?:href|src)="(/[^"]*)"')


@dataclass(frozen=True)
class Mode:
    persons: int  # closed loop: at once
    turns: int  # closed loop: after the language press
    warm_persons: int
    live: int  # people with a stream open
    every: float  # seconds between one person's turns under the target load
    seconds: float  # of the target load
    turn_timeout: float
    run_timeout: float


FULL = Mode(
    persons=200,
    turns=10,
    warm_persons=20,
    live=1000,
    every=5.0,
    seconds=30.0,
    turn_timeout=20,
    run_timeout=300,
)
QUICK = Mode(
    persons=30,
    turns=4,
    warm_persons=5,
    live=1000,
    every=5.0,
    seconds=6.0,
    turn_timeout=10,
    run_timeout=30,
)


class HarnessBroken(Exception):
    """The benchmark could not do its part: the server did not start, a request failed."""


# ---------------------------------------------------------------------------------- the server


def bench_config(example: str) -> str:
    """The example deployment with a flood gate the load never reaches (per person and per
    client address)."""
    keys = ("burst", "per_minute", "client_burst", "client_per_minute")
    lines = [
        f"  {line.split(':', 1)[0].strip()}: {RAISED}"
        if line.startswith("  ") and line.split(":", 1)[0].strip() in keys
        else line
        for line in example.splitlines()
    ]
    config = "\n".join(lines) + "\n"
    assert config.count(f": {RAISED}") == len(keys), "the example deployment's limits moved"
    return config


def bench_deployment() -> Deployment:
    """The same for a runtime in this process."""
    deployment = bench_bot.bench_deployment()
    limits = deployment.limits.model_copy(
        update={"client_burst": RAISED, "client_per_minute": RAISED}
    )
    return deployment.model_copy(update={"limits": limits})


class ServerProcess:
    """`wegweiser run` (web chat only) in a folder of its own, its log in a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()
        config = folder / "config.yaml"
        config.write_text(bench_config(EXAMPLE_DEPLOYMENT.read_text("utf-8")), "utf-8")
        self.environment = {
            key: value for key, value in os.environ.items() if not key.startswith("WEGWEISER_")
        } | {
            "WEGWEISER_SECRET_KEY": SECRET,
            "WEGWEISER_CONFIG": str(config),
            "WEGWEISER_DATABASE": str(folder / "wegweiser.sqlite3"),
            "WEGWEISER_WEB_PORT": "0",
            "WEGWEISER_FLOWS": str(PROJECT_ROOT / "flows"),
            "WEGWEISER_LOCALES": str(PROJECT_ROOT / "locales"),
        }
        self.log_path = folder / "run.log"
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        self._log = open(self.log_path, "wb")  # noqa: SIM115  # closed in stop()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.folder,
            env=self.environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise HarnessBroken(f"wegweiser run exited: {self.log_tail()}")
            for event in self.events():
                if event.get("event") == "web chat listening":
                    self.url = str(event["url"]).rstrip("/")
                    return
            await asyncio.sleep(0.05)
        raise HarnessBroken(f"wegweiser run did not listen within {START_TIMEOUT} s")

    def events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log_path.read_text("utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                with suppress(json.JSONDecodeError):
                    events.append(json.loads(line))
        return events

    def warnings(self) -> Counter[str]:
        """What the server logged at WARNING or above once it listened, by event: under load
        nothing should be (a lost count, a failed turn)."""
        events = self.events()
        started = next(
            (i for i, event in enumerate(events) if event.get("event") == "web chat listening"), 0
        )
        return Counter(
            str(event.get("event"))
            for event in events[started:]
            if event.get("level") in ("WARNING", "ERROR", "CRITICAL")
        )

    def log_tail(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")[-2000:]

    def rss_mb(self) -> float:
        return psutil.Process(self.pid).memory_info().rss / 1e6

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return times.user + times.system

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; its exit code."""
        if self.process is None:
            return -1
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.process.returncode if self.process.returncode is not None else -1


SERVER_WARNINGS: Counter[str] = Counter()  # of every server process this run started


@asynccontextmanager
async def server_process(folder: Path) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(folder)
    try:
        await server.start()
        yield server
    finally:
        code = await server.stop()
        SERVER_WARNINGS.update(server.warnings())
        tracebacks = server.log_path.read_text("utf-8", errors="replace").count("Traceback")
        if tracebacks:
            print(f"  ! the server logged {tracebacks} tracebacks; {server.log_tail()}", flush=True)
        if code != 0:
            print(f"  ! the server exited with {code}", flush=True)


@asynccontextmanager
async def server_here(folder: Path) -> AsyncIterator[str]:
    """The runtime with the web chat only, in this process; yields its URL."""
    folder.mkdir()
    deployment = bench_deployment()
    setup = BotSetup(
        token=None,
        api_url="http://127.0.0.1:9/bot",
        database=folder / "wegweiser.sqlite3",
        keys=SecretKeys(SECRET),
        deployment=deployment,
    )
    runtime = Runtime(
        engine_for(SHIPPED_FLOWS, deployment), setup, WebSetup(port=0, media_root=SHIPPED_FLOWS)
    )
    await asyncio.wait_for(runtime.start(), START_TIMEOUT)
    try:
        assert runtime.web is not None
        yield runtime.web.url.rstrip("/")
    finally:
        await asyncio.wait_for(runtime.stop(), START_TIMEOUT)


# ---------------------------------------------------------------------------------- the people


class Failed(Exception):
    """A turn was not answered as it should be."""


@dataclass
class Visitor:
    """One person with a browser running the page's script: their cookie, their form token and
    the current screen, from the answers."""

    number: int
    cookie: str = ""
    token: str = ""
    screen: str = "0"
    choices: list[str] = field(default_factory=list)
    turns: int = 0
    rng: random.Random = field(default_factory=random.Random)

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"s={self.cookie}", "X-Requested-With": "fetch"}

    def read_screen(self, fragment: str) -> None:
        forms = SCREEN_FORM.findall(fragment)
        if not forms:
            return
        ref = SCREEN_REF.search(forms[-1])
        if ref is not None:
            self.screen = ref.group(1)
        self.choices = [html.unescape(value) for value in CHOICE.findall(forms[-1])]


async def visit(client: aiohttp.ClientSession, url: str, number: int) -> Visitor:
    """The first visit: the page without a cookie; it sets one."""
    visitor = Visitor(number, rng=random.Random(SEED + number))
    async with client.get(f"{url}/") as reply:
        body = await reply.text()
        morsel = reply.cookies.get("s")
        if reply.status != 200 or morsel is None:
            raise Failed(f"GET / answered {reply.status} without a cookie")
        visitor.cookie = morsel.value
    token = TOKEN.search(body)
    if token is None:
        raise Failed("the page has no form token")
    visitor.token = token.group(1)
    visitor.read_screen(body)
    return visitor


async def post(
    client: aiohttp.ClientSession, url: str, visitor: Visitor, path: str, form: dict[str, str]
) -> None:
    async with client.post(
        f"{url}{path}", data={"t": visitor.token, **form}, headers=visitor.headers
    ) as reply:
        if reply.status != 200:
            raise Failed(f"POST {path} answered {reply.status}")
        answer = await reply.json()
    if answer.get("exit"):
        raise Failed(f"POST {path} ended the conversation")
    for op in answer.get("ops", []):
        if "html" in op:
            visitor.read_screen(op["html"])
    visitor.turns += 1


async def take_turn(client: aiohttp.ClientSession, url: str, visitor: Visitor) -> None:
    """The language press first, then a button of the current screen, every fourth a typed
    text."""
    if visitor.turns == 0:
        await post(client, url, visitor, "/p", {"choice": LANGUAGE, "screen": visitor.screen})
        return
    choices = [choice for choice in visitor.choices if not choice.startswith(AVOIDED)]
    if visitor.turns % 4 == 3 or not choices:
        await post(client, url, visitor, "/s", {"text": visitor.rng.choice(TYPED)})
    else:
        choice = visitor.rng.choice(choices)
        await post(client, url, visitor, "/p", {"choice": choice, "screen": visitor.screen})


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds
    failures: list[str] = field(default_factory=list)

    def fail(self, error: BaseException) -> None:
        self.failures.append(f"{type(error).__name__}: {error}")


async def timed_turn(
    client: aiohttp.ClientSession, url: str, visitor: Visitor, tally: Tally, timeout: float
) -> bool:
    began = time.monotonic()
    try:
        await asyncio.wait_for(take_turn(client, url, visitor), timeout)
    except (Failed, aiohttp.ClientError, TimeoutError, ValueError) as error:
        tally.fail(error)
        return False
    tally.latencies.append(time.monotonic() - began)
    return True


def turns_pool(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        # idle connections are given up before uvicorn closes them (after 5 s), so that a turn
        # never goes out on a connection the server is closing
        connector=aiohttp.TCPConnector(limit=connections, keepalive_timeout=2),
        cookie_jar=aiohttp.DummyCookieJar(),  # each visitor's cookie goes in its own header
        timeout=aiohttp.ClientTimeout(total=60),
    )


async def bounded(
    items: Sequence[int], work: Callable[[int], Awaitable[object]], at_once: int
) -> list[object]:
    """`work` for every item, at most `at_once` at a time; the outcomes (or exceptions)."""
    gate = asyncio.Semaphore(at_once)

    async def one(item: int) -> object:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(item) for item in items), return_exceptions=True))


# -------------------------------------------------------------------------------- part 1: bytes


@dataclass(frozen=True)
class Transfer:
    path: str
    status: int
    header_bytes: int
    body_bytes: int


async def first_screen(url: str) -> list[Transfer]:
    """The page as a first visit gets it and what it links to, in bytes on the wire (headers as
    sent: status line, header lines, the blank line; the body as sent, uncompressed)."""
    transfers = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client:
        paths = ["/"]
        while paths:
            path = paths.pop(0)
            async with client.get(f"{url}{path}", headers={"Accept-Encoding": "gzip, br"}) as reply:
                body = await reply.read()
                head = len(f"HTTP/1.1 {reply.status} {reply.reason}\r\n".encode()) + 2
                head += sum(len(k) + len(v) + 4 for k, v in reply.raw_headers)
                transfers.append(Transfer(path, reply.status, head, len(body)))
            if path == "/":
                linked = dict.fromkeys(LINKED.findall(body.decode("utf-8", "replace")))
                paths += [link for link in linked if link != "/" and not link.startswith("/?")]
    return transfers


# --------------------------------------------------------------------------- part 2: turns/s


async def closed_loop(url: str, mode: Mode, first: int, persons: int) -> Load:
    """`persons` people at once, each the language press then `mode.turns` turns, one in flight
    each; wall time from the first turn to the last answer."""
    tally = Tally()
    async with turns_pool(persons) as client:
        visitors = await asyncio.gather(
            *(visit(client, url, first + index) for index in range(persons))
        )

        async def converse(visitor: Visitor) -> None:
            for _ in range(1 + mode.turns):
                if not await timed_turn(client, url, visitor, tally, mode.turn_timeout):
                    return

        began = time.monotonic()
        await asyncio.wait_for(
            asyncio.gather(*(converse(visitor) for visitor in visitors)), mode.run_timeout
        )
        seconds = time.monotonic() - began
    return load_of(tally, persons, mode.turns, seconds)


def load_of(tally: Tally, persons: int, presses: int, seconds: float) -> Load:
    for failure in tally.failures[:3]:
        print(f"  ! {failure}", flush=True)
    latencies_ms = [latency * 1e3 for latency in tally.latencies]
    return Load(
        persons=persons,
        presses=presses,
        updates=len(latencies_ms),
        stalled=len(tally.failures),
        seconds=seconds,
        updates_per_second=len(latencies_ms) / seconds,
        p50_ms=statistics.median(latencies_ms) if latencies_ms else float("nan"),
        p99_ms=percentile(latencies_ms, 0.99),
        max_ms=max(latencies_ms, default=float("nan")),
        complete=not tally.failures,
    )


@dataclass(frozen=True)
class Channel:
    name: str
    load: Load


async def web_runs(folder: Path, mode: Mode) -> list[Channel]:
    runs = []
    async with server_process(folder / "closed-loop") as server:
        await closed_loop(server.url, mode, 0, mode.warm_persons)
        load = await closed_loop(server.url, mode, 10_000, mode.persons)
    print(f"  web (own process): {load.updates} turns in {load.seconds:.1f} s", flush=True)
    runs.append(Channel("web, server in its own process", load))
    async with server_here(folder / "in-process") as url:
        await closed_loop(url, mode, 0, mode.warm_persons)
        load = await closed_loop(url, mode, 10_000, mode.persons)
    print(f"  web (this process): {load.updates} turns in {load.seconds:.1f} s", flush=True)
    runs.append(Channel("web, in this process", load))
    return runs


async def telegram_runs(mode: Mode) -> list[Channel]:
    bot_mode = bench_bot.Mode(
        persons=mode.persons,
        presses=mode.turns,
        warm_persons=mode.warm_persons,
        warm_presses=2,
        turn_timeout=mode.turn_timeout,
        run_timeout=mode.run_timeout,
    )
    deployment = bench_bot.bench_deployment()
    runs = []
    for limit in (True, False):
        run = await bench_bot.run_wegweiser(
            bot_mode, deployment, telegram_limit=limit, profiler=None
        )
        name = "telegram (fake Bot API, 30/s limit)" if limit else "telegram, 30/s limit lifted"
        runs.append(Channel(name, run.load))
    return runs


# ------------------------------------------------------------------- parts 3 and 4: live load


@dataclass
class Streams:
    """The open live streams and what they received."""

    opened: int = 0
    events: int = 0
    failures: list[str] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0


async def listen(
    client: aiohttp.ClientSession, url: str, visitor: Visitor, streams: Streams
) -> None:
    """GET /e with the visitor's cookie, read until the server ends it or this is cancelled."""
    try:
        async with client.get(f"{url}/e", headers={"Cookie": f"s={visitor.cookie}"}) as reply:
            if reply.status != 200:
                raise Failed(f"GET /e answered {reply.status}")
            first = True
            async for line in reply.content:
                if not line.startswith(b"data: "):
                    continue
                if first:  # the sync of the whole log: the stream is live
                    first = False
                    streams.opened += 1
                    if streams.opened >= streams.expected:
                        streams.ready.set()
                else:
                    streams.events += 1
    except asyncio.CancelledError:
        raise
    except (Failed, aiohttp.ClientError, ValueError) as error:
        streams.failures.append(f"{type(error).__name__}: {error}")
        streams.ready.set()


@dataclass(frozen=True)
class Live:
    people: int
    rss_idle_mb: float  # the server started, nothing done
    rss_sessions_mb: float  # every person began a conversation
    rss_streams_mb: float  # with every stream open
    streams_opened: int
    open_seconds: float


@dataclass(frozen=True)
class Target:
    people: int
    every: float
    seconds: float
    offered_per_second: float
    load: Load
    sustained_per_second: float
    late: int  # turns sent more than 50 ms after their time (the load generator fell behind)
    rss_peak_mb: float
    rss_after_mb: float
    live_events: int
    streams_open_after: int
    server_cpu: float  # share of one core during the load
    generator_cpu: float


async def sample_rss(server: ServerProcess, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], server.rss_mb())
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def live_and_target(
    folder: Path, mode: Mode, py_spy: Path | None
) -> tuple[Live, Target, list[str]]:
    async with server_process(folder / "live") as server:
        url = server.url
        await asyncio.sleep(0.5)
        rss_idle = server.rss_mb()
        turns = turns_pool(100)
        stream_pool = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None, sock_read=None),
        )
        listening: list[asyncio.Task[None]] = []
        try:
            visited = await bounded(
                range(mode.live), lambda number: visit(turns, url, number), at_once=50
            )
            visitors = [v for v in visited if isinstance(v, Visitor)]
            if len(visitors) < mode.live:
                raise HarnessBroken(f"only {len(visitors)} of {mode.live} people got the page")
            begun = Tally()
            await bounded(
                range(mode.live),
                lambda index: timed_turn(turns, url, visitors[index], begun, mode.turn_timeout),
                at_once=50,
            )
            if begun.failures:
                raise HarnessBroken(f"beginning a conversation failed: {begun.failures[0]}")
            await asyncio.sleep(0.5)
            rss_sessions = server.rss_mb()

            streams = Streams(expected=mode.live)
            began = time.monotonic()
            listening = [
                asyncio.create_task(listen(stream_pool, url, visitor, streams))
                for visitor in visitors
            ]
            with suppress(TimeoutError):
                await asyncio.wait_for(streams.ready.wait(), START_TIMEOUT)
            open_seconds = time.monotonic() - began
            if streams.failures or streams.opened < mode.live:
                raise HarnessBroken(
                    f"{streams.opened} of {mode.live} streams opened: {streams.failures[:1]}"
                )
            await asyncio.sleep(1.0)
            live = Live(
                mode.live, rss_idle, rss_sessions, server.rss_mb(), streams.opened, open_seconds
            )
            print(
                f"  live: {streams.opened} streams open in {open_seconds:.1f} s,"
                f" {live.rss_streams_mb:.1f} MB",
                flush=True,
            )
            target = await target_load(server, turns, visitors, streams, mode, py_spy)
            streams_after = sum(1 for task in listening if not task.done())
            target = replace(target, streams_open_after=streams_after)
            failures = streams.failures
        finally:
            for task in listening:
                task.cancel()
            await asyncio.gather(*listening, return_exceptions=True)
            await stream_pool.close()
            await turns.close()
    return live, target, failures


async def target_load(
    server: ServerProcess,
    client: aiohttp.ClientSession,
    visitors: list[Visitor],
    streams: Streams,
    mode: Mode,
    py_spy: Path | None,
) -> Target:
    """Each visitor a turn every `mode.every` seconds, staggered evenly, for `mode.seconds`."""
    tally = Tally()
    late = [0]
    rounds = max(1, round(mode.seconds / mode.every))
    seconds = rounds * mode.every
    people = len(visitors)
    peak = [server.rss_mb()]
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(server, peak, stop))
    spy = await start_py_spy(server.pid, seconds, py_spy) if py_spy is not None else None
    events_before = streams.events
    server_cpu, own_cpu = server.cpu_seconds(), time.process_time()
    start = time.monotonic() + 0.2

    async def person(index: int, visitor: Visitor) -> None:
        for round_ in range(rounds):
            due = start + (index / people + round_) * mode.every
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if time.monotonic() - due > 0.05:
                late[0] += 1
            await timed_turn(client, server.url, visitor, tally, mode.turn_timeout)

    await asyncio.wait_for(
        asyncio.gather(*(person(index, visitor) for index, visitor in enumerate(visitors))),
        seconds + mode.run_timeout,
    )
    elapsed = time.monotonic() - start
    server_cpu, own_cpu = server.cpu_seconds() - server_cpu, time.process_time() - own_cpu
    await asyncio.sleep(0.5)  # the last pushes
    stop.set()
    await sampler
    if spy is not None:
        await stop_py_spy(spy)
    load = load_of(tally, people, rounds, elapsed)
    answered_in_window = len(tally.latencies)
    return Target(
        people=people,
        every=mode.every,
        seconds=seconds,
        offered_per_second=people / mode.every,
        load=load,
        sustained_per_second=answered_in_window / max(elapsed, seconds),
        late=late[0],
        rss_peak_mb=peak[0],
        rss_after_mb=server.rss_mb(),
        live_events=streams.events - events_before,
        streams_open_after=0,
        server_cpu=server_cpu / elapsed,
        generator_cpu=own_cpu / elapsed,
    )


async def start_py_spy(pid: int, seconds: float, path: Path) -> asyncio.subprocess.Process | None:
    executable = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(executable).exists():
        print("  ! py-spy is not installed (pip install py-spy): no profile", flush=True)
        return None
    fmt = {".json": "speedscope", ".txt": "raw"}.get(path.suffix, "flamegraph")
    return await asyncio.create_subprocess_exec(
        executable,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "200",
        "--format",
        fmt,
        "--output",
        str(path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def stop_py_spy(spy: asyncio.subprocess.Process) -> None:
    try:
        await asyncio.wait_for(spy.wait(), 30)
    except TimeoutError:
        spy.kill()
        await spy.wait()


# -------------------------------------------------------------------------------------- output


def verdicts(transfers: list[Transfer], target: Target) -> list[tuple[str, bool]]:
    """Each target with its figure, and whether it was met."""
    total = sum(t.header_bytes + t.body_bytes for t in transfers)
    load = target.load
    return [
        (
            f"first screen {total:,} bytes (target < {FIRST_SCREEN_LIMIT:,})",
            total < FIRST_SCREEN_LIMIT,
        ),
        (
            f"target load: {target.sustained_per_second:.1f} turns/s sustained of"
            f" {target.offered_per_second:.0f} offered, {load.stalled} failed"
            f" (target >= {SUSTAINED:.0%} of the offered, none failed)",
            target.sustained_per_second >= SUSTAINED * target.offered_per_second
            and load.stalled == 0,
        ),
        (
            f"target load: p99 {load.p99_ms:.1f} ms (target < {P99_LIMIT_MS:.0f} ms)",
            load.p99_ms < P99_LIMIT_MS,
        ),
        (
            f"target load: peak resident memory {target.rss_peak_mb:.1f} MB with"
            f" {target.people:,} live connections (target < {RSS_LIMIT_MB:.0f} MB)",
            target.rss_peak_mb < RSS_LIMIT_MB,
        ),
    ]


def load_row(name: str, load: Load) -> list[str]:
    return [
        name,
        str(load.updates),
        f"{load.seconds:.2f}",
        f"{load.updates_per_second:,.0f}",
        f"{load.p50_ms:.1f}",
        f"{load.p99_ms:.1f}",
        f"{load.max_ms:.1f}",
        "yes" if load.complete else f"NO ({load.stalled} failed)",
    ]


async def run_all(mode: Mode, py_spy: Path | None) -> dict[str, Any]:
    engine_for(SHIPPED_FLOWS, bench_deployment())  # loads and checks once before anything is timed
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-web-") as temporary:
        folder = Path(temporary)
        async with server_process(folder / "first-screen") as server:
            transfers = await first_screen(server.url)
        print("  first screen: fetched", flush=True)
        channels = await web_runs(folder, mode)
        channels += await telegram_runs(mode)
        live, target, stream_failures = await live_and_target(folder, mode, py_spy)
    return {
        "transfers": transfers,
        "channels": channels,
        "live": live,
        "target": target,
        "stream_failures": stream_failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer people and seconds (CI)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="PATH",
        help="record the server with py-spy during the target load (.svg flame graph, .json "
        "speedscope, .txt collapsed stacks)",
    )
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    began = time.perf_counter()

    print(f"Python {platform.python_version()} ({platform.python_implementation()})")
    print(f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    load_before = os.getloadavg()[0]
    print(
        f"mode: {'quick' if args.quick else 'full'}: closed loop {mode.persons} people x"
        f" (1 + {mode.turns}) turns; {mode.live} live connections, a turn every {mode.every:g} s"
        f" each for {mode.seconds:g} s"
    )
    print(
        "server: `wegweiser run` (python -m bot run) in its own process, web chat only, fresh"
        " SQLite file, flood limits raised in its deployment file (limits.burst, per_minute,"
        " client_burst, client_per_minute); load generator: aiohttp in this process"
    )
    print("runs:", flush=True)
    with open(os.devnull, "w", encoding="utf-8") as sink:
        configure_logging("INFO", "json", stream=sink)  # the in-process runs, as `wegweiser run`
        try:
            figures = asyncio.run(run_all(mode, args.py_spy))
        except HarnessBroken as error:
            print(f"the benchmark broke: {error}", file=sys.stderr)
            return 2
    transfers: list[Transfer] = figures["transfers"]
    channels: list[Channel] = figures["channels"]
    live: Live = figures["live"]
    target: Target = figures["target"]

    print()
    print("1. first screen (a first visit, no cookie; uncompressed, as served)")
    total = sum(t.header_bytes + t.body_bytes for t in transfers)
    print(
        table(
            ["path", "status", "header bytes", "body bytes", "total"],
            [
                [
                    t.path,
                    str(t.status),
                    f"{t.header_bytes:,}",
                    f"{t.body_bytes:,}",
                    f"{t.header_bytes + t.body_bytes:,}",
                ]
                for t in transfers
            ]
            + [["all", "", "", "", f"{total:,}"]],
        )
    )
    print()
    print(
        f"2. turns, closed loop: {mode.persons} people at once, one turn in flight each"
        " (web: POST /p and /s, JSON answer; telegram: updates through the fake Bot API)"
    )
    print(
        table(
            ["channel", "turns", "seconds", "turns/s", "p50 ms", "p99 ms", "max ms", "complete"],
            [load_row(channel.name, channel.load) for channel in channels],
        )
    )
    _, web_here, _, lifted = channels
    print(
        f"web (this process) / telegram (limit lifted) throughput:"
        f" {web_here.load.updates_per_second / lifted.load.updates_per_second:.2f}"
        " (both with the load generator in the server's process and loop)"
    )
    print()
    print(f"3. live connections: {live.people:,} people, each with GET /e open (own cookie)")
    print(
        table(
            ["server state", "resident MB"],
            [
                ["started, idle", f"{live.rss_idle_mb:.1f}"],
                [f"{live.people:,} conversations begun", f"{live.rss_sessions_mb:.1f}"],
                [f"{live.streams_opened:,} streams open", f"{live.rss_streams_mb:.1f}"],
                [
                    "per open stream (KB)",
                    f"{(live.rss_streams_mb - live.rss_sessions_mb) * 1e3 / live.people:.1f}",
                ],
            ],
        )
    )
    print(f"streams opened in {live.open_seconds:.1f} s")
    print()
    print(
        f"4. target load: {target.people:,} people connected, a turn every {target.every:g} s"
        f" each ({target.offered_per_second:.0f} turns/s offered) for {target.seconds:g} s"
    )
    print(
        table(
            [
                "turns",
                "turns/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "failed",
                "late",
                "peak MB",
                "after MB",
            ],
            [
                [
                    str(target.load.updates),
                    f"{target.sustained_per_second:.1f}",
                    f"{target.load.p50_ms:.1f}",
                    f"{target.load.p99_ms:.1f}",
                    f"{target.load.max_ms:.1f}",
                    str(target.load.stalled),
                    str(target.late),
                    f"{target.rss_peak_mb:.1f}",
                    f"{target.rss_after_mb:.1f}",
                ]
            ],
        )
    )
    print(
        f"live updates read from the streams: {target.live_events:,};"
        f" streams still open after: {target.streams_open_after:,} of {target.people:,};"
        f" CPU: server {target.server_cpu:.0%} of a core"
        f" ({target.server_cpu * 1e3 / target.sustained_per_second:.2f} ms a turn), load"
        f" generator {target.generator_cpu:.0%}"
    )
    print("(late: turns the load generator sent more than 50 ms after their time)")
    print(
        f"machine load average (1 min): {load_before:.2f} before the run, {os.getloadavg()[0]:.2f}"
        f" after, on {os.cpu_count()} CPUs (other work on the machine lengthens every latency)"
    )
    print()
    checks = verdicts(transfers, target)
    for line in verdict_lines(checks):
        print(line)
    broken = [
        f"{channel.name}: {channel.load.stalled} turns failed"
        for channel in channels
        if not channel.load.complete
    ]
    if target.load.stalled:
        broken.append(f"target load: {target.load.stalled} turns failed")
    broken += [
        f"the server logged {count} x {event!r}" for event, count in SERVER_WARNINGS.most_common()
    ]
    if figures["stream_failures"] or target.streams_open_after < target.people:
        broken.append(
            f"live streams: {target.people - target.streams_open_after} closed early"
            f" {figures['stream_failures'][:1]}"
        )
    for line in broken:
        print(f"error: {line}")
    total_seconds = time.perf_counter() - began
    print()
    print(f"total {total_seconds:.1f} s")

    if args.json is not None:
        document = {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "mode": "quick" if args.quick else "full",
            "first_screen": [asdict(t) for t in transfers],
            "first_screen_bytes": total,
            "channels": [asdict(channel) for channel in channels],
            "live": asdict(live),
            "target": asdict(target),
            "targets": [{"what": what, "met": met} for what, met in checks],
            "errors": broken,
            "total_seconds": total_seconds,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    if py_spy := args.py_spy:
        print(f"py-spy profile of the server during the target load: {py_spy}")
    if broken:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
