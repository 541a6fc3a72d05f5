"""The DDPM training loop: epsilon prediction on random crops of real LQ images (Ho et al. 2020, alg. 1).

Single process or DDP under torchrun (each rank draws its own shard of crops; rank 0 alone writes
checkpoints and the progress bar). bf16 autocast and channels_last on CUDA. Randomness: crops come
from (seed, sample number) (see train_data.py); t and the noise of step s on rank r come from a
torch.Generator seeded with (seed, s, r). So ``--resume`` continues exactly where a run stopped.
"""
from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from ..core.device import default_device, local_rank
from ..core.random import derive_seeds
from ..core.salts import TRAIN_STEP_NOISE
from .checkpoint import (check_checkpoint_weights, list_checkpoints, load_state_checked, read_config, read_train_state,
                         read_weights, resolve_checkpoint, write_checkpoint, EMA_FILE, MODEL_FILE)
from .colour_space import ColourSpace
from .ema import EMA
from .schedule import NoiseSchedule, make_schedule
from .memory import check_training_fits
from .train_config import TrainConfig
from .train_data import RandomCrops, StepSampler, check_decodable, scan_images
from .train_init import InitWeights, init_weights
from .train_log import TrainLog
from .unet import UNet

log = logging.getLogger(__name__)


@dataclass
class Distributed:
    """This process's place in a torchrun job (world 1 when not launched by torchrun)."""

    rank: int = 0
    local_rank: int = 0
    world: int = 1

    @classmethod
    def from_env(cls) -> "Distributed":
        """Read RANK, LOCAL_RANK and WORLD_SIZE as torchrun sets them."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return cls(int(os.environ.get("RANK", "0")), local_rank(), world)

    @property
    def writer(self) -> bool:
        """Whether this process writes checkpoints, logs and the progress bar (rank 0)."""
        return self.rank == 0


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam or AdamW over the model's parameters with the recipe's lr, betas and weight decay."""
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(model.parameters(), lr=config.lr, betas=config.adam_betas, weight_decay=config.weight_decay)


