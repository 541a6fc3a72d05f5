"""Handing tensors made on a background CUDA stream to the consumer's stream, without a device sync.

Producer (background thread, inside ``side_stream(device)``): HQ is copied host-to-device from
pinned memory with ``non_blocking=True``, the chain runs, then ``ready_event()`` records an event.
Consumer: ``hand_over(item, event, device)`` makes the consumer's current stream wait for that
event (GPU-side wait, the host does not block) and calls ``record_stream`` on every tensor so the
caching allocator does not reuse their memory while the consumer stream may still read it.
On CPU all of this is a no-op.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Callable, ContextManager

import torch
from torch import Tensor

from ..core.params import map_params


def stream_context_factory(device: torch.device) -> Callable[[], ContextManager[Any]]:
    """A factory of contexts that make the calling thread issue work on a dedicated CUDA stream."""
    if device.type != "cuda":
        return nullcontext
    side = torch.cuda.Stream(device=device)

    def context() -> ContextManager[Any]:
        return _DeviceAndStream(device, side)

    return context


class _DeviceAndStream:
    def __init__(self, device: torch.device, stream: "torch.cuda.Stream") -> None:
        self._device = torch.cuda.device(device)
        self._stream = torch.cuda.stream(stream)

    def __enter__(self) -> None:
        self._device.__enter__()
        self._stream.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._stream.__exit__(*exc)
        self._device.__exit__(*exc)


def to_device(images: Tensor, device: torch.device) -> Tensor:
    """Host-to-device copy; on CUDA from pinned memory and non-blocking (ordered on the current stream)."""
    if images.device == device:
        return images
    if device.type == "cuda" and images.device.type == "cpu":
        if not images.is_pinned():
            images = images.pin_memory()
        return images.to(device, non_blocking=True)
    return images.to(device)


def ready_event(device: torch.device) -> "torch.cuda.Event | None":
    """An event recorded on the current (side) stream after the item's work was issued."""
    if device.type != "cuda":
        return None
    event = torch.cuda.Event()
    event.record(torch.cuda.current_stream(device))
    return event


def hand_over(item: Any, event: "torch.cuda.Event | None", device: torch.device) -> Any:
    """Make the consumer's stream wait for ``event`` and keep the item's tensors alive on it."""
    if event is None:
        return item
    consumer = torch.cuda.current_stream(device)
    consumer.wait_event(event)

    def keep(t: Tensor) -> Tensor:
        if t.device.type == "cuda":
            t.record_stream(consumer)
        return t

    return map_params(item, keep)
