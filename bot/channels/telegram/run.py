"""`wegweiser run`: the runtime with the Telegram channel, long polling or webhook, until stopped
(Ctrl-C, SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace

from telegram.error import InvalidToken, NetworkError

from bot.channels.telegram.app import BotSetup
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
from bot.store import SecretKeys, StoreError, WeakSecretError

log = logging.getLogger("wegweiser")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIGURATION = 2


def run(settings: Settings, deployment: Deployment, flow: Flow, *, dev: bool = False) -> int:
    """Run the bot with a checked flow. Returns an exit code; problems with the configuration
    are printed as one clear message naming the setting, never as a traceback."""
    configure_logging(settings.log_level, settings.log_format)
    if settings.telegram_token is not None:
        conceal(settings.telegram_token.get_secret_value())
    try:
        setup = _setup(settings, deployment, dev=dev)
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIGURATION
    handover = bool(deployment.teams(settings.counsellor_chat_id))
    engine = build_engine(flow, deployment, locales=settings.locales, handover_available=handover)
    live = LiveFlows(
        settings.flows, settings.locales, deployment, engine, handover_available=handover
    )
    runtime = Runtime(engine, replace(setup, live_flows=live))
    _announce(settings, deployment, flow)
    try:
        asyncio.run(runtime.serve())
    except InvalidToken:
        print(
            "WEGWEISER_TELEGRAM_TOKEN was refused by the Bot API: check the token.", file=sys.stderr
        )
        return EXIT_CONFIGURATION
    except StoreError as error:
        print(f"WEGWEISER_DATABASE: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    except NetworkError as error:
        print(
            redacted(f"The Bot API at {settings.telegram_api_url} cannot be reached: {error}"),
            file=sys.stderr,
        )
        return EXIT_FAILED
    log.info("stopped")
    return EXIT_OK


def _setup(settings: Settings, deployment: Deployment, *, dev: bool) -> BotSetup:
    if settings.telegram_token is None:
        raise ConfigurationError(
            "WEGWEISER_TELEGRAM_TOKEN is not set: create a bot with @BotFather in Telegram and "
            "set the token it gives you (see deploy/README.md)."
        )
    deployment.teams(settings.counsellor_chat_id)  # a team without a staff group stops here
    secret, source = secret_key(settings, dev=dev)
    try:
        keys = SecretKeys(secret)
    except WeakSecretError as error:
        raise ConfigurationError(str(error)) from error
    if dev:
        log.info("development secret key in use", extra={"source": source})
    return BotSetup(
        token=settings.telegram_token.get_secret_value(),
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


def _announce(settings: Settings, deployment: Deployment, flow: Flow) -> None:
    """One line for what runs, and one for each optional part that is switched off."""
    log.info(
        "starting",
        extra={
            "mode": "polling" if settings.webhook_url is None else "webhook",
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
    if settings.webhook_url is None:
        log.info("webhook off (WEGWEISER_WEBHOOK_URL not set): using long polling")
    teams = deployment.teams(settings.counsellor_chat_id)
    if not teams:
        log.info(
            "staff group off (WEGWEISER_COUNSELLOR_CHAT_ID not set): "
            "the counsellor button shows the centre's contacts"
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
