"""The CLI lists the shipped configs, and every shipped chain runs (in this process: cli.main.main; the console
script itself is run by the demo and synthesize tests)."""
from __future__ import annotations

import pytest
import torch

import degrade_stream as ds
from degrade_stream.core.config import resolve_config
from reliability_helpers import run_in_process as _run


def _chain_params() -> list:
    """Every shipped chain; those with a DDPM stage are marked slow (the face model: minutes on a loaded CPU)."""
    names = ds.named_configs("chains")
    refined = {n for n in names if any(s.get("type") == "ddpm_refine" for s in resolve_config(n)["stages"])}
    return [pytest.param(n, marks=pytest.mark.slow) if n in refined else n for n in names]


def test_help_lists_subcommands():
    out = _run("--help")
    assert out.returncode == 0
    for command in ("configs", "train-ddpm", "synthesize", "evaluate", "sweep", "demo"):
        assert command in out.stdout, f"{command} missing from --help"


def test_configs_lists_every_shipped_chain_with_a_description():
    out = _run("configs")
    assert out.returncode == 0, out.stderr
    names = ds.named_configs("chains")
    assert "identity" in names
    for name in names:
        line = next((l for l in out.stdout.splitlines() if l.strip().startswith(name + " ")), None)
        assert line is not None, f"{name} missing from: {out.stdout}"
        assert len(line.split(None, 1)) == 2, f"{name} has no description"


def test_the_core_chains_are_shipped():
    names = ds.named_configs("chains")
    assert {"bicubic", "classical", "bsrgan", "realesrgan", "realesrgan_release", "realesrgan_ddpm"} <= set(names)


@pytest.mark.parametrize("name", _chain_params())
def test_every_shipped_chain_loads_runs_and_replays(name):
    hq = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    seeds = torch.tensor([3, 4])
    chain = ds.load_chain(name)
    out = chain(hq, seed=seeds)
    side = 64 // chain.scale
    assert out.lq.shape == (2, 3, side, side) and out.lq.dtype == torch.float32, name
    assert torch.equal(chain(hq, params=out.params).lq, out.lq), name  # replays exactly
    if name == "identity":
        assert torch.equal(out.lq, hq)
    else:  # every degradation ends on 8-bit levels and changes the image
        assert torch.equal(out.lq * 255, (out.lq * 255).round()), name
        reference = torch.nn.functional.interpolate(hq, size=(side, side), mode="area")
        assert (out.lq - reference).abs().mean() > 1e-3, name


def test_unknown_config_to_show_is_an_error_exit():
    out = _run("configs", "--show", "no_such_config")
    assert out.returncode == 2
    assert "no_such_config" in out.stderr


def test_configs_show_names_the_closest_shipped_config_for_an_unknown_one():
    from reliability_helpers import run_in_process

    out = run_in_process("configs", "--show", "gfpgn")
    assert out.returncode == 2
    assert "no shipped config named 'gfpgn' (did you mean 'gfpgan'?)" in out.stderr
    out = run_in_process("configs", "--show", "ddpm_fase")
    assert "(did you mean 'ddpm_face'?)" in out.stderr
    shown = run_in_process("configs", "--show", "ddpm_face")
    assert shown.returncode == 0 and shown.stdout == ds.named_configs("ddpm")["ddpm_face"].read_text(encoding="utf-8")


def test_train_ddpm_help_lists_every_shipped_recipe():
    from reliability_helpers import run_in_process

    out = run_in_process("train-ddpm", "--help")
    assert out.returncode == 0
    recipes = out.stdout.split("shipped recipes", 1)[1]
    listed = [line.split()[0] for line in recipes.splitlines()[1:] if line.strip()]
    assert listed == list(ds.named_configs("ddpm")) and len(listed) >= 5