def lr_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then constant or cosine decay to 0 at ``config.steps`` (the release's schedule)."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.lr_schedule == "constant":
        return 1.0
    span = max(config.steps - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / span, 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def draw_t(config: TrainConfig, batch: int, g: torch.Generator, device: torch.device) -> Tensor:
    """Training steps t in [1, t_max]: uniform (``t_power`` 1), else ceil(t_max * u ** t_power), which
    puts more weight on small t for t_power > 1 (the refiner starts at small t, Yang et al. 2023 sec. 3.2)."""
    if config.t_power == 1.0:
        return torch.randint(1, config.t_max + 1, (batch,), generator=g, device=device)
    u = torch.rand((batch,), generator=g, device=device, dtype=torch.float64)
    return torch.ceil(config.t_max * u ** config.t_power).long().clamp(1, config.t_max)


def step_noise(config: TrainConfig, step: int, rank: int, batch: int, shape: tuple[int, ...],
               device: torch.device) -> tuple[Tensor, Tensor]:
    """(t, eps) for one training step: t from ``draw_t``, standard normal eps."""
    key = int(derive_seeds(torch.tensor([config.seed], dtype=torch.int64), TRAIN_STEP_NOISE, step, rank)[0])
    g = torch.Generator(device=device).manual_seed(key)
    t = draw_t(config, batch, g, device)
    noise = torch.randn((batch, *shape), generator=g, device=device)
    return t, noise


def diffusion_loss(model: torch.nn.Module, schedule: NoiseSchedule, x0: Tensor, t: Tensor, noise: Tensor, kind: str,
                   min_snr_gamma: float | None = None) -> Tensor:
    """L1 (the paper) or MSE (the release, Ho et al. 2020 eq. 14) between eps and the prediction,
    optionally weighted per sample by min(SNR_t, gamma) / SNR_t (Min-SNR, Hang et al. 2023, eq. 9 for eps)."""
    x_t = schedule.q_sample(x0, t, noise)
    pred = model(x_t, t - 1).float()
    if min_snr_gamma is None:
        return F.l1_loss(pred, noise) if kind == "l1" else F.mse_loss(pred, noise)
    per = (pred - noise).abs() if kind == "l1" else (pred - noise) ** 2
    a = schedule.abar(t).reshape(-1).float()
    snr = a / (1 - a).clamp(min=1e-12)
    weight = snr.clamp(max=min_snr_gamma) / snr
    return (per.mean(dim=(1, 2, 3)) * weight).mean()


def _check_resume_config(stored: dict[str, Any], wanted: dict[str, Any], source: Path) -> None:
    differ = [k for k in wanted if k not in ("steps", "description") and stored.get(k) != wanted[k]]
    if differ:
        raise ValueError(f"{source}: --config differs from the checkpoint's config in {', '.join(differ)}; "
                         "resume without --config to continue with the stored one")


def train(config: TrainConfig | None, lq_dir: str | os.PathLike | list[str | os.PathLike], out_dir: str | os.PathLike,
          resume: bool = False, steps: int | None = None, device: str | torch.device | None = None,
          progress: bool = True, on_step: Callable[[int, float], None] | None = None, init: str | None = None,
          recipe: str = "the recipe") -> Path:
    """Train (or resume) and return the last checkpoint folder. ``config`` may be None when resuming.
    ``init`` starts a new run from that model's weights (train_init.py; ``recipe`` names the config in errors)."""
    if init is not None and resume:
        raise ValueError("--init starts a new run from a model's weights; --resume continues a run: pass one of them")
    dist_info, device = setup_process(device)
    out = Path(out_dir)
    start = restore_start(config, out, resume, steps)
    start.init = init_weights(init, start.config, recipe) if init is not None else None
    if start.ckpt is not None:  # its weights must match its config.yaml before anything is built from it
        check_checkpoint_weights(start.ckpt, start.config.model)
    check_training_fits(start.config, device, str(start.ckpt / "config.yaml") if start.ckpt else "the recipe")
    usable = scan_training_images(start.config, lq_dir, dist_info)
    loop = build_loop(start, dist_info, device, out)
    loader = make_loader(start.config, usable, start.step, dist_info, loop.cuda)
    last = loop.run_forked(loader, start, progress, on_step)
    if dist_info.world > 1:
        dist.barrier()
    return last if last is not None else resolve_checkpoint(out)


@dataclass
class RunStart:
    """Where a run starts: its recipe, its first step and, when resuming, the checkpoint and its state."""

    config: TrainConfig
    step: int = 0
    ckpt: Path | None = None
    state: dict[str, Any] | None = None
    init: InitWeights | None = None  # weights a new run starts from (--init), else the seed's


def setup_process(device: str | torch.device | None) -> tuple[Distributed, torch.device]:
    """Join the torchrun process group (when launched by torchrun) and pick this process's device."""
    dist_info = Distributed.from_env()
    if dist_info.world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if device is None:
        device = torch.device(f"cuda:{dist_info.local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return dist_info, device


def restore_start(config: TrainConfig | None, out: Path, resume: bool, steps: int | None) -> RunStart:
    """A fresh start at step 0, or (``resume``) the latest checkpoint in ``out`` with its stored recipe;
    ``steps`` replaces the recipe's step count. Refuses to overwrite checkpoints or to resume nothing."""
    start = RunStart(config) if config is not None else None
    existing = list_checkpoints(out)
    if resume:
        if not existing:
            raise FileNotFoundError(f"--resume: no checkpoint in {out} to resume from")
        ckpt = resolve_checkpoint(out)
        stored = read_config(ckpt)
        if config is not None:
            _check_resume_config(stored, config.to_dict(), ckpt)
        state = read_train_state(ckpt)
        try:
            stored_config = TrainConfig.from_dict(stored)
        except ValueError as err:
            raise ValueError(f"{ckpt / 'config.yaml'}: {err}") from None
        start = RunStart(stored_config, int(state["step"]), ckpt, state)
    elif existing:
        raise FileExistsError(f"{out} already holds checkpoints; pass --resume to continue, or choose a new --out")
    if start is None:
        raise ValueError("a training config is required unless resuming")
    if steps is not None:
        start.config = start.config.with_steps(steps)
    if start.step >= start.config.steps:
        raise ValueError(f"the checkpoint is already at step {start.step}; "
                         "pass --steps larger than that to train further")
    return start


def scan_training_images(config: TrainConfig, lq_dir: str | os.PathLike | list[str | os.PathLike],
                         dist_info: Distributed) -> list[Path]:
    """The usable images under ``lq_dir`` (at least one must decode); rank 0 logs what was skipped or padded."""
    scan = scan_images(lq_dir, config.crop if config.working_size is None else 0, config.small_images)
    check_decodable(scan, " ".join(map(str, lq_dir)) if isinstance(lq_dir, (list, tuple)) else str(lq_dir))
    if dist_info.writer:
        for path, reason in scan.skipped:
            log.warning("skipped %s: %s", path, reason)
        for path in scan.padded:
            log.warning("%s is smaller than the %dpx crop: reflect-padded", path, config.crop)
        log.info("training on %d images under %s (%d skipped)", len(scan.usable), lq_dir, len(scan.skipped))
    return scan.usable


def build_loop(start: RunStart, dist_info: Distributed, device: torch.device, out: Path) -> "_Loop":
    """The model (initial weights from the seed), EMA, optimizer and learning-rate schedule, restored from
    the checkpoint when resuming, wrapped in DDP under torchrun."""
    config = start.config
    with torch.random.fork_rng(devices=[]):  # initial weights from the seed; the caller's RNG state is untouched
        torch.default_generator.manual_seed(config.seed)  # CPU only: torch.manual_seed would reseed CUDA too
        model = UNet(config.model)
    if start.init is not None:
        load_state_checked(model, start.init.state, str(start.init.source))
        if dist_info.writer:
            log.info("initial weights from %s (fresh optimizer, schedule and EMA)", start.init.source)
    cuda = device.type == "cuda"
    model = model.to(device, memory_format=torch.channels_last) if cuda else model.to(device)
    ema = EMA(model, config.ema_decay, config.ema_warmup, config.ema_power)
    optimizer = make_optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, config))
    if start.ckpt is not None and start.state is not None:
        load_state_checked(model, read_weights(start.ckpt / MODEL_FILE), str(start.ckpt / MODEL_FILE))
        ema.load_state_dict(start.state["ema"], read_weights(start.ckpt / EMA_FILE))
        optimizer.load_state_dict(start.state["optimizer"])
        scheduler.load_state_dict(start.state["lr_scheduler"])
    net: torch.nn.Module = model
    if dist_info.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None)
    autocast = cuda and config.precision in ("auto", "bf16")
    schedule = make_schedule(config.schedule).to(device)
    return _Loop(config, dist_info, device, net, model, ema, optimizer, scheduler, schedule, out, autocast)


