"""The Telegram channel: python-telegram-bot's Application around the conversation service.

The runtime (bot/runtime.py) builds it, hands it the services once the store is open, and starts
and stops it. `wegweiser run` and the end-to-end tests do it the same way; the tests only point it
at the fake Bot API server on 127.0.0.1 and shorten the waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Awaitable, Callable, Sequence
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

from bot.channels.telegram.cases import TelegramStaffChannel, TelegramStaffUpdates
from bot.channels.telegram.delivery import MediaFiles
from bot.channels.telegram.offsets import Confirming, HeldOffsetRequest, Unfinished
from bot.channels.telegram.ordering import PersonByPerson
from bot.channels.telegram.person import (
    TelegramPersonChannel,
    TelegramPersonUpdates,
    asks_to_erase,
)
from bot.channels.telegram.profile import publish_profile
from bot.channels.telegram.redelivery import HandledOnce, SkipHandled
from bot.channels.telegram.retry import RetryingRateLimiter
from bot.channels.telegram.staff import Staff, for_another_bot
from bot.channels.telegram.unreadable import WEBHOOK_LOGGER, WebhookRefusals
from bot.channels.telegram.webhook import PendingAnswers, guard_webhook
from bot.dialogue import BotProfile, Engine
from bot.logs import conceal
from bot.metrics import Metrics
from bot.service import FloodGate, Services
from bot.setup import BotSetup
from bot.store import SecretKeys, SessionStore, UpdateLog

# The runtime's flow reload: (reason) -> the report for the staff group.
Reload = Callable[[str], Awaitable[str]]

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
# Stopping: how long the turns in flight may take to finish (deploy/ gives the process 10 s in
# all), and how long closing the connections may take after that.
STOP_WITHIN = 5.0
SHUTDOWN_AT_LEAST = 1.0


class TelegramChannel:
    """The Bot API side of the runtime: the person channel of private chats, the staff channel
    of the staff groups, and the handlers of every update."""

    def __init__(
        self, setup: BotSetup, reload: Reload | None = None, metrics: Metrics | None = None
    ) -> None:
        """`reload(reason)`: the runtime's flow reload, for /reload in the staff group;
        `metrics`: where unreadable updates are counted."""
        assert setup.token is not None, "Telegram needs a token"
        self.setup = setup
        self.metrics = metrics or Metrics()
        self._refusals = WebhookRefusals(lambda: self._unreadable("webhook"))
        self.reload = reload
        self.webhook_refused = 0
        self.staff_chats = setup.staff_chats
        self.people: TelegramPersonUpdates | None = None
        self.staff: Staff | None = None
        conceal(setup.token)  # python-telegram-bot and httpx name it in URLs and errors
        deployment = setup.deployment
        gate = FloodGate(deployment.limits.burst, deployment.limits.per_minute)
        self.updates = SkipHandled(
            PersonByPerson(CONCURRENT_UPDATES, gate, on_refused=self._refused, exempt=asks_to_erase)
        )
        # fetched, not yet handled: not confirmed to Telegram (long polling), not answered yet
        # (webhook)
        self.unfinished = Unfinished()
        self.answers = PendingAnswers()
        handled = self.unfinished.done if setup.webhook is None else self.answers.done
        self.turns = Confirming(self.updates, handled)
        self.application: Application = (
            ApplicationBuilder()
            .token(setup.token)
            .base_url(setup.api_url)
            .rate_limiter(RetryingRateLimiter(delays=setup.retry_delays))
            .concurrent_updates(self.turns)
            .get_updates_request(
                HeldOffsetRequest(self.unfinished, lambda: self._unreadable("polling"))
            )
            .read_timeout(setup.read_timeout)
            .write_timeout(setup.read_timeout)
            .defaults(
                Defaults(
                    disable_notification=deployment.safety.silent or None,
                    protect_content=deployment.safety.protect_content or None,
                )
            )
            .job_queue(None)
            .build()
        )
        self.health = HealthChecks(self.application.bot, setup.health_every)

    # -- the ports -------------------------------------------------------------------------------

    def person_channel(self, store: SessionStore) -> TelegramPersonChannel:
        return TelegramPersonChannel(self.application.bot, MediaFiles(store))

    def staff_channel(self) -> TelegramStaffChannel:
        return TelegramStaffChannel(self.application.bot)

    # -- start and stop --------------------------------------------------------------------------

    async def start(self, services: Services, engine: Engine) -> None:
        """Handlers on the services, then the Bot API: getMe (InvalidToken if the token is
        refused), the bot's profile, and the updates (long polling or the webhook)."""
        self._handlers(services)
        application = self.application
        await application.initialize()
        log.info("connected to the Bot API", extra={"bot": f"@{application.bot.username}"})
        self.health.start(answered=True)
        await publish_profile(application, engine)
        updater = application.updater
        assert updater is not None
        if self.setup.webhook is None:
            await updater.start_polling(
                poll_interval=0,
                timeout=datetime.timedelta(seconds=self.setup.poll_timeout),
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            logging.getLogger(WEBHOOK_LOGGER).addHandler(self._refusals)
            url, listen, port = self.setup.webhook
            await updater.start_webhook(
                **webhook_options(url, listen, port, self.setup.keys)  # type: ignore[arg-type]
            )
            guard_webhook(updater, self._refused_by_webhook, self.answers)
            # not the URL: an operator may have put a secret into its path
            log.info("webhook listening", extra={"listen": listen, "port": port})
        await application.start()

    async def stop(self, within: float = STOP_WITHIN) -> None:
        """Stop fetching updates, let the turns in flight finish for what is left of `within`
        seconds, then cut off the ones still running (a slow or failing Bot API can hold a turn
        for a minute of retries, and a container runtime kills after 10 s)."""
        logging.getLogger(WEBHOOK_LOGGER).removeHandler(self._refusals)
        await self.health.stop()
        if self.setup.webhook is not None:
            log.info("webhook requests refused", extra={"requests": self.webhook_refused})
        application = self.application
        deadline = asyncio.get_running_loop().time() + within

        def left() -> float:
            return max(0.0, deadline - asyncio.get_running_loop().time())

        if application.updater is not None and application.updater.running:
            await _bounded(application.updater.stop(), left(), "stop fetching updates")
        if application.running:
            stopping = asyncio.ensure_future(application.stop())
            await asyncio.wait({stopping}, timeout=left())
            cut = 0
            while not stopping.done():
                # also the updates python-telegram-bot takes from its queue meanwhile
                for task in list(self.turns.running):
                    cut += task.cancel()
                await asyncio.wait({stopping}, timeout=0.05)
            if cut:
                log.warning("stopping: turns cut off unfinished", extra={"turns": cut})
            await stopping
        if self.setup.webhook is None and self.unfinished.newest:
            # what was handled while stopping is confirmed; what was cut off comes again
            confirm = application.bot.get_updates(offset=self.unfinished.confirming(), timeout=0)
            await _bounded(confirm, max(left(), SHUTDOWN_AT_LEAST), "confirm the handled updates")
        await _bounded(application.shutdown(), max(left(), SHUTDOWN_AT_LEAST), "shut down")

    async def reloaded(self, before: Engine, after: Engine, report: str, asked_here: bool) -> None:
        """A flow reload: the profile again if it changed; the staff group hears of a reload it
        did not ask for itself."""
        if _profiles(before) != _profiles(after):
            await publish_profile(self.application, after)
        report_to = self.setup.staff_chat_id or next(iter(sorted(self.staff_chats)), None)
        if asked_here or report_to is None:
            return
        try:
            await self.application.bot.send_message(report_to, report)
        except TelegramError as error:
            log.warning("could not tell the staff group", extra={"error": type(error).__name__})

    def _refused_by_webhook(self) -> None:
        """A request without the secret token (or not JSON): counted, told once at stop."""
        self.webhook_refused += 1
        self.metrics.webhook_refused.inc()

    def _unreadable(self, mode: str) -> None:
        """An update python-telegram-bot could not read was skipped: counted, never logged."""
        self.metrics.unreadable_updates.labels(mode).inc()
        log.warning("skipped an update that could not be read", extra={"mode": mode})

    # -- the handlers ----------------------------------------------------------------------------

    async def _refused(self, updates: Sequence[Update], first: bool) -> None:
        if self.people is not None:
            await self.people.on_refused(updates, first)

    def _handlers(self, services: Services) -> None:
        people = TelegramPersonUpdates(
            services.conversations, services.counselling, self.staff_chats
        )
        staff = Staff(services.store, services.clock, self.staff_chats, self.reload)
        self.people, self.staff = people, staff
        if isinstance(services.store, UpdateLog):
            self.updates.handled = HandledOnce(services.store, services.clock)
        staff_updates = (
            TelegramStaffUpdates(services.counselling, services.desk, self.staff_chats)
            if services.counselling is not None and services.desk is not None
            else None
        )
        private = filters.ChatType.PRIVATE

        async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            """A press in a staff group is the case desk's; any other, even one with a case
            card's data, is the dialogue's, which refuses it in the person's language."""
            chat = update.effective_chat
            if staff_updates is not None and chat is not None and chat.id in self.staff_chats:
                await staff_updates.on_staff_button(update, context)
            else:
                await people.on_button(update, context)

        async def staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            """In a staff group: /stats and /reload, else the case desk (replies, /close,
            /alias). A command for another bot, and a service message (a topic edited, closed
            or reopened, a message pinned, members joining or leaving), are nobody's."""
            message = update.effective_message
            if message is None or filters.StatusUpdate.ALL.check_update(update):
                return
            if for_another_bot(message.text, context.bot.username):
                return
            if not await staff.on_command(update, context) and staff_updates is not None:
                await staff_updates.on_staff_message(update, context)

        staff_handlers = []
        if self.staff_chats:
            in_staff = filters.Chat(list(self.staff_chats))
            staff_handlers.append(
                MessageHandler(in_staff & filters.UpdateType.MESSAGE, staff_message)
            )
        case_handlers = []
        if staff_updates is not None:
            edited = filters.UpdateType.EDITED_MESSAGE
            in_staff_groups = filters.Chat(list(self.staff_chats))
            case_handlers = [
                MessageHandler(edited & private, people.on_edit),
                MessageHandler(edited & in_staff_groups, staff_updates.on_edit),
            ]
        self.application.add_handlers(
            [
                MessageHandler(private & filters.UpdateType.MESSAGE, people.on_message),
                *case_handlers,
                CallbackQueryHandler(button),
                ChatMemberHandler(people.on_member_change, ChatMemberHandler.MY_CHAT_MEMBER),
                *staff_handlers,
                MessageHandler(
                    ~private & (filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST),
                    people.on_other_chat,
                ),
                TypeHandler(Update, ignore),
            ]
        )
        self.application.add_error_handler(people.on_error)


async def _bounded(step: Awaitable[object], seconds: float, what: str) -> None:
    """A step of stopping that may take `seconds` at most; then it is given up (logged), as it
    is when the Bot API fails it: the rest of the stop goes on."""
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.warning("stopping: a step took too long and was given up", extra={"step": what})
    except TelegramError as error:
        log.warning("stopping: a step failed", extra={"step": what, "error": type(error).__name__})


def _profiles(engine: Engine) -> list[BotProfile]:
    return [engine.profile(language) for language in engine.languages]


class HealthChecks:
    """The channel's part of /healthz: whether the Bot API answered when last asked. A task
    asks every `every` seconds (so that probes neither wait on Telegram nor use up the bot's rate
    limit); a question unanswered within `every` (at most ASK_TIMEOUT) counts as no answer."""

    ASK_TIMEOUT = 5.0

    def __init__(self, bot: Bot, every: float) -> None:
        self.bot = bot
        self.every = every
        self.answered = False
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> dict[str, bool]:
        return {"bot_api": self.answered}

    def start(self, answered: bool) -> None:
        """Keep asking, from the state the channel found at start."""
        self.answered = answered
        self._task = asyncio.create_task(self._keep_asking(), name="bot api health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _keep_asking(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                me = await asyncio.wait_for(
                    self.bot.get_me(), timeout=min(self.every, self.ASK_TIMEOUT)
                )
                self.answered = bool(me)
            except (TelegramError, TimeoutError):
                self.answered = False


async def ignore(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other update (an edit, a reaction, ...) gets a deliberate silence."""


def webhook_options(url: str, listen: str, port: int, keys: SecretKeys) -> dict[str, object]:
    """Arguments of run_webhook: Telegram posts to `url` with a secret token derived from the
    secret key; requests without it are refused by python-telegram-bot's webhook server."""
    return {
        "listen": listen,
        "port": port,
        "url_path": urlsplit(url).path.lstrip("/"),
        "webhook_url": url,
        "secret_token": keys.webhook_secret(),
        "allowed_updates": ALLOWED_UPDATES,
        # each request is answered only after its turn: as many open as turns may run at once
        "max_connections": CONCURRENT_UPDATES,
    }
