"""The pure dialogue core: flow files, the engine, the linter and the graph. No I/O but reading
flow files; nothing here knows Telegram, storage or time of day."""

from bot.dialogue.check import CheckResult, check_flows
from bot.dialogue.engine import (
    Action,
    BotProfile,
    Button,
    ButtonPressed,
    Command,
    Engine,
    Erase,
    Event,
    Notice,
    RequestHandover,
    SendMedia,
    Session,
    SetLanguage,
    Show,
    Start,
    TextTyped,
    TooFast,
    Unreadable,
)
from bot.dialogue.flow import Flow, Location, Problem, Severity
from bot.dialogue.loader import LoadError, load_flow, load_model
from bot.dialogue.render import ContactEntry, SourceTexts, Translator

__all__ = [
    "Action",
    "BotProfile",
    "Button",
    "ButtonPressed",
    "CheckResult",
    "Command",
    "ContactEntry",
    "Engine",
    "Erase",
    "Event",
    "Flow",
    "LoadError",
    "Location",
    "Notice",
    "Problem",
    "RequestHandover",
    "SendMedia",
    "Session",
    "SetLanguage",
    "Severity",
    "Show",
    "SourceTexts",
    "Start",
    "TextTyped",
    "TooFast",
    "Translator",
    "Unreadable",
    "check_flows",
    "load_flow",
    "load_model",
]
