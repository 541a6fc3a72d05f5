"""A torchdata node that runs ``fn(next(source))`` in a background thread, ``depth`` items ahead.

While the trainer works on batch n, the thread already synthesises batch n+1 (and n+2 ...). On
CUDA the thread issues its work on its own stream; the consumer makes its stream wait on the
item's event (see ``handover.py``), so there is no device-wide sync. Its state is the source's state
right after the last item the consumer received -- items prefetched but not consumed are not in
it -- so ``reset(state)`` resumes bit-identically. An exception in the thread is raised in the
consumer (the same exception object, carrying the background traceback). ``close()`` stops the
thread mid-epoch.

Written here rather than using ``torchdata.nodes.Prefetcher`` because the thread must run inside a
CUDA stream context and be closable through a public method.
"""
from __future__ import annotations

import queue
import threading
from contextlib import nullcontext
from typing import Any, Callable, Optional

import torch
from torchdata.nodes import BaseNode

_ITEM, _END, _FAIL = "item", "end", "fail"
_POLL_S = 0.05


class BackgroundMap(BaseNode):
    """``fn`` applied to every item of ``source`` in a background thread (inline if depth == 0)."""

    SOURCE_KEY = "source"

    def __init__(self, source: BaseNode, fn: Callable[[Any], Any], depth: int = 2,
                 stream_context: Callable[[], Any] | None = None, threads: int | None = None) -> None:
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise ValueError(f"prefetch depth must be an int >= 0, got {depth!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ValueError(f"background threads must be an int >= 1 or None, got {threads!r}")
        self.threads = threads
        self.source = source
        self.fn = fn
        self.depth = depth
        self.stream_context = stream_context or nullcontext
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._queue: queue.Queue = queue.Queue()
        self._state: dict[str, Any] = {}
        self._finished = False

    # --- BaseNode protocol --------------------------------------------------------------------
    def reset(self, initial_state: Optional[dict] = None) -> None:
        super().reset(initial_state)
        self.close()
        if initial_state is not None:
            self.source.reset(initial_state[self.SOURCE_KEY])
        else:
            self.source.reset(None)
        self._state = {self.SOURCE_KEY: self.source.state_dict()}
        self._finished = False
        if self.depth > 0:
            self._stop = threading.Event()
            self._queue = queue.Queue(maxsize=self.depth)
            started = threading.Event()
            default = torch.get_num_threads()  # also fixes this thread's own OpenMP setting before the change
            # the thread gets what it needs, not ``self``: a dropped stream is then freed (and closed)
            self._thread = threading.Thread(target=_work, args=(self.source, self.fn, self.stream_context,
                                                                self._stop, self._queue, self.threads, started),
                                            name="degrade_stream-prefetch", daemon=True)
            self._thread.start()
            if self.threads is not None:
                started.wait()
                torch.set_num_threads(default)  # the process default again; the background thread keeps its own

    def next(self) -> Any:
        if self._finished:
            raise StopIteration
        if self.depth == 0:
            item = self.fn(next(self.source))
            self._state = {self.SOURCE_KEY: self.source.state_dict()}
            return item
        while True:
            try:
                kind, payload, state = self._queue.get(timeout=_POLL_S)
                break
            except queue.Empty:
                if self._thread is None or not self._thread.is_alive():
                    if self._queue.empty():  # closed (or died without a word): nothing more will come
                        self._finished = True
                        raise StopIteration from None
        if kind == _END:
            self._finished = True
            raise StopIteration
        if kind == _FAIL:
            self._finished = True
            payload.add_note("(raised in the degrade_stream PairStream background thread; traceback above)")
            raise payload
        self._state = {self.SOURCE_KEY: state}
        return payload

    def get_state(self) -> dict[str, Any]:
        return self._state

    def close(self, timeout: float | None = None) -> None:
        """Stop the background thread (it finishes the item in hand) and drop prefetched items."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._finished = True
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass


def _work(source: BaseNode, fn: Callable[[Any], Any], stream_context: Callable[[], Any],
          stop: threading.Event, out: queue.Queue, threads: int | None = None,
          started: threading.Event | None = None) -> None:
    """The background loop: next item, its source state, fn(item) -> queue, until end/stop/error."""
    try:
        if threads is not None:
            torch.get_num_threads()  # torch's lazy per-thread init first: it would later undo the next line
            torch.set_num_threads(threads)
    finally:
        if started is not None:
            started.set()
    try:
        with stream_context():
            while not stop.is_set():
                try:
                    raw = next(source)
                except StopIteration:
                    _put(stop, out, (_END, None, None))
                    return
                state = source.state_dict()
                if not _put(stop, out, (_ITEM, fn(raw), state)):
                    return
    except BaseException as exc:  # surfaces in the consumer, traceback attached to exc
        _put(stop, out, (_FAIL, exc, None))


def _put(stop: threading.Event, out: queue.Queue, message: tuple) -> bool:
    while not stop.is_set():
        try:
            out.put(message, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False
