"""Pydantic models of the flow files in flows/ (see flows/README.md for the maintainer's view).

The models describe one file each. They check what can be checked inside one file; rules that need
the whole flow (targets, reachability, placeholders) live in check.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

LOCAL_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
NODE_ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$"
PLACEHOLDER_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

LocalId = Annotated[str, StringConstraints(pattern=LOCAL_ID_PATTERN)]
Target = Annotated[str, StringConstraints(pattern=NODE_ID_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
AUDIO_SUFFIXES = frozenset({".mp3", ".m4a", ".ogg"})


class GlobalAction(StrEnum):
    """Actions that work from every node, as buttons and as chat commands."""

    MENU = "menu"
    BACK = "back"
    LANGUAGE = "language"
    COUNSELLOR = "counsellor"
    EXIT = "exit"
    PRIVACY = "privacy"
    DISAPPEARING = "disappearing"


class Channel(StrEnum):
    """The channels a person writes through. A text worded for one of them (`channels:` in a
    node or in system.yaml) replaces the default text there; the others show the default."""

    TELEGRAM = "telegram"
    WEB = "web"
    CONSOLE = "console"


class Strict(BaseModel):
    """Unknown keys are errors: a typo like `optins:` must not be ignored silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Strict):
    label: Text
    goto: Target | None = None
    action: GlobalAction | None = None

    @model_validator(mode="after")
    def _exactly_one_destination(self) -> Option:
        if (self.goto is None) == (self.action is None):
            raise ValueError("an option needs exactly one of 'goto' or 'action'")
        return self


class MediaPath(Strict):
    """A file under flows/media/. Its kind (image or audio) follows from the file suffix."""

    path: str

    @property
    def kind(self) -> Literal["image", "audio"]:
        return "audio" if PurePosixPath(self.path).suffix.lower() in AUDIO_SUFFIXES else "image"


class ChannelText(Strict):
    """A node's wording for one channel (`channels: {web: {text: ...}}`): its `text` replaces
    the node's text on that channel, for sentences that hold there only (a Telegram menu, a
    typed /exit)."""

    text: Text


def variant(channels: Mapping[Channel, ChannelText], channel: str | None) -> ChannelText | None:
    """The wording for `channel`, if the node has one (None: the default text)."""
    return next((text for name, text in channels.items() if name == channel), None)


def _media_from_string(value: object) -> object:
    """Lets maintainers write `media: emergency/numbers.png` instead of a mapping."""
    return {"path": value} if isinstance(value, str) else value


class _NodeBase(Strict):
    text: Text
    options: tuple[Option, ...] = ()
    keywords: tuple[Text, ...] = ()
    # The crisis net (crisis.py): groups of words and phrases (suicide, danger, ...) that show
    # this node before anything else, also during a conversation with a counsellor.
    crisis_words: dict[LocalId, tuple[Text, ...]] = {}
    media: Annotated[MediaPath | None, BeforeValidator(_media_from_string)] = None
    # The screen read aloud, per language (for people who cannot read well): language code ->
    # a file under flows/media/. A language without one gets no audio, never another's.
    audio: dict[str, str] = {}
    navigation: bool = True
    # The text worded for one channel, where the default names things of another channel.
    channels: dict[Channel, ChannelText] = {}

    @model_validator(mode="after")
    def _media_suffix_is_known(self) -> _NodeBase:
        if self.media is not None:
            suffix = PurePosixPath(self.media.path).suffix.lower()
            if suffix not in IMAGE_SUFFIXES | AUDIO_SUFFIXES:
                known = ", ".join(sorted(IMAGE_SUFFIXES | AUDIO_SUFFIXES))
                raise ValueError(f"media file must end in one of {known}")
        for language, path in self.audio.items():
            if PurePosixPath(path).suffix.lower() not in AUDIO_SUFFIXES:
                known = ", ".join(sorted(AUDIO_SUFFIXES))
                raise ValueError(f"audio for {language}: the file must end in one of {known}")
        return self

    @model_validator(mode="after")
    def _labels_are_distinct(self) -> _NodeBase:
        labels = [option.label for option in self.options]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"two options have the same label: {', '.join(repeated)}")
        return self


class MenuNode(_NodeBase):
    kind: Literal["menu"]
    options: tuple[Option, ...] = Field(min_length=1)


class InfoNode(_NodeBase):
    kind: Literal["info"]


class ContactsNode(_NodeBase):
    """Lists contact entries of the deployment configuration, so one flow serves many centres."""

    kind: Literal["contacts"]
    contacts: tuple[LocalId, ...] = Field(min_length=1)


class HandoverNode(_NodeBase):
    """Asks whether the person wants a counsellor; the `confirm` button starts the handover."""

    kind: Literal["handover"]
    confirm: Text
    topic: LocalId | None = None


Node = Annotated[MenuNode | InfoNode | ContactsNode | HandoverNode, Field(discriminator="kind")]


class TopicFile(Strict):
    """A file flows/NAME.yaml; its node ids are NAME.<id>."""

    nodes: dict[LocalId, Node] = Field(min_length=1)


class Labels(Strict):
    back: Text
    menu: Text
    language: Text
    counsellor: Text
    exit: Text
    privacy: Text
    disappearing: Text

    def of(self, action: GlobalAction) -> str:
        return str(getattr(self, action.value))


