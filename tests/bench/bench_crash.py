"""Crash harness: the real `wegweiser run` process, killed with SIGKILL at random moments while
persons walk the tree and talk to counsellors, and started again on the same database file.

Set-up, without kills: a staff supergroup with topics on the fake Bot API (tests/fake_bot_api.py,
on 127.0.0.1, in this process), the shipped flows and the example deployment (its flood limits
raised, so that the gate refuses nothing and only the crashes count), a fresh SQLite file. Every
person sends /start and picks German; the case persons ask for a counsellor, and each case is
claimed by one of the counsellors.

Then, for the run's length and all at once: tree persons press buttons of their current screen
(seeded, one update in flight each, a think time between), case persons write numbered messages,
counsellors answer in their topics, and the process is killed (SIGKILL) at seeded random moments
and started again right away. Updates sent while it is down wait in the fake server, as they
would at Telegram.

At the end (the process running, everything settled) it prints:
  - person -> counsellor and counsellor -> person: messages sent, delivered (a copy arrived),
    lost (no copy), doubled (more than one copy); for the counsellor's, how many of the lost ones
    the sender was told about ("Not delivered" or "Not confirmed" in reply to a counsellor's,
    a notice in the chat for a person's: the first lost ones of that person, as many as the
    notices);
  - tree: presses answered (answerCallbackQuery for it, by the end) or not, and presses
    answered twice (answerCallbackQuery more than once for one press: handled twice);
  - left on the phone: messages still in the persons' chats after each sent /exit;
  - PRAGMA integrity_check of the database file after the last (clean) stop;
  - the restarts, and how many updates the process skipped as delivered again.

It measures and does not judge: losses are figures, the exit code is 0. It exits non-zero only
when the harness itself breaks (the process does not start, a phase runs out of time). Bounded:
a fixed number of persons, kills and seconds; all traffic on 127.0.0.1. Run from the project root:

    .venv/bin/python tests/bench/bench_crash.py            # full: 24 + 8 persons, 10 kills, 90 s
    .venv/bin/python tests/bench/bench_crash.py --quick    # CI: 6 + 2 persons, 2 kills, 12 s
    .venv/bin/python tests/bench/bench_crash.py --seed 7 --json bench_crash.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import closing, suppress
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.config import EXAMPLE_DEPLOYMENT
from bot.dialogue.engine import CONFIRM, END_CASE, GLOBAL_PREFIX, LANGUAGE_PREFIX, OPTION_SEPARATOR
from tests.bench.bench_bot import Screen, screen_of
from tests.bench.report import table
from tests.fake_bot_api import Call, FakeBotAPI, Person

SECRET = "bench-crash-secret-key-0123456789abcdefghijklmn"  # for this script only
SEED = 20261201
STAFF = {"id": -1009876500013, "type": "supergroup", "title": "Team", "is_forum": True}
LANGUAGE = f"{LANGUAGE_PREFIX}de"
COUNSELLOR = f"{GLOBAL_PREFIX}counsellor"
# Buttons tree persons never press: leaving, asking for a counsellor, disappearing mode,
# the language list (a detour, not the tree).
AVOIDED = (f"{GLOBAL_PREFIX}exit", COUNSELLOR, END_CASE, "!vanish:", "!language", LANGUAGE_PREFIX)
SCREENS = ("sendMessage", "editMessageText")
TREE_IDS = 300_000_000
CASE_IDS = 400_000_000
COUNSELLOR_IDS = 5_550_000
# Telegram lets a group get about 20 messages a minute (python-telegram-bot's AIORateLimiter
# holds the bot to it): all persons together write to the staff group at most every 4 s, so that
# what is measured is the crashes, not that queue. Counsellors write to private chats.
STAFF_GROUP_EVERY = 4.0
# What the sender of a relay that did not arrive, or may not have, is told.
COUNSELLOR_TOLD = ("⚠️ Not delivered", "⚠️ Not confirmed")
PERSON_TOLD = "⚠️ Deine letzte Nachricht ist"
COUNSELLOR_EVERY = 2.0
QUIET = 4.0  # settled: no call for this long (the group's limiter spaces its calls by 3 s)
START_TIMEOUT = 30.0  # seconds from starting the process to its first getUpdates
STOP_TIMEOUT = 20.0


@dataclass(frozen=True)
class Mode:
    tree_persons: int
    case_persons: int
    counsellors: int
    seconds: float  # the chaos phase
    kills: int
    turn_timeout: float  # how long a person waits for a screen before pressing on
    settle_timeout: float  # for the end phase, each step


FULL = Mode(
    tree_persons=24,
    case_persons=8,
    counsellors=3,
    seconds=90,
    kills=10,
    turn_timeout=12,
    settle_timeout=60,
)
QUICK = Mode(
    tree_persons=6,
    case_persons=2,
    counsellors=2,
    seconds=12,
    kills=2,
    turn_timeout=6,
    settle_timeout=20,
)


class HarnessBroken(Exception):
    """The harness could not do its part (the bot never started, a phase ran out of time)."""


# ---------------------------------------------------------------------------------- the process


class BotProcess:
    """`wegweiser run` in a folder of its own, logging to a file per start."""

    def __init__(self, api: FakeBotAPI, folder: Path) -> None:
        self.api = api
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0
        self.start_seconds: list[float] = []
        self._log: IO[bytes] | None = None
        config = folder / "config.yaml"
        config.write_text(raised_limits(EXAMPLE_DEPLOYMENT.read_text("utf-8")), "utf-8")
        self.environment = {
            key: value for key, value in os.environ.items() if not key.startswith("WEGWEISER_")
        } | {
            "WEGWEISER_TELEGRAM_TOKEN": api.token,
            "WEGWEISER_TELEGRAM_API_URL": api.base_url,
            "WEGWEISER_SECRET_KEY": SECRET,
            "WEGWEISER_COUNSELLOR_CHAT_ID": str(STAFF["id"]),
            "WEGWEISER_CONFIG": str(config),
            "WEGWEISER_WEB": "false",  # Telegram is measured here, the web in bench_web
        }

    @property
    def database(self) -> Path:
        return self.folder / "wegweiser.sqlite3"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Start it and wait until it polls."""
        began = time.monotonic()
        polled = len(self.api.calls)
        self.starts += 1
        self._log = open(self.folder / f"run-{self.starts}.log", "wb")  # noqa: SIM115
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
        try:
            await self.api.wait_for("getUpdates", timeout=START_TIMEOUT, after=polled)
        except AssertionError:
            raise HarnessBroken(f"the bot did not poll within {START_TIMEOUT} s") from None
        self.start_seconds.append(time.monotonic() - began)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1
        self._close_log()

    async def stop(self) -> int:
        """SIGTERM, as systemd or docker stop it; its exit code."""
        if not self.running:
            return -1
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        self._close_log()
        return code

    def logs(self) -> list[dict[str, Any]]:
        events = []
        for path in sorted(self.folder.glob("run-*.log")):
            for line in path.read_text("utf-8", errors="replace").splitlines():
                if line.startswith("{"):
                    with suppress(json.JSONDecodeError):
                        events.append(json.loads(line))
        return events

    def tracebacks(self) -> int:
        return sum(
            path.read_text("utf-8", errors="replace").count("Traceback")
            for path in self.folder.glob("run-*.log")
        )

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def raised_limits(config: str) -> str:
    """The example deployment with a flood gate the bench never reaches."""
    lines = []
    for line in config.splitlines():
        key = line.strip().split(":", 1)[0]
        if key in ("burst", "per_minute") and line.startswith("  "):
            line = f"  {key}: 1000000"
        lines.append(line)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------- the people