def make_loader(config: TrainConfig, usable: list[Path], start: int, dist_info: Distributed,
                cuda: bool) -> DataLoader:
    """Batches of random crops for steps ``start`` to ``config.steps``, this rank's shard of each step."""
    crops = RandomCrops(usable, config.crop, config.seed, config.crop_grid, config.augment, config.working_size)
    return DataLoader(crops, batch_size=config.batch_size,
                      sampler=StepSampler(start, config.steps, config.batch_size, dist_info.rank, dist_info.world),
                      num_workers=config.num_workers, pin_memory=cuda, drop_last=True, persistent_workers=False)


class _Loop:
    """The training steps of one run: optimise, update the EMA, log and checkpoint."""

    def __init__(self, config: TrainConfig, dist_info: Distributed, device: torch.device, net: torch.nn.Module,
                 model: UNet, ema: EMA, optimizer: torch.optim.Optimizer, scheduler: Any, schedule: Any,
                 out: Path, autocast: bool) -> None:
        self.config, self.dist, self.device, self.net, self.model = config, dist_info, device, net, model
        self.ema, self.optimizer, self.scheduler, self.schedule = ema, optimizer, scheduler, schedule
        self.out, self.autocast = out, autocast
        self.cuda = device.type == "cuda"
        self.space = ColourSpace(config.chroma_gain)

    def save(self, step: int) -> Path | None:
        """Write the checkpoint of ``step`` (rank 0 only; other ranks return None)."""
        if not self.dist.writer:
            return None
        train_state = {"step": step, "optimizer": self.optimizer.state_dict(),
                       "lr_scheduler": self.scheduler.state_dict(), "ema": self.ema.state_dict(),
                       "torch_rng": torch.get_rng_state()}
        if self.cuda:
            train_state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return write_checkpoint(self.out, step, self.model.state_dict(), self.ema.module.state_dict(), train_state,
                                self.config.to_dict(), keep=self.config.keep_checkpoints)

    def step(self, batch: Tensor, step: int) -> Tensor:
        """One optimisation step; returns the loss (on the device, not read back)."""
        config = self.config
        x0 = self.space.to_model(batch.to(self.device, non_blocking=True) * 2 - 1)  # [0, 1] -> [-1, 1]
        if self.cuda:
            x0 = x0.contiguous(memory_format=torch.channels_last)
        t, noise = step_noise(config, step, self.dist.rank, x0.shape[0], tuple(x0.shape[1:]), self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            loss = diffusion_loss(self.net, self.schedule, x0, t, noise, config.loss, config.min_snr_gamma)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.ema.update(self.model)
        return loss.detach()

    def run_forked(self, loader: DataLoader, start: RunStart, progress: bool,
                   on_step: Callable[[int, float], None] | None) -> Path | None:
        """``run`` under a forked global RNG (only dropout draws from it): seeded from the recipe, or
        restored from the checkpoint; the caller's RNG state is left untouched either way."""
        with torch.random.fork_rng(devices=[self.device] if self.cuda else []):
            if start.state is not None:
                torch.set_rng_state(start.state["torch_rng"])
                if self.cuda and "cuda_rng" in start.state:
                    torch.cuda.set_rng_state(start.state["cuda_rng"], self.device)
            else:
                torch.default_generator.manual_seed(self.config.seed)
                if self.cuda:
                    torch.cuda.manual_seed(self.config.seed)
            return self.run(loader, start.step, progress, on_step)

    def run(self, loader: DataLoader, start: int, progress: bool,
            on_step: Callable[[int, float], None] | None) -> Path | None:
        """The steps from ``start`` to ``config.steps``: log the mean loss every ``log_every`` steps and
        checkpoint every ``checkpoint_every``; returns the last checkpoint written (None on other ranks)."""
        config = self.config
        bar = None
        if progress and self.dist.writer:
            from tqdm import tqdm

            bar = tqdm(total=config.steps, initial=start, desc="train-ddpm", unit="step", dynamic_ncols=True)
        train_log = TrainLog(self.out, start) if self.dist.writer else None
        self.model.train()
        step, counted, last = start, 0, None
        running = torch.zeros((), device=self.device)
        for batch in loader:
            running += self.step(batch, step)  # summed on the device; read back only every log_every steps
            counted += 1
            step += 1
            if step % config.log_every == 0 or step == config.steps:
                mean, lr = float(running) / counted, self.scheduler.get_last_lr()[0]
                running.zero_()
                counted = 0
                if train_log is not None:
                    seconds = train_log.write(step, mean, lr)
                    if bar is None:
                        print(f"train-ddpm: step {step}/{config.steps} loss {mean:.4f} lr {lr:.2e} "
                              f"{seconds:.0f} s", flush=True)
                if bar is not None:
                    bar.set_postfix(loss=f"{mean:.4f}", lr=f"{lr:.2e}")
                if on_step is not None:
                    on_step(step, mean)
            if bar is not None:
                bar.update(1)
            if step % config.checkpoint_every == 0 or step == config.steps:
                last = self.save(step) or last
        if bar is not None:
            bar.close()
        return last
