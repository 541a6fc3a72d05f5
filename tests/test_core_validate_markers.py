"""core/validate.py markers and rules: the one place a stage's or a config dataclass's values are checked."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Mapping

import pytest

from degrade_stream.core.errors import ConfigError
from degrade_stream.core.transform import Transform
from degrade_stream.core.validate import (Bounds, Choice, Length, Odd, Probability, Range, Weights, check_dataclass,
                                          check_fields, check_value)
from degrade_stream.degrade.blocks import JPEG
from degrade_stream.diffusion.refine import DDPMRefine

Pair = Annotated[tuple[float, float], Range(low=1, high=100)]


@pytest.mark.parametrize("value, hint, message", [
    ([5, 1], Pair, r"^q: range low > high: \[5.0, 1.0\]$"),
    ([0, 5], Pair, r"^q\[0\]: must be >= 1, got 0.0$"),
    ([1, 2, 3], Pair, r"^q: expected a list of 2 values, got \[1, 2, 3\]$"),
    (1.5, Annotated[float, Probability()], r"^q: probability must be a number in \[0, 1\], got 1.5$"),
    ("x", Annotated[float, Probability()], r"^q: expected a number, got str 'x'$"),
    ([0, 0], Annotated[tuple[float, ...], Weights(2)], r"^q: probabilities must not all be zero, got \(0.0, 0.0\)$"),
    ([1], Annotated[tuple[float, ...], Weights(2)], r"^q: expected a list of 2 probabilities, got \(1.0,\)$"),
    (8, Annotated[int, Bounds(low=1), Odd()], r"^q: must be odd, got 8$"),
    ([7, 20], Annotated[tuple[int, int], Range(low=1), Odd("kernel sizes")], r"^q: kernel sizes must be odd, got \[7, 20\]$"),
    ("bicubc", Annotated[str, Choice(("bicubic", "area"))], r"^q: unknown value 'bicubc'.*did you mean 'bicubic'"),
    (3, Annotated[str, Choice(("bicubic", "area"))], r"^q: expected a string, got int 3$"),
    ([1] * 9, Annotated[tuple[int, ...], Length(low=1, high=8)], r"^q: expected a list of at most 8 values"),
])
def test_markers_refuse_with_the_key_and_the_expected_values(value, hint, message):
    with pytest.raises(ConfigError, match=message):
        check_value("q", value, hint)


def test_markers_keep_valid_values_and_convert_like_the_type():
    assert check_value("q", [1, 100], Pair) == (1.0, 100.0)
    assert check_value("q", [7, 9], Annotated[tuple[int, int], Range(low=1), Odd()]) == (7, 9)
    assert check_value("q", 1, Annotated[float, Probability()]) == 1.0


def _ordered(values: Mapping[str, Any]) -> None:
    if values["low"] > values["high"]:
        raise ConfigError("low", f"must be <= high ({values['high']}), got {values['low']}")


class _Pair(Transform):
    rules = (_ordered,)

    def __init__(self, low: float = 0.0, high: float = 1.0) -> None:
        self.init_ran = True


@dataclass(frozen=True)
class _Config:
    low: float = 0.0
    high: Annotated[float, Bounds(high=10.0)] = 1.0
    rules: ClassVar = (_ordered,)

    def __post_init__(self) -> None:
        check_dataclass(self)


def test_rules_span_arguments_and_run_before_init():
    with pytest.raises(ConfigError, match=r"^low: must be <= high \(1.0\), got 2.0$"):
        _Pair(low=2)
    assert _Pair(low=0.5).init_ran
    with pytest.raises(ConfigError, match=r"^low: must be <= high \(1.0\), got 2.0$"):
        check_fields(_Config, {"low": 2}, "a config")  # the other field's default joins the rule
    with pytest.raises(ConfigError, match=r"^low: must be <= high \(3.0\), got 4.0$"):
        _Config(low=4, high=3)
    with pytest.raises(ConfigError, match=r"^high: must be <= 10.0, got 11.0$"):
        _Config(high=11)
    assert _Config(low=1, high=2).low == 1.0 and type(_Config(low=1).low) is float


def test_stages_check_in_one_place_their_annotations():
    with pytest.raises(ConfigError, match=r"^jpeg_range: range low > high: \[90.0, 30.0\]$"):
        JPEG(jpeg_range=[90, 30])
    with pytest.raises(ConfigError, match=r"^t_per_step: applies to sampler 'ddim' only"):
        DDPMRefine(sampler="ddpm", t_per_step=5)
    with pytest.raises(ConfigError, match=r"^steps: must be <= 1000, got 5000$"):
        DDPMRefine(steps=5000)
