"""Imports every built-in transform module so that its ``@register`` runs.

Add one line here per new module of built-in stages.
"""
from .core import identity  # noqa: F401
from .degrade import bicubic, realesrgan  # noqa: F401
