"""Settings: every one documented, wrong ones named, environment over file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from callscope.errors import ConfigError
from callscope.settings import AgentConfig, Settings, load_settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def _names(model: type[BaseModel], prefix: str = "") -> list[str]:
    names: list[str] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _names(annotation, f"{prefix}{name}.")
        else:
            names.append(prefix + name)
    return names


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    missing = [n for n in _names(Settings) if f"`{n}`" not in text]
    assert missing == []


def test_a_wrong_value_names_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "callscope.toml"
    config.write_text('timezone = "Moscow"\n[asterisk]\nno_such_key = 1\n')
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    message = str(info.value)
    assert str(config) in message
    assert "timezone: unknown time zone 'Moscow'" in message
    assert "asterisk.no_such_key" in message


def test_environment_overrides_file_and_options_override_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "callscope.toml"
    config.write_text(
        'region = "UA"\ntimezone = "Europe/Kyiv"\n[agents]\n101 = { name = "Anna" }\n'
    )
    monkeypatch.setenv("CALLSCOPE_REGION", "RU")
    settings = load_settings(config, timezone="Europe/Moscow")
    assert (settings.region, settings.timezone) == ("RU", "Europe/Moscow")
    assert settings.agents["101"].name == "Anna"


def test_agent_names_and_aliases_come_from_the_agents_table() -> None:
    settings = Settings(
        agents={
            "101": AgentConfig(name="Anna Petrova", aliases=["Agent/1001", "reception"]),
            "102": AgentConfig(aliases=["reception"]),
        }
    )
    assert settings.agent_aliases() == {
        "101": "101",
        "Anna Petrova": "101",
        "Agent/1001": "101",
        "reception": "101",  # claimed twice: the first agent listed keeps it
        "102": "102",
    }
    assert [settings.agent_name(a) for a in ("101", "102", "999", None)] == [
        "Anna Petrova",
        "102",
        "999",
        None,
    ]
