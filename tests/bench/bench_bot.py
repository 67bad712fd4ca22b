"""Benchmark of the Telegram channel: Wegweiser's real bot against a bare python-telegram-bot echo
bot, both polling the fake Bot API server (tests/fake_bot_api.py) on 127.0.0.1.

What is measured: updates per second and the latency of the bot's answer (from the moment an
update is injected into the fake server to the moment the bot's first answering call -
sendMessage, editMessageText, or a media send before a screen - arrives there) while N simulated
persons talk to the bot at the same time, each with one update in flight: a person's next update
is injected as soon as the bot answered the previous one (for Wegweiser: once the screen with its
buttons has arrived). Every person sends /start, then presses K buttons. Wegweiser's persons press
real buttons of their current screen (any but "delete chat" and "language", at random, seeded per
person), so the engine, the session store (a fresh SQLite file) and the delivery do real work.
The echo bot gets the same update types: it echoes the text with sendMessage, and a press on its
last message is answered (answerCallbackQuery) and edits that message's text.

Three runs, one after the other, each against a fresh server, each warmed up briefly first:
  1. echo:      ApplicationBuilder (same base_url, concurrent_updates(64) like Wegweiser's
                CONCURRENT_UPDATES, no rate limiter), one MessageHandler(filters.TEXT), one
                CallbackQueryHandler - python-telegram-bot's own cost per update, the baseline;
  2. wegweiser: the runtime exactly as `wegweiser run` builds it (shipped flows, the example
                deployment with its flood limits raised so the gate does not refuse the load
                generator's persons). Its RetryingRateLimiter is an AIORateLimiter, which holds
                all calls to chats to Telegram's broadcast limit of 30 per second; this run
                therefore shows that cap, not the bot's own overhead;
  3. wegweiser without the 30/s limit: the same bot with only the AIORateLimiter's overall limiter
                lifted (a private attribute, set by this script only): the bot's own cost.
Logging is configured as `wegweiser run` does by default (INFO, JSON), into /dev/null.

What is not measured: Telegram's network and its real limits. The fake server runs in the same
process and the same event loop as the bot, so its own work (HTTP parsing, JSON, bookkeeping) and
the load generator's count against both bots alike: the figures are the bot's overhead per update
relative to python-telegram-bot's own, not absolute capacity. The SQLite store works in its own
thread (aiosqlite), which can overlap with the event loop. Memory is the resident set of this
whole process (server and load generator included).

It prints figures and asserts nothing; it is not a test. Run from the project root:

    .venv/bin/python tests/bench/bench_bot.py             # full: 200 persons x (1 + 10) updates
    .venv/bin/python tests/bench/bench_bot.py --quick     # CI smoke: 50 persons x (1 + 5)
    .venv/bin/python tests/bench/bench_bot.py --json bench_bot.json
    .venv/bin/python tests/bench/bench_bot.py --profile   # + cProfile of run 3, top functions
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
from aiohttp import web
from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.channels.telegram import BotSetup
from bot.channels.telegram.app import CONCURRENT_UPDATES
from bot.config import EXAMPLE_DEPLOYMENT, Deployment, load_deployment
from bot.logs import configure_logging
from bot.runtime import Runtime
from bot.store import SecretKeys
from bot.store.sqlite import SQLiteStore
from tests.bench.report import table
from tests.channels.telegram.polling import POLL_TIMEOUT, start_polling, stop_polling
from tests.conftest import SHIPPED_FLOWS, engine_for
from tests.fake_bot_api import Call, FakeBotAPI, Person

SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstu"  # 48 characters, for this script only
assert len(SECRET) == 48
SEED = 20261125
# Calls that answer an update, as the person sees it (answerCallbackQuery only stops a spinner).
ANSWERING = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendAudio"})
# Buttons the load generator never presses: one ends the conversation, one repeats the language
# choice of a one-language deployment.
AVOIDED = ("!exit", "!language", "!lang:")
WARM_UP_IDS = 100_000_000  # person ids of the warm-up ...
MEASURED_IDS = 200_000_000  # ... and of the measured run, so that nobody starts half-way


@dataclass(frozen=True)
class Mode:
    persons: int  # talking at the same time
    presses: int  # buttons each presses after /start
    warm_persons: int
    warm_presses: int
    turn_timeout: float  # seconds one update may take before its person gives up
    run_timeout: float  # seconds one load run may take in all


FULL = Mode(
    persons=200, presses=10, warm_persons=20, warm_presses=3, turn_timeout=30, run_timeout=300
)
QUICK = Mode(
    persons=50, presses=5, warm_persons=10, warm_presses=2, turn_timeout=10, run_timeout=25
)
START_TIMEOUT = 15.0  # initialise + start polling, or stop


# ------------------------------------------------------------------------------ the fake server


@dataclass
class Turn:
    """One update of one person in flight: when the bot first answered, and a future that is
    resolved with the call that completes the answer."""

    complete: Callable[[Call], bool]
    future: asyncio.Future[Call]
    first_answer: float | None = None


class _Calls(list[Call]):
    """FakeBotAPI.calls that also tells the server which call each request handler records."""

    def __init__(self, server: ObservedBotAPI) -> None:
        super().__init__()
        self._server = server

    def append(self, call: Call) -> None:
        super().append(call)
        self._server.arrived(call)


class ObservedBotAPI(FakeBotAPI):
    """The fake server, reporting each answering call to the person waiting for it: as it arrives
    (its `at` is the latency's end) and once it is answered (the person's next update may go).

    FakeBotAPI.wait_for would let each person wait by scanning the calls on every new call; with
    hundreds of persons that would cost the shared event loop more than the bots do."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = _Calls(self)
        self.turns: dict[int, Turn] = {}  # chat id -> the update in flight
        self._handled_by: dict[asyncio.Task[Any] | None, Call] = {}

    def arrived(self, call: Call) -> None:
        self._handled_by[asyncio.current_task()] = call
        turn = self._turn(call)
        if turn is not None and turn.first_answer is None:
            turn.first_answer = call.at

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await super()._handle(request)
        finally:
            call = self._handled_by.pop(asyncio.current_task(), None)
            if call is not None:
                turn = self._turn(call)
                if turn is not None and not turn.future.done() and turn.complete(call):
                    turn.future.set_result(call)

    def _turn(self, call: Call) -> Turn | None:
        if call.method not in ANSWERING:
            return None
        chat_id = call.params.get("chat_id")
        return self.turns.get(chat_id) if isinstance(chat_id, int) else None


