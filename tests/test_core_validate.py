"""core/validate.py: one annotation-driven check for Transform arguments and config dataclasses."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import pytest

from degrade_stream.core.errors import ConfigError
from degrade_stream.core.transform import Transform
from degrade_stream.core.validate import Bounds, Parser, check_field, check_fields, check_value
from degrade_stream.diffusion.train_config import TrainConfig

Unit = Annotated[float, Bounds(low=0.0, high=1.0)]


def _nested(value, name):
    if not isinstance(value, int):
        raise ValueError(f"{name}: expected a level, got {value!r}")
    return ("level", value)


@dataclass(frozen=True)
class _Recipe:
    name: str = ""
    kind: Literal["a", "b"] = "a"
    rate: Annotated[float, Bounds(low=0.0, below=1.0)] = 0.5
    count: Annotated[int, Bounds(low=1, high=9)] = 1
    pair: tuple[Unit, Unit] = (0.0, 1.0)
    gain: Annotated[float, Bounds(low=2.0)] | None = None
    flag: bool = False
    level: Annotated[tuple, Parser(_nested)] = ("level", 0)


def test_values_are_checked_and_converted_by_their_annotation():
    kw = check_fields(_Recipe, {"rate": 0, "count": 9, "pair": [1, 0.25], "gain": None, "level": 3}, "a recipe")
    assert kw == {"rate": 0.0, "count": 9, "pair": (1.0, 0.25), "gain": None, "level": ("level", 3)}
    assert type(kw["rate"]) is float and type(kw["pair"]) is tuple
    assert check_fields(_Recipe, {"gain": 2}, "a recipe") == {"gain": 2.0}
    assert check_field(_Recipe, "kind", "b") == "b"


@pytest.mark.parametrize("data, message", [
    ({"rat": 0.1}, r"^rat: unknown key \(did you mean 'rate'\?\); expected one of \['name', 'kind', 'rate'"),
    ({"kind": "c"}, r"^kind: unknown value 'c'; expected one of \['a', 'b'\]"),
    ({"rate": 1.0}, r"^rate: must be < 1.0, got 1.0$"),
    ({"rate": -0.5}, r"^rate: must be >= 0.0, got -0.5$"),
    ({"rate": float("nan")}, r"^rate: expected a finite number, got nan$"),
    ({"count": 10}, r"^count: must be <= 9, got 10$"),
    ({"count": 2.0}, r"^count: expected an integer, got float 2.0$"),
    ({"pair": [0.5]}, r"^pair: expected a list of 2 values, got \[0.5\]$"),
    ({"pair": [0.5, 1.5]}, r"^pair\[1\]: must be <= 1.0, got 1.5$"),
    ({"pair": 0.5}, r"^pair: expected a list, got float 0.5$"),
    ({"gain": 1}, r"^gain: must be >= 2.0, got 1.0$"),
    ({"flag": 1}, r"^flag: expected true/false, got int 1$"),
    ({"name": 3}, r"^name: expected a string, got int 3$"),
    ({"level": "x"}, r"^level: expected a level, got 'x'$"),
])
def test_each_bad_value_names_its_key(data, message):
    with pytest.raises(ConfigError, match=message):
        check_fields(_Recipe, data, "a recipe")


def test_a_non_mapping_is_refused_naming_what_it_should_be():
    with pytest.raises(ConfigError, match="^a recipe must be a mapping, got list$"):
        check_fields(_Recipe, [1, 2], "a recipe")


def test_check_value_without_a_hint_passes_the_value_through():
    marker = object()
    assert check_value("x", marker, None) is marker


class _Bounded(Transform):
    type_name = "test_bounded"

    def __init__(self, amount: Annotated[float, Bounds(low=0.0, high=2.0)] = 1.0,
                 mode: Literal["x", "y"] = "x") -> None:
        self.amount, self.mode = amount, mode


def test_transform_arguments_use_the_same_checks():
    assert _Bounded(amount=2).to_config() == {"type": "test_bounded", "amount": 2.0, "mode": "x"}
    with pytest.raises(ConfigError, match=r"^stages\[0\]\.amount: must be <= 2.0, got 3.0$"):
        _Bounded.from_config({"amount": 3}, "stages[0]")
    with pytest.raises(ConfigError, match=r"^mode: unknown value 'z'"):
        _Bounded(mode="z")


def test_adam_betas_are_two_numbers_each_in_0_1_not_a_range():
    assert TrainConfig.from_dict({"adam_betas": [0.9, 0.5]}).adam_betas == (0.9, 0.5)
    assert TrainConfig.from_dict({"adam_betas": [0, 0.999]}).adam_betas == (0.0, 0.999)
    with pytest.raises(ConfigError, match=r"^adam_betas\[1\]: must be < 1.0, got 1.0$"):
        TrainConfig.from_dict({"adam_betas": [0.9, 1.0]})
    with pytest.raises(ConfigError, match=r"^adam_betas\[0\]: must be >= 0.0, got -0.1$"):
        TrainConfig.from_dict({"adam_betas": [-0.1, 0.9]})
    with pytest.raises(ConfigError, match=r"^adam_betas: expected a list of 2 values, got \[0.9\]$"):
        TrainConfig.from_dict({"adam_betas": [0.9]})


def test_train_config_round_trips_and_checks_steps():
    config = TrainConfig.from_dict({"crop": 64, "working_size": 96, "min_snr_gamma": 5, "optimizer": "adamw"})
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert (config.min_snr_gamma, config.with_steps(7).steps) == (5.0, 7)
    with pytest.raises(ConfigError, match="^steps: must be >= 1, got 0$"):
        config.with_steps(0)
    with pytest.raises(ConfigError, match=r"^ema_warmup: expected true/false, got str 'yes'$"):
        TrainConfig.from_dict({"ema_warmup": "yes"})
    with pytest.raises(ConfigError, match="^a DDPM recipe must be a mapping, got list$"):
        TrainConfig.from_dict([])
