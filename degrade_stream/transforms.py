"""Imports every built-in transform module so that its ``@register`` runs.

Add one line here per new module of built-in stages.
"""
from .core import identity  # noqa: F401
from .degrade import bicubic, blocks, bsrgan, classical, realesrgan  # noqa: F401
from .diffusion import refine  # noqa: F401  (ddpm_refine)
