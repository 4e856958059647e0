"""Reading the 五星小区 criteria (bot/domain/stars.py) from a TOML file the district office writes.

The file is validated with pydantic; an error names the file and the key (`stars.toml: star[1].
indicator[0].at_least: …`), so the office can fix it itself. `stars.example.toml` is an example.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.domain.stars import Criteria, Indicator, Metric, Star, StarRule


class StarsFileError(Exception):
    """A problem in a criteria file, naming where it is."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorModel(_Model):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    metric: Metric
    name: str = Field(min_length=1, max_length=60)
    name_en: str = Field(default="", max_length=80)
    at_least: float | None = None
    at_most: float | None = None
    points: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="after")
    def _a_threshold(self) -> IndicatorModel:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least or at_most (or both)")
        return self


class StarModel(_Model):
    key: Star
    name: str = Field(min_length=1, max_length=30)
    name_en: str = Field(default="", max_length=60)
    points: int | None = Field(default=None, ge=1, le=1000)  # none: every indicator must pass
    indicator: list[IndicatorModel] = Field(min_length=1, max_length=30)


class CriteriaModel(_Model):
    version: str = Field(pattern=r"^20\d\d-(0[1-9]|1[0-2])$")  # the first month it applies to
    example: bool = False
    star: list[StarModel] = Field(min_length=1, max_length=len(Star))

    @model_validator(mode="after")
    def _each_once(self) -> CriteriaModel:
        stars = [s.key for s in self.star]
        if len(set(stars)) != len(stars):
            raise ValueError("a star is listed twice")
        keys = [i.key for s in self.star for i in s.indicator]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"indicator keys listed twice: {', '.join(twice)}")
        return self


def _where(error: ValidationError) -> str:
    first = error.errors()[0]
    parts: list[str] = []
    for part in first["loc"]:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    key = ".".join(parts) or "(top)"
    if first["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    return f"{key}: {first['msg'].removeprefix('Value error, ')}"


def criteria_from(text: str, name: str = "stars.toml") -> Criteria:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StarsFileError(f"{name}: not valid TOML: {exc}") from exc
    try:
        model = CriteriaModel.model_validate(raw)
    except ValidationError as exc:
        raise StarsFileError(f"{name}: {_where(exc)}") from exc
    return Criteria(
        version=model.version,
        example=model.example,
        stars=tuple(StarRule(s.key, s.name, s.name_en, s.points) for s in model.star),
        indicators=tuple(
            Indicator(
                key=i.key,
                star=s.key,
                metric=i.metric,
                name=i.name,
                name_en=i.name_en,
                at_least=i.at_least,
                at_most=i.at_most,
                points=i.points,
            )
            for s in model.star
            for i in s.indicator
        ),
    )


def read_stars_file(path: Path) -> tuple[str, Criteria]:
    """The file's text (kept on record as the version) and the criteria it gives."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise StarsFileError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise StarsFileError(f"{path}: cannot be read: {exc}") from exc
    return text, criteria_from(text, path.name)
