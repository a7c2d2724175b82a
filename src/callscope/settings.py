"""One typed settings object: defaults < callscope.toml < CALLSCOPE_* environment variables.

Every threshold of design.md section 4 lives here with its default, so reports can state the
settings they used and the docs can list them (tests/test_settings_documented.py checks that).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
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
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        settings = Settings(**data)
        if overrides:
            merged = settings.model_dump()
            merged.update({k: v for k, v in overrides.items() if v is not None})
            settings = Settings.model_validate(merged)
    except ValidationError as exc:
        where = str(path) if path is not None else "settings"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from exc
    return settings
