"""Issue 23 item 5: every numeric argument has a finite bound, and no LQ with a non-finite value is returned,
written or cached (the chain's whole output is checked; the error names the sample's key)."""
from __future__ import annotations

import inspect

import pytest
import torch

import degrade_stream as ds
from degrade_stream.core.errors import ConfigError
from degrade_stream.core.registry import registered_names, transform_class
from degrade_stream.io import save_image
from reliability_helpers import run_in_process
from test_camera_stage import _model
from degrade_stream.fit.model import save_model

HUGE_FLOAT, HUGE_INT = 1e308, 2 ** 62


@ds.register("test_nan_if_bright")
class NaNIfBright(ds.Transform):
    """A stage that turns the samples with mean above 0.5 into NaN (a stand-in for a model or kernel gone wrong)."""

    FILL = float("nan")

    def apply(self, batch, params):
        bright = batch.mean(dim=(1, 2, 3)) > 0.5
        return torch.where(bright.view(-1, 1, 1, 1), torch.full_like(batch, self.FILL), batch)


@ds.register("test_inf_if_bright")
class InfIfBright(NaNIfBright):
    FILL = float("inf")


def _required(name: str, tmp_path) -> dict:
    """The arguments a stage needs besides the one under test (stages without defaults for some)."""
    if name == "camera":
        return {"model": str(save_model(_model(), tmp_path / "cam.safetensors"))}
    return {}


def _numeric_arguments(cls) -> list[tuple[str, object]]:
    """(name, a huge value of the argument's shape) for every numeric argument with a numeric default."""
    out = []
    for name, p in inspect.signature(cls.__init__).parameters.items():
        d = p.default
        if isinstance(d, bool) or name == "self":
            continue
        if isinstance(d, int):
            out.append((name, HUGE_INT))
        elif isinstance(d, float):
            out.append((name, HUGE_FLOAT))
        elif isinstance(d, (tuple, list)) and d and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                        for v in d):
            out.append((name, [HUGE_INT if isinstance(v, int) else HUGE_FLOAT for v in d]))
    return out


def test_every_numeric_argument_of_every_stage_has_a_finite_upper_bound(tmp_path):
    """blur_sigma: [1e308, 1e308] and poisson_scale_range: [1e308, 1e308] once loaded and made NaN LQ."""
    checked = 0
    for name in registered_names():
        cls = transform_class(name)
        for argument, value in _numeric_arguments(cls):
            with pytest.raises(ConfigError, match=rf"^stages\[0\]\.{argument}(\[\d\])?: ") as err:
                ds.load_chain({"stages": [{"type": name, **_required(name, tmp_path), argument: value}]})
            assert len(str(err.value)) < 300
            checked += 1
    assert checked > 60  # every shipped stage took part


@pytest.mark.parametrize("stage", [{"type": "classical", "blur_sigma": [1e308, 1e308]},
                                   {"type": "noise", "poisson_scale_range": [1e308, 1e308]},
                                   {"type": "ddpm_refine", "steps": 2 ** 62},
                                   {"type": "usm", "weight": 10 ** 400}])
def test_the_reported_trials_are_refused_at_load(stage):
    with pytest.raises(ConfigError, match=r"^stages\[0\]\."):
        ds.load_chain({"stages": [stage]})


def test_the_refused_config_exits_2_and_writes_nothing(tmp_path):
    config = tmp_path / "chain.yaml"
    config.write_text("stages:\n  - type: classical\n    scale: 2\n    blur_sigma: [1.0e+308, 1.0e+308]\n")
    (tmp_path / "hq").mkdir()
    save_image(torch.rand(3, 32, 32), tmp_path / "hq" / "a.png")
    result = run_in_process("synthesize", "--config", config, "--hq", tmp_path / "hq", "--out", tmp_path / "out",
                            "--no-progress")
    assert result.returncode == 2 and "stages[0].blur_sigma[0]: must be <= " in result.stderr
    assert not (tmp_path / "out").exists()


def _dark_and_bright() -> torch.Tensor:
    return torch.stack([torch.full((3, 32, 32), 0.2), torch.full((3, 32, 32), 0.8)])


def test_a_non_finite_lq_is_never_returned_by_a_chain_or_a_stage():
    chain = ds.load_chain({"name": "bad", "stages": [{"type": "test_nan_if_bright"}]})
    with pytest.raises(ValueError, match=r"the chain bad produced NaN or infinite values for sample 1 \(seed"):
        chain(_dark_and_bright(), seed=torch.tensor([4, 5]))
    with pytest.raises(ValueError, match=r"sample 1 \(seed 5\)"):
        chain.stages[0](_dark_and_bright(), seed=torch.tensor([4, 5]))
    # +inf is refused as well: the clamp to [0, 1] would have hidden it as 1
    with pytest.raises(ValueError, match="sample 1"):
        ds.load_chain({"stages": [{"type": "test_inf_if_bright"}]})(_dark_and_bright(), seed=0)
    dark = _dark_and_bright()[:1]
    assert torch.equal(chain(dark, seed=0).lq, dark)  # finite output passes untouched


def test_pair_stream_and_cache_refuse_a_nan_outside_the_sampled_input_check(tmp_path):
    """A NaN pixel off the 1-in-64 input sample of a later batch: the chain's NaN LQ is neither served nor
    cached; the error names the sample's key."""
    clean = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    dirty = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    dirty[2, 0, 5, 6] = float("nan")  # not on the ::8 grid of the sampled check
    loader = [{"gt": clean, "key": ["a", "b", "c", "d"]}, {"gt": dirty, "key": ["e", "f", "g", "h"]}]
    for cache in (None, ds.PairCache(tmp_path / "cache")):
        served = []
        with pytest.raises(ValueError, match=r"key 'g' \(seed -?\d+\) whose input image already holds NaN"):
            for batch in ds.PairStream(loader, "classical", device="cpu", prefetch=0, cache=cache):
                served.append(batch["key"])
        assert served == [["a", "b", "c", "d"]]
    assert len(list((tmp_path / "cache").rglob("*.lq"))) == 4  # the first batch only: nothing of the second


def test_synthesize_names_the_file_whose_lq_is_not_finite_and_writes_no_lq(tmp_path):
    (tmp_path / "hq").mkdir()
    x = _dark_and_bright()
    save_image(x[0], tmp_path / "hq" / "dark.png")
    save_image(x[1], tmp_path / "hq" / "bright.png")
    config = tmp_path / "chain.yaml"
    config.write_text("stages:\n  - type: test_nan_if_bright\n")
    result = run_in_process("synthesize", "--config", config, "--hq", tmp_path / "hq", "--out", tmp_path / "out",
                            "--no-progress")
    assert result.returncode == 2
    assert "key 'bright.png'" in result.stderr and "NaN or infinite" in result.stderr
    assert not list((tmp_path / "out").rglob("lq/*.png"))
