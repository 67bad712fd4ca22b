"""The engine's actions as Bot API calls: a screen is one message with an inline keyboard."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.error import BadRequest

from bot.dialogue import Action, Notice, SendMedia, Show
from bot.store import SessionStore, StoreError

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(show: Show) -> InlineKeyboardMarkup | None:
    if not show.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in show.buttons]
    )


@dataclass(slots=True)
class Delivered:
    """What reached the chat: ids of the new messages, and the message now showing the screen."""

    message_ids: list[int] = field(default_factory=list)
    screen: int | None = None


class MediaFiles:
    """Sends a flow's media files. Each file is uploaded once; afterwards Telegram's file_id
    (kept in the store by the file's SHA-256, so a changed file is uploaded again) is reused."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._digests: dict[Path, tuple[float, str]] = {}

    def digest(self, path: Path) -> str:
        modified = path.stat().st_mtime
        known = self._digests.get(path)
        if known is None or known[0] != modified:
            known = (modified, hashlib.sha256(path.read_bytes()).hexdigest())
            self._digests[path] = known
        return known[1]

    async def send(self, bot: Bot, chat_id: int, media: SendMedia) -> Message:
        digest = self.digest(media.path)
        file_id = await self.store.media_file_id(digest)
        if file_id is not None:
            try:
                return await self._send(bot, chat_id, media.kind, file_id)
            except BadRequest:
                log.info("cached media file unknown to Telegram, uploading again")
        message = await self._send(bot, chat_id, media.kind, media.path.read_bytes())
        sent = (
            message.photo[-1].file_id if message.photo else message.audio and message.audio.file_id
        )
        if sent:
            try:
                await self.store.remember_media(digest, sent)
            except StoreError as error:  # only the next upload is saved: the picture is sent
                log.warning("could not remember a media file id", extra={"error": str(error)})
        return message

    @staticmethod
    async def _send(bot: Bot, chat_id: int, kind: str, content: str | bytes) -> Message:
        if kind == "image":
            return await bot.send_photo(chat_id, content)
        return await bot.send_audio(chat_id, content)


async def deliver(
    bot: Bot,
    chat_id: int,
    actions: Sequence[Action],
    media: MediaFiles,
    *,
    edit: int | None = None,
    delivered: Delivered | None = None,
) -> Delivered:
    """Send `actions` to the chat, in order. With `edit` (the message whose button was pressed,
    when it is the current screen), a lone screen replaces that message's text and buttons in
    place instead of arriving as a new message: the chat stays short, and so does what /exit has
    to delete. Media always arrive as new messages, the screen after them. `delivered` is filled
    as the messages go out, so a caller whose delivery raised halfway knows what was sent."""
    delivered = Delivered() if delivered is None else delivered
    screens = [action for action in actions if isinstance(action, Show)]
    in_place = (
        edit if len(screens) == 1 and not any(isinstance(a, SendMedia) for a in actions) else None
    )
    for action in actions:
        match action:
            case Notice(text=text):
                message = await bot.send_message(chat_id, text, link_preview_options=NO_PREVIEW)
                delivered.message_ids.append(message.message_id)
            case SendMedia():
                message = await media.send(bot, chat_id, action)
                delivered.message_ids.append(message.message_id)
            case Show() if in_place is not None and await _edited(bot, chat_id, in_place, action):
                delivered.screen = in_place
            case Show(text=text):
                message = await bot.send_message(
                    chat_id, text, reply_markup=keyboard(action), link_preview_options=NO_PREVIEW
                )
                delivered.message_ids.append(message.message_id)
                delivered.screen = message.message_id
    return delivered


async def _edited(bot: Bot, chat_id: int, message_id: int, show: Show) -> bool:
    """Show the screen in message `message_id`; False if Telegram will not edit it any more."""
    try:
        await bot.edit_message_text(
            show.text,
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=keyboard(show),
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as error:
        # The same screen again (a stale button answered with the current node) is no error.
        return "not modified" in error.message
    return True
