"""The DDPM side: noise schedule, UNet, samplers, the ``ddpm_refine`` stage, checkpoints and training.

Schedule, network and sampler are kept apart (as in diffusers): the network holds weights only, the
schedule holds the forward process, a sampler holds the stepping rule.
"""
from .schedule import NoiseSchedule, cosine_betas, linear_betas, make_schedule, sigmoid_betas
from .unet import UNet, UNetConfig

__all__ = ["NoiseSchedule", "UNet", "UNetConfig", "cosine_betas", "linear_betas", "make_schedule", "sigmoid_betas"]
