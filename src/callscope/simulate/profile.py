"""Company profiles: the TOML a user edits to describe their lines, groups, agents and traffic.

Built-in profiles ship as package data (`callscope/simulate/profiles/*.toml`); a path to any
other file works the same way, so "what if Maria is first in the hunt order" is a copied file
with one list reordered. Every field has a default, so a profile says only what is particular.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callscope.errors import ConfigError

Strategy = Literal[
    "ringall", "hunt", "rrmemory", "leastrecent", "fewestcalls", "random", "priority", "secretary"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Persona(_Model):
    """How an agent behaves at the phone; the built-in personas are presets of these knobs."""

    pickup_median_s: float = 4.0
    pickup_sigma: float = 0.5
    ignore_probability: float = 0.03  # lets the phone ring out although free
    quick_drop_probability: float = 0.01  # picks up and drops within a few seconds
    quick_drop_max_s: int = 4
    peak_pause_probability: float = 0.0  # chance to go "do not disturb" in each peak hour
    pauses_per_day: float = 1.0
    pause_median_s: float = 300.0
    talk_median_s: float = 120.0
    talk_sigma: float = 0.7
    wrapup_s: int = 15


PERSONAS: dict[str, Persona] = {
    "diligent": Persona(),
    "overloaded": Persona(
        pickup_median_s=7,
        ignore_probability=0.12,
        talk_median_s=150,
        wrapup_s=40,
        pauses_per_day=0.5,
    ),
    "avoider": Persona(
        pickup_median_s=11,
        pickup_sigma=0.6,
        ignore_probability=0.35,
        quick_drop_probability=0.1,
        peak_pause_probability=0.5,
        pauses_per_day=3,
        pause_median_s=600,
    ),
}


class AgentSpec(_Model):
    ext: str
    name: str
    team: str = "default"
    persona: str = "diligent"
    conversion: float = 0.15  # sale probability of an answered call from a new customer
    shift: str = "09:00-18:00"
    lunch: str | None = "13:00"
    lunch_s: int = 2700
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])


class IvrSpec(_Model):
    greeting_s: int = 6
    leave_probability: float = 0.05
    invalid_probability: float = 0.02
    options: dict[str, str] = Field(default_factory=dict)  # digit -> group name
    weights: dict[str, float] = Field(default_factory=dict)  # digit -> share


class LineSpec(_Model):
    did: str
    campaign: str = "main"
    weight: float = 1.0
    target: str | None = None  # group when the line has no IVR
    ivr: IvrSpec | None = None

    @model_validator(mode="after")
    def _has_destination(self) -> LineSpec:
        if self.ivr is None and self.target is None:
            raise ValueError(f"line {self.did}: needs an ivr or a target group")
        return self


class GroupSpec(_Model):
    name: str
    exten: str
    kind: Literal["queue", "dial"] = "queue"
    strategy: Strategy = "ringall"
    members: list[str]
    ring_timeout_s: int = 15
    retry_s: int = 2
    max_wait_s: int = 0  # queue timeout; 0 = callers wait until they give up
    overflow: Literal["voicemail", "none"] = "none"
    sticky: bool = False
    skip_to_voicemail_when_all_busy: bool = False
    secretary_talk_s: int = 12  # secretary: talk before the blind transfer


class HoursSpec(_Model):
    open: str = "09:00"
    close: str = "18:00"
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    holidays: list[str] = Field(default_factory=list)  # ISO dates


class TrafficSpec(_Model):
    calls_per_day: float = 150
    weekend_factor: float = 0.1
    holiday_factor: float = 0.2
    # share of a day's calls per local hour 0..23 (normalised)
    hourly: list[float] = Field(
        default_factory=lambda: [
            0.1,
            0.05,
            0.05,
            0.05,
            0.05,
            0.1,
            0.3,
            1,
            3,
            8,
            10,
            10,
            9,
            6,
            8,
            9,
            8,
            7,
            4,
            2,
            1,
            0.6,
            0.3,
            0.2,
        ]
    )
    peak_hours: list[int] = Field(default_factory=lambda: [10, 11, 15, 16])


class CallerSpec(_Model):
    customers: int = 5000
    returning_share: float = 0.35  # share of calls from customers seen before
    give_up_share: float = 0.45  # callers with finite patience (the rest wait for the PBX)
    redial_probability: float = 0.45
    redial_median_s: float = 900
    returning_conversion_factor: float = 0.5
    revenue_median: float = 15000
    revenue_sigma: float = 0.6


class CallbackSpec(_Model):
    probability: float = 0.7
    delay_median_s: float = 1200
    delay_sigma: float = 1.0
    connect_probability: float = 0.7
    busy_probability: float = 0.1
    max_attempts: int = 3


class AgentPool(_Model):
    """Many similar agents at once (a contact centre): extensions first_ext.., names generated,
    every `avoider_every`-th an avoider and every `overloaded_every`-th overloaded. Groups list
    a pool's agents as "@<pool name>"."""

    name: str
    first_ext: int
    count: int
    team: str = "default"
    shift: str = "09:00-18:00"
    lunch: str | None = "13:00"
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    conversion: float = 0.1
    avoider_every: int = 0
    overloaded_every: int = 0

    def expand(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for i in range(self.count):
            persona = "diligent"
            if self.overloaded_every and (i + 1) % self.overloaded_every == 0:
                persona = "overloaded"
            if self.avoider_every and (i + 1) % self.avoider_every == 0:
                persona = "avoider"
            out.append(
                {
                    "ext": str(self.first_ext + i),
                    "name": f"{self.name.title()} {i + 1:03d}",
                    "team": self.team,
                    "persona": persona,
                    "shift": self.shift,
                    "lunch": self.lunch,
                    "days": self.days,
                    "conversion": self.conversion,
                }
            )
        return out


class Profile(_Model):
    name: str
    timezone: str = "Europe/Moscow"
    region: str = "RU"
    number_prefix: str = "+7999"  # customers' numbers: prefix + random digits
    number_digits: int = 11  # digits of a full E.164 number, country code included
    hours: HoursSpec = Field(default_factory=HoursSpec)
    traffic: TrafficSpec = Field(default_factory=TrafficSpec)
    caller: CallerSpec = Field(default_factory=CallerSpec)
    callbacks: CallbackSpec = Field(default_factory=CallbackSpec)
    personas: dict[str, Persona] = Field(default_factory=dict)
    lines: list[LineSpec]
    groups: list[GroupSpec]
    agents: list[AgentSpec] = Field(default_factory=list)
    agent_pools: list[AgentPool] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _expand_pools(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("agent_pools"):
            return data
        data = dict(data)
        pools = [AgentPool.model_validate(p) for p in data["agent_pools"]]
        members = {f"@{p.name}": [str(p.first_ext + i) for i in range(p.count)] for p in pools}
        data["agents"] = [*data.get("agents", []), *(a for p in pools for a in p.expand())]
        data["groups"] = [
            {**g, "members": [m for ref in g.get("members", []) for m in members.get(ref, [ref])]}
            for g in data.get("groups", [])
        ]
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        exts = {a.ext for a in self.agents}
        names = {g.name for g in self.groups}
        for g in self.groups:
            unknown = [m for m in g.members if m not in exts]
            if unknown:
                raise ValueError(f"group {g.name}: unknown members {unknown}")
        for line in self.lines:
            wanted = [line.target] if line.target else []
            wanted += list(line.ivr.options.values()) if line.ivr else []
            missing = [w for w in wanted if w not in names]
            if missing:
                raise ValueError(f"line {line.did}: unknown groups {missing}")
        for a in self.agents:
            if a.persona not in PERSONAS and a.persona not in self.personas:
                raise ValueError(f"agent {a.ext}: unknown persona {a.persona!r}")
        return self

    def persona(self, name: str) -> Persona:
        if name in self.personas:
            return self.personas[name]
        return PERSONAS[name]

    def group(self, name: str) -> GroupSpec:
        return next(g for g in self.groups if g.name == name)


def builtin_profiles() -> list[str]:
    folder = resources.files("callscope.simulate") / "profiles"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name, or a TOML file by path; errors name the wrong key."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"profile {path}: {exc.strerror}") from exc
        where = str(path)
    else:
        resource = resources.files("callscope.simulate") / "profiles" / f"{name_or_path}.toml"
        if not resource.is_file():
            known = ", ".join(builtin_profiles())
            raise ConfigError(f"unknown profile {name_or_path!r} (built-in: {known})")
        text = resource.read_text(encoding="utf-8")
        where = f"profile {name_or_path}"
    try:
        return Profile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from exc
