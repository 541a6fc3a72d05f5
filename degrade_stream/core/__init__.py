"""Core protocol: Transform, Chain, registry, YAML configuration, per-sample seeding."""
from .chain import Chain, ChainResult
from .config import load_chain, named_configs, save_chain
from .errors import ConfigError
from .random import SampleRandom, as_seed_tensor, derive_seeds
from .registry import register, registered_names
from .transform import Params, Transform, TransformResult

__all__ = [
    "Chain", "ChainResult", "ConfigError", "Params", "SampleRandom", "Transform", "TransformResult",
    "as_seed_tensor", "derive_seeds", "load_chain", "named_configs", "register", "registered_names", "save_chain",
]
