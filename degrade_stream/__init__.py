"""degrade_stream: realistic (HQ, LQ) training pairs, streamed from any DataLoader.

Handcrafted degradation, then refinement by a DDPM trained on real low-quality images
(Yang, Ren, Xie, Zhang 2023, "Synthesizing Realistic Image Restoration Training Pairs:
A Diffusion Approach").
"""
from pathlib import Path as _Path

from . import source_checkout as _source_checkout

_source_checkout.install(_Path(__file__).resolve().parent)  # plugins/ and configs/ of a checkout, as setup.py maps them

from .core import (Chain, ChainResult, ConfigError, Params, SampleRandom, Transform, TransformResult,
                   as_seed_tensor, derive_seeds, load_chain, named_configs, register, registered_names,
                   save_chain)
from .stream import PairCache, PairStream
from . import transforms  # noqa: F401,E402  (registers the built-in stages: the one place they are listed)

__version__ = "0.1.0"

__all__ = [
    "Chain", "ChainResult", "ConfigError", "PairCache", "PairStream", "Params", "SampleRandom", "Transform", "TransformResult",
    "as_seed_tensor", "derive_seeds", "load_chain", "named_configs", "register", "registered_names",
    "save_chain", "__version__",
]
