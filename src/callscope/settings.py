"""One typed settings object: defaults < callscope.toml < CALLSCOPE_* environment variables.

Every threshold of design.md section 4 lives here with its default, so reports can state the
settings they used and the docs can list them (tests/test_settings_documented.py checks that).
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from callscope.errors import ConfigError

CONFIG_ENV = "CALLSCOPE_CONFIG"
DEFAULT_CONFIG_NAME = "callscope.toml"


class AgentConfig(BaseModel):
    """One `[agents]` entry: `101 = { name = "Anna", team = "sales" }`."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, description="Display name; also the queue member name")
    team: str | None = Field(default=None, description="Team the agent belongs to")
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names the PBX writes for this agent (queue member names, Agent/NNNN)",
    )


class AsteriskConfig(BaseModel):
    """How an Asterisk dialplan names its stages; the defaults fit stock FreePBX and plain
    Asterisk, a custom dialplan adds its own context names here."""

    model_config = ConfigDict(extra="forbid")

    voicemail_apps: list[str] = Field(
        default=["VoiceMail", "VoiceMailMain", "Record"],
        description="Applications that mean the caller reached voicemail",
    )
    voicemail_contexts: list[str] = Field(
        default=["vm", "voicemail", "macro-vm", "app-vmblast"],
        description="Context name patterns (SQL LIKE, case-insensitive) of voicemail",
    )
    after_hours_contexts: list[str] = Field(
        default=[
            "afterhours",
            "after-hours",
            "after_hours",
            "night%",
            "closed%",
            "timeconditions-%-false",
        ],
        description="Context name patterns (SQL LIKE, case-insensitive) of after-hours handling",
    )
    ivr_apps: list[str] = Field(
        default=["BackGround", "WaitExten", "Read", "Playback", "Answer", "Wait", "Goto"],
        description="Applications that mean the caller was still in the IVR",
    )
    ivr_contexts: list[str] = Field(
        default=["ivr%", "%-ivr%"],
        description="Context name patterns (SQL LIKE, case-insensitive) of IVR menus",
    )
    cdr_line_field: str | None = Field(
        default=None,
        description=(
            "CDR column holding the company number dialled (did, userfield or dst); "
            "default: did when present, else dst when it is a full number"
        ),
    )
    invalid_extens: list[str] = Field(
        default=["i"],
        description="Extensions the dialplan jumps to on an invalid choice or destination",
    )


class WebSettings(BaseModel):
    """The dashboard and REST API (`callscope serve`). No secret lives here: sessions and API
    tokens are random values whose hashes sit in the store, and passwords come from a prompt,
    `$CALLSCOPE_PASSWORD` or a file named on the command line."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Address `callscope serve` listens on")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `callscope serve` listens on")
    session_hours: float = Field(
        default=12, gt=0, description="A login stays valid this many hours after sign-in"
    )
    secure_cookies: bool = Field(
        default=False, description="Send cookies only over HTTPS (set behind a TLS proxy)"
    )
    page_size: int = Field(default=50, ge=1, le=1000, description="Call log rows per page")
    open_contacts_shown: int = Field(
        default=200,
        ge=1,
        le=5000,
        description="Open missed contacts the callbacks page lists (the newest; the rest are "
        "in the call log it links to)",
    )
    assets_dir: Path | None = Field(
        default=None,
        description="Where `npm ci` put the browser assets (default: node_modules beside the app)",
    )
    pdf_font: Path = Field(
        default=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        description="TrueType font with Cyrillic for PDF exports (Debian: fonts-dejavu-core)",
    )
    prewarm: bool = Field(
        default=True,
        description="Compute the default period's reports in the background (start, new data)",
    )


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)$")


def parse_span(text: str) -> tuple[int, int]:
    """`"09:00-18:00"` -> minutes of the day (540, 1080); `24:00` ends the day."""
    match = _SPAN.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time span HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if not 0 <= start < end <= 24 * 60:
        raise ValueError(f"{text!r}: the span must start before it ends, within one day")
    return start, end


def _expand_days(hours: dict[str, str]) -> dict[str, str]:
    """Keys `mon`..`sun` or ranges `mon-fri`; later keys win. Empty value = closed."""
    days: dict[str, str] = {}
    for key, span in hours.items():
        first, _, last = key.strip().lower().partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"{key!r} is not a day (mon..sun) or a range of days (mon-fri)")
        i, j = _DAYS.index(first), _DAYS.index(last or first)
        if j < i:
            raise ValueError(f"{key!r}: the range must run forward (mon-fri)")
        if span.strip() and span.strip().lower() != "closed":
            parse_span(span)
        for day in _DAYS[i : j + 1]:
            days[day] = "" if span.strip().lower() == "closed" else span.strip()
    return days


class ScheduleRule(BaseModel):
    """Working time of a team; what it leaves out comes from the tenant's `[schedule]`."""

    model_config = ConfigDict(extra="forbid")

    hours: dict[str, str] | None = Field(
        default=None,
        description='Opening hours by day: {"mon-fri" = "09:00-18:00", sat = "10:00-14:00"}',
    )
    lunch: str | None = Field(
        default=None, description='Daily break inside the hours, "13:00-14:00"; "" = none'
    )
    holidays: list[date] = Field(default_factory=list, description="Closed days (YYYY-MM-DD)")

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else _expand_days(value)

    @field_validator("lunch")
    @classmethod
    def _valid_lunch(cls, value: str | None) -> str | None:
        if value:
            parse_span(value)
        return value


