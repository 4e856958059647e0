"""Configuration: config.toml loaded into pydantic models; errors name the key and the bad value."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain.complaints import DEFAULT_RULES, Category, CategoryRule
from bot.domain.org import UnitKind

DEFAULT_API_BASE = "https://api.telegram.org"
ENV_VAR = "LASTMETER_CONFIG"
LANGUAGES = ("zh", "en")


class ConfigError(Exception):
    """A configuration problem, worded as one line for the operator."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramConfig(_Section):
    token: str = ""
    api_base: str = DEFAULT_API_BASE
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1:8080"
    poll_timeout: int = Field(default=25, ge=0, le=50)

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        if value and (":" not in value or not value.split(":", 1)[0].isdigit()):
            raise ValueError("expected the BotFather form 123456:ABC-...")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: str) -> str:
        # Telegram's rule for secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError(
                "expected 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
            )
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _listen_shape(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("expected host:port, e.g. 127.0.0.1:8080")
        return value

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramConfig:
        if self.mode == "webhook" and not self.webhook_url.startswith(("https://", "http://")):
            raise ValueError("telegram.webhook_url: required (an https:// address) in webhook mode")
        return self

    @field_validator("api_base")
    @classmethod
    def _api_base_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// address")
        return value.rstrip("/")


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///data/lastmeter.db"
    busy_timeout_ms: int = Field(default=15000, ge=0)
    pool_size: int = Field(default=10, ge=1, le=200)  # PostgreSQL connections per process

    @field_validator("url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///path/to/file.db or "
                "postgresql+asyncpg://user:password@host/database"
            )
        return value


class FsmConfig(_Section):
    """Where conversations are kept: the database (default) or Redis, shared by replicas."""

    storage: Literal["sql", "redis"] = "sql"
    redis_url: str = "redis://127.0.0.1:6379/0"

    @field_validator("redis_url")
    @classmethod
    def _redis_shape(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db")
        return value


class MonitoringConfig(_Section):
    """Where /healthz and /metrics are served in polling mode (webhook mode serves them on the
    webhook's own address); empty: not served."""

    listen: str = ""

    @field_validator("listen")
    @classmethod
    def _listen_shape(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if value and (not host or not port.isdigit()):
            raise ValueError("expected host:port, e.g. 127.0.0.1:9108")
        return value


class BotConfig(_Section):
    timezone: str = "Asia/Shanghai"
    default_language: Literal["zh", "en"] = "zh"
    admins: list[int] = Field(default_factory=list)
    invite_ttl_hours: int = Field(default=72, ge=1)
    workers: int = Field(default=8, ge=1, le=256)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def invite_ttl(self) -> timedelta:
        return timedelta(hours=self.invite_ttl_hours)


class OrgConfig(_Section):
    file: str = ""
    flats: str = ""  # the flats file (.toml or .csv), imported at every start after the tree


class OutboxConfig(_Section):
    global_rate: float = Field(default=25.0, gt=0)
    private_chat_interval: float = Field(default=1.0, ge=0)
    private_burst: int = Field(default=3, ge=1)
    group_per_minute: int = Field(default=20, ge=1)


_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d)\s*$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> timedelta:
    """ "30m", "2h", "3d" → a timedelta; anything else is an error naming the expected form."""
    match = _DURATION.match(value)
    if match is None or int(match.group(1)) == 0:
        raise ValueError("expected a duration such as 30m, 2h or 3d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


class CategoryConfig(_Section):
    """One category's first unit and clocks; unset keys keep DESIGN.md's defaults."""

    first_unit: (
        Literal["party_branch", "owners_committee", "property_company", "community"] | None
    ) = None
    sign_for: str | None = None
    complete: str | None = None

    @field_validator("sign_for", "complete")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


class RouteConfig(_Section):
    """An exception to the routing table: this compound's complaints of this category go to unit."""

    compound: str
    category: Category
    unit: str


class ComplaintsConfig(_Section):
    number_prefix: str = Field(default="WD", pattern=r"^[A-Z0-9]{1,6}$")
    sweep_seconds: int = Field(default=60, ge=1, le=3600)
    rating_hours: int = Field(default=72, ge=1)
    duplicate_days: int = Field(default=7, ge=0)
    duplicate_similarity: float = Field(default=0.35, gt=0, le=1)
    categories: dict[Category, CategoryConfig] = Field(default_factory=dict)
    routing: list[RouteConfig] = Field(default_factory=list)

    @property
    def rules(self) -> dict[Category, CategoryRule]:
        rules = dict(DEFAULT_RULES)
        for category, change in self.categories.items():
            base = rules[category]
            rules[category] = CategoryRule(
                UnitKind(change.first_unit) if change.first_unit else base.first_unit,
                parse_duration(change.sign_for) if change.sign_for else base.sign_for,
                parse_duration(change.complete) if change.complete else base.complete,
            )
        return rules

    @property
    def duplicate_window(self) -> timedelta:
        return timedelta(days=self.duplicate_days)

    @property
    def rating_window(self) -> timedelta:
        return timedelta(hours=self.rating_hours)

    @property
    def overrides(self) -> dict[tuple[str, Category], str]:
        return {(r.compound, r.category): r.unit for r in self.routing}


class LostFoundConfig(_Section):
    scope: Literal["community", "subdistrict"] = "community"  # where reports are matched
    sweep_seconds: int = Field(default=600, ge=1, le=86400)  # reminders and expiry
    max_photo_mb: float = Field(default=10.0, gt=0)


class PartyConfig(_Section):
    radius_m: int = Field(default=300, ge=10, le=5000)  # geofence when a compound sets none
    sweep_seconds: int = Field(default=60, ge=1, le=3600)  # reminders and the end of activities


class CampaignsConfig(_Section):
    grace_hours: float = Field(default=6.0, ge=0, le=168)  # a slot found later than this is skipped
    sweep_seconds: int = Field(default=30, ge=1, le=3600)
    batch: int = Field(default=100, ge=1, le=1000)  # reminders written per transaction


class OversightConfig(_Section):
    """The morning digest to every unit's staff and the weekly chart to community staff and up."""

    digest_time: time = time(8, 0)  # local time; "08:00" in the file
    digest_grace_hours: float = Field(default=4.0, ge=0, le=16)  # later than this: not sent today
    chart_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    chart_time: time = time(8, 30)
    sweep_seconds: int = Field(default=60, ge=1, le=3600)


class TopicCompoundConfig(_Section):
    """A compound's own threshold of support (the keys it sets; the rest as for all)."""

    support_households: int | None = Field(default=None, ge=1, le=100_000)
    support_share: float | None = Field(default=None, ge=0, le=1)


class TopicsConfig(_Section):
    """The 红色议事厅: when a topic is taken up, how long the branch has to answer it, the vote."""

    support_households: int = Field(default=10, ge=1, le=100_000)  # households, or …
    support_share: float = Field(default=0.05, ge=0, le=1)  # … this share of flats, if fewer
    answer_days: float = Field(default=7, gt=0, le=90)  # to accept (a meeting) or decline
    vote_days: list[int] = Field(default=[3, 7, 14], min_length=1, max_length=6)
    remind_hours: float = Field(default=24, ge=0, le=24 * 30)  # before a vote closes
    quorum: float = Field(default=0.5, gt=0, le=1)  # of the verified households (simple, 四议)
    public_days: float = Field(default=7, ge=0, le=90)  # 公示, before the work order
    category: Category = Category.SUGGESTION  # whose clocks the work order runs on
    compounds: dict[str, TopicCompoundConfig] = Field(default_factory=dict)

    def support_rule(self, compound_code: str) -> tuple[int, float]:
        own = self.compounds.get(compound_code)
        households = own.support_households if own and own.support_households else None
        share = own.support_share if own and own.support_share is not None else None
        return households or self.support_households, (
            self.support_share if share is None else share
        )

    @property
    def answer_window(self) -> timedelta:
        return timedelta(days=self.answer_days)

    @property
    def public_window(self) -> timedelta:
        return timedelta(days=self.public_days)


class StarsConfig(_Section):
    """五星小区: the criteria file (read at every start) and the award."""

    file: str = ""  # e.g. stars.example.toml (an example: the district writes its own)
    per_star_yuan: int = Field(default=2000, ge=0, le=1_000_000)
    sweep_seconds: int = Field(default=600, ge=1, le=86400)  # the monthly run is looked for
    public_days: float = Field(default=7, ge=0, le=90)  # 公示 of a reviewed result
    objection_days: float = Field(default=5, gt=0, le=60)  # the sub-district answers within
    # The district's share of five-star compounds aimed at, by year (the seeds: 20/40/60 %).
    targets: dict[int, float] = Field(default_factory=lambda: {2022: 0.2, 2023: 0.4, 2024: 0.6})

    def target(self, year: int) -> tuple[int, float] | None:
        """The target in force in a year: that year's, else the latest before it."""
        years = [y for y in self.targets if y <= year]
        return (max(years), self.targets[max(years)]) if years else None


class TestingConfig(_Section):
    """Switches for the demo and the end-to-end tests; never on in production."""

    enabled: bool = False
    clock_file: str = ""
    # bench/: the database work of the run (statements, write transactions, empty ones) is
    # written to this JSON file when the bot stops.
    statements_file: str = ""


class Config(_Section):
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    fsm: FsmConfig = Field(default_factory=FsmConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    bot: BotConfig = Field(default_factory=BotConfig)
    org: OrgConfig = Field(default_factory=OrgConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    complaints: ComplaintsConfig = Field(default_factory=ComplaintsConfig)
    lostfound: LostFoundConfig = Field(default_factory=LostFoundConfig)
    party: PartyConfig = Field(default_factory=PartyConfig)
    campaigns: CampaignsConfig = Field(default_factory=CampaignsConfig)
    oversight: OversightConfig = Field(default_factory=OversightConfig)
    topics: TopicsConfig = Field(default_factory=TopicsConfig)
    stars: StarsConfig = Field(default_factory=StarsConfig)
    testing: TestingConfig = Field(default_factory=TestingConfig)
    base_dir: Path = Path()

    def resolve(self, path: str) -> Path:
        """A path from the file, taken relative to the file's folder."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path taken relative to the config file."""
        url = self.database.url
        prefix = "sqlite+aiosqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            rest = url[len(prefix) :]
            if rest and rest != ":memory:":
                return prefix + str(self.resolve(rest))
        return url


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top)"
    if first["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    value = first.get("input")
    message = first["msg"].removeprefix("Value error, ")
    if message.startswith(key + "."):  # a rule across keys names the key itself
        return message
    return f"{key} = {value!r}: {message}"


def config_path(explicit: str | None, environ: dict[str, str] | None = None) -> Path | None:
    """The path given by --config, else by LASTMETER_CONFIG, else none."""
    env = os.environ if environ is None else environ
    chosen = explicit or env.get(ENV_VAR)
    return Path(chosen) if chosen else None


def load_config(path: Path | None) -> Config:
    """Read and validate a config file; with no path, the defaults."""
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    if "base_dir" in raw:
        raise ConfigError(f"{path}: base_dir: unknown key")
    try:
        return Config.model_validate({**raw, "base_dir": path.parent.resolve()})
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc)}") from exc