class Messages(Strict):
    not_understood: Text
    # A typed question the search found screens for ("Meintest du …?"); they follow as buttons.
    # Without it, such a question gets `not_understood`.
    did_you_mean: Text | None = None
    stale_button: Text
    choose_language: Text
    handover_unavailable: Text
    # A sticker, photo, voice note or file, which the dialogue cannot read.
    not_readable: Text
    # A shared contact or location: dropped, and the person is asked not to share such data.
    personal_data: Text
    # Sent once when a person sends faster than the flood limit allows.
    slow_down: Text
    # After /exit, if the deployment asks for it (safety.message_after_exit): one harmless
    # message, so that the chat does not stand out as an emptied one.
    after_exit: Text | None = None


class DisappearingTexts(Strict):
    """Disappearing mode (system.yaml `disappearing`): every message of the chat is deleted a
    while after it was sent. The times are the deployment's, named in the person's language."""

    # The screen that offers the times.
    text: Text
    # The button that switches it off.
    off: Text
    # After choosing a time; followed by the time.
    on: Text
    # After switching it off.
    stopped: Text


class CaseTexts(Strict):
    """What the person reads around a conversation with a counsellor (system.yaml `case`).
    The channel adds the details after the text: when counsellors are back, the counsellor's
    chosen name, the return code."""

    # The button that ends the conversation with the counsellor (also cancels waiting).
    end: Text
    # The case is open and counsellors are on duty: someone will answer here.
    waiting: Text
    # The case is open outside office hours: the message waits; followed by when they are back.
    outside_hours: Text
    # A counsellor took the case; followed by the name she chose, if she chose one.
    claimed: Text
    # Nobody took the case in time: the message still waits; where to get help meanwhile.
    nobody: Text
    # Shown again (/counsellor, /start) while the conversation runs.
    active: Text
    # The person ended the conversation.
    ended: Text
    # The counsellor closed the case.
    closed: Text
    # After `closed`, with the return code on the next line.
    return_code: Text
    # A return code connected the person to their earlier case again.
    resumed: Text
    # A message of the person's could not be passed on.
    not_delivered: Text
    # A message of the person's may or may not have been passed on (the connection broke off).
    unconfirmed: Text


class Commands(Strict):
    """Descriptions of the commands in Telegram's command menu (the "/" button)."""

    start: Text
    menu: Text
    language: Text
    counsellor: Text
    privacy: Text
    exit: Text
    help: Text


class Profile(Strict):
    """What Telegram shows about the bot: `description` in an empty chat ("What can this bot
    do?"), `short_description` on its profile page, and the command menu."""

    description: Text
    short_description: Text
    commands: Commands


class WebTexts(Strict):
    """The web chat's own page around the dialogue (system.yaml `web`). The title is what a
    browser's tab and history show: it must not tell what the page is about."""

    title: Text
    # The label of the text box, read out by screen readers.
    message_label: Text
    send: Text
    # The button on every screen that erases the chat and leaves for a neutral page.
    quick_exit: Text
    # Under the quick exit button: the key that does the same.
    quick_exit_key: Text
    # Without JavaScript, the page does not update itself: this link loads new messages.
    new_messages: Text


class ChannelSystemTexts(Strict):
    """system.yaml `channels: web:`: system texts worded for one channel, by section and key as
    written above (`messages: {not_understood: ...}`); each replaces the default there."""

    labels: dict[str, Text] = {}
    messages: dict[str, Text] = {}
    case: dict[str, Text] = {}
    disappearing: dict[str, Text] = {}

    @field_validator("labels", "messages", "case", "disappearing")
    @classmethod
    def _keys_are_texts_of_the_section(
        cls, texts: dict[str, Text], info: ValidationInfo
    ) -> dict[str, Text]:
        section = str(info.field_name)
        known = CHANNEL_SECTIONS[section].model_fields
        unknown = sorted(set(texts) - set(known))
        if unknown:
            raise ValueError(
                f"{section} has no text {', '.join(map(repr, unknown))}; "
                f"its texts are {', '.join(known)}"
            )
        return texts


CHANNEL_SECTIONS: dict[str, type[Strict]] = {
    "labels": Labels,
    "messages": Messages,
    "case": CaseTexts,
    "disappearing": DisappearingTexts,
}


class SystemFile(Strict):
    """flows/system.yaml: where the dialogue starts and what every node shares."""

    start: Target
    menu: Target
    counsellor: Target
    privacy: Target
    navigation: tuple[GlobalAction, ...] = (GlobalAction.BACK, GlobalAction.MENU)
    labels: Labels
    messages: Messages
    case: CaseTexts
    disappearing: DisappearingTexts
    profile: Profile
    web: WebTexts
    # How the language list names a language where babel's name in itself does not fit, such as
    # a variant: `de@easy: Leichte Sprache`. The names are not translated.
    language_names: dict[str, Text] = {}
    # System texts worded for one channel (see ChannelSystemTexts).
    channels: dict[Channel, ChannelSystemTexts] = {}


class Fact(Strict):
    """A checked statement or number used in several texts as {fact.NAME}."""

    text: Text
    source: Text
    checked: datetime.date
    time_sensitive: bool = False


class FactsFile(Strict):
    facts: dict[Annotated[str, StringConstraints(pattern=PLACEHOLDER_NAME_PATTERN)], Fact] = {}
