"""BasicSR dataset types over a folder of HQ images, registered in BasicSR's ``DATASET_REGISTRY``.

- ``DegradeStreamDataset``: pairs made in the DataLoader workers, returned exactly as BasicSR's
  ``PairedImageDataset`` returns them (``lq``, ``gt``, ``lq_path``, ``gt_path``; CHW float32 RGB in
  [0, 1]; GT = scale x LQ), so any BasicSR model trains on them unchanged.
- ``DegradeStreamHQDataset``: HQ crops and per-sample seeds only, for ``DegradeStreamModel``, which
  runs the chain on the GPU in ``feed_data``.

Every random choice (crop, flips, the chain's draws) comes from the sample's seed, a function of
(``seed``, epoch, the image's path under ``dataroot_gt``): the same pair whatever the worker count or
batch composition. ``set_epoch`` (called by BasicSR's sampler once ``degrade_stream.plugins.basicsr``
is imported, see ``epochs.py``) gives each epoch fresh crops and LQ; the epoch lives in shared memory
so persistent workers see it too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils import data

from degrade_stream.core import ConfigError, derive_seeds
from degrade_stream.core.checks import check_int
from degrade_stream.core.validate import seed_value
from degrade_stream.io import load_image
from degrade_stream.stream.cache import PairCache
from degrade_stream.core.salts import PAIR_CROP
from degrade_stream.stream.crop import crop_to_scale, paired_random_crop
from degrade_stream.stream.seeds import sample_seeds
from degrade_stream.degrade.usm import usm_sharpen
from degrade_stream.plugins.chain_option import chain_from_option, check_scale
from degrade_stream.plugins.basicsr.gt_files import list_gt_files
from degrade_stream.plugins.basicsr.registry import DATASET_REGISTRY

#: PairedImageDataset options that would silently change nothing here
_UNSUPPORTED = {
    "dataroot_lq": "the LQ is synthesised from dataroot_gt; remove this option",
    "color": "images are RGB; convert to Y in the model if needed",
    "mean": "images are in [0, 1]; normalise in the network",
    "std": "images are in [0, 1]; normalise in the network",
}


class _HQImages(data.Dataset):
    """Options shared by both types: the HQ file list, crop size, flips, seed and epoch."""

    def __init__(self, opt: dict[str, Any]) -> None:
        super().__init__()
        self.opt = opt
        self._prefix = f"datasets.{opt.get('phase', 'train')}"
        with self._options():
            backend = opt.get("io_backend") or {}
            backend = backend.get("type", "disk") if isinstance(backend, dict) else backend
            if backend != "disk":
                raise ConfigError("io_backend.type", f"only 'disk' is supported by {type(self).__name__}, got {backend!r}")
            for key, why in _UNSUPPORTED.items():
                if opt.get(key) is not None:
                    raise ConfigError(key, f"not supported by {type(self).__name__}: {why}")
            self.files = list_gt_files(opt.get("dataroot_gt"), opt.get("meta_info", opt.get("meta_info_file")))
            gt_size = opt.get("gt_size")
            self.gt_size = None if gt_size is None else check_int("gt_size", gt_size, low=1)
            self.flip = _bool(opt, "use_hflip", True)
            self.rot90 = _bool(opt, "use_rot", True)
            self.seed = seed_value(opt.get("seed", 0), "seed")  # any integer, reduced modulo 2**64
        # the epoch, in shared memory: persistent workers see set_epoch from the main process
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    def set_epoch(self, epoch: int) -> None:
        """Use the crops and LQ of ``epoch`` from now on (also in running workers)."""
        self._epoch.fill_(int(epoch))

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def __len__(self) -> int:
        return len(self.files)

    # --- helpers --------------------------------------------------------------------------------
    def _options(self) -> "_OptionErrors":
        return _OptionErrors(self._prefix)

    def _check_gt_size(self, scale: int) -> None:
        if self.gt_size is not None and self.gt_size % scale:
            raise ConfigError(f"{self._prefix}.gt_size", f"{self.gt_size} is not divisible by the scale {scale}")

    def _load(self, index: int) -> tuple[Path, str, Tensor, Tensor]:
        """(path, key, (1,3,H,W) image, (1,) chain seed) of sample ``index`` in the current epoch."""
        path, key = self.files[index]
        image = load_image(path)[None]
        return path, key, image, sample_seeds(self.seed, self.epoch, [key])

    def _crop(self, gt: Tensor, lq: Tensor, seeds: Tensor, path: Path) -> tuple[Tensor, Tensor]:
        """Aligned random crop + flips/rotation from the sample's crop stream (whole images without gt_size)."""
        if self.gt_size is None:
            return gt, lq
        try:
            gt, lq, _ = paired_random_crop(gt, lq, derive_seeds(seeds, PAIR_CROP), self.gt_size,
                                           flip=self.flip, rot90=self.rot90)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        return gt, lq


