"""Issue 23 item 9: YAML alias bombs, recursive aliases, deep nesting and huge configs are refused before
anything walks them, and no error echoes more than a short view of a bad value."""
from __future__ import annotations

import time

import pytest
import yaml

import degrade_stream as ds
from degrade_stream.cli.main import error_line
from degrade_stream.core.errors import ConfigError
from degrade_stream.diffusion.train_config import TrainConfig
from reliability_helpers import run_in_process


def _bomb(levels: int = 8, leaf: str = "blur_sigma: *L{last}") -> str:
    """A 'billion laughs' chain: level k is a list of nine aliases of level k - 1 (9**levels values)."""
    lines = ['L0: &L0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for k in range(1, levels + 1):
        lines.append(f"L{k}: &L{k} [" + ", ".join([f"*L{k - 1}"] * 9) + "]")
    lines.append("stages: [{type: classical, " + leaf.format(last=levels) + "}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_fast_with_a_short_message(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb())
    assert path.stat().st_size < 1000
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"bomb.yaml: expands to more than 100000 values through its aliases") as err:
        ds.load_chain(path)
    assert time.perf_counter() - start < 2.0 and len(str(err.value)) < 300


def test_the_cli_prints_one_short_line_for_an_alias_bomb(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb())
    result = run_in_process("synthesize", "--config", path, "--hq", tmp_path, "--out", tmp_path / "out")
    assert result.returncode == 2 and len(result.stderr) < 400 and "expands to more than" in result.stderr
    assert not (tmp_path / "out").exists()
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(_bomb(leaf="x: 1").replace("stages: [{type: classical, x: 1}]", "model: *L8"))
    result = run_in_process("train-ddpm", "--config", recipe, "--lq", tmp_path, "--out", tmp_path / "run")
    assert result.returncode == 2 and len(result.stderr) < 400 and "expands to more than" in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("text, message", [
    ("stages: &s [{type: identity, x: *s}]", "an alias refers to a value that contains it"),
    ("stages: " + "[" * 200 + "]" * 200, "nested more than 64 levels deep"),
    ("stages: " + "[" * 5000 + "]" * 5000, "nested"),
])
def test_recursive_and_deeply_nested_yaml_is_refused(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        ds.load_chain(path)


def test_a_config_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("description: " + "x" * (1 << 21) + "\nstages: [{type: identity}]\n")
    with pytest.raises(ValueError, match=r"big.yaml: \d+ bytes, over the 1048576 a config may have"):
        ds.load_chain(path)


def test_anchors_used_reasonably_still_load(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("stages: [{type: classical, blur_sigma: &r [0.5, 2.0]}, {type: classical, blur_sigma: *r}]\n")
    assert ds.load_chain(path).stages[1].to_config()["blur_sigma"] == [0.5, 2.0]


def test_errors_show_a_short_view_of_a_huge_value():
    """A value of shared references (9**8 leaves) in a Python dict: the error names it in a few hundred
    characters, without expanding it (before: 351 MB error lines or a MemoryError)."""
    huge = yaml.safe_load(_bomb().replace("stages: [{type: classical, blur_sigma: *L8}]", ""))["L8"]
    cases = [{"stages": [{"type": "classical", "blur_sigma": huge}]},
             {"stages": [{"type": "classical", "blur_sigma": [huge, 1.0]}]},
             {"stages": [{"type": huge}]}, {"stages": [huge]}, {"name": huge, "stages": [{"type": "identity"}]},
             {"stages": [{"type": "classical", "resize_mode": huge}]}]
    for config in cases:
        start = time.perf_counter()
        with pytest.raises((ValueError, TypeError)) as err:
            ds.load_chain(config)
        assert len(str(err.value)) < 400 and time.perf_counter() - start < 1.0, str(err.value)[:200]
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict({"adam_betas": huge})
    assert len(str(err.value)) < 400


def test_the_error_printer_caps_its_line():
    line = error_line(ValueError("x" * 10_000_000))
    assert len(line) < 4100 and line.endswith("more characters)")
