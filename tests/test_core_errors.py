"""Every configuration and input error names what is wrong, and where."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds
from core_helpers import CHAIN


def _stages(**changes):
    stages = [dict(s) for s in CHAIN["stages"]]
    stages[2].update(changes)
    return {"stages": stages}


def test_unknown_type_names_path_and_suggests():
    with pytest.raises(ValueError, match=r"stages\[1\]\.type.*'test_halv'.*did you mean 'test_halve'"):
        ds.load_chain({"stages": [{"type": "identity"}, {"type": "test_halv"}]})


def test_unknown_argument_names_path_and_suggests():
    with pytest.raises(ValueError, match=r"stages\[2\]\.sigma_rang\b.*did you mean 'sigma_range'"):
        ds.load_chain(_stages(sigma_rang=[0, 1]))


def test_wrong_type_names_path():
    with pytest.raises(ValueError, match=r"stages\[2\]\.gray_prob.*expected a number"):
        ds.load_chain(_stages(gray_prob="half"))


def test_probability_out_of_range_names_path():
    with pytest.raises(ValueError, match=r"stages\[2\]\.gray_prob.*\[0, 1\]"):
        ds.load_chain(_stages(gray_prob=1.5))


def test_range_low_above_high_names_path():
    with pytest.raises(ValueError, match=r"stages\[2\]\.sigma_range.*low > high"):
        ds.load_chain(_stages(sigma_range=[0.3, 0.1]))


def test_negative_sigma_names_path():
    with pytest.raises(ValueError, match=r"stages\[2\]\.sigma_range\[0\].*>= 0"):
        ds.load_chain(_stages(sigma_range=[-0.1, 0.1]))


def test_unknown_top_level_key_and_missing_type():
    with pytest.raises(ValueError, match=r"stage.*did you mean 'stages'"):
        ds.load_chain({"stage": []})
    with pytest.raises(ValueError, match=r"stages\[0\]\.type.*missing"):
        ds.load_chain({"stages": [{"sigma_range": [0, 1]}]})


def test_unknown_config_name_suggests(tmp_path):
    with pytest.raises(ValueError, match="did you mean 'identity'"):
        ds.load_chain("identiti")
    with pytest.raises(FileNotFoundError, match="nothere.yaml"):
        ds.load_chain(str(tmp_path / "nothere.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [type: {")
    with pytest.raises(ValueError, match="bad.yaml.*invalid YAML"):
        ds.load_chain(str(bad))


def test_yaml_is_loaded_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("stages: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ValueError, match="invalid YAML"):
        ds.load_chain(str(evil))


def test_duplicate_registration_is_an_error():
    with pytest.raises(ValueError, match="already registered"):
        @ds.register("test_noise")
        class Other(ds.Transform):
            pass


@pytest.mark.parametrize("bad, message", [
    (torch.rand(3, 16, 16), r"\(B, 3, H, W\).*shape \(3, 16, 16\)"),
    (torch.rand(2, 4, 16, 16), "3 \\(RGB\\) channels"),
    ((torch.rand(2, 3, 16, 16) * 255).to(torch.uint8), "floating-point.*uint8"),
    (torch.rand(2, 3, 16, 16) * 255, r"values must be in \[0, 1\]"),
    (torch.full((2, 3, 16, 16), float("nan")), "NaN or Inf"),
])
def test_bad_input_batch_is_rejected(bad, message):
    chain = ds.load_chain(CHAIN)
    with pytest.raises((ValueError, TypeError), match=message):
        chain(bad, seed=0)