# ------------------------------------------------------------------------------------ the bots


@asynccontextmanager
async def polling(application: Application) -> AsyncIterator[Application]:
    await asyncio.wait_for(start_polling(application), START_TIMEOUT)
    try:
        yield application
    finally:
        await asyncio.wait_for(stop_polling(application), START_TIMEOUT)


async def echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await context.bot.send_message(message.chat_id, message.text)


async def echo_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(f"pressed {query.data}")


def echo_application(api: FakeBotAPI) -> Application:
    application = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .concurrent_updates(CONCURRENT_UPDATES)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo_text))
    application.add_handler(CallbackQueryHandler(echo_press))
    return application


def bench_deployment() -> Deployment:
    """The example deployment (one language, de) with a flood gate the load never reaches."""
    deployment = load_deployment(EXAMPLE_DEPLOYMENT)
    limits = deployment.limits.model_copy(update={"burst": 10**6, "per_minute": 10**6})
    return deployment.model_copy(update={"limits": limits})


def wegweiser_runtime(
    api: FakeBotAPI, database: Path, deployment: Deployment, *, telegram_limit: bool
) -> Runtime:
    engine = engine_for(SHIPPED_FLOWS, deployment)
    setup = BotSetup(
        token=api.token,
        api_url=api.base_url,
        database=database,
        keys=SecretKeys(SECRET),
        deployment=deployment,
        retry_delays=(0.05, 0.1),
        poll_timeout=POLL_TIMEOUT.total_seconds(),
    )
    runtime = Runtime(engine, setup)
    if not telegram_limit:
        limiter = runtime.telegram.application.bot.rate_limiter
        assert isinstance(limiter, AIORateLimiter), type(limiter)
        limiter._base_limiter = None  # the overall 30/s limit, for run 3 only
    return runtime


# ------------------------------------------------------------------------------ load generator


class Stalled(Exception):
    """A person's update got no complete answer in time."""


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds
    stalled: int = 0


@dataclass(frozen=True)
class Screen:
    """What the person sees after an update: the message to press on, and its buttons."""

    message_id: int
    buttons: tuple[str, ...]  # callback data


