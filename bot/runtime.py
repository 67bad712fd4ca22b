"""The composition root: opens the store, builds the services on it, starts the configured
channels and the jobs, serves /healthz and /metrics, reloads flows on SIGHUP, and stops on SIGTERM
or Ctrl-C. Everything else is built here and nowhere else, so no part wires itself to another.

Jobs (purge, the file's rebuild after deletions, disappearing mode, unclaimed cases, watching
the flow files) are asyncio tasks of the runtime, not of a channel: they go on whichever channels
run.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gc
import logging
import signal
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.channels.console import ConsoleChat
from bot.channels.web.app import WebChat, WebSetup
from bot.dialogue import Engine
from bot.handover.lifecycle import CasePolicy
from bot.live_flows import reload_report
from bot.metrics import Metrics
from bot.service import (
    CaseDesk,
    ConversationService,
    Counselling,
    EngineHolder,
    PersonChannel,
    Services,
    SessionPolicy,
    Statistics,
    SystemClock,
)
from bot.setup import BotSetup
from bot.store import SecretKeys, generate_secret
from bot.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from bot.channels.telegram.app import TelegramChannel
    from bot.operations import OperationsServer

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


class Runtime:
    def __init__(self, engine: Engine, setup: BotSetup, web: WebSetup | None = None) -> None:
        """Telegram runs when `setup` has a token, the web chat when `web` is given."""
        self.setup = setup
        self.engines = EngineHolder(engine)
        self.metrics = Metrics()
        self.telegram: TelegramChannel | None = None
        if setup.token is not None:
            # python-telegram-bot loads only when Telegram runs (it is a third of the memory)
            from bot.channels.telegram.app import TelegramChannel

            self.telegram = TelegramChannel(setup, reload=self.reload, metrics=self.metrics)
            self.telegram.application.bot_data["wegweiser"] = self
        limits = setup.deployment.limits
        self.web = (
            None
            if web is None
            else WebChat(
                web,
                setup.keys,
                limits.burst,
                limits.per_minute,
                client_burst=limits.client_burst,
                client_per_minute=limits.client_per_minute,
            )
        )
        self.store: SQLiteStore | None = None
        self.services: Services | None = None
        self.operations: OperationsServer | None = None
        self.jobs: dict[str, asyncio.Task[None]] = {}
        self._reloading = asyncio.Lock()
        self._settle = False  # serving: what start built is kept from the garbage collector

    @property
    def desk(self) -> CaseDesk | None:
        return self.services.desk if self.services is not None else None

    # -- start and stop --------------------------------------------------------------------------

    async def start(self) -> None:
        """Raises StoreError when the database cannot be opened, and the channels' errors (an
        InvalidToken, an unreachable Bot API); then nothing is left running."""
        # SIGHUP's default would end the process: until the reload is in place, it only says so
        _on_hangup(lambda: log.warning("SIGHUP while starting: no reload; send it again"))
        self.store = await SQLiteStore.open(self.setup.database)
        try:
            self.services = self._compose(self.store)
            if self.web is not None:  # first: it only listens on this machine
                await self.web.start(self.services)
            if self.telegram is not None:
                await self.telegram.start(self.services, self.engines.engine)
        except BaseException:
            await self.stop()
            raise
        self._schedule(self.services, self.store)
        # every language's search index, off the event loop (a typed question that comes
        # before would build its own language's index itself)
        search = self.engines.engine.search
        self._job("search index", lambda: asyncio.to_thread(search.warm))
        if self.setup.operations is not None:
            from bot.operations import OperationsServer  # tornado loads only when it serves

            self.operations = OperationsServer(*self.setup.operations, self.health, self.metrics)
            self.operations.start()

    async def stop(self) -> None:
        _on_hangup(None)
        running = list(self.jobs.values())  # a finished one-off job takes itself out of jobs
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.jobs.clear()
        try:
            if self.web is not None:
                await self.web.stop()
            if self.telegram is not None:
                await self.telegram.stop()
        finally:
            # an open store's thread would keep the process alive, whatever went wrong
            if self.operations is not None:
                await self.operations.stop()
                self.operations = None
            if self.store is not None:
                await self.store.close()
                self.store = None

    async def serve(self) -> None:
        """Run until SIGTERM or SIGINT."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await self.start()
        self._settle = True
        _settled()
        try:
            await stopping.wait()
        finally:
            log.info("stopping")
            await self.stop()

    # -- composition -----------------------------------------------------------------------------

    def _compose(self, store: SQLiteStore) -> Services:
        setup, deployment, telegram = self.setup, self.setup.deployment, self.telegram
        teams = setup.teams
        statistics = Statistics(store, self.metrics)
        desk = (
            CaseDesk(
                store,
                telegram.staff_channel(),
                setup.keys,
                teams,
                CasePolicy(
                    idle_days=deployment.handover.idle_days,
                    case_days=deployment.handover.case_days,
                    return_code_days=deployment.handover.return_code_days,
                    claim_minutes=deployment.handover.claim_minutes,
                    erase_staff_copies=deployment.safety.erase_staff_copies,
                ),
                deployment.timezone,
                statistics,
            )
            if telegram is not None and teams
            else None
        )
        people: list[PersonChannel] = []
        if telegram is not None:
            people.append(telegram.person_channel(store))
        if self.web is not None:
            people.append(self.web.person_channel(store))
        channels: Mapping[str, PersonChannel] = {person.name: person for person in people}
        conversations = ConversationService(
            self.engines,
            store,
            setup.keys,
            channels,
            SessionPolicy(
                idle=datetime.timedelta(hours=deployment.sessions.idle_hours),
                case_idle=datetime.timedelta(days=deployment.handover.idle_days),
                message_after_exit=deployment.safety.message_after_exit,
            ),
            statistics,
            setup.clock,
            desk=desk,
        )
        counselling = Counselling(conversations, desk) if desk is not None else None
        return Services(
            store, self.engines, setup.clock, statistics, conversations, desk, counselling
        )

    def _schedule(self, services: Services, store: SQLiteStore) -> None:
        deployment = self.setup.deployment
        conversations = services.conversations
        self._every("purge", deployment.sessions.purge_every_minutes * 60, conversations.purge)
        # the stale copies of what the purge and /exit deleted, out of the file (a no-op when
        # nothing was deleted)
        self._every("rebuild", deployment.sessions.erase_every_minutes * 60, store.rebuild)
        self._every(
            "disappearing",
            deployment.safety.disappearing_check_seconds,
            conversations.delete_due,
            first=1.0,
        )
        if services.counselling is not None:
            every = max(1.0, min(60.0, deployment.handover.claim_minutes * 60 / 4))
            self._every("unclaimed", every, services.counselling.check_unclaimed)
        live = self.setup.live_flows
        if live is not None:
            if deployment.reload.watch_seconds:
                self._every("watch", deployment.reload.watch_seconds, self._watch)
            _on_hangup(lambda: self._job("SIGHUP reload", lambda: self.reload("SIGHUP")))

    def _every(self, name: str, seconds: float, job: Job, *, first: float | None = None) -> None:
        """Run `job` every `seconds` (the first time after `first`, default `seconds`); a job
        that fails is logged and runs again next time."""

        async def repeat() -> None:
            await asyncio.sleep(seconds if first is None else first)
            while True:
                try:
                    await job()
                except Exception:
                    log.exception("job failed; it runs again next time", extra={"job": name})
                await asyncio.sleep(seconds)

        self.jobs[name] = asyncio.create_task(repeat(), name=name)

    def _job(self, name: str, work: Job) -> None:
        """Run `work()` once in a task; the work starts in the task, so that a job stopped
        before it ran leaves no coroutine that was never awaited."""

        async def once() -> None:
            try:
                await work()
            except Exception:
                log.exception("job failed", extra={"job": name})

        task = asyncio.create_task(once(), name=name)
        key = f"{name} {id(task)}"
        self.jobs[key] = task  # until it is done: stop() cancels what still runs
        task.add_done_callback(lambda _: self.jobs.pop(key, None))

    # -- flow reloads and health -----------------------------------------------------------------

    async def reload(self, reason: str) -> str:
        """Check and load the flows; on success the new engine serves every channel. Returns the
        report for the staff; a reload the staff group did not ask for is reported there."""
        live = self.setup.live_flows
        if live is None:
            return "Reloading is not available in this mode."
        async with self._reloading:
            # the check reads files and takes a little while: not on the event loop
            result = await asyncio.to_thread(live.reload)
        self.metrics.reloads.labels("ok" if result.engine else "refused").inc()
        log.info("reload asked for", extra={"reason": reason, "ok": result.engine is not None})
        report = reload_report(result, live.version)
        before = self.engines.engine
        if result.engine is not None:
            self.engines.swap(result.engine)
        if self.telegram is not None:
            await self.telegram.reloaded(
                before, self.engines.engine, report, asked_here=reason == "staff command"
            )
        del before
        if self._settle and result.engine is not None:
            _settled()
        return report

    async def _watch(self) -> None:
        live = self.setup.live_flows
        if live is not None and await asyncio.to_thread(live.changed):
            await self.reload("files changed")

    async def health(self) -> dict[str, bool]:
        """/healthz: the database takes writes, a flow is loaded, and each channel's own check."""
        checks = {
            "database": self.store is not None and await self.store.writable(),
            "flows": bool(self.engines.engine.flow.nodes),
        }
        if self.telegram is not None:
            checks.update(await self.telegram.health.check())
        if self.web is not None:
            checks.update(await self.web.health())
        return checks