class _OptionErrors:
    """Prefix a dataset option's ConfigError with ``datasets.<phase>`` (the top-level ``scale`` stays as is)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, err: Any, tb: Any) -> bool:
        if isinstance(err, ConfigError) and not err.path.startswith(("scale", "datasets.")):
            raise err.under(self.prefix) from None
        return False


def _bool(opt: dict[str, Any], key: str, default: bool) -> bool:
    value = opt.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(key, f"expected true/false, got {value!r}")
    return value


@DATASET_REGISTRY.register()
class DegradeStreamDataset(_HQImages):
    """(LQ, GT) pairs from HQ images; options beyond BasicSR's usual ones:

    ``degrade_stream`` (required): a shipped chain name or a chain YAML path.
    ``seed`` (default 0): with the epoch and the image's key, fixes every random choice.
    ``cache_dir``: synthesise whole images through the pair cache (``ds.PairCache``), then crop; for
    chains with a diffusion refiner, whose LQ is too costly to remake every epoch.
    ``variants`` (default 1, needs ``cache_dir``): distinct cached LQ per image, used in turn by epoch.
    ``gt_usm`` (default false): return the GT crop sharpened by Real-ESRGAN's USM (``USMSharp``), as
    ``RealESRNetModel`` does with its ``gt_usm: true`` (the LQ is made from the plain crop, the chain's
    ``sharpen_input`` sharpening it first, as that model degrades the sharpened GT).
    Without ``cache_dir`` the crop is taken first and the chain runs on it (a fresh LQ every epoch).
    """

    def __init__(self, opt: dict[str, Any]) -> None:
        super().__init__(opt)
        with self._options():
            self.chain = chain_from_option(opt.get("degrade_stream"), "degrade_stream")
            self.scale = check_scale(self.chain, opt.get("scale"))
            self._check_gt_size(self.scale)
            variants = check_int("variants", opt.get("variants", 1), low=1)
            cache_dir = opt.get("cache_dir")
            if cache_dir is None and variants != 1:
                raise ConfigError("variants", f"{variants} variants need a cache_dir to keep them in")
            self.cache_dir, self.variants = cache_dir, variants
            self.gt_usm = _bool(opt, "gt_usm", False)
            self._cache = self._open_cache()

    def _open_cache(self) -> PairCache | None:
        if self.cache_dir is None:
            return None
        try:
            return PairCache(self.cache_dir, variants=self.variants)
        except (OSError, ValueError) as err:
            raise ConfigError("cache_dir", str(err)) from None

    def __getitem__(self, index: int) -> dict[str, Any]:
        path, key, image, seeds = self._load(index)
        if self._cache is None and self.cache_dir is not None:  # a worker got a pickled copy
            self._cache = self._open_cache()
        if self._cache is None:  # crop the HQ first: the chain then only sees the crop
            gt = self._crop(image, image, seeds, path)[0] if self.gt_size else crop_to_scale(image, self.scale)
            lq = self.chain(gt, seed=seeds).lq
        else:
            hq = crop_to_scale(image, self.scale)
            lq, _ = self._cache.synthesize(self.chain, hq, keys=[key], seed=self.seed, epoch=self.epoch)
            gt, lq = self._crop(hq, lq, seeds, path)
        if self.gt_usm:
            gt = usm_sharpen(gt)
        return {"lq": lq[0].contiguous(), "gt": gt[0].contiguous(), "lq_path": str(path), "gt_path": str(path)}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"] = None  # holds a lock; each worker reopens the cache directory
        return state


@DATASET_REGISTRY.register()
class DegradeStreamHQDataset(_HQImages):
    """HQ crops for ``DegradeStreamModel``: ``gt``, ``gt_path`` and ``seed`` (the chain seed of the
    sample in this epoch); the model makes the LQ on its device. ``scale`` only checks ``gt_size``."""

    def __init__(self, opt: dict[str, Any]) -> None:
        super().__init__(opt)
        scale = opt.get("scale")
        if scale is not None:
            self._check_gt_size(check_int("scale", scale, low=1))
        self.scale = scale or 1

    def __getitem__(self, index: int) -> dict[str, Any]:
        path, _, image, seeds = self._load(index)
        if self.gt_size is None:
            gt = crop_to_scale(image, self.scale)
        else:
            gt, _ = self._crop(image, image, seeds, path)
        return {"gt": gt[0].contiguous(), "gt_path": str(path), "seed": seeds[0]}
