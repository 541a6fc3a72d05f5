"""A small x1 restorer and the real-pairs benchmark behind ``degrade-stream compare-chains`` (issue 12)."""
from .restorer import ResidualRestorer, build_restorer
from .train_restorer import train_restorer

__all__ = ["ResidualRestorer", "build_restorer", "train_restorer"]
