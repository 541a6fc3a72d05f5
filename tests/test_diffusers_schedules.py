"""Issue 23 items 7 and 15: diffusers' beta schedules, trained_betas, rescale_betas_zero_snr and prediction types
load with diffusers' own maths (compared with diffusers' DDPMScheduler); bad scheduler settings are refused
naming the file and the key."""
from __future__ import annotations

import json
import warnings

import pytest
import torch

from conftest import require_framework
from degrade_stream.compat import ensure_torchvision_importable
from degrade_stream.diffusion.denoiser import Denoiser, load_unet
from degrade_stream.diffusion.diffusers_import import read_diffusers_unet
from degrade_stream.diffusion.sampler import ancestral_step
from diffusion_helpers import single_thread  # noqa: F401
from test_diffusion_diffusers_folder import _save_unet

# Every test builds a diffusers UNet (imports diffusers, about 4 s): the full suite runs them.
pytestmark = pytest.mark.slow

SCHEDULES = ["linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid", "laplace"]


def _diffusers():
    return require_framework("diffusers", prepare=ensure_torchvision_importable)


@pytest.fixture(scope="module")
def unet_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diffusers") / "pipe"
    _save_unet(folder / "unet")
    return folder


def _with_scheduler(folder, **config) -> None:
    (folder / "scheduler").mkdir(exist_ok=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps({"_class_name": "DDPMScheduler", **config}))


@pytest.mark.parametrize("rescale", [False, True])
@pytest.mark.parametrize("kind", SCHEDULES)
def test_betas_equal_diffusers_bit_for_bit(unet_folder, kind, rescale):
    diffusers = _diffusers()
    settings = {"beta_schedule": kind, "num_train_timesteps": 700, "beta_start": 2e-4, "beta_end": 0.03,
                "rescale_betas_zero_snr": rescale}
    _with_scheduler(unet_folder, **settings)
    _, schedule, _ = read_diffusers_unet(unet_folder)
    theirs = diffusers.DDPMScheduler(**settings)
    ours = torch.tensor(schedule.betas, dtype=torch.float32)
    assert torch.equal(ours, theirs.betas)  # the same float32 operations
    from degrade_stream.diffusion.schedule import make_schedule

    abar = make_schedule(schedule).alphas_cumprod[1:]  # ours: the cumulative product in float64
    torch.testing.assert_close(abar, theirs.alphas_cumprod, rtol=2e-5, atol=1e-7)
    assert (float(abar[-1]) == 0.0) == rescale  # zero terminal SNR exactly when rescaled


def test_geodiff_sigmoid_is_a_sigmoid_over_the_betas(unet_folder):
    """The former mapping onto this project's sigmoid (over alpha-bar) gave other betas entirely."""
    _with_scheduler(unet_folder, beta_schedule="sigmoid", beta_start=1e-4, beta_end=0.02)
    _, schedule, _ = read_diffusers_unet(unet_folder)
    betas = torch.tensor(schedule.betas)
    mid = torch.sigmoid(torch.tensor(0.0)) * (0.02 - 1e-4) + 1e-4
    assert float(betas[0]) == pytest.approx(1e-4 + (0.02 - 1e-4) * float(torch.sigmoid(torch.tensor(-6.0))), rel=1e-5)
    assert float(betas[499:501].mean()) == pytest.approx(float(mid), rel=1e-2) and float(betas.max()) < 0.02


def test_trained_betas_are_used_as_given(unet_folder):
    betas = torch.linspace(1e-4, 0.05, 300).tolist()
    _with_scheduler(unet_folder, trained_betas=betas, num_train_timesteps=300)
    _, schedule, _ = read_diffusers_unet(unet_folder)
    assert schedule.timesteps == 300
    assert torch.equal(torch.tensor(schedule.betas, dtype=torch.float32), torch.tensor(betas, dtype=torch.float32))


