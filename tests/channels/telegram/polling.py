"""Start and stop a bare Application (the benchmark's echo bot) in the order `run_polling` uses,
inside the caller's event loop (run_polling owns its loop, so the benchmark cannot call it next to
the fake server)."""

from __future__ import annotations

import datetime

from telegram.ext import Application

from bot.channels.telegram import ALLOWED_UPDATES

POLL_TIMEOUT = datetime.timedelta(seconds=1)


async def start_polling(application: Application) -> None:
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
    )
    await application.start()


async def stop_polling(application: Application) -> None:
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
