"""The python-telegram-bot Application of Wegweiser, assembled in one place from settings.

`wegweiser run` and the end-to-end tests build it the same way; the tests only point it at the fake
Bot API server on 127.0.0.1 and shorten the waits.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.telegram.cases import (
    CASE_PREFIX,
    TelegramStaffChannel,
    TelegramStaffUpdates,
)
from bot.channels.telegram.delivery import MediaFiles
from bot.channels.telegram.operations import OperationsServer
from bot.channels.telegram.ordering import FloodGate, PersonByPerson
from bot.channels.telegram.person import TelegramPersonChannel, TelegramPersonUpdates
from bot.channels.telegram.profile import publish_profile
from bot.channels.telegram.retry import RetryingRateLimiter
from bot.channels.telegram.staff import Staff
from bot.config import Deployment
from bot.dialogue import Engine
from bot.live_flows import LiveFlows
from bot.metrics import Metrics
from bot.service import (
    CaseDesk,
    Clock,
    ConversationService,
    Counselling,
    EngineHolder,
    SessionPolicy,
    Statistics,
    SystemClock,
)
from bot.store import SecretKeys
from bot.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

# The updates the bot asks Telegram for. An edited message is mirrored when it was relayed in a
# counsellor conversation; any other edit gets no second answer.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHANNEL_POST,
]
CONCURRENT_UPDATES = 64


@dataclass(frozen=True)
class BotSetup:
    """Everything the application needs besides the engine."""

    token: str
    api_url: str
    database: Path
    keys: SecretKeys
    deployment: Deployment
    staff_chat_id: int | None = None
    # Waits before retrying a call that timed out or met a server error, and the read timeout.
    retry_delays: Sequence[float] = (1.0, 3.0, 10.0)
    read_timeout: float = 10.0
    # Flow reloads (SIGHUP, /reload, changed files); None: the flow stays as started.
    live_flows: LiveFlows | None = None
    # (address, port) of /healthz and /metrics; None: switched off. Port 0: any free port.
    operations: tuple[str, int] | None = None
    clock: Clock = field(default_factory=SystemClock)


@dataclass
class Running:
    """What a started application has besides python-telegram-bot's own: the services, made
    once the store is open. The tests read it."""

    engines: EngineHolder
    metrics: Metrics
    store: SQLiteStore | None = None
    service: ConversationService | None = None
    desk: CaseDesk | None = None
    counselling: Counselling | None = None
    people: TelegramPersonUpdates | None = None
    staff: Staff | None = None
    operations: OperationsServer | None = None


def build_application(engine: Engine, setup: BotSetup) -> Application:
    """The application: the services open the store on start (and close it on stop), with the
    purge and disappearing jobs, the case desk when a staff group is configured, and the
    optional flow reloads and operations endpoints. Nothing is sent to Telegram until it is
    initialised. `application.bot_data["wegweiser"]` is its `Running`."""
    deployment = setup.deployment
    teams = deployment.teams(setup.staff_chat_id)
    staff_chats = frozenset({team.chat_id for team in teams})
    if setup.staff_chat_id is not None:
        staff_chats |= {setup.staff_chat_id}
    running = Running(EngineHolder(engine), Metrics())
    gate = FloodGate(deployment.limits.burst, deployment.limits.per_minute)

    async def refused(update: Update, first: bool) -> None:
        if running.people is not None:
            await running.people.on_refused(update, first)

    async def start(application: Application) -> None:
        store = await SQLiteStore.open(setup.database)
        _compose(application, running, store, setup, staff_chats)
        await publish_profile(application, engine)
        _schedule(application, running, deployment, setup.live_flows)
        if setup.operations is not None:
            health = HealthChecks(store, running.engines, application.bot)
            running.operations = OperationsServer(*setup.operations, health.check, running.metrics)
            running.operations.start()

    async def stop(application: Application) -> None:
        _on_hangup(None)
        if running.operations is not None:
            await running.operations.stop()
        if running.store is not None:
            await running.store.close()

    application = (
        ApplicationBuilder()
        .token(setup.token)
        .base_url(setup.api_url)
        .rate_limiter(RetryingRateLimiter(delays=setup.retry_delays))
        .concurrent_updates(PersonByPerson(CONCURRENT_UPDATES, gate, on_refused=refused))
        .read_timeout(setup.read_timeout)
        .write_timeout(setup.read_timeout)
        .defaults(
            Defaults(
                disable_notification=deployment.safety.silent or None,
                protect_content=deployment.safety.protect_content or None,
            )
        )
        .post_init(start)
        .post_shutdown(stop)
        .build()
    )
    application.bot_data["wegweiser"] = running
    return application


def _compose(
    application: Application,
    running: Running,
    store: SQLiteStore,
    setup: BotSetup,
    staff_chats: frozenset[int],
) -> None:
    """The services on the open store, the Telegram adapters around them, and the handlers."""
    deployment = setup.deployment
    teams = deployment.teams(setup.staff_chat_id)
    bot = application.bot
    statistics = Statistics(store, running.metrics)
    desk = (
        CaseDesk(
            store,
            TelegramStaffChannel(bot),
            setup.keys,
            teams,
            deployment.handover,
            deployment.timezone,
            statistics,
            erase_staff_copies=deployment.safety.erase_staff_copies,
        )
        if teams
        else None
    )
    person_channel = TelegramPersonChannel(bot, MediaFiles(store))
    service = ConversationService(
        running.engines,
        store,
        setup.keys,
        {person_channel.name: person_channel},
        SessionPolicy(
            idle=datetime.timedelta(hours=deployment.sessions.idle_hours),
            case_idle=datetime.timedelta(days=deployment.handover.idle_days),
            message_after_exit=deployment.safety.message_after_exit,
        ),
        statistics,
        setup.clock,
        desk=desk,
    )
    counselling = Counselling(service, desk) if desk is not None else None
    people = TelegramPersonUpdates(service, counselling, staff_chats)
    report_to = setup.staff_chat_id or next((team.chat_id for team in teams), None)
    staff = Staff(
        store,
        running.engines,
        running.metrics,
        setup.clock,
        staff_chats,
        report_to,
        setup.live_flows,
    )
    running.store, running.service, running.desk = store, service, desk
    running.counselling, running.people, running.staff = counselling, people, staff

    staff_updates = (
        TelegramStaffUpdates(counselling, desk, staff_chats)
        if counselling is not None and desk is not None
        else None
    )
    private = filters.ChatType.PRIVATE

    async def staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a staff group: /stats and /reload, else the case desk (replies, /close, /alias)."""
        if not await staff.on_command(update, context) and staff_updates is not None:
            await staff_updates.on_staff_message(update, context)

    staff_handlers = []
    if staff_chats:
        in_staff = filters.Chat(list(staff_chats))
        staff_handlers.append(MessageHandler(in_staff & filters.UpdateType.MESSAGE, staff_message))
    case_handlers = []
    if staff_updates is not None:
        edited = filters.UpdateType.EDITED_MESSAGE
        case_handlers = [
            CallbackQueryHandler(staff_updates.on_staff_button, pattern=rf"^{CASE_PREFIX}\|"),
            MessageHandler(edited & private, people.on_edit),
            MessageHandler(edited & filters.Chat(list(staff_chats)), staff_updates.on_edit),
        ]
    application.add_handlers(
        [
            MessageHandler(private & filters.UpdateType.MESSAGE, people.on_message),
            *case_handlers,
            CallbackQueryHandler(people.on_button),
            ChatMemberHandler(people.on_member_change, ChatMemberHandler.MY_CHAT_MEMBER),
            *staff_handlers,
            MessageHandler(
                ~private & (filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST),
                people.on_other_chat,
            ),
            TypeHandler(Update, ignore),
        ]
    )
    application.add_error_handler(people.on_error)


