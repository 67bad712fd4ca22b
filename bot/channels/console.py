"""The terminal chat: the same conversation service as the bot, numbered buttons instead of
Telegram's.

It is how a newcomer or a maintainer tries the dialogue without a Telegram account. Type the number
of a button, a command such as /menu, /back, /language or /exit, or any text (keywords work). The
session lives in a temporary store that is gone when the chat ends.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TextIO

from bot.dialogue import (
    Action,
    Button,
    ButtonPressed,
    Command,
    Event,
    Notice,
    SendMedia,
    Show,
    Start,
    TextTyped,
)
from bot.service import (
    Capabilities,
    Content,
    ConversationService,
    Delivered,
    Inbound,
    Noting,
    PersonAddress,
)

CLEAR_SCREEN = "\033[2J\033[3J\033[H"
RULE = "─" * 40
NOTICE_SYMBOL = "\N{INFORMATION SOURCE}"
MEDIA_SYMBOL = {"image": "🖼", "audio": "🔊"}
CHANNEL = "console"
ONE_PERSON = PersonAddress(CHANNEL, "terminal")


class ConsoleChannel:
    """The person channel of the terminal: actions printed, numbered buttons remembered."""

    name = CHANNEL
    capabilities = Capabilities(edit_in_place=False, toasts=False)

    def __init__(self, stdout: TextIO, interactive: bool) -> None:
        self.stdout = stdout
        self.interactive = interactive
        self.buttons: list[Button] = []
        self.erased = False
        self._printed = 0

    async def deliver(
        self, address: str, actions: Sequence[Action], *, edit: str | None
    ) -> Delivered:
        out: list[str] = []
        for action in actions:
            match action:
                case Notice(text=text):
                    out.append(f"{NOTICE_SYMBOL}  {text}")
                case SendMedia(path=path, kind=kind):
                    out.append(f"{MEDIA_SYMBOL[kind]}  {path}")
                case Show(text=text, buttons=rows):
                    self.buttons = [button for row in rows for button in row]
                    out.extend([RULE, text, ""])
                    number = 0
                    for row in rows:
                        cells = []
                        for button in row:
                            number += 1
                            cells.append(f"{number:>2}) {button.label}")
                        out.append("   ".join(cells))
                    out.append("")
        if out:
            self.stdout.write("\n".join(out) + "\n")
            self.stdout.flush()
        self._printed += 1
        return Delivered([str(self._printed)])

    async def relay(
        self, address: str, content: Content, reply_to: str | None, noting: Noting
    ) -> str:
        await noting()
        return (await self.deliver(address, (Notice(content.text or ""),), edit=None)).refs[0]

    async def edit(self, address: str, ref: str, text: str) -> None:
        """What was printed stays printed."""

    async def delete(self, address: str, refs: Sequence[str], keep: Collection[str] = ()) -> None:
        """/exit: as Telegram deletes the messages, leave nothing on the screen."""
        self.erased = True
        if self.interactive:
            self.stdout.write(CLEAR_SCREEN)
            self.stdout.flush()


class ConsoleChat:
    """Reads typed lines and hands them to the service; `channel` prints the answers."""

    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty() and stdout.isatty()
        self.channel = ConsoleChannel(stdout, self.interactive)

    async def run(self, service: ConversationService, language: str | None = None) -> int:
        """Chat until /exit or end of input. With `language`, the language question is skipped."""
        await service.handle(Inbound(ONE_PERSON, Start(language_hint=language, language=language)))
        while not self.channel.erased and (line := self._read()) is not None:
            if line:
                await service.handle(Inbound(ONE_PERSON, self._event(line)))
        return 0

    def _read(self) -> str | None:
        if self.interactive:
            self.stdout.write("> ")
            self.stdout.flush()
        line = self.stdin.readline()
        return line.strip() if line else None

    def _event(self, line: str) -> Event:
        if line.startswith("/"):
            return Command(line[1:])
        buttons = self.channel.buttons
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            return ButtonPressed(buttons[int(line) - 1].data)
        return TextTyped(line)
