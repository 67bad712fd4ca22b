"""`wegweiser run`: the runtime with the web chat, and the Telegram channel (long polling or
webhook) when a token is set, until stopped (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace

from bot.channels.web.app import WebSetup
from bot.config import (
    TELEGRAM_API_URL,
    ConfigurationError,
    Deployment,
    Settings,
    build_engine,
    held_drafts,
    secret_key,
    translation_report,
)
from bot.dialogue import Flow
from bot.i18n.catalogs import Review
from bot.live_flows import LiveFlows
from bot.logs import conceal, configure_logging, redacted
from bot.runtime import Runtime
from bot.setup import BotSetup
from bot.store import SecretKeys, StoreError, WeakSecretError

log = logging.getLogger("wegweiser")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIGURATION = 2


def run(settings: Settings, deployment: Deployment, flow: Flow) -> int:
    """Run the channels with a checked flow. Returns an exit code; problems with the
    configuration are printed as one clear message naming the setting, never as a traceback."""
    configure_logging(settings.log_level, settings.log_format)
    if settings.telegram_token is not None:
        conceal(settings.telegram_token.get_secret_value())
    try:
        setup = _setup(settings, deployment)
        web = _web(settings)
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIGURATION
    handover = bool(setup.teams)
    engine = build_engine(flow, deployment, locales=settings.locales, handover_available=handover)
    live = LiveFlows(
        settings.flows, settings.locales, deployment, engine, handover_available=handover
    )
    runtime = Runtime(engine, replace(setup, live_flows=live), web)
    _announce(settings, setup, flow)
    try:
        asyncio.run(runtime.serve())
    except StoreError as error:
        print(f"WEGWEISER_DATABASE: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    except OSError as error:  # the web chat's port is taken, or its address is not ours
        print(
            f"WEGWEISER_WEB_LISTEN, WEGWEISER_WEB_PORT: the web chat cannot listen on "
            f"{settings.web_listen}:{settings.web_port} ({error.strerror or error}).",
            file=sys.stderr,
        )
        return EXIT_CONFIGURATION
    except Exception as error:
        refused = _telegram_refused(error, settings)
        if refused is None:
            raise
        return refused
    log.info("stopped")
    return EXIT_OK


def _telegram_refused(error: Exception, settings: Settings) -> int | None:
    """The exit code for the Bot API's refusal at start (a wrong token, no connection), printed
    as one line; None for any other error. python-telegram-bot is imported only if it ran."""
    if settings.telegram_token is None:
        return None
    from telegram.error import InvalidToken, NetworkError

    if isinstance(error, InvalidToken):
        print(
            "WEGWEISER_TELEGRAM_TOKEN was refused by the Bot API: check the token.", file=sys.stderr
        )
        return EXIT_CONFIGURATION
    if isinstance(error, NetworkError):
        print(
            redacted(f"The Bot API at {settings.telegram_api_url} cannot be reached: {error}"),
            file=sys.stderr,
        )
        return EXIT_FAILED
    return None


def _setup(settings: Settings, deployment: Deployment) -> BotSetup:
    token = settings.telegram_token
    if token is None and not settings.web:
        raise ConfigurationError(
            "Nothing to run: the web chat is off (WEGWEISER_WEB) and WEGWEISER_TELEGRAM_TOKEN is "
            "not set."
        )
    if token is not None:
        deployment.teams(settings.counsellor_chat_id)  # a team without a staff group stops here
    if settings.webhook_url is not None and token is None:
        raise ConfigurationError(
            "WEGWEISER_WEBHOOK_URL is set but WEGWEISER_TELEGRAM_TOKEN is not: the webhook is "
            "Telegram's; set the token, or remove the webhook address."
        )
    if (
        settings.web
        and settings.webhook_url is not None
        and (settings.web_port == settings.webhook_port)
    ):
        raise ConfigurationError(
            f"WEGWEISER_WEB_PORT and WEGWEISER_WEBHOOK_PORT are both {settings.web_port}: give "
            "the web chat and the Telegram webhook different ports."
        )
    secret, source = secret_key(settings)
    try:
        keys = SecretKeys(secret)
    except WeakSecretError as error:
        raise ConfigurationError(str(error)) from error
    if source not in ("WEGWEISER_SECRET_KEY", "WEGWEISER_SECRET_KEY_FILE"):
        log.warning(
            "secret key from a file made on first start in the working folder: fine for trying "
            "things out; in production set WEGWEISER_SECRET_KEY or WEGWEISER_SECRET_KEY_FILE",
            extra={"file": source},
        )
    return BotSetup(
        token=None if token is None else token.get_secret_value(),
        api_url=settings.telegram_api_url,
        database=settings.database,
        keys=keys,
        deployment=deployment,
        staff_chat_id=settings.counsellor_chat_id,
        operations=None
        if settings.metrics_port is None
        else (settings.metrics_listen, settings.metrics_port),
        webhook=None
        if settings.webhook_url is None
        else (str(settings.webhook_url), settings.webhook_listen, settings.webhook_port),
    )


def _web(settings: Settings) -> WebSetup | None:
    if not settings.web:
        return None
    return WebSetup(
        listen=settings.web_listen,
        port=settings.web_port,
        exit_url=str(settings.web_exit_url),
        media_root=settings.flows,
    )


def _announce(settings: Settings, setup: BotSetup, flow: Flow) -> None:
    """One line for what runs, and one for each optional part that is switched off."""
    deployment, telegram = setup.deployment, setup.token is not None
    log.info(
        "starting",
        extra={
            "telegram": "off"
            if not telegram
            else "polling"
            if settings.webhook_url is None
            else "webhook",
            "web": f"http://{settings.web_listen}:{settings.web_port}/" if settings.web else "off",
            "database": str(settings.database.resolve()),
            "config": str(settings.config),
            "flows": str(settings.flows),
            "nodes": len(flow.nodes),
            "languages": ",".join(deployment.languages),
            "session_idle_hours": deployment.sessions.idle_hours,
        },
    )
    offered = [
        status
        for status in translation_report(flow, deployment, settings.locales).languages
        if status.offered and not status.is_source
    ]
    if held := held_drafts(deployment, settings.locales):
        log.warning(
            "draft translations not offered (translations.serve_drafts is off): they await "
            "review by a native speaker",
            extra={"languages": ",".join(held)},
        )
    offered = [status for status in offered if status.language not in held]
    if drafts := [status.language for status in offered if status.review is Review.DRAFT]:
        log.info(
            "some translations are drafts awaiting review by a native speaker",
            extra={"languages": ",".join(drafts)},
        )
    for status in offered:
        if status.missing or status.fuzzy:
            log.warning(
                "translation incomplete: those texts are shown in English or German",
                extra={
                    "language": status.language,
                    "missing": status.missing,
                    "fuzzy": status.fuzzy,
                },
            )
    if settings.telegram_api_url != TELEGRAM_API_URL:
        log.info("using another Bot API server", extra={"url": settings.telegram_api_url})
    if not telegram:
        log.info("Telegram off (WEGWEISER_TELEGRAM_TOKEN not set): only the web chat runs")
    elif settings.webhook_url is None:
        log.info("webhook off (WEGWEISER_WEBHOOK_URL not set): using long polling")
    if not settings.web:
        log.info("web chat off (WEGWEISER_WEB is false)")
    teams = setup.teams
    if not teams:
        log.info(
            "staff group off ("
            + ("WEGWEISER_COUNSELLOR_CHAT_ID not set" if telegram else "Telegram is off")
            + "): the counsellor button shows the centre's contacts"
        )
    else:
        log.info(
            "counsellors answer in the chat: cases go to forum topics of the staff group(s)",
            extra={"teams": ",".join(team.name for team in teams)},
        )
    if settings.metrics_port is None:
        log.info("operations endpoints off (WEGWEISER_METRICS_PORT not set): no /healthz, /metrics")
    watch = deployment.reload.watch_seconds
    log.info(
        "flows reload when they pass the check: on SIGHUP, /reload in the staff group"
        + (f", and when a file changes (looked at every {watch:g} s)" if watch else ""),
    )
