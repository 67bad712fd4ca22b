"""Settings: environment variables WEGWEISER_* plus one deployment file for structured settings.

From a fresh clone only WEGWEISER_TELEGRAM_TOKEN and WEGWEISER_SECRET_KEY need to be set (and
`wegweiser chat` needs neither): the shipped flows, the example deployment (a fictional
"Beratungsstelle Beispielstadt") and a SQLite file in the working directory are used.
"""

from __future__ import annotations

import datetime
import functools
import logging
import os
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from babel import Locale, UnknownLocaleError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.dialogue.check import CheckResult, audio_summary, check_flows
from bot.dialogue.engine import Engine
from bot.dialogue.flow import Flow
from bot.dialogue.keyword_check import keyword_problems
from bot.dialogue.loader import load_model
from bot.dialogue.render import ContactEntry, Value
from bot.handover.teams import Team
from bot.i18n.catalogs import SOURCE_LANGUAGE, Catalogs, Review, catalog_review
from bot.i18n.formatting import OpeningHours, OpeningTime, format_duration, parse_days
from bot.i18n.status import TranslationReport, check_translations

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DEPLOYMENT = PROJECT_ROOT / "deploy" / "example-config.yaml"

log = logging.getLogger(__name__)


TELEGRAM_API_URL = "https://api.telegram.org/bot"
# What the privacy statement adds to sessions.erase_every_minutes for how long a deleted row's
# stale copies may stay in the file: one rebuild, about 1 s at 100,000 sessions
# (tests/bench/bench_exit.py), and the time between the job's runs it takes.
ERASE_ALLOWANCE_MINUTES = 1
# `wegweiser run` without a secret key set keeps a generated one here (in the working directory).
GENERATED_SECRET_FILE = Path("secret.key")


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message names the setting and what to do."""


class Settings(BaseSettings):
    """What the environment sets: every field is WEGWEISER_<FIELD NAME> (see the README)."""

    model_config = SettingsConfigDict(env_prefix="WEGWEISER_", extra="ignore")

    flows: Path = PROJECT_ROOT / "flows"
    locales: Path = PROJECT_ROOT / "locales"
    config: Path = EXAMPLE_DEPLOYMENT
    telegram_token: SecretStr | None = None
    # Another Bot API server: a self-hosted one, or the fake one of the tests.
    telegram_api_url: str = TELEGRAM_API_URL
    # Keys the pseudonyms and encrypts the chat addresses; changing it ends every session.
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    database: Path = Path("wegweiser.sqlite3")
    counsellor_chat_id: int | None = None
    # Webhook mode when set (the public HTTPS address Telegram posts to); long polling otherwise.
    webhook_url: HttpUrl | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8081, ge=1, le=65535)
    # The web chat (on unless switched off), where it listens (0: any free port), and the
    # neutral page its quick exit leads to.
    web: bool = True
    web_listen: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    web_exit_url: HttpUrl = HttpUrl("https://www.wikipedia.org/")
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # /healthz and /metrics on this port when set (0: any free port); off otherwise.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_listen: str = "127.0.0.1"

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url_is_http(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local Bot API server)")
        return url

    @field_validator("telegram_token", mode="before")
    @classmethod
    def _token_is_trimmed(cls, token: object) -> object:
        """A token pasted with a space or a line break around it is the token without them (Bot
        API tokens hold none); an empty one is no token."""
        if isinstance(token, str):
            return token.strip() or None
        return token


# How an operator makes a key; `python3`, as stock Debian and Ubuntu have no `python` command.
GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
# Words of the placeholders people leave in (deploy/example.env ships "change-me"), compared
# without case, spaces or punctuation.
PLACEHOLDER_WORDS = ("changeme", "replaceme", "yoursecret", "placeholder")


def secret_key(settings: Settings) -> tuple[str, str]:
    """The secret key and where it came from: WEGWEISER_SECRET_KEY, the file named by
    WEGWEISER_SECRET_KEY_FILE, or else ./secret.key, created with mode 0600 if missing (so that a
    fresh clone runs with nothing set; production sets one of the two).
    With both set, WEGWEISER_SECRET_KEY wins; the log says so, and so does any error about it.
    A placeholder or a key too short is a ConfigurationError that says how to make one."""
    if settings.secret_key is not None:
        source = "WEGWEISER_SECRET_KEY"
        ignored = ""
        if settings.secret_key_file is not None:
            ignored = (
                f"\nWEGWEISER_SECRET_KEY_FILE ({settings.secret_key_file}) is set too, but "
                "WEGWEISER_SECRET_KEY wins and the file is not read. To use the file, delete the "
                "line WEGWEISER_SECRET_KEY=... from the environment file (systemd: "
                "/etc/wegweiser/wegweiser.env)."
            )
            log.warning(
                "WEGWEISER_SECRET_KEY and WEGWEISER_SECRET_KEY_FILE are both set: "
                "WEGWEISER_SECRET_KEY is used, the file is not read",
                extra={"file": str(settings.secret_key_file)},
            )
        return _checked(settings.secret_key.get_secret_value(), source, ignored), source
    if settings.secret_key_file is not None:
        source = "WEGWEISER_SECRET_KEY_FILE"
        try:
            key = settings.secret_key_file.read_text().strip()
        except OSError as error:
            raise ConfigurationError(
                f"{source}: cannot read {settings.secret_key_file}: {error.strerror}"
            ) from error
        return _checked(key, f"{source} ({settings.secret_key_file})"), source
    from bot.store.keys import generate_secret  # cryptography loads only when needed

    if not GENERATED_SECRET_FILE.exists():
        descriptor = os.open(GENERATED_SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(generate_secret() + "\n")
        return GENERATED_SECRET_FILE.read_text().strip(), f"{GENERATED_SECRET_FILE.resolve()} (new)"
    key = GENERATED_SECRET_FILE.read_text().strip()
    return _checked(key, str(GENERATED_SECRET_FILE.resolve())), str(GENERATED_SECRET_FILE.resolve())


def _checked(key: str, source: str, note: str = "") -> str:
    """The key, unless it is an unchanged placeholder or too short to derive keys from."""
    from bot.store.keys import SecretKeys  # cryptography loads only when needed

    letters = "".join(char for char in key.casefold() if char.isalnum())
    if any(word in letters for word in PLACEHOLDER_WORDS):
        said = "is still a placeholder (such as change-me from example.env), not a secret"
    elif len(key) < SecretKeys.MINIMUM_SECRET_LENGTH:
        minimum = SecretKeys.MINIMUM_SECRET_LENGTH
        said = f"must be at least {minimum} characters long (it has {len(key)})"
    else:
        return key
    raise ConfigurationError(
        f"{source} {said}. Create a key with\n  {GENERATE_SECRET}\nand keep it secret.{note}"
    )


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpeningTimeSetting(_Section):
    """One line of opening hours: `{days: mon-thu, open: "10:00", close: "16:00"}`."""

    days: str
    open: datetime.time
    close: datetime.time

    @field_validator("days")
    @classmethod
    def _days_are_weekdays(cls, days: str) -> str:
        parse_days(days)
        return days

    @model_validator(mode="after")
    def _closes_after_opening(self) -> OpeningTimeSetting:
        if self.close <= self.open:
            raise ValueError(f"close ({self.close:%H:%M}) must be after open ({self.open:%H:%M})")
        return self

    def opening_time(self) -> OpeningTime:
        return OpeningTime(parse_days(self.days), self.open, self.close)


# Opening hours: a list of times, shown in each person's language, or a text shown as written in
# every language (for what a list cannot say, e.g. "24/7").
Hours = str | list[OpeningTimeSetting]


def _hours_value(hours: Hours | None, timezone: str) -> Value | None:
    if hours is None or isinstance(hours, str):
        return hours
    return OpeningHours(tuple(time.opening_time() for time in hours), timezone)


def _counsellor_noun(nouns: Mapping[str, str], language: str) -> str | None:
    """The deployment's word for a counsellor in `language`, or in its base language (de@easy
    takes de's unless it has its own)."""
    return nouns.get(language) or nouns.get(language.split("@")[0])


