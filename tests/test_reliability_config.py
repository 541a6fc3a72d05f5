"""Non-finite numbers in a config are refused with the YAML path of the key (NaN passes every '<')."""
from __future__ import annotations

import math

import pytest

import degrade_stream as ds
from degrade_stream.core.checks import check_number, check_positive, check_range
from degrade_stream.core.errors import ConfigError
from degrade_stream.diffusion.train_config import TrainConfig
from diffusion_helpers import micro_train_config
from reliability_helpers import run_in_process

NAN, INF = math.nan, math.inf
CASES = [  # (stage, expected path): each once gave silent wrong pairs (all-zero, all-NaN or sigma = inf)
    ({"type": "classical", "blur_sigma": [NAN, 2.0]}, r"stages\[0\]\.blur_sigma\[0\]"),
    ({"type": "usm", "weight": NAN}, r"stages\[0\]\.weight"),
    ({"type": "noise", "noise_range": [1.0, INF]}, r"stages\[0\]\.noise_range\[1\]"),
    ({"type": "noise", "noise_range": [NAN, 3.0]}, r"stages\[0\]\.noise_range\[0\]"),
    ({"type": "jpeg", "jpeg_range": [NAN, 90.0]}, r"stages\[0\]\.jpeg_range\[0\]"),
    ({"type": "realesrgan", "resize_range": [-INF, 1.5]}, r"stages\[0\]\.resize_range\[0\]"),
    ({"type": "classical", "jpeg_range": [30.0, NAN]}, r"stages\[0\]\.jpeg_range\[1\]"),
    ({"type": "ddpm_refine", "eta": NAN}, r"stages\[0\]\.eta"),
    ({"type": "usm", "threshold": INF}, r"stages\[0\]\.threshold"),
]


@pytest.mark.parametrize("stage, path", CASES, ids=[f"{c[0]['type']}-{i}" for i, c in enumerate(CASES)])
def test_non_finite_stage_argument_names_its_yaml_path(stage, path):
    with pytest.raises(ConfigError, match=path + r": expected a finite number, got (nan|inf|-inf)"):
        ds.load_chain({"stages": [stage]})


@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_the_checks_refuse_every_non_finite_value(value):
    with pytest.raises(ConfigError, match=r"^x: expected a finite number"):
        check_number("x", value)
    with pytest.raises(ConfigError, match=r"^x: expected a finite number"):
        check_positive("x", value)
    with pytest.raises(ConfigError, match=r"^x\[1\]: expected a finite number"):
        check_range("x", [0.0, value])
    assert check_number("x", 1e300, high=1e301) == 1e300  # huge but finite is a number where a bound allows it
    with pytest.raises(ConfigError, match=r"^x: must be <= 1e\+06 \(the bound of any number"):
        check_number("x", 1e300)  # and every number has a finite bound (issue 23 item 5)


@pytest.mark.parametrize("key, value", [("lr", NAN), ("ema_decay", NAN), ("grad_clip", INF), ("weight_decay", NAN)])
def test_non_finite_training_recipe_value_is_refused(key, value):
    data = micro_train_config().to_dict()
    data[key] = value
    with pytest.raises(ValueError, match=rf"{key}: expected a finite number"):
        TrainConfig.from_dict(data)


def test_nan_in_a_yaml_chain_is_an_exit_2_error_that_writes_nothing(tmp_path, data_dir):
    config = tmp_path / "chain.yaml"
    config.write_text("stages:\n  - type: classical\n    scale: 4\n    blur_sigma: [.nan, 2.0]\n")
    out = tmp_path / "out"
    result = run_in_process("synthesize", "--config", config, "--hq", data_dir / "hq", "--out", out, "--no-progress")
    assert result.returncode == 2
    assert result.stderr == ("degrade-stream synthesize: error: stages[0].blur_sigma[0]: expected a finite number, "
                             "got nan\n")
    assert not out.exists()