def _settled() -> None:
    """What was built at start (the modules, the flows, the catalogs, the search index: some
    160,000 objects) lives as long as the process: the garbage collector is told not to look at
    it again. Each of its full collections would otherwise stall every turn in flight for tens of
    milliseconds (bench_web.py's p99). After a reload, the engine it replaced is collected once."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _on_hangup(callback: Callable[[], object] | None) -> None:
    """Reload on SIGHUP (as daemons do), or stop doing so; nothing where there is no SIGHUP."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None:
        return
    loop = asyncio.get_running_loop()
    if callback is None:
        loop.remove_signal_handler(hangup)
    else:
        loop.add_signal_handler(hangup, callback)


async def chat_in_terminal(
    engine: Engine, stdin: TextIO, stdout: TextIO, language: str | None = None
) -> int:
    """`wegweiser chat`: the conversation service with the terminal as its only channel, on a
    store in a temporary folder under a key made for this chat, both gone when it ends."""
    chat = ConsoleChat(stdin, stdout)
    with tempfile.TemporaryDirectory(prefix="wegweiser-chat-") as folder:
        store = await SQLiteStore.open(Path(folder) / "chat.sqlite3")
        try:
            day = datetime.timedelta(days=1)
            service = ConversationService(
                EngineHolder(engine),
                store,
                SecretKeys(generate_secret()),
                {chat.channel.name: chat.channel},
                SessionPolicy(idle=day, case_idle=day),
                Statistics(store, Metrics()),
                SystemClock(),
            )
            return await chat.run(service, language)
        finally:
            await store.close()
