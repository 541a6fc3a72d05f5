"""Forward BasicSR's ``EnlargedSampler.set_epoch`` to datasets that have ``set_epoch``.

``basicsr.train.train_pipeline`` tells only its sampler the epoch; a degrade_stream dataset needs it
too, for a fresh crop and LQ per epoch. The patch wraps the method once, and changes nothing for
datasets without ``set_epoch``.
"""
from __future__ import annotations

from degrade_stream.plugins.basicsr.registry import DATASET_REGISTRY  # noqa: F401  (imports basicsr after its torchvision shim)

from basicsr.data.data_sampler import EnlargedSampler  # noqa: E402


def forward_sampler_epochs() -> None:
    """Make ``EnlargedSampler.set_epoch(e)`` also call ``sampler.dataset.set_epoch(e)``; idempotent."""
    original = EnlargedSampler.set_epoch
    if getattr(original, "forwards_to_dataset", False):
        return

    def set_epoch(self: EnlargedSampler, epoch: int) -> None:
        original(self, epoch)
        hook = getattr(self.dataset, "set_epoch", None)
        if callable(hook):
            hook(epoch)

    set_epoch.forwards_to_dataset = True  # type: ignore[attr-defined]
    EnlargedSampler.set_epoch = set_epoch  # type: ignore[method-assign]