class ScheduleSettings(ScheduleRule):
    """`[schedule]`: when the tenant works. Without `hours` the company is open around the clock
    (nothing is after hours, the callback SLA clock never stops)."""

    teams: dict[str, ScheduleRule] = Field(
        default_factory=dict, description="Per-team overrides: [schedule.teams.support] ..."
    )


SlVariant = Literal["answered", "offered", "with_abandons", "abandon_in_T_good"]


class MetricsSettings(BaseModel):
    """Thresholds of design.md section 4 that reports use (min_talk_s and quick_hangup_s are
    top-level because the assembler uses them too)."""

    model_config = ConfigDict(extra="forbid")

    short_abandon_s: float = Field(
        default=6, ge=0, description="Callers gone within this many seconds are short abandons"
    )
    resolution_horizon_days: float = Field(
        default=7, gt=0, description="A missed contact can be resolved this long after it"
    )
    callback_sla_min: float = Field(default=10, gt=0, description="Callback SLA in working minutes")
    sl_threshold_s: float = Field(default=20, ge=0, description="Service level threshold T")
    sl_variant: SlVariant = Field(default="with_abandons", description="Service level formula")
    wait_from: Literal["call_start", "queue_entry"] = Field(
        default="call_start",
        description="Waits (ASA, SL, abandons) run from the call's start or its queue entry",
    )
    peak_hours: list[int] = Field(
        default_factory=list, description="Peak hours of day (0-23); empty = the busiest ones"
    )
    peak_hours_auto: int = Field(
        default=3, ge=1, le=24, description="How many busiest hours are peak when none are set"
    )
    weekend_days: list[int] = Field(
        default=[6, 7], description="ISO days of the week that are weekend (1 = Monday)"
    )
    worst_agents_min_offered: int = Field(
        default=20, ge=1, description="Agents with fewer offered calls are not ranked worst"
    )
    worst_agents_count: int = Field(default=5, ge=1, description="Worst agents in the summary")

    @field_validator("peak_hours")
    @classmethod
    def _hours(cls, value: list[int]) -> list[int]:
        if any(not 0 <= h <= 23 for h in value):
            raise ValueError("hours of the day are 0..23")
        return sorted(set(value))

    @field_validator("weekend_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(not 1 <= d <= 7 for d in value):
            raise ValueError("ISO days of the week are 1 (Monday) .. 7 (Sunday)")
        return sorted(set(value))


class NotifySettings(BaseModel):
    """Missed-call notifications, reminders, alerts and digests (callscope.live). Apprise URLs
    carry tokens, so a URL may name environment variables as `${NAME}`; they are filled in
    only when a message is sent, and the config file never needs to hold the secret."""

    model_config = ConfigDict(extra="forbid")

    routes: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "Apprise URLs by recipient: an agent extension, a team, `supervisor`, `default`"
        ),
    )
    owners: dict[str, str] = Field(
        default_factory=dict, description="Customer number (E.164) -> agent who owns it (CRM)"
    )
    reminder_after_min: float = Field(
        default=10, gt=0, description="Remind the manager when a contact is open this long"
    )
    escalate_after_min: float = Field(
        default=30, gt=0, description="Tell the supervisor when a contact is open this long"
    )
    quiet_hours: str | None = Field(
        default=None, description="HH:MM-HH:MM (tenant time) when nothing but alerts is sent"
    )
    max_attempts: int = Field(default=8, ge=1, description="Sends tried before giving up")
    max_age_min: float = Field(
        default=240, gt=0, description="Older missed contacts, when first seen, are not notified"
    )
    retry_base_s: float = Field(default=5, gt=0, description="First retry delay, doubled each try")
    missed_share_alert_pct: float | None = Field(
        default=None, description="Alert when a team's missed share in the last hour exceeds it"
    )
    alert_min_calls: int = Field(default=10, ge=1, description="Calls needed before that alert")
    queue_wait_alert_s: float | None = Field(
        default=None, description="Alert when a caller has waited in a queue longer than this"
    )
    digest_top_n: int = Field(default=5, ge=1, description="Agents listed in a digest")
    email_to: list[str] = Field(default_factory=list, description="Digest e-mail recipients")
    email_from: str = Field(default="callscope@localhost", description="Digest sender address")
    smtp_host: str = Field(default="localhost", description="SMTP server for digests")
    smtp_port: int = Field(default=25, description="SMTP port")
    smtp_user: str | None = Field(default=None, description="SMTP login, if the server wants one")
    smtp_password_env: str = Field(
        default="CALLSCOPE_SMTP_PASSWORD", description="Environment variable with the password"
    )