@pytest.mark.parametrize("prediction", ["epsilon", "sample", "v_prediction"])
def test_each_prediction_type_steps_like_diffusers_ddpm_scheduler(unet_folder, prediction):
    """Our ancestral step (the network's output turned into epsilon, prediction.py) against DDPMScheduler.step
    with that prediction type, on the same model output and noise, with diffusers' own float32 tables."""
    diffusers = _diffusers()
    settings = {"beta_schedule": "linear", "num_train_timesteps": 1000, "prediction_type": prediction}
    _with_scheduler(unet_folder, **settings)
    model, schedule = load_unet(str(unet_folder))
    assert schedule.prediction == prediction
    denoiser = Denoiser(model, schedule, torch.device("cpu"), precision="fp32")
    sched = diffusers.DDPMScheduler(clip_sample=True, **settings)
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    for s in (3, 40, 400, 900):
        with torch.inference_mode():
            raw = model(x, torch.full((2,), s - 1))
        want = sched.step(raw, s - 1, x, generator=torch.Generator().manual_seed(7)).prev_sample
        z = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(7))
        with torch.inference_mode():
            got = ancestral_step(denoiser, x, s, z)
        # At small s diffusers' float32 beta_t = 1 - abar_t / abar_{t-1} loses ~4 digits to cancellation, which
        # the division by 1 - abar_t amplifies (as in test_diffusion_refine.py); measured 6.3e-4 at s = 3, at most
        # 1.1e-5 from s = 40 on, for every prediction type.
        tol = 2e-3 if s <= 3 else 5e-5
        torch.testing.assert_close(got, want, atol=tol, rtol=0)


def test_a_sample_model_is_not_run_as_an_epsilon_model(unet_folder):
    """The same weights under prediction_type sample and epsilon give different steps (they were equal before)."""
    steps = {}
    for prediction in ("epsilon", "sample"):
        _with_scheduler(unet_folder, prediction_type=prediction)
        model, schedule = load_unet(str(unet_folder))
        denoiser = Denoiser(model, schedule, torch.device("cpu"), precision="fp32")
        x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            steps[prediction] = ancestral_step(denoiser, x, 200, None)
    assert not torch.allclose(steps["epsilon"], steps["sample"], atol=1e-3)


def test_zero_terminal_snr_t_range_must_stop_before_T(unet_folder):
    import degrade_stream as ds

    _with_scheduler(unet_folder, rescale_betas_zero_snr=True, prediction_type="v_prediction")
    with pytest.raises(ValueError, match=r"stages\[0\]\.t_range: high end 1000: the model's schedule has zero SNR"):
        ds.load_chain({"stages": [{"type": "ddpm_refine", "checkpoint": str(unet_folder), "t_range": [0, 1000]}]})
    ds.load_chain({"stages": [{"type": "ddpm_refine", "checkpoint": str(unet_folder), "t_range": [0, 999]}]})


@pytest.mark.parametrize("text, message", [
    ('{"beta_start": NaN}', r"scheduler_config.json: beta_start: expected a finite number, got nan"),
    ('{"beta_end": 2.0}', r"scheduler_config.json: beta_end: must be <= 1.0, got 2.0"),
    ('{"beta_end": 0.0}', r"scheduler_config.json: beta_end: must be in \[beta_start, 1\)"),
    ('{"num_train_timesteps": 1e12}', r"scheduler_config.json: num_train_timesteps: expected an integer"),
    ('{"num_train_timesteps": 1000000000}', r"scheduler_config.json: num_train_timesteps: must be <= 100000"),
    ('{"beta_schedule": "cosine_v3"}', r"scheduler_config.json: beta_schedule: unknown value 'cosine_v3'"),
    ('{"prediction_type": "x0"}', r"scheduler_config.json: prediction_type: unknown value 'x0'"),
    ('{"variance_type": "learned_range"}', r"scheduler_config.json: variance_type: 'learned_range'"),
    ('{"rescale_betas_zero_snr": "yes"}', r"scheduler_config.json: rescale_betas_zero_snr: expected true/false"),
    ('{"trained_betas": [0.1, 0.2]}', r"scheduler_config.json: trained_betas: expected a list of num_train_timesteps"),
    ('{"trained_betas": [0.5, NaN], "num_train_timesteps": 2}', r"scheduler_config.json: trained_betas\[1\]: expected"),
])
def test_bad_scheduler_settings_name_the_file_and_the_key(unet_folder, text, message):
    (unet_folder / "scheduler").mkdir(exist_ok=True)
    (unet_folder / "scheduler" / "scheduler_config.json").write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=message):
            read_diffusers_unet(unet_folder)


def test_a_pickle_in_a_diffusers_bin_is_refused_naming_the_file(tmp_path):
    """A .bin whose pickle would run code: refused naming the file, without suggesting weights_only=False."""
    folder = tmp_path / "m"
    _save_unet(folder)
    (folder / "diffusion_pytorch_model.safetensors").unlink()

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    torch.save({"conv_in.weight": Payload()}, folder / "diffusion_pytorch_model.bin")
    with pytest.raises(ValueError) as err:
        load_unet(str(folder))
    message = str(err.value)
    assert "diffusion_pytorch_model.bin" in message and "refused without running" in message
    assert "weights_only=False" not in message and "weights_only" not in message.replace("(weights_only)", "")