def screen_of(call: Call) -> Screen:
    if call.method == "editMessageText":
        message_id = int(call.params["message_id"])
    else:
        message_id = int(call.result["message_id"])
    markup = call.params.get("reply_markup") or {}
    buttons = tuple(
        str(button["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    )
    return Screen(message_id, buttons)


@dataclass(frozen=True)
class Behaviour:
    """How one kind of bot is talked to."""

    # When an answering call completes the answer to an update.
    complete: Callable[[Call], bool]
    # The callback data to press next, from the current screen.
    press: Callable[[Screen, random.Random, int], str]


def echo_press_data(screen: Screen, rng: random.Random, index: int) -> str:
    return f"press-{index}"  # a new text each time: the edit is never "not modified"


def wegweiser_press_data(screen: Screen, rng: random.Random, index: int) -> str:
    choices = [data for data in screen.buttons if not data.startswith(AVOIDED)]
    return rng.choice(choices) if choices else "!menu"


ECHO = Behaviour(complete=lambda call: True, press=echo_press_data)
# Wegweiser's answer is complete with the screen: the only answering call with buttons, always
# its last (notices and media come before it).
WEGWEISER = Behaviour(
    complete=lambda call: "reply_markup" in call.params, press=wegweiser_press_data
)


async def turn(
    api: ObservedBotAPI,
    person: Person,
    inject: Callable[[], object],
    behaviour: Behaviour,
    tally: Tally,
    timeout: float,
) -> Screen:
    """Inject one update and wait for the bot's complete answer."""
    loop = asyncio.get_running_loop()
    waiting = Turn(behaviour.complete, loop.create_future())
    api.turns[person.user_id] = waiting
    injected = time.monotonic()
    try:
        inject()
        call = await asyncio.wait_for(waiting.future, timeout)
    except TimeoutError:
        tally.stalled += 1
        raise Stalled(person.user_id) from None
    finally:
        del api.turns[person.user_id]
    answered = waiting.first_answer if waiting.first_answer is not None else call.at
    tally.latencies.append(answered - injected)
    if call.error is not None and call.method != "editMessageText":  # "not modified" is fine
        tally.stalled += 1
        raise Stalled(f"{person.user_id}: {call.method} failed: {call.error}")
    return screen_of(call)


async def converse(
    api: ObservedBotAPI,
    person: Person,
    presses: int,
    behaviour: Behaviour,
    tally: Tally,
    timeout: float,
) -> None:
    """/start, then `presses` buttons, one update in flight at a time."""
    rng = random.Random(SEED + person.user_id)
    screen = await turn(
        api, person, lambda: api.send_text(person, "/start"), behaviour, tally, timeout
    )
    for index in range(presses):
        data = behaviour.press(screen, rng, index)
        message_id = screen.message_id
        screen = await turn(
            api,
            person,
            lambda: api.press(person, message_id, data),  # noqa: B023  # called at once
            behaviour,
            tally,
            timeout,
        )


@dataclass(frozen=True)
class Load:
    persons: int
    presses: int
    updates: int  # answered
    stalled: int
    seconds: float
    updates_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    complete: bool


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def generate_load(
    api: ObservedBotAPI,
    first_id: int,
    persons: int,
    presses: int,
    behaviour: Behaviour,
    mode: Mode,
) -> Load:
    """All persons at once; wall time from the first injection to the last answer."""
    tally = Tally()
    people = [Person(user_id=first_id + index, language_code="de") for index in range(persons)]
    gc.collect()
    began = time.monotonic()
    conversations = asyncio.gather(
        *(converse(api, person, presses, behaviour, tally, mode.turn_timeout) for person in people),
        return_exceptions=True,
    )
    complete = True
    try:
        outcomes = await asyncio.wait_for(conversations, mode.run_timeout)
    except TimeoutError:
        complete = False
        outcomes = []
    seconds = time.monotonic() - began
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    for failure in failures[:3]:
        print(f"  ! {type(failure).__name__}: {failure}", flush=True)
    latencies_ms = [latency * 1e3 for latency in tally.latencies]
    return Load(
        persons=persons,
        presses=presses,
        updates=len(latencies_ms),
        stalled=tally.stalled,
        seconds=seconds,
        updates_per_second=len(latencies_ms) / seconds,
        p50_ms=statistics.median(latencies_ms) if latencies_ms else float("nan"),
        p99_ms=percentile(latencies_ms, 0.99),
        max_ms=max(latencies_ms, default=float("nan")),
        complete=complete and not failures and tally.stalled == 0,
    )


# ------------------------------------------------------------------------------------- the runs


@dataclass(frozen=True)
class Run:
    name: str
    load: Load
    rss_mib: float  # resident memory of the process right after the measured load
    database_kib: float | None = None  # the SQLite files after the bot stopped
    sessions: int | None = None
    statements_per_update: float | None = None  # SQL statements the store ran, per update


def rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def database_kib(path: Path) -> float:
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return sum(file.stat().st_size for file in files if file.exists()) / 1024


@asynccontextmanager
async def running(runtime: Runtime) -> AsyncIterator[Runtime]:
    await asyncio.wait_for(runtime.start(), START_TIMEOUT)
    try:
        yield runtime
    finally:
        await asyncio.wait_for(runtime.stop(), START_TIMEOUT)


async def measure(
    name: str,
    api: ObservedBotAPI,
    bot: AbstractAsyncContextManager[object],
    behaviour: Behaviour,
    mode: Mode,
    profiler: cProfile.Profile | None = None,
    store: Callable[[], SQLiteStore | None] = lambda: None,
) -> tuple[Load, float, float | None]:
    """Warm up, then the measured load; returns it, the memory right after it, and how many SQL
    statements the `store()` of the started bot ran per update meanwhile."""
    async with bot:
        await generate_load(api, WARM_UP_IDS, mode.warm_persons, mode.warm_presses, behaviour, mode)
        statements = await count_statements(store())
        if profiler is not None:
            profiler.enable()
        try:
            load = await generate_load(
                api, MEASURED_IDS, mode.persons, mode.presses, behaviour, mode
            )
        finally:
            if profiler is not None:
                profiler.disable()
        memory = rss_mib()
        per_update = None if statements is None else statements() / load.updates
    print(f"  {name}: {load.updates} updates in {load.seconds:.1f} s", flush=True)
    return load, memory, per_update


async def count_statements(store: SQLiteStore | None) -> Callable[[], int] | None:
    """From now on, how many SQL statements the store's connection runs (SQLite's trace hook,
    called in aiosqlite's thread for each statement)."""
    if store is None:
        return None
    counted = Counter[str]()
    await store._connection.set_trace_callback(lambda sql: counted.update(("statement",)))
    return lambda: counted["statement"]


async def run_echo(mode: Mode) -> Run:
    async with ObservedBotAPI() as api:
        load, memory, _ = await measure("echo", api, polling(echo_application(api)), ECHO, mode)
    return Run("echo (PTB, no rate limiter)", load, memory)


async def run_wegweiser(
    mode: Mode, deployment: Deployment, *, telegram_limit: bool, profiler: cProfile.Profile | None
) -> Run:
    name = "wegweiser" if telegram_limit else "wegweiser, 30/s limit lifted"
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-") as temporary:
        database = Path(temporary) / "wegweiser.sqlite3"
        async with ObservedBotAPI() as api:
            runtime = wegweiser_runtime(api, database, deployment, telegram_limit=telegram_limit)
            load, memory, statements = await measure(
                name, api, running(runtime), WEGWEISER, mode, profiler, lambda: runtime.store
            )
        size = database_kib(database)
        sessions = mode.warm_persons + mode.persons
    return Run(name, load, memory, size, sessions, statements)


async def run_all(
    mode: Mode, profiler: cProfile.Profile | None
) -> tuple[list[Run], float, dict[str, Any]]:
    deployment = bench_deployment()
    engine_for(SHIPPED_FLOWS, deployment)  # loads and checks once before anything is timed
    before = rss_mib()
    runs = [await run_echo(mode)]
    runs.append(await run_wegweiser(mode, deployment, telegram_limit=True, profiler=None))
    runs.append(await run_wegweiser(mode, deployment, telegram_limit=False, profiler=profiler))
    setup = {
        "concurrent_updates": CONCURRENT_UPDATES,
        "languages": list(deployment.languages),
        "limits": deployment.limits.model_dump(),
    }
    return runs, before, setup


# -------------------------------------------------------------------------------------- output


TARGET = 0.7
# Why a ratio can be below the target without anything being wrong: this script measures and
# never fails, so its lines must not read like a failed check in a green CI log.
CAPPED = (
    "expected: this run holds the answers to Telegram's 30 messages a second, so it shows "
    "that cap, not the bot's cost"
)
OWN_COST = (
    "the bot's own work per update (engine, SQLite, delivery) against a bare echo bot; on a "
    "loaded machine the figure varies a lot; it informs, CI does not depend on it"
)


def verdict(ratio: float, why_below: str) -> str:
    """The ratio against the target: "met", or "below target" and why."""
    if ratio >= TARGET:
        return f"{ratio:.2f} (target >= {TARGET}: met)"
    return f"{ratio:.2f} (target >= {TARGET}: below target; {why_below})"


def top_functions(profiler: cProfile.Profile, count: int, updates: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    entries = stats.stats  # type: ignore[attr-defined]  # filled by pstats, not declared
    total = sum(entry[2] for entry in entries.values())
    own = sum(entry[2] for (path, _, _), entry in entries.items() if f"{os.sep}bot{os.sep}" in path)
    out.write(
        f"in the profiled loop: {total / updates * 1e3:.2f} ms per update in all,"
        f" {own / updates * 1e3:.3f} ms of it in Wegweiser's own code (bot/, tottime)"
        " - profiling slows everything down several times\n\n"
    )
    stats.strip_dirs().sort_stats(pstats.SortKey.TIME).print_stats(count)
    out.write("\n")
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(count)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer persons and presses (CI)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile run 3 and print the top functions"
    )
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    began = time.perf_counter()

    print(f"Python {platform.python_version()} ({platform.python_implementation()})")
    print(f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(
        f"mode: {'quick' if args.quick else 'full'}: {mode.persons} persons at once, each /start"
        f" + {mode.presses} presses, one update in flight per person; warm-up"
        f" {mode.warm_persons} persons x (1 + {mode.warm_presses})"
    )
    print("runs:", flush=True)

    with open(os.devnull, "w", encoding="utf-8") as sink:
        configure_logging("INFO", "json", stream=sink)  # as `wegweiser run` logs by default
        profiler = cProfile.Profile() if args.profile else None
        runs, rss_before, setup = asyncio.run(run_all(mode, profiler))
    echo, shipped, lifted = runs

    print()
    print(
        f"concurrent_updates {setup['concurrent_updates']} for both bots; Wegweiser: shipped flows,"
        f" example deployment, languages {setup['languages']}, flood gate raised to"
        f" {setup['limits']}"
    )
    print()
    print(
        table(
            ["bot", "updates", "seconds", "updates/s", "p50 ms", "p99 ms", "max ms", "complete"],
            [
                [
                    run.name,
                    str(run.load.updates),
                    f"{run.load.seconds:.2f}",
                    f"{run.load.updates_per_second:,.0f}",
                    f"{run.load.p50_ms:.1f}",
                    f"{run.load.p99_ms:.1f}",
                    f"{run.load.max_ms:.1f}",
                    "yes" if run.load.complete else f"NO ({run.load.stalled} stalled)",
                ]
                for run in runs
            ],
        )
    )
    ratio = shipped.load.updates_per_second / echo.load.updates_per_second
    ratio_lifted = lifted.load.updates_per_second / echo.load.updates_per_second
    print()
    print(f"wegweiser / echo throughput:                   {verdict(ratio, CAPPED)}")
    print(f"wegweiser (30/s limit lifted) / echo throughput: {verdict(ratio_lifted, OWN_COST)}")
    print()
    print(
        f"resident memory: {rss_before:.1f} MiB before the runs, {shipped.rss_mib:.1f} MiB after"
        f" the wegweiser run, {lifted.rss_mib:.1f} MiB after run 3"
    )
    print(
        f"database: {shipped.database_kib:.0f} KiB for {shipped.sessions} sessions after the"
        f" wegweiser run ({lifted.database_kib:.0f} KiB after run 3)"
    )
    if shipped.statements_per_update is not None:
        print(
            f"SQL statements per update (each a trip to the store's thread): "
            f"{shipped.statements_per_update:.1f} in the wegweiser run"
        )
    if profiler is not None:
        print()
        print("cProfile of run 3 (the measured load only; the fake server shares the loop):")
        print(top_functions(profiler, 10, lifted.load.updates))
    total = time.perf_counter() - began
    print()
    print(f"total {total:.1f} s")

    if args.json is not None:
        figures = {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "mode": "quick" if args.quick else "full",
            "setup": setup,
            "runs": [asdict(run) for run in runs],
            "ratio": ratio,
            "ratio_limit_lifted": ratio_lifted,
            "target": TARGET,
            "target_met": ratio >= TARGET,
            "rss_before_mib": rss_before,
            "total_seconds": total,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
