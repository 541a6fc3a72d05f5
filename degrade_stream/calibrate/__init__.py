"""Calibrating a handcrafted chain to a folder of real LQ images (or real pairs): ``degrade-stream calibrate``."""
from .calibrate import Calibration, calibrate
from .space import SearchSpace

__all__ = ["Calibration", "SearchSpace", "calibrate"]