def is_screen_to(person: Person, call: Call) -> bool:
    return (
        call.method in SCREENS
        and call.params.get("chat_id") == person.user_id
        and call.result is not None
        and "reply_markup" in call.params
    )


async def next_screen(
    api: FakeBotAPI, person: Person, inject: Callable[[], object], timeout: float
) -> Screen | None:
    """Inject one update and wait for the person's next screen; None if none came in time.
    Scans each new call once, except screen calls still being answered."""
    checked = len(api.calls)
    inject()
    deadline = time.monotonic() + timeout
    while True:
        calls = api.calls
        pending = None
        for index in range(checked, len(calls)):
            call = calls[index]
            if is_screen_to(person, call):
                return screen_of(call)
            if call.method in SCREENS and call.result is None and call.error is None:
                pending = index if pending is None else pending
        checked = len(calls) if pending is None else pending
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(0.05)


async def begin(api: FakeBotAPI, person: Person, timeout: float) -> Screen:
    """/start and German: the main menu."""
    languages = await next_screen(api, person, lambda: api.send_text(person, "/start"), timeout)
    if languages is None or LANGUAGE not in languages.buttons:
        raise HarnessBroken(f"no language list for {person.user_id}")
    menu = await next_screen(
        api, person, lambda: api.press(person, languages.message_id, LANGUAGE), timeout
    )
    if menu is None:
        raise HarnessBroken(f"no menu for {person.user_id}")
    return menu


