"""Settings: environment variables WEGWEISER_* plus one deployment file for structured settings.

From a fresh clone only WEGWEISER_TELEGRAM_TOKEN and WEGWEISER_SECRET_KEY need to be set (and
`wegweiser chat` needs neither): the shipped flows, the example deployment (a fictional
"Beratungsstelle Beispielstadt") and a SQLite file in the working directory are used.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any, Literal

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.dialogue.check import CheckResult, check_flows
from bot.dialogue.engine import Engine
from bot.dialogue.flow import Flow
from bot.dialogue.loader import load_model
from bot.dialogue.render import ContactEntry

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DEPLOYMENT = PROJECT_ROOT / "deploy" / "example-config.yaml"


TELEGRAM_API_URL = "https://api.telegram.org/bot"
# `wegweiser run --dev` keeps a generated secret key here (in the working directory).
DEV_SECRET_FILE = Path("secret.key")


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message names the setting and what to do."""


class Settings(BaseSettings):
    """What the environment sets: every field is WEGWEISER_<FIELD NAME> (see the README)."""

    model_config = SettingsConfigDict(env_prefix="WEGWEISER_", extra="ignore")

    flows: Path = PROJECT_ROOT / "flows"
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
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url_is_http(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local Bot API server)")
        return url


def secret_key(settings: Settings, *, dev: bool = False) -> tuple[str, str]:
    """The secret key and where it came from: WEGWEISER_SECRET_KEY, the file named by
    WEGWEISER_SECRET_KEY_FILE, or (with `dev`) ./secret.key, created with mode 0600 if missing."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value(), "WEGWEISER_SECRET_KEY"
    if settings.secret_key_file is not None:
        try:
            return settings.secret_key_file.read_text().strip(), "WEGWEISER_SECRET_KEY_FILE"
        except OSError as error:
            raise ConfigurationError(
                f"WEGWEISER_SECRET_KEY_FILE: cannot read {settings.secret_key_file}: "
                f"{error.strerror}"
            ) from error
    if dev:
        from bot.store.keys import generate_secret  # cryptography loads only when needed

        if not DEV_SECRET_FILE.exists():
            descriptor = os.open(DEV_SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(generate_secret() + "\n")
            return DEV_SECRET_FILE.read_text().strip(), f"{DEV_SECRET_FILE.resolve()} (new)"
        return DEV_SECRET_FILE.read_text().strip(), str(DEV_SECRET_FILE.resolve())
    raise ConfigurationError(
        "WEGWEISER_SECRET_KEY is not set. It keys the pseudonyms and encrypts what the bot "
        "stores; create one with\n"
        "  python -c 'import secrets; print(secrets.token_urlsafe(48))'\n"
        "and keep it secret. To try the bot out, `wegweiser run --dev` makes one in ./secret.key."
    )


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Service(_Section):
    """The counselling centre itself; the flows show it as {service.name}, {service.phone}, ..."""

    name: str
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    website: str | None = None
    hours: str | None = None


class Contact(_Section):
    name: str
    phone: str | None = None
    address: str | None = None
    hours: str | None = None
    link: str | None = None


class Sessions(_Section):
    """How long session state is kept (the privacy statement of issue 6 quotes these)."""

    # A session nobody used for this long is deleted, with its node, language and message ids.
    idle_hours: float = Field(default=24, gt=0, le=24 * 90)
    # How often the expired sessions are looked for and deleted.
    purge_every_minutes: float = Field(default=10, gt=0, le=24 * 60)


class Limits(_Section):
    """Per-person flood limit: a burst of `burst` updates, then `per_minute` on average."""

    burst: int = Field(default=15, ge=1)
    per_minute: int = Field(default=30, ge=1)


class Deployment(_Section):
    """The deployment file: one counselling centre's details (see deploy/example-config.yaml)."""

    service: Service
    languages: list[str] = Field(default=["de"], min_length=1)
    contacts: dict[str, Contact] = {}
    sessions: Sessions = Sessions()
    limits: Limits = Limits()

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

    def placeholders(self) -> dict[str, str]:
        """The values behind {service.*} placeholders; unset ones are left out."""
        return {
            f"service.{key}": value
            for key, value in self.service.model_dump().items()
            if value is not None
        }

    def contact_entries(self) -> dict[str, ContactEntry]:
        return {name: ContactEntry(**entry.model_dump()) for name, entry in self.contacts.items()}

    def language_names(self) -> dict[str, str]:
        """Each offered language named in itself ("Română", "Български"), in the given order."""
        names = {}
        for code in self.languages:
            name = Locale.parse(code.replace("-", "_")).get_display_name(code) or code
            names[code] = name[:1].upper() + name[1:]
        return names


def load_deployment(path: Path) -> Deployment:
    """The deployment file, or LoadError naming the file, line and setting that is wrong."""
    return load_model(Deployment, path)


def build_engine(flow: Flow, deployment: Deployment, **options: Any) -> Engine:
    """The engine for one deployment: its languages, {service.*} values and contacts.
    `options` go to Engine (handover_available, translator, history_limit)."""
    return Engine(
        flow,
        languages=deployment.language_names(),
        placeholders=deployment.placeholders(),
        contacts=deployment.contact_entries(),
        **options,
    )


def check_flows_for(
    directory: Path, deployment: Deployment, *, today: datetime.date | None = None
) -> CheckResult:
    """`wegweiser flows check`: the flows in `directory` against this deployment's values."""
    return check_flows(
        directory,
        placeholders=deployment.placeholders(),
        contacts=deployment.contact_entries(),
        today=today,
    )