class LiveSettings(BaseModel):
    """Live intake (webhooks, Asterisk AMI). Secrets come from the environment or a file."""

    model_config = ConfigDict(extra="forbid")

    webhook_secrets_file: Path | None = Field(
        default=None, description='TOML file `tenant = "secret"` of webhook HMAC secrets'
    )
    ami_host: str = Field(default="127.0.0.1", description="Asterisk manager interface host")
    ami_port: int = Field(default=5038, description="Asterisk manager interface port")
    ami_username: str = Field(default="callscope", description="manager.conf user")
    ami_secret_env: str = Field(
        default="CALLSCOPE_AMI_SECRET", description="Environment variable with the AMI secret"
    )
    ami_secret_file: Path | None = Field(default=None, description="File with the AMI secret")
    reconnect_max_s: float = Field(default=60, gt=0, description="Longest wait between retries")
    assemble_every_s: float = Field(
        default=0.2, gt=0, description="How often finished calls move from inbox to calls"
    )
    call_timeout_s: float = Field(
        default=14400, gt=0, description="A call silent this long is assembled as it is"
    )
    late_answer_grace_s: float = Field(
        default=0.1,
        ge=0,
        description="An ended call nobody answered waits this long for a late call.answered",
    )
    checkpoint_mb: float = Field(
        default=8,
        ge=0,
        description="The live loop checkpoints the store between passes once its write-ahead"
        " log is this large (0: only DuckDB's own, inside the commit that passes 16 MiB)",
    )
    merge_idle_s: float = Field(
        default=60,
        ge=0,
        description="The live loop's checkpoints leave DuckDB's row groups unmerged until no"
        " event has come for this long (0: every checkpoint merges them, DuckDB's way)",
    )
    intake_process: bool = Field(
        default=True,
        description="`callscope listen` checks generic webhooks in a process of its own (Unix)",
    )
    duckdb_threads: int | None = Field(
        default=1,
        ge=1,
        description="DuckDB threads of `callscope listen` (none: one per core); see docs/live.md",
    )
    notify: NotifySettings = Field(
        default_factory=NotifySettings, description="Notifications and digests"
    )