@dataclass
class Tree:
    presses: list[str] = field(default_factory=list)  # callback query ids


async def walk(
    api: FakeBotAPI,
    person: Person,
    screen: Screen,
    rng: random.Random,
    mode: Mode,
    stop: asyncio.Event,
    tree: Tree,
) -> None:
    """Press buttons of the current screen until told to stop; after a press that got no screen
    in time the person goes on from the screen they still see."""
    while not stop.is_set():
        choices = [data for data in screen.buttons if not data.startswith(AVOIDED)]
        data = rng.choice(choices) if choices else f"{GLOBAL_PREFIX}menu"
        message_id = screen.message_id

        def inject(data: str = data, message_id: int = message_id) -> None:
            update = api.press(person, message_id, data)
            tree.presses.append(str(update["callback_query"]["id"]))

        screen = await next_screen(api, person, inject, mode.turn_timeout) or screen
        await pause(stop, rng.uniform(0.2, 0.8))


@dataclass
class Case:
    person: Person
    thread: int
    counsellor: Person


async def open_case(
    api: FakeBotAPI, person: Person, counsellor: Person, menu: Screen, timeout: float
) -> Case:
    """Ask for a counsellor, confirm, and the counsellor claims the new topic."""
    topics = set(api.topics(STAFF["id"]))
    asked = await next_screen(
        api, person, lambda: api.press(person, menu.message_id, COUNSELLOR), timeout
    )
    confirm = next(
        (b for b in (asked.buttons if asked else ()) if b.endswith(OPTION_SEPARATOR + CONFIRM)),
        None,
    )
    if asked is None or confirm is None:
        raise HarnessBroken(f"no counsellor question for {person.user_id}")
    waiting = await next_screen(
        api, person, lambda: api.press(person, asked.message_id, confirm), timeout
    )
    new = set(api.topics(STAFF["id"])) - topics
    if waiting is None or len(new) != 1:
        raise HarnessBroken(f"no topic for {person.user_id}")
    (thread,) = new
    await wait_until(lambda: len(api.topic_messages(STAFF["id"], thread)) >= 2, timeout, "card")
    card = list(api.topic_messages(STAFF["id"], thread).values())[1]
    claim = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    claimed = await next_screen(
        api, person, lambda: api.press(counsellor, card["message_id"], claim, chat=STAFF), timeout
    )
    if claimed is None:
        raise HarnessBroken(f"the claim of {person.user_id}'s case was not shown to them")
    return Case(person, thread, counsellor)


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise HarnessBroken(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)


async def write(
    send: Callable[[int], object],
    rng: random.Random,
    stop: asyncio.Event,
    sent: list[str],
    every: float,
) -> None:
    """Numbered messages, one every `every` seconds on average, until told to stop."""
    number = 0
    await pause(stop, rng.uniform(0, every))
    while not stop.is_set():
        sent.append(str(send(number)))
        number += 1
        await pause(stop, rng.uniform(0.5 * every, 1.5 * every))


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, or less when told to stop."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def killer(bot: BotProcess, rng: random.Random, mode: Mode, stop: asyncio.Event) -> None:
    """SIGKILL at seeded random moments, spread over the run, each followed by a restart."""
    every = mode.seconds / max(mode.kills, 1)
    for _ in range(mode.kills):
        await pause(stop, rng.uniform(0.2 * every, 0.8 * every))
        if stop.is_set():
            return
        await bot.kill()
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        await bot.start()


# ---------------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class Relayed:
    sent: int
    delivered: int
    lost: int
    doubled: int
    lost_sender_told: int | None  # None: not measured for this direction


def relayed(sent: list[str], arrived: Counter[str], told: set[str] | None) -> Relayed:
    lost = [text for text in sent if not arrived[text]]
    return Relayed(
        sent=len(sent),
        delivered=sum(1 for text in sent if arrived[text]),
        lost=len(lost),
        doubled=sum(1 for text in sent if arrived[text] > 1),
        lost_sender_told=None if told is None else sum(1 for text in lost if text in told),
    )


@dataclass(frozen=True)
class Figures:
    seed: int
    mode: str
    persons_tree: int
    persons_case: int
    counsellors: int
    seconds: float
    kills: int
    starts: int
    start_seconds_max: float
    person_to_counsellor: Relayed
    counsellor_to_person: Relayed
    tree_presses: int
    tree_answered: int
    tree_unanswered: int
    tree_answered_twice: int
    left_on_phone_after_exit: int
    persons_with_messages_left: int
    integrity_check: str
    updates_skipped_as_redelivered: int
    tracebacks_in_logs: int
    wall_seconds: float


