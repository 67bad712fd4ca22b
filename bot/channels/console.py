"""The terminal chat: the same engine as the bot, numbered buttons instead of Telegram's.

It is how a newcomer or a maintainer tries the dialogue without a Telegram account. Type the number
of a button, a command such as /menu, /back, /language or /exit, or any text (keywords work).
"""

from __future__ import annotations

from typing import TextIO

from bot.dialogue import (
    Action,
    Button,
    ButtonPressed,
    Command,
    Engine,
    Erase,
    Event,
    Notice,
    SendMedia,
    Session,
    Show,
    Start,
    TextTyped,
)

CLEAR_SCREEN = "\033[2J\033[3J\033[H"
RULE = "─" * 40
NOTICE_SYMBOL = "\N{INFORMATION SOURCE}"
MEDIA_SYMBOL = {"image": "🖼", "audio": "🔊"}


class ConsoleChat:
    def __init__(self, engine: Engine, stdin: TextIO, stdout: TextIO) -> None:
        self.engine = engine
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty() and stdout.isatty()
        self.buttons: list[Button] = []

    def run(self, language: str | None = None) -> int:
        """Chat until /exit or end of input. With `language`, the language question is skipped."""
        session, actions = self.engine.step(Session(language=language), Start(language))
        self._show(actions)
        while (line := self._read()) is not None:
            if not line:
                continue
            session, actions = self.engine.step(session, self._event(line))
            if any(isinstance(action, Erase) for action in actions):
                # As /exit in Telegram deletes the messages, leave nothing on the screen.
                if self.interactive:
                    self.stdout.write(CLEAR_SCREEN)
                    self.stdout.flush()
                return 0
            self._show(actions)
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
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return ButtonPressed(self.buttons[int(line) - 1].data)
        return TextTyped(line)

    def _show(self, actions: tuple[Action, ...]) -> None:
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
