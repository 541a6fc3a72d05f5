"""BasicSR's registries, imported after the torchvision shim that basicsr 1.4.2 needs.

basicsr 1.4.2 imports ``torchvision.transforms.functional_tensor``, renamed in torchvision 0.17;
``degrade_stream.compat`` aliases it (doing nothing where the old name still exists).
"""
from degrade_stream.compat import alias_torchvision_functional_tensor

alias_torchvision_functional_tensor()

from basicsr.utils.registry import DATASET_REGISTRY, MODEL_REGISTRY  # noqa: E402

__all__ = ["DATASET_REGISTRY", "MODEL_REGISTRY"]
