"""Settings from the environment or `.env` (see .env.example), checked at start-up.

Built by the composition root and passed on; nothing imports a global settings object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org"
DEFAULT_DATA_DIR = Path("data")


class WebhookSettings(BaseModel):
    url: str = ""  # public HTTPS address Telegram posts updates to; empty: long polling
    secret: str = ""  # X-Telegram-Bot-Api-Secret-Token the bot expects
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8080, ge=1, le=65535)
    path: str = "/telegram/webhook"


class SendSettings(BaseModel):
    rate_per_second: float = Field(25.0, gt=0)  # global pace of the outbox
    per_chat_interval: float = Field(1.0, ge=0)  # seconds between two messages to one chat
    max_attempts: int = Field(8, ge=1)
    concurrency: int = Field(8, ge=1, le=1000)  # Bot API calls in flight at once
    allow_paid_broadcast: bool = False  # paid in Stars: the rate below instead of the one above
    paid_rate_per_second: float = Field(1000.0, gt=0)  # Telegram's paid broadcast limit


class UpdateSettings(BaseModel):
    """Incoming updates: how often a failing one is tried, how long handled ones are kept."""

    max_attempts: int = Field(3, ge=1)  # then the person is told it was not saved
    retry_delay: float = Field(2.0, ge=0)  # seconds before the second try, doubled after
    concurrency: int = Field(8, ge=1)  # updates of different people handled at once
    retention_days: float = Field(7.0, gt=0)  # handled updates are forgotten after this


class WebSettings(BaseModel):
    """The web report form (web/, docs/web.md): `taizhang web` serves it, and `taizhang run`
    too when PORT is set. Links are built from BASE_URL; SECRET signs cookies and CSRF tokens."""

    listen_host: str = "127.0.0.1"
    port: int | None = Field(None, ge=1, le=65535)
    base_url: str = ""  # the public address, e.g. https://tz.example.gov.cn (https: Secure)
    secret: str = ""  # at least 16 characters; changing it signs every browser out
    max_upload_mb: int = Field(10, ge=1, le=20)  # one evidence file
    session_idle_days: float = Field(7.0, gt=0)  # a session unused this long ends
    session_max_days: float = Field(30.0, gt=0)  # and every session ends this long after sign-in
    trust_forwarded: bool = False  # client address from X-Forwarded-For (behind your own proxy)

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value


class SmtpSettings(BaseModel):
    """E-mail reminders (scheduler/email_sender.py, docs/delivery.md): off while HOST is empty.
    The mails carry personal links to the web form, so WEB__BASE_URL must be set too."""

    host: str = ""
    port: int | None = Field(None, ge=1, le=65535)  # default: 465 with tls, else 587 (25: none)
    tls: Literal["none", "starttls", "tls"] = "starttls"
    user: str = ""
    password: str = ""
    sender: str = ""  # the From address, e.g. 台账提醒 <taizhang@example.gov.cn>
    rate_per_minute: float = Field(30.0, gt=0)  # the e-mail channel's own pace
    max_attempts: int = Field(8, ge=1)
    concurrency: int = Field(2, ge=1, le=50)  # SMTP conversations at once
    timeout: float = Field(60.0, gt=0, lt=300)  # seconds for one message's conversation

    @property
    def effective_port(self) -> int:
        if self.port:
            return self.port
        return {"tls": 465, "starttls": 587}.get(self.tls, 25)


class HealthSettings(BaseModel):
    """`/healthz` and `/metrics` (bot/health.py); off while PORT is not set."""

    listen_host: str = "127.0.0.1"
    port: int | None = Field(None, ge=1, le=65535)


class SchedulerSettings(BaseModel):
    """The scheduled work (scheduler/jobs.py): one instance leads it (scheduler/leader.py)."""

    leader_every: float = Field(15.0, gt=0)  # seconds between two tries to become or stay leader


class LogSettings(BaseModel):
    """How the bot logs (bot/logs.py): text lines or JSON lines, and from which level."""

    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        env_ignore_empty=True,  # `WEB__PORT=` as .env.example writes it: the default
        extra="ignore",
    )

    bot_token: str = ""
    telegram_api_base: str = TELEGRAM_API
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""  # empty: SQLite file in data_dir
    redis_url: str = ""
    staff_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    # Plans, forms and units files larger than this are refused (Telegram's download limit).
    import_max_mb: float = Field(20.0, gt=0)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    send: SendSettings = Field(default_factory=SendSettings)
    updates: UpdateSettings = Field(default_factory=UpdateSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)

    @field_validator("staff_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            return [int(p) for p in parts]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh_CN", "en"):
            raise ValueError("must be zh_CN or en")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// address")
        return value.rstrip("/")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'taizhang.db').as_posix()}"

    @property
    def import_max_bytes(self) -> int:
        return int(self.import_max_mb * 1024 * 1024)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def email_enabled(self) -> bool:
        """E-mail reminders need an SMTP server and the web form's address for their links."""
        return bool(self.smtp.host and self.web.base_url)


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise SettingsError(_one_line(err)) from None


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    name = "__".join(str(p) for p in first["loc"]).upper() or "settings"
    message = first["msg"].removeprefix("Value error, ")
    more = len(err.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    return f"setting {name} is malformed: {message}{tail}"


def require_token(settings: Settings) -> str:
    if not settings.bot_token:
        raise SettingsError(
            "setting BOT_TOKEN is missing: put the bot's token in .env or the environment"
        )
    return settings.bot_token
