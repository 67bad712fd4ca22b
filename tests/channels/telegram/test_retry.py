"""The Bot API's rate limiter: Telegram's limits on sending, but erasure does not queue behind
the bot's sends."""

from __future__ import annotations

import time

from bot.channels.telegram.retry import RetryingRateLimiter


async def calls(limiter: RetryingRateLimiter, endpoint: str, chat_id: int, count: int) -> float:
    """Seconds `count` calls to `endpoint` in the chat take through the limiter."""

    async def answer() -> bool:
        return True

    await limiter.initialize()
    began = time.perf_counter()
    for _ in range(count):
        await limiter.process_request(answer, (), {}, endpoint, {"chat_id": chat_id}, None)
    return time.perf_counter() - began


async def test_deletions_in_private_chats_are_not_held_to_30_a_second() -> None:
    """Issue 13: disappearing mode for 1,000 persons is 1,000 deleteMessages calls, which the
    30 a second for sending stretched past the job's 30 s interval."""
    assert await calls(RetryingRateLimiter(), "deleteMessages", 7391846250, 90) < 0.5
    # sending is still held to Telegram's limit: 30 at once, then 30 a second
    assert await calls(RetryingRateLimiter(), "sendMessage", 7391846250, 90) > 1.5
