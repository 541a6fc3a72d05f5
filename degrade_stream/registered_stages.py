"""The built-in stages: importing this module runs every built-in ``@register``.

``degrade_stream/__init__.py`` names it to the registry, which imports it before its first lookup (so
``import degrade_stream`` alone stays light); core itself imports nothing above it. Add one line here per new
module of built-in stages. Stages from other packages register through entry points instead (core/registry.py).
"""
from .core import identity  # noqa: F401
from .degrade import bicubic, blocks, bsrgan, camera, classical, face, realesrgan  # noqa: F401
from .diffusion import refine  # noqa: F401  (ddpm_refine)