def texts(messages: dict[int, dict]) -> Counter[str]:
    return Counter(str(m["text"]) for m in messages.values() if "text" in m)


def integrity(database: Path) -> str:
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(row[0]) for row in rows)


async def settle(api: FakeBotAPI, timeout: float) -> None:
    try:
        await api.wait_idle(quiet=QUIET, timeout=timeout)
    except AssertionError as error:
        raise HarnessBroken(f"the bot did not settle: {str(error).splitlines()[0]}") from None


# -------------------------------------------------------------------------------------- the run


async def crash_run(mode: Mode, name: str, seed: int, keep: Path | None = None) -> Figures:
    """`keep`: an empty folder for the database and the logs, kept afterwards."""
    began = time.monotonic()
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="wegweiser-crash-") as temporary:
        folder = temporary if keep is None else keep
        async with FakeBotAPI() as api:
            api.make_admin(STAFF)
            bot = BotProcess(api, Path(folder))
            await bot.start()
            try:
                return await _run(api, bot, mode, name, seed, rng, began)
            finally:
                if bot.running:
                    await bot.stop()
                if keep is not None:
                    print(f"database and logs kept in {keep}", file=sys.stderr)


async def _run(
    api: FakeBotAPI,
    bot: BotProcess,
    mode: Mode,
    name: str,
    seed: int,
    rng: random.Random,
    began: float,
) -> Figures:
    def phase(name: str) -> None:
        print(f"{time.monotonic() - began:6.1f} s  {name} done", file=sys.stderr)

    tree_people = [Person(TREE_IDS + i, language_code="de") for i in range(mode.tree_persons)]
    case_people = [Person(CASE_IDS + i, language_code="de") for i in range(mode.case_persons)]
    counsellors = [
        Person(COUNSELLOR_IDS + i, first_name=f"Beraterin{i}", language_code="de")
        for i in range(mode.counsellors)
    ]
    # set-up, without kills
    menus = await asyncio.gather(
        *(begin(api, person, mode.turn_timeout) for person in tree_people + case_people)
    )
    tree_menus = menus[: len(tree_people)]
    cases = [
        await open_case(api, person, counsellors[i % len(counsellors)], menu, mode.turn_timeout)
        for i, (person, menu) in enumerate(zip(case_people, menus[len(tree_people) :], strict=True))
    ]
    await settle(api, mode.settle_timeout)
    phase("set-up")

    # chaos
    stop = asyncio.Event()
    tree = Tree()
    from_persons: list[str] = []
    from_counsellors: list[str] = []

    def person_writes(case: Case) -> Callable[[int], object]:
        def send(number: int) -> str:
            text = f"p{case.person.user_id}-{number}"
            api.send_text(case.person, text)
            return text

        return send

    def counsellor_writes(case: Case) -> Callable[[int], object]:
        def send(number: int) -> str:
            text = f"c{case.person.user_id}-{number}"
            api.topic_message(STAFF, case.counsellor, case.thread, text)
            return text

        return send

    tasks: list[Awaitable[None]] = [
        *(
            walk(api, person, menu, random.Random(seed + person.user_id), mode, stop, tree)
            for person, menu in zip(tree_people, tree_menus, strict=True)
        ),
        *(
            write(
                person_writes(case),
                random.Random(seed + case.person.user_id),
                stop,
                from_persons,
                len(cases) * STAFF_GROUP_EVERY,
            )
            for case in cases
        ),
        *(
            write(
                counsellor_writes(case),
                random.Random(seed - case.person.user_id),
                stop,
                from_counsellors,
                COUNSELLOR_EVERY,
            )
            for case in cases
        ),
    ]
    kills = asyncio.create_task(killer(bot, random.Random(rng.random()), mode, stop))
    running = asyncio.gather(*tasks)
    await asyncio.sleep(mode.seconds)
    stop.set()
    await kills
    await running
    if not bot.running:
        await bot.start()
    await settle(api, mode.settle_timeout)
    phase("kills and settling")

    # what arrived
    in_staff = texts(api.chat_messages(STAFF["id"]))
    at_persons = Counter[str]()
    for case in cases:
        at_persons.update(texts(api.chat_messages(case.person.user_id)))
    not_delivered = {
        str(m["reply_to_message"].get("text"))
        for m in api.chat_messages(STAFF["id"]).values()
        if str(m.get("text", "")).startswith(COUNSELLOR_TOLD) and "reply_to_message" in m
    }
    # a person's notice names no message: it counts for as many of theirs as were lost
    persons_told = set[str]()
    for case in cases:
        chat = api.chat_messages(case.person.user_id).values()
        notices = sum(1 for m in chat if str(m.get("text", "")).startswith(PERSON_TOLD))
        theirs = [text for text in from_persons if text.startswith(f"p{case.person.user_id}-")]
        persons_told.update([text for text in theirs if not in_staff[text]][:notices])
    answers = Counter(  # every press is answered (its spinner stopped), once
        str(call.params.get("callback_query_id"))
        for call in api.calls_to("answerCallbackQuery")
        if call.result is not None
    )

    # /exit, and what stays on the phones
    everybody = tree_people + case_people
    for person in everybody:
        api.send_text(person, "/exit")
    await settle(api, mode.settle_timeout)
    phase("/exit")
    left = {person.user_id: len(api.chat_messages(person.user_id)) for person in everybody}
    code = await bot.stop()
    phase("stop")
    if code != 0:
        print(f"note: the last stop (SIGTERM) ended with exit code {code}", file=sys.stderr)
    skipped = sum(1 for e in bot.logs() if e.get("event") == "update delivered again: skipped")

    return Figures(
        seed=seed,
        mode=name,
        persons_tree=len(tree_people),
        persons_case=len(case_people),
        counsellors=len(counsellors),
        seconds=mode.seconds,
        kills=bot.kills,
        starts=bot.starts,
        start_seconds_max=round(max(bot.start_seconds), 2),
        person_to_counsellor=relayed(from_persons, in_staff, persons_told),
        counsellor_to_person=relayed(from_counsellors, at_persons, not_delivered),
        tree_presses=len(tree.presses),
        tree_answered=sum(1 for query in tree.presses if answers[query]),
        tree_unanswered=sum(1 for query in tree.presses if not answers[query]),
        tree_answered_twice=sum(1 for query in tree.presses if answers[query] > 1),
        left_on_phone_after_exit=sum(left.values()),
        persons_with_messages_left=sum(1 for count in left.values() if count),
        integrity_check=integrity(bot.database),
        updates_skipped_as_redelivered=skipped,
        tracebacks_in_logs=bot.tracebacks(),
        wall_seconds=round(time.monotonic() - began, 1),
    )