def _counsellor_in(nouns: Mapping[str, str], language: str) -> str:
    return _counsellor_noun(nouns, language) or next(iter(nouns.values()))


class Service(_Section):
    """The counselling centre itself; the flows show it as {service.name}, {service.phone}, ..."""

    name: str
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    website: str | None = None
    hours: Hours | None = None
    # The word for a counsellor, per offered language: the flows say {service.counsellor}
    # ("eine {service.counsellor}"). It is a promise, so it says what is true of this team:
    # "Beraterin" only where only women answer. In German a feminine noun fits every text.
    counsellor: dict[str, str] = {}


class Contact(_Section):
    name: str
    phone: str | None = None
    address: str | None = None
    hours: Hours | None = None
    link: str | None = None


class Sessions(_Section):
    """How long session state is kept (the privacy statement of issue 6 quotes these)."""

    # A session nobody used for this long is deleted, with its node, language and message ids.
    idle_hours: float = Field(default=24, gt=0, le=24 * 90)
    # How often the expired sessions are looked for and deleted.
    purge_every_minutes: float = Field(default=10, gt=0, le=24 * 60)
    # How often the file is rebuilt without the stale copies deleted rows leave in it (only
    # after a deletion). The privacy statement quotes this plus ERASE_ALLOWANCE_MINUTES.
    erase_every_minutes: float = Field(default=10, gt=0, le=24 * 60)


