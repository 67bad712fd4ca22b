"""AIORateLimiter (Telegram's flood limits, 429 RetryAfter) plus a few retries for timeouts and
server errors, which python-telegram-bot leaves to the caller.

The Bot API has no idempotency key: a call whose answer never came (a read timeout, a connection
closed mid-answer) may have been carried out. For most calls a repeat is harmless or better than a
loss (a screen shown twice). A relayed message must not arrive twice, so a call made inside
`sent_once()` is retried only when it certainly did nothing (no connection, or an error answer);
otherwise it raises MaybeSent, and the sender is told that delivery is not confirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]

# inside sent_once(): the call that notes the relay; None outside
_noting: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar("sent_once", default=None)
# httpx failures before a request left: nothing reached Telegram, a repeat is safe
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class MaybeSent(NetworkError):
    """A call inside sent_once() got no answer: Telegram may or may not have carried it out."""


@contextlib.contextmanager
def sent_once(noting: Callable[[], Awaitable[None]]) -> Iterator[None]:
    """Bot API calls in this block are not repeated when they may have got through. `noting()`
    is awaited just before each attempt leaves, after the wait for Telegram's rate limits: a
    crash while waiting is then known to have sent nothing."""
    token = _noting.set(noting)
    try:
        yield
    finally:
        _noting.reset(token)


class RetryingRateLimiter(AIORateLimiter):
    """Waits out 429s (up to `max_retries` times) and retries a call that timed out or met a 5xx
    once per entry of `delays` (seconds). A call that may have reached Telegram before timing out
    can then arrive twice: a repeated screen is better than a lost one. Bad requests (400) are
    never retried: they would fail again."""

    def __init__(self, *, delays: Sequence[float] = (1.0, 3.0, 10.0), max_retries: int = 3) -> None:
        super().__init__(max_retries=max_retries)
        self.delays = tuple(delays)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if endpoint == "deleteMessages" and _private_chat(data.get("chat_id")):
            # Deleting is not sending: it stays outside the 30 messages a second, so that
            # disappearing mode and /exit never wait behind the bot's sends (a 429 is still
            # waited out). The base limit applies only to requests with a chat_id.
            data = {key: value for key, value in data.items() if key != "chat_id"}
        noting = _noting.get()
        if noting is not None:
            callback = _noted_first(noting, callback)
        retries = iter(self.delays)
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as error:  # TimedOut, 5xx, connection failures
                if noting is not None and _maybe_carried_out(error):
                    raise MaybeSent(f"no answer to {endpoint}") from error
                delay = next(retries, None)
                if delay is None:
                    raise
                log.warning(
                    "Bot API call failed, retrying",
                    extra={"method": endpoint, "error": type(error).__name__, "retry_in": delay},
                )
                await asyncio.sleep(delay)


def _noted_first(
    noting: Callable[[], Awaitable[None]],
    callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
) -> Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]:
    """The request, with `noting()` awaited just before it leaves (AIORateLimiter calls it once
    its limits let it through)."""

    async def noted(*args: Any, **kwargs: Any) -> bool | JSONDict | list[JSONDict]:
        await noting()
        return await callback(*args, **kwargs)

    return noted


def _maybe_carried_out(error: NetworkError) -> bool:
    """Whether the request may have reached Telegram: not when the connection never opened, nor
    when Telegram answered with an error (python-telegram-bot raises those without a cause)."""
    cause = error.__cause__
    return cause is not None and not isinstance(cause, _NOT_SENT)


def _private_chat(chat_id: object) -> bool:
    try:
        return int(chat_id) > 0  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False