def _schedule(
    application: Application,
    running: Running,
    deployment: Deployment,
    live_flows: LiveFlows | None,
) -> None:
    """The jobs: purge, disappearing mode, unclaimed cases, and the flow reloads."""
    service, staff = running.service, running.staff
    assert service is not None and staff is not None
    assert application.job_queue is not None  # installed with python-telegram-bot[job-queue]
    jobs = application.job_queue

    async def purge(context: ContextTypes.DEFAULT_TYPE) -> None:
        await service.purge()

    async def delete_due(context: ContextTypes.DEFAULT_TYPE) -> None:
        await service.delete_due()

    interval = datetime.timedelta(minutes=deployment.sessions.purge_every_minutes)
    jobs.run_repeating(purge, interval=interval, first=interval)
    jobs.run_repeating(delete_due, interval=deployment.safety.disappearing_check_seconds, first=1)
    if live_flows is not None:
        watch = deployment.reload.watch_seconds
        if watch:
            jobs.run_repeating(staff.watch, interval=watch, first=watch)
        _on_hangup(lambda: application.create_task(staff.reload_and_tell(application, "SIGHUP")))
    counselling = running.counselling
    if counselling is not None:

        async def unclaimed(context: ContextTypes.DEFAULT_TYPE) -> None:
            await counselling.check_unclaimed()

        every = max(1.0, min(60.0, deployment.handover.claim_minutes * 60 / 4))
        jobs.run_repeating(unclaimed, interval=every, first=every)


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


class HealthChecks:
    """/healthz: the database takes writes, a flow is loaded, and the Bot API answers (asked at
    most every BOT_API_EVERY seconds, so that probes do not use up the bot's rate limit)."""

    BOT_API_EVERY = 30.0

    def __init__(self, store: SQLiteStore, engines: EngineHolder, bot: Bot) -> None:
        self.store = store
        self.engines = engines
        self.bot = bot
        self._api_checked = (float("-inf"), False)

    async def check(self) -> dict[str, bool]:
        return {
            "database": await self.store.writable(),
            "flows": bool(self.engines.engine.flow.nodes),
            "bot_api": await self._bot_api(),
        }

    async def _bot_api(self) -> bool:
        checked_at, answered = self._api_checked
        now = time.monotonic()
        if now - checked_at < self.BOT_API_EVERY:
            return answered
        try:
            answered = bool(await self.bot.get_me())
        except TelegramError:
            answered = False
        self._api_checked = (now, answered)
        return answered


async def ignore(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other update (an edit, a reaction, ...) gets a deliberate silence."""


def webhook_options(url: str, keys: SecretKeys, listen: str, port: int) -> dict[str, object]:
    """Arguments of run_webhook: Telegram posts to `url` with a secret token derived from the
    secret key; requests without it are refused by python-telegram-bot's webhook server."""
    return {
        "listen": listen,
        "port": port,
        "url_path": urlsplit(url).path.lstrip("/"),
        "webhook_url": url,
        "secret_token": keys.webhook_secret(),
        "allowed_updates": ALLOWED_UPDATES,
    }