class Settings(BaseSettings):
    """Everything configurable, with the default each setting has when nothing sets it."""

    model_config = SettingsConfigDict(
        env_prefix="CALLSCOPE_", env_nested_delimiter="__", extra="forbid"
    )

    db: Path = Field(default=Path("callscope.duckdb"), description="Embedded DuckDB file")
    tenant: str = Field(default="default", description="Tenant all imported rows belong to")
    timezone: str = Field(
        default="Europe/Moscow",
        description="Tenant time zone: reports and naive PBX timestamps are read in it",
    )
    region: str = Field(
        default="RU", description="Default region for phone numbers without a country code"
    )
    lang: str = Field(default="en", description="Language of tables for people: en, ru, uk")
    internal_number_max_digits: int = Field(
        default=5,
        description="Numbers of at most this many digits are internal extensions, never customers",
    )
    min_talk_s: float = Field(
        default=6, description="A conversation shorter than this is not an answer (design.md 4)"
    )
    quick_hangup_s: float = Field(default=6, description="Answered legs shorter are quick hang-ups")
    agents: dict[str, AgentConfig] = Field(
        default_factory=dict, description="Agents by extension: name, team, aliases"
    )
    asterisk: AsteriskConfig = Field(
        default_factory=AsteriskConfig, description="Names of dialplan stages"
    )
    web: WebSettings = Field(
        default_factory=WebSettings, description="Dashboard and REST API (callscope serve)"
    )
    metrics: MetricsSettings = Field(
        default_factory=MetricsSettings, description="Report thresholds (design.md 4)"
    )
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="Working hours, lunch, holidays"
    )
    live: LiveSettings = Field(
        default_factory=LiveSettings, description="Live intake, notifications, digests"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Kyiv)"
            ) from exc
        return value

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {value!r} (use a two-letter country code such as UA)")
        return value

    @field_validator("lang")
    @classmethod
    def _known_lang(cls, value: str) -> str:
        if value not in {"en", "ru", "uk"}:
            raise ValueError(f"unsupported language {value!r} (en, ru or uk)")
        return value

    def agent_name(self, agent: str | None) -> str | None:
        """How people know an agent: the configured name, else the id."""
        if agent is None:
            return None
        cfg = self.agents.get(agent)
        return cfg.name if cfg and cfg.name else agent

    def agent_aliases(self) -> dict[str, str]:
        """Every name the config gives an agent (id, name, aliases) -> the agent's id; a name
        two agents claim belongs to the first configured."""
        aliases: dict[str, str] = {}
        for ext, cfg in self.agents.items():
            for name in [ext, cfg.name, *cfg.aliases]:
                if name:
                    aliases.setdefault(name, ext)
        return aliases

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (the TOML file's contents, passed by load_settings) loses to the environment.
        return env_settings, init_settings


def _config_path(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.exists() else None


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (explicit path, $CALLSCOPE_CONFIG, or ./callscope.toml) and the
    environment; `overrides` (from command-line options) win over both."""
    path = _config_path(config)
    data = read_toml(path, "config file") if path is not None else {}
    try:
        settings = Settings(**data)
        if overrides:
            merged = settings.model_dump()
            merged.update({k: v for k, v in overrides.items() if v is not None})
            settings = Settings.model_validate(merged)
    except ValidationError as exc:
        where = str(path) if path is not None else "settings"
        raise ConfigError(f"{where}: {validation_problems(exc)}") from exc
    return settings


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file's tables, or a ConfigError naming the file (`what`: "config file", ...)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def validation_problems(exc: ValidationError, noise: frozenset[str] = frozenset()) -> str:
    """Pydantic's errors as one line a person can act on: `key.path: message; ...` (`noise`:
    validator names pydantic puts in the path, which mean nothing to the file's author)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc'] if p not in noise)}: "
        f"{err['msg'].removeprefix('Value error, ')}"
        for err in exc.errors()
    )