class Limits(_Section):
    """Per-person flood limit: a burst of `burst` updates, then `per_minute` on average; and the
    web chat's per client address (many people may share one, as a house's Wi-Fi)."""

    burst: int = Field(default=15, ge=1)
    per_minute: int = Field(default=30, ge=1)
    client_burst: int = Field(default=120, ge=1)
    client_per_minute: int = Field(default=1200, ge=1)


class Translations(_Section):
    """Which catalogs the bot serves."""

    # A catalog whose header says it is a draft (not yet reviewed by a native speaker) is offered
    # only if this is on: a person should not be misled by a machine draft.
    serve_drafts: bool = False


class Reload(_Section):
    """Live reload of the flows and catalogs (besides SIGHUP and /reload in the staff group)."""

    # How often the files are looked at for changes; 0 looks only when asked.
    watch_seconds: float = Field(default=30, ge=0, le=24 * 3600)


# The one team there is without handover.teams: its name is for logs and the database only.
DEFAULT_TEAM = "staff group"


class TeamSetting(_Section):
    """A team of counsellors with its staff group (a supergroup with topics)."""

    name: str
    # The staff group; default: WEGWEISER_COUNSELLOR_CHAT_ID.
    chat_id: int | None = None
    # What it covers; empty: everything. Areas are the flow files' names (health, law, ...).
    languages: list[str] = []
    areas: list[str] = []
    # Office hours; default: the service's hours (if written as days and times), else always.
    hours: list[OpeningTimeSetting] | None = None
    always: bool = False
    holidays: list[datetime.date] = []
    # Takes the cases no other team covers.
    fallback: bool = False


class HandoverSetting(_Section):
    """Conversations with counsellors in the staff group."""

    # Nobody claimed a case after this long: the person is told, with the 24/7 numbers.
    claim_minutes: float = Field(default=15, gt=0, le=24 * 60)
    # A session in a case is kept this long after its last message (instead of idle_hours).
    idle_days: float = Field(default=14, gt=0, le=90)
    # A closed case is kept this long; a person who writes again meanwhile gets the same topic.
    case_days: float = Field(default=30, gt=0, le=365)
    # A return code leads back to its case for this long, then it is deleted.
    return_code_days: float = Field(default=90, gt=0, le=365)
    teams: list[TeamSetting] = []


