"""State machines as data: the YAML definitions in config/machines, validated."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lendflow.config.loading import load_model


class StateDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z_]+$")
    final: bool = False
    description: str = ""


class TransitionDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger: str = Field(pattern=r"^[a-z_]+$")
    source: list[str]
    dest: str
    conditions: list[str] = Field(default_factory=list)

    @field_validator("source", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class Callbacks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    after_state_change: list[str] = Field(default_factory=list)


class MachineDefinition(BaseModel):
    """A whole machine: its states, its legal moves and the guards on them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    initial: str
    states: list[StateDef]
    transitions: list[TransitionDef]
    callbacks: Callbacks = Field(default_factory=Callbacks)

    @model_validator(mode="after")
    def _consistent(self) -> MachineDefinition:
        names = [s.name for s in self.states]
        if len(set(names)) != len(names):
            raise ValueError("state names must be unique")
        known = set(names)
        if self.initial not in known:
            raise ValueError(f"initial state {self.initial!r} is not a state")
        final = {s.name for s in self.states if s.final}
        seen: set[tuple[str, str]] = set()
        for t in self.transitions:
            for state in [*t.source, t.dest]:
                if state not in known:
                    raise ValueError(f"transition {t.trigger}: unknown state {state!r}")
            for source in t.source:
                if source in final:
                    raise ValueError(f"transition {t.trigger}: {source} is final")
                if (source, t.trigger) in seen:
                    raise ValueError(f"transition {t.trigger} from {source} is defined twice")
                seen.add((source, t.trigger))
        return self

    @property
    def state_names(self) -> list[str]:
        return [s.name for s in self.states]

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.final)

    def sources(self, trigger: str) -> list[str]:
        return [s for t in self.transitions if t.trigger == trigger for s in t.source]

    @property
    def triggers(self) -> list[str]:
        return list(dict.fromkeys(t.trigger for t in self.transitions))


def machines_folder() -> Path:
    return Path(str(resources.files("lendflow.config").joinpath("machines")))


@cache
def load_definition(name: str) -> MachineDefinition:
    """The packaged definition `config/machines/<name>.yaml`."""
    return load_model(MachineDefinition, machines_folder() / f"{name}.yaml")
