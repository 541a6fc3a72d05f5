"""Fitting a camera's degradation from aligned pairs (``degrade-stream fit-camera``; issue 21).

registration.py (is the pair aligned?), colour.py (colour map), kernel.py (blur kernels by regularised
least squares), noise.py (signal-dependent, correlated noise), sharpening.py (the unsharp mask in a kernel),
fit_pair.py (one pair), fit_camera.py (all pairs, pooled, held-out scores), pairs.py (reading and checks),
model.py (the safetensors file the ``camera`` stage reads).
"""
from .fit_camera import CameraFit, fit_camera
from .model import CameraModel, load_model, save_model

__all__ = ["CameraFit", "CameraModel", "fit_camera", "load_model", "save_model"]