class Safety(_Section):
    """For a person whose phone someone else may look at."""

    # After /exit, send one harmless message (system.yaml messages.after_exit), so that the chat
    # does not stand out as an emptied one.
    message_after_exit: bool = False
    # Bot messages arrive without a sound or vibration.
    silent: bool = False
    # Bot messages cannot be forwarded or saved (Telegram's protect_content).
    protect_content: bool = False
    # /exit also deletes the copies of the person's messages in the staff group's topic.
    erase_staff_copies: bool = False
    # Disappearing mode: the times a person can choose, in seconds, and how often the bot looks
    # for messages that are due.
    disappearing_times: list[int] = Field(default=[300, 3600, 86400], min_length=1)
    disappearing_check_seconds: float = Field(default=30, gt=0, le=3600)

    @field_validator("disappearing_times")
    @classmethod
    def _within_telegrams_limit(cls, times: list[int]) -> list[int]:
        # Telegram lets a bot delete messages only for 48 hours.
        if any(not 60 <= seconds < 48 * 3600 for seconds in times):
            raise ValueError("each time must be at least 60 seconds and less than 48 hours")
        return sorted(set(times))


class Deployment(_Section):
    """The deployment file: one counselling centre's details (see deploy/example-config.yaml)."""

    service: Service
    # The service's time zone: opening hours are in it, and the bot names it next to them.
    timezone: str = "Europe/Berlin"
    languages: list[str] = Field(default=["de"], min_length=1)
    translations: Translations = Translations()
    contacts: dict[str, Contact] = {}
    sessions: Sessions = Sessions()
    limits: Limits = Limits()
    reload: Reload = Reload()
    handover: HandoverSetting = HandoverSetting()
    safety: Safety = Safety()

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"'{name}' is not a time zone (e.g. Europe/Berlin)") from error
        return name

    @model_validator(mode="after")
    def _counsellor_in_every_language(self) -> Deployment:
        nouns = self.service.counsellor
        missing = [code for code in self.languages if _counsellor_noun(nouns, code) is None]
        if nouns and missing:
            raise ValueError(f"service.counsellor: no word for {', '.join(missing)}")
        return self

    @field_validator("languages")
    @classmethod
    def _languages_are_known(cls, codes: list[str]) -> list[str]:
        for code in codes:
            try:
                Locale.parse(code.replace("-", "_"))
            except (ValueError, UnknownLocaleError) as error:
                raise ValueError(f"'{code}' is not a language code babel knows") from error
        if len(set(codes)) != len(codes):
            raise ValueError("a language is listed twice")
        return codes

    def teams(self, staff_chat_id: int | None) -> list[Team]:
        """The teams that take cases; none without a staff group. Raises ConfigurationError for
        a team without a staff group."""
        settings = self.handover.teams or (
            [TeamSetting(name=DEFAULT_TEAM)] if staff_chat_id is not None else []
        )
        teams = []
        for setting in settings:
            chat_id = setting.chat_id if setting.chat_id is not None else staff_chat_id
            if chat_id is None:
                raise ConfigurationError(
                    f"handover.teams: team '{setting.name}' has no chat_id, and "
                    "WEGWEISER_COUNSELLOR_CHAT_ID is not set"
                )
            if setting.always:
                hours = None
            elif setting.hours is not None:
                hours = tuple(time.opening_time() for time in setting.hours)
            elif isinstance(self.service.hours, list):
                hours = tuple(time.opening_time() for time in self.service.hours)
            else:
                hours = None
            teams.append(
                Team(
                    name=setting.name,
                    group=str(chat_id),
                    languages=frozenset(setting.languages),
                    areas=frozenset(setting.areas),
                    hours=hours,
                    holidays=frozenset(setting.holidays),
                    timezone=self.timezone,
                    fallback=setting.fallback,
                )
            )
        return teams

    def placeholders(self) -> dict[str, Value]:
        """The values behind {service.*} placeholders; unset ones are left out."""
        values: dict[str, Value] = {
            f"service.{key}": value
            for key, value in self.service.model_dump(exclude={"hours", "counsellor"}).items()
            if value is not None
        }
        if self.service.counsellor:
            values["service.counsellor"] = functools.partial(
                _counsellor_in, dict(self.service.counsellor)
            )
        hours = _hours_value(self.service.hours, self.timezone)
        if hours is not None:
            values["service.hours"] = hours
        # How long what is kept is kept, in the person's language: the privacy statement quotes
        # these, so it says what the configuration does.
        handover = self.handover
        for name, seconds in (
            ("session", self.sessions.idle_hours * 3600),
            ("case", handover.idle_days * 86400),
            ("closed_case", handover.case_days * 86400),
            ("return_code", handover.return_code_days * 86400),
            ("traces", (self.sessions.erase_every_minutes + ERASE_ALLOWANCE_MINUTES) * 60),
        ):
            values[f"keep.{name}"] = functools.partial(format_duration, seconds)
        return values

    def contact_entries(self) -> dict[str, ContactEntry]:
        return {
            name: ContactEntry(
                name=entry.name,
                phone=entry.phone,
                address=entry.address,
                hours=_hours_value(entry.hours, self.timezone),
                link=entry.link,
            )
            for name, entry in self.contacts.items()
        }

    def language_names(self, own_names: Mapping[str, str] | None = None) -> dict[str, str]:
        """Each offered language named in itself ("Română", "Български"), in the given order.
        `own_names` (system.yaml `language_names`) names those babel names wrongly, such as
        a variant: de@easy is "Leichte Sprache", not "Deutsch"."""
        names = {}
        for code in self.languages:
            if own_names and code in own_names:
                names[code] = own_names[code]
                continue
            name = Locale.parse(code.replace("-", "_")).get_display_name(code) or code
            names[code] = name[:1].upper() + name[1:]
        return names