def report(figures: Figures) -> str:
    def row(label: str, relay: Relayed) -> list[str]:
        told = "n/a" if relay.lost_sender_told is None else str(relay.lost_sender_told)
        return [
            label,
            str(relay.sent),
            str(relay.delivered),
            str(relay.lost),
            told,
            str(relay.doubled),
        ]

    lines = [
        f"crash harness ({figures.mode}, seed {figures.seed}): {figures.persons_tree} tree "
        f"persons, {figures.persons_case} in cases, {figures.counsellors} counsellors, "
        f"{figures.seconds:g} s, {figures.kills} SIGKILLs, {figures.starts} starts "
        f"(slowest start to first poll {figures.start_seconds_max} s)",
        "",
        table(
            ["relayed", "sent", "delivered", "lost", "lost, sender told", "doubled"],
            [
                row("person -> counsellor", figures.person_to_counsellor),
                row("counsellor -> person", figures.counsellor_to_person),
            ],
        ),
        "",
        table(
            ["tree presses", "sent", "answered", "unanswered", "answered twice"],
            [
                [
                    "during the kills",
                    str(figures.tree_presses),
                    str(figures.tree_answered),
                    str(figures.tree_unanswered),
                    str(figures.tree_answered_twice),
                ]
            ],
        ),
        "",
        f"left on the phone after /exit: {figures.left_on_phone_after_exit} messages "
        f"({figures.persons_with_messages_left} of "
        f"{figures.persons_tree + figures.persons_case} persons)",
        f"PRAGMA integrity_check: {figures.integrity_check}",
        f"updates skipped as delivered again: {figures.updates_skipped_as_redelivered}",
        f"tracebacks in the bot's logs: {figures.tracebacks_in_logs}",
        f"wall time: {figures.wall_seconds} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="the short form CI runs")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--kills", type=int, help="instead of the mode's (0: a baseline)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", type=Path, help="an empty folder for the database and logs")
    arguments = parser.parse_args(argv)
    mode, name = (QUICK, "quick") if arguments.quick else (FULL, "full")
    if arguments.kills is not None:
        mode = replace(mode, kills=arguments.kills)
    try:
        figures = asyncio.run(crash_run(mode, name, arguments.seed, arguments.keep))
    except HarnessBroken as error:
        print(f"the crash harness broke: {error}", file=sys.stderr)
        return 2
    print(report(figures))
    if arguments.json is not None:
        arguments.json.write_text(json.dumps(asdict(figures), indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