def load_deployment(path: Path) -> Deployment:
    """The deployment file, or LoadError naming the file, line and setting that is wrong."""
    return load_model(Deployment, path)


def held_drafts(deployment: Deployment, locales: Path) -> list[str]:
    """The offered languages the bot does not serve: those whose catalog is a draft, unless
    `translations.serve_drafts` is on."""
    if deployment.translations.serve_drafts:
        return []
    return [code for code in deployment.languages if catalog_review(locales, code) is Review.DRAFT]


def build_engine(
    flow: Flow,
    deployment: Deployment,
    *,
    locales: Path | None = None,
    drafts: bool = False,
    **options: Any,
) -> Engine:
    """The engine for one deployment: its languages, {service.*} values and contacts, and the
    catalogs in `locales` (without them, every language shows the source texts). The languages
    whose catalog is a draft are left out unless the deployment serves drafts or `drafts` asks
    for them (a translator trying theirs out); German, the source, always remains. `options` go
    to Engine (handover_available, history_limit)."""
    if locales is not None:
        held = [] if drafts else held_drafts(deployment, locales)
        served = [code for code in deployment.languages if code not in held] or [SOURCE_LANGUAGE]
        deployment = deployment.model_copy(update={"languages": served})
        options["translator"] = Catalogs.load(locales, deployment.languages)
    return Engine(
        flow,
        languages=deployment.language_names(flow.system.language_names),
        placeholders=deployment.placeholders(),
        contacts=deployment.contact_entries(),
        disappearing_times=tuple(deployment.safety.disappearing_times),
        durations=format_duration,
        **options,
    )


def check_flows_for(
    directory: Path,
    deployment: Deployment,
    *,
    locales: Path | None = None,
    today: datetime.date | None = None,
) -> CheckResult:
    """`wegweiser flows check`: the flows in `directory` against this deployment's values, and
    with `locales` the translations of every offered language."""
    result = check_flows(
        directory,
        placeholders=deployment.placeholders(),
        contacts=deployment.contact_entries(),
        today=today or datetime.datetime.now(datetime.UTC).date(),
    )
    if result.flow is None:
        return result
    notes, audio = audio_summary(result.flow, deployment.languages)
    if locales is None:
        return CheckResult(result.flow, [*result.problems, *audio], notes)
    report = translation_report(result.flow, deployment, locales)
    typed = keyword_problems(
        result.flow, Catalogs.load(locales, deployment.languages), deployment.languages
    )
    return CheckResult(result.flow, [*result.problems, *audio, *report.problems, *typed], notes)


def translation_report(flow: Flow, deployment: Deployment, locales: Path) -> TranslationReport:
    """`wegweiser i18n status`: every offered language and every catalog, checked."""
    return check_translations(
        flow,
        locales,
        deployment.languages,
        placeholders=deployment.placeholders(),
        contacts=deployment.contact_entries(),
        names=deployment.language_names(flow.system.language_names),
    )
